//! The blocking `redis::ConnectionLike` for [`TracedConnection`] (feature `sync`).
//!
//! The blocking trait hands over packed (RESP-encoded) bytes, except for `req_command`; the
//! commands are read back from them by [`crate::packed`] without copying.

use redis::{Cmd, RedisResult, Value};

use crate::connection::{TracedConnection, cmd_args};
use crate::outcome;
use crate::packed::PackedCommands;

impl<C> redis::ConnectionLike for TracedConnection<C>
where
    C: redis::ConnectionLike,
{
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        let parent = otel_rpc::current_context();
        let args = PackedCommands::new(cmd).next().into_iter().flatten();
        let Some(recording) = self
            .shared
            .start_command(&parent, self.inner.get_db(), args)
        else {
            return self.inner.req_packed_command(cmd);
        };
        let result = {
            let _guard = recording.context().clone().attach();
            self.inner.req_packed_command(cmd)
        };
        recording.end(outcome::command(&result, self.shared.error_text));
        result
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
        let recording =
            self.shared
                .start_pipeline(&parent, self.inner.get_db(), atomic, user_commands, || {
                    PackedCommands::new(cmd).skip(skip).take(user_commands)
                });
        let Some(recording) = recording else {
            return self.inner.req_packed_commands(cmd, offset, count);
        };
        let result = {
            let _guard = recording.context().clone().attach();
            self.inner.req_packed_commands(cmd, offset, count)
        };
        outcome::end_pipeline(recording, &result, atomic, self.shared.error_text);
        result
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        let parent = otel_rpc::current_context();
        let Some(recording) =
            self.shared
                .start_command(&parent, self.inner.get_db(), cmd_args(cmd))
        else {
            return self.inner.req_command(cmd);
        };
        let result = {
            let _guard = recording.context().clone().attach();
            self.inner.req_command(cmd)
        };
        recording.end(outcome::command(&result, self.shared.error_text));
        result
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
