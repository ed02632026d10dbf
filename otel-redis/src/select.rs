//! `db.namespace` that follows `SELECT`.
//!
//! The server-side database belongs to the underlying connection, so a
//! [`TracedConnection`](crate::TracedConnection) and its clones share one [`CurrentDb`].
//!
//! - On a connection the wrapper alone drives (the blocking single-node connection: `&mut`
//!   access, no reconnect of its own), a `SELECT n` answered `OK` moves it to `n`; a `SELECT`
//!   the server refused leaves it; any other outcome (a lost reply, `QUEUED` inside a
//!   `MULTI`, an argument that is not a plain index) makes it unknown.
//! - On a shared connection (every async one: a multiplexed connection and its clones carry
//!   other tasks' commands in an order the wrapper does not see, and `ConnectionManager` or a
//!   cluster connection reconnect with the client's database) and on cluster connections
//!   (a `SELECT` reaches one node), sending a `SELECT` makes it unknown for good.
//!
//! An unknown database is recorded as no `db.namespace` at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[cfg(feature = "sync")]
use redis::{RedisResult, Value};

/// The database of a connection: a db index, or [`UNKNOWN`].
#[derive(Clone, Debug)]
pub(crate) struct CurrentDb(Arc<AtomicI64>);

/// The database is not known (db indexes are never negative).
pub(crate) const UNKNOWN: i64 = -1;

impl CurrentDb {
    pub(crate) fn new(db: i64) -> Self {
        CurrentDb(Arc::new(AtomicI64::new(db.max(UNKNOWN))))
    }

    /// The db index, or [`UNKNOWN`].
    pub(crate) fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The database a pipeline runs in: unknown when it has a `SELECT` (its commands run in
    /// more than one).
    pub(crate) fn for_pipeline(&self, has_select: bool) -> i64 {
        if has_select { UNKNOWN } else { self.get() }
    }

    /// A `SELECT` went out on a connection whose database can no longer be followed.
    pub(crate) fn forget(&self) {
        self.set(None);
    }

    fn set(&self, target: Option<i64>) {
        self.0.store(target.unwrap_or(UNKNOWN), Ordering::Relaxed);
    }

    #[cfg(feature = "sync")]
    /// After a `SELECT` with parsed target `target`, given its reply.
    pub(crate) fn after_command(&self, target: Option<i64>, result: &RedisResult<Value>) {
        match result {
            Ok(Value::Okay) => self.set(target),
            // refused by the server: nothing changed
            Ok(Value::ServerError(_)) => {}
            Err(e) if e.code().is_some() => {}
            // queued in a MULTI, or the command may or may not have run
            Ok(_) | Err(_) => self.forget(),
        }
    }

    #[cfg(feature = "sync")]
    /// After a pipeline whose `SELECT`s are `selects` (index among the user commands, parsed
    /// target), given its replies (one array, EXEC's, when `atomic`).
    pub(crate) fn after_pipeline(
        &self,
        selects: &[(usize, Option<i64>)],
        atomic: bool,
        result: &RedisResult<Vec<Value>>,
    ) {
        let Ok(values) = result else {
            // some of its commands may have run
            return self.forget();
        };
        let replies: &[Value] = match (atomic, values.first()) {
            (true, Some(Value::Array(items))) => items,
            // WATCH made EXEC return nil: nothing ran
            (true, Some(Value::Nil)) => return,
            (true, _) => return self.forget(),
            (false, _) => values,
        };
        for &(index, target) in selects {
            match replies.get(index) {
                Some(Value::Okay) => self.set(target),
                Some(Value::ServerError(_)) => {}
                _ => self.forget(),
            }
        }
    }
}

/// `Some(target)` when `args` is a `SELECT`: `Some(n)` for `SELECT n`, `None` when the
/// argument is not a plain non-negative integer (the server decides whether it is valid).
pub(crate) fn select_target<'a>(mut args: impl Iterator<Item = &'a [u8]>) -> Option<Option<i64>> {
    if !args.next()?.eq_ignore_ascii_case(b"SELECT") {
        return None;
    }
    let db = args
        .next()
        .filter(|a| !a.is_empty() && a.len() <= 18 && a.iter().all(u8::is_ascii_digit))
        .and_then(|a| std::str::from_utf8(a).ok()?.parse::<i64>().ok());
    Some(if args.next().is_some() { None } else { db })
}

/// Whether `args` is a `SELECT`.
#[cfg(feature = "aio")]
pub(crate) fn is_select<'a>(args: impl Iterator<Item = &'a [u8]>) -> bool {
    select_target(args).is_some()
}

#[cfg(feature = "sync")]
/// The `SELECT`s of a pipeline: index among its commands and parsed target. Allocates only
/// when there is one.
pub(crate) fn pipeline_selects<'a, P, I>(commands: P) -> Vec<(usize, Option<i64>)>
where
    P: Iterator<Item = I>,
    I: Iterator<Item = &'a [u8]>,
{
    commands
        .enumerate()
        .filter_map(|(i, args)| select_target(args).map(|t| (i, t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "sync")]
    use redis::Value;

    fn target(args: &[&[u8]]) -> Option<Option<i64>> {
        select_target(args.iter().copied())
    }

    #[test]
    fn select_targets() {
        assert_eq!(target(&[b"select", b"3"]), Some(Some(3)));
        assert_eq!(target(&[b"SELECT", b"15"]), Some(Some(15)));
        assert_eq!(target(&[b"SELECT", b"+3"]), Some(None));
        assert_eq!(target(&[b"SELECT", b"-1"]), Some(None));
        assert_eq!(target(&[b"SELECT", b"99999999999999999999"]), Some(None));
        assert_eq!(target(&[b"SELECT"]), Some(None));
        assert_eq!(target(&[b"SELECT", b"1", b"2"]), Some(None));
        assert_eq!(target(&[b"GET", b"3"]), None);
        assert_eq!(target(&[]), None);
    }

    #[cfg(feature = "sync")]
    #[test]
    fn commands_follow_ok_replies_only() {
        let db = CurrentDb::new(0);
        db.after_command(Some(4), &Ok(Value::Okay));
        assert_eq!(db.get(), 4);
        db.after_command(Some(2), &Ok(Value::SimpleString("QUEUED".into())));
        assert_eq!(db.get(), UNKNOWN, "queued in a MULTI: unknown");
        db.after_command(Some(2), &Ok(Value::Okay));
        db.after_command(None, &Ok(Value::Okay));
        assert_eq!(db.get(), UNKNOWN, "unparsed argument: unknown");
    }

    #[cfg(feature = "sync")]
    #[test]
    fn pipelines_follow_successful_selects_only() {
        let db = CurrentDb::new(0);
        let selects = [(0, Some(2)), (2, Some(5))];
        db.after_pipeline(
            &selects,
            false,
            &Ok(vec![Value::Okay, Value::Nil, Value::Okay]),
        );
        assert_eq!(db.get(), 5);
        db.after_pipeline(&[(0, Some(1))], true, &Ok(vec![Value::Nil]));
        assert_eq!(db.get(), 5, "EXEC returned nil: nothing ran");
        db.after_pipeline(
            &[(1, Some(1))],
            true,
            &Ok(vec![Value::Array(vec![Value::Okay, Value::Okay])]),
        );
        assert_eq!(db.get(), 1);
        db.after_pipeline(&[(0, Some(3))], false, &Ok(vec![]));
        assert_eq!(db.get(), UNKNOWN, "no reply: unknown");
    }
}
