//! The blocking `redis::ConnectionLike` for [`TracedConnection`] (feature `sync`).
//!
//! The blocking trait hands over packed (RESP-encoded) bytes, except for `req_command`; the
//! commands are read back from them by [`crate::packed`] without copying.

use redis::{Cmd, RedisResult, Value};

use crate::connection::{TracedConnection, cmd_args};
use crate::packed::PackedCommands;
use crate::{outcome, select};

impl<C> redis::ConnectionLike for TracedConnection<C>
where
    C: redis::ConnectionLike,
{
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        let args = || PackedCommands::new(cmd).next().into_iter().flatten();
        self.traced_command(args, |inner| inner.req_packed_command(cmd))
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        let parent = otel_rpc::current_context();
        let total = PackedCommands::new(cmd).count();
        // redis-rs wraps an atomic pipeline in MULTI .. EXEC and skips their replies.
        let atomic = offset > 0
            && total >= 2
            && PackedCommands::new(cmd)
                .next()
                .and_then(|mut args| args.next())
                .is_some_and(|name| name.eq_ignore_ascii_case(b"MULTI"));
        let (skip, user_commands) = if atomic { (1, total - 2) } else { (0, total) };
        let commands = || PackedCommands::new(cmd).skip(skip).take(user_commands);
        let selects = select::pipeline_selects(commands());
        let db = self.db.for_pipeline(!selects.is_empty());
        let recording = self
            .shared
            .start_pipeline(&parent, db, atomic, user_commands, commands);
        let result = match &recording {
            Some(recording) => {
                let _guard = recording.context().clone().attach();
                self.inner.req_packed_commands(cmd, offset, count)
            }
            None => self.inner.req_packed_commands(cmd, offset, count),
        };
        if !selects.is_empty() {
            if self.shared.follows_select {
                self.db.after_pipeline(&selects, atomic, &result);
            } else {
                self.db.forget();
            }
        }
        if let Some(recording) = recording {
            outcome::end_pipeline(recording, &result, atomic, self.shared.error_text);
        }
        result
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        self.traced_command(|| cmd_args(cmd), |inner| inner.req_command(cmd))
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }

    fn supports_pipelining(&self) -> bool {
        self.inner.supports_pipelining()
    }

    fn check_connection(&mut self) -> bool {
        self.inner.check_connection()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }
}

impl<C> TracedConnection<C> {
    /// Sends one command with `send`, traced, following a `SELECT` among `args`.
    fn traced_command<'a, I>(
        &mut self,
        args: impl Fn() -> I,
        send: impl FnOnce(&mut C) -> RedisResult<Value>,
    ) -> RedisResult<Value>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let parent = otel_rpc::current_context();
        let recording = self.shared.start_command(&parent, self.db.get(), args());
        let result = match &recording {
            Some(recording) => {
                let _guard = recording.context().clone().attach();
                send(&mut self.inner)
            }
            None => send(&mut self.inner),
        };
        if let Some(target) = select::select_target(args()) {
            if self.shared.follows_select {
                self.db.after_command(target, &result);
            } else {
                self.db.forget();
            }
        }
        if let Some(recording) = recording {
            recording.end(outcome::command(&result, self.shared.error_text));
        }
        result
    }
}
