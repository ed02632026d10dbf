//! The SQL tokenizer and what is built on it: [`sanitize`] (literals to `?`) and [`analyze`]
//! (summary, operation, main table, stored procedure, statement count), plus the bounded
//! per-pool [`QueryCache`].
//!
//! Both read one safe token stream, so a token is a literal for both or for neither: string
//! and number literals (signs folded in), both readings of a backslash when the session's
//! [`Backslashes`] rule is unknown, unterminated quotes (the rest of the text is one literal),
//! SQLite double-quoted tokens where a value can stand, and the token after `PASSWORD`,
//! `IDENTIFIED BY` and the like. Names (tables, procedures) pass a shape check
//! ([`MAX_NAME_LEN`] bytes, no whitespace, quotes or control characters) or are omitted.
//!
//! Both stream: memory use does not grow with the statement (the sanitizer's output aside,
//! which is cut at the caller's limit).

mod cache;
mod lexer;
mod mode;
mod names;
mod sanitize;
mod summary;
mod tokens;

pub use cache::{DEFAULT_CACHE_CAPACITY, MAX_CACHED_SQL_LEN, QueryCache, QueryInfo};
pub use lexer::Dialect;
pub use mode::{Backslashes, SqlMode};
pub use names::MAX_NAME_LEN;
pub use sanitize::{sanitize, sanitize_with};
pub use summary::{
    Analysis, MAX_CTE_NAMES, MAX_SUMMARY_LEN, MAX_TRACKED_DEPTH, analyze, analyze_with,
};
