//! `db.namespace` that follows `SELECT`.
//!
//! The server-side database belongs to the underlying connection: every clone of a
//! multiplexed connection shares it, so a [`TracedConnection`](crate::TracedConnection) and
//! its clones share one [`CurrentDb`]. A successful `SELECT n` (alone, in a pipeline or in a
//! `MULTI`/`EXEC` that ran) moves it to `n`; a `SELECT` whose outcome is unknown (the reply
//! was lost, or its argument is not a plain integer) makes it unknown, and spans then carry no
//! `db.namespace` until the next successful `SELECT`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

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

    fn set(&self, target: Option<i64>) {
        self.0.store(target.unwrap_or(UNKNOWN), Ordering::Relaxed);
    }

    /// After a `SELECT` whose parsed target is `target`, with its reply.
    pub(crate) fn after_command(&self, target: Option<i64>, result: &RedisResult<Value>) {
        match result {
            Ok(Value::ServerError(_)) => {}
            Ok(_) => self.set(target),
            // refused by the server: nothing changed
            Err(e) if e.code().is_some() => {}
            // the command may or may not have run
            Err(_) => self.set(None),
        }
    }

    /// After a pipeline whose `SELECT`s are `selects` (index among the user commands, parsed
    /// target), with its replies (one array, EXEC's, when `atomic`).
    pub(crate) fn after_pipeline(
        &self,
        selects: &[(usize, Option<i64>)],
        atomic: bool,
        result: &RedisResult<Vec<Value>>,
    ) {
        let values = match result {
            Ok(values) => values,
            Err(e) if e.code().is_some() => return,
            Err(_) => return self.set(None),
        };
        let replies: &[Value] = match (atomic, values.first()) {
            (true, Some(Value::Array(items))) => items,
            // WATCH made EXEC return nil: nothing ran
            (true, _) => return,
            (false, _) => values,
        };
        for &(index, target) in selects {
            match replies.get(index) {
                Some(Value::ServerError(_)) => {}
                Some(_) => self.set(target),
                None => self.set(None),
            }
        }
    }
}

/// `Some(target)` when `args` is a `SELECT`: `Some(n)` for `SELECT n`, `None` when the
/// argument is not a plain non-negative integer (the server decides whether it is valid).
pub(crate) fn select_target<'a>(
    mut args: impl Iterator<Item = &'a [u8]>,
) -> Option<Option<i64>> {
    if !args.next()?.eq_ignore_ascii_case(b"SELECT") {
        return None;
    }
    let db = args
        .next()
        .filter(|a| !a.is_empty() && a.len() <= 18 && a.iter().all(u8::is_ascii_digit))
        .and_then(|a| std::str::from_utf8(a).ok()?.parse::<i64>().ok());
    Some(if args.next().is_some() { None } else { db })
}

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

    #[test]
    fn pipelines_follow_successful_selects_only() {
        let db = CurrentDb::new(0);
        let selects = [(0, Some(2)), (2, Some(5))];
        db.after_pipeline(&selects, false, &Ok(vec![Value::Okay, Value::Nil, Value::Okay]));
        assert_eq!(db.get(), 5);
        db.after_pipeline(&[(0, Some(1))], true, &Ok(vec![Value::Nil]));
        assert_eq!(db.get(), 5, "EXEC returned nil: nothing ran");
        db.after_pipeline(&[(1, Some(1))], true, &Ok(vec![Value::Array(vec![Value::Okay, Value::Okay])]));
        assert_eq!(db.get(), 1);
        db.after_command(None, &Ok(Value::Okay));
        assert_eq!(db.get(), UNKNOWN);
    }
}
