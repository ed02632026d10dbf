//! [`SqlMode`]: the dialect plus what the session decides about the text (backslashes in
//! string literals), so the tokenizer can be safe whatever the server's settings are.

use super::lexer::Dialect;

/// Whether a backslash escapes the next character inside plain string literals (`'..'`, and
/// MySQL's `".."`). The server decides: PostgreSQL with `standard_conforming_strings` (on by
/// default: no escapes; `E'..'` always escapes), MySQL/MariaDB with the `NO_BACKSLASH_ESCAPES`
/// SQL mode (off by default: escapes). SQLite never escapes with backslashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Backslashes {
    /// The session setting is not known (the default): text is read both ways, and where the
    /// two readings disagree about where a string ends, the whole ambiguous run (from the
    /// string's opening quote to the first point where both readings agree again) is one
    /// literal. Nothing that either reading calls a literal survives.
    #[default]
    Unknown,
    /// Backslashes escape (MySQL default; PostgreSQL `standard_conforming_strings=off`).
    Escape,
    /// Backslashes are ordinary characters (PostgreSQL default; MySQL `NO_BACKSLASH_ESCAPES`).
    Literal,
}

/// How SQL text is read: the dialect and the session's string-literal rules.
///
/// ```
/// use otel_sqlx::sql::{Backslashes, Dialect, SqlMode, sanitize_with};
/// // Both readings of the backslash are covered unless the session setting is given.
/// let sql = r"SELECT 'a\' OR secret = 1 --'";
/// assert!(!sanitize_with(sql, SqlMode::new(Dialect::Postgres), usize::MAX).contains("secret"));
/// let known = SqlMode::new(Dialect::Postgres).backslashes(Backslashes::Literal);
/// assert_eq!(sanitize_with(sql, known, usize::MAX), "SELECT ? OR secret = ?");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SqlMode {
    dialect: Dialect,
    backslashes: Backslashes,
}

impl SqlMode {
    /// The dialect with the session settings unknown (every reading covered).
    pub const fn new(dialect: Dialect) -> Self {
        SqlMode {
            dialect,
            backslashes: Backslashes::Unknown,
        }
    }

    /// The same mode with the session's backslash rule (ignored for SQLite, which has none).
    #[must_use]
    pub const fn backslashes(self, backslashes: Backslashes) -> Self {
        SqlMode {
            backslashes,
            ..self
        }
    }

    /// The dialect.
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The backslash rule as configured.
    pub const fn backslash_rule(&self) -> Backslashes {
        self.backslashes
    }

    /// The reading the lexer starts with, and whether the other reading must be checked too.
    pub(crate) fn readings(&self) -> (bool, bool) {
        match (self.dialect, self.backslashes) {
            (Dialect::Sqlite, _) => (false, false),
            (_, Backslashes::Escape) => (true, false),
            (_, Backslashes::Literal) => (false, false),
            (Dialect::MySql, Backslashes::Unknown) => (true, true),
            (_, Backslashes::Unknown) => (false, true),
        }
    }
}

impl From<Dialect> for SqlMode {
    fn from(dialect: Dialect) -> Self {
        SqlMode::new(dialect)
    }
}
