//! The fields of one `sqlx::query` event (sqlx-core 0.9's `QueryLogger::finish`): `summary`
//! (the statement's first four words, plus ` …` when it has more), `db.statement` (empty, or
//! the whole statement as `"\n\n{sql}\n"`), `rows_affected`, `rows_returned`, `elapsed`
//! (`Debug` of a `Duration`) and `elapsed_secs` (`f64`); the slow variant adds
//! `slow_threshold` and a message.

use std::time::{Duration, SystemTime};

use tracing::field::{Field, Visit};

/// The target every sqlx driver logs its statements under.
pub(crate) const TARGET: &str = "sqlx::query";

/// What one event says about its statement.
#[derive(Debug, Default)]
pub(crate) struct Statement {
    summary: String,
    statement: String,
    pub(crate) rows_affected: u64,
    pub(crate) rows_returned: u64,
    elapsed: Option<Duration>,
}

impl Statement {
    /// The statement's text: `db.statement` unwrapped, or the summary when sqlx left
    /// `db.statement` empty (it does when the summary is the whole text).
    pub(crate) fn sql(&self) -> &str {
        if self.statement.is_empty() {
            return &self.summary;
        }
        let s = self.statement.as_str();
        let s = s.strip_prefix("\n\n").unwrap_or(s);
        s.strip_suffix('\n').unwrap_or(s)
    }

    /// When the statement started: `now - elapsed` (`None` when the event carries no usable
    /// duration: the span then starts now).
    pub(crate) fn start(&self, now: SystemTime) -> Option<SystemTime> {
        now.checked_sub(self.elapsed?)
    }
}

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => value.clone_into(&mut self.summary),
            "db.statement" => value.clone_into(&mut self.statement),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_affected" => self.rows_affected = value,
            "rows_returned" => self.rows_returned = value,
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed = Duration::try_from_secs_f64(value).ok();
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(summary: &str, text: &str) -> Statement {
        Statement {
            summary: summary.into(),
            statement: text.into(),
            ..Statement::default()
        }
    }

    #[test]
    fn the_text_is_unwrapped_or_the_summary() {
        let s = statement(
            "SELECT id FROM users WHERE …",
            "\n\nSELECT id FROM users WHERE id = $1\n",
        );
        assert_eq!(s.sql(), "SELECT id FROM users WHERE id = $1");
        assert_eq!(statement("SELECT 1", "").sql(), "SELECT 1");
    }
}
