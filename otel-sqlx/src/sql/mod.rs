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

/// Replaces every quoted run (`'..'`, `".."`, `` `..` ``) and every number in a database error
/// message by `?`: server messages quote the offending values (MySQL: `Duplicate entry
/// 'alice' for key 'email'`), so they are treated as untrusted text.
///
/// ```
/// assert_eq!(
///     otel_sqlx::sql::sanitize_message("Duplicate entry 'alice@x.org' for key 'users.email'"),
///     "Duplicate entry ? for key ?"
/// );
/// ```
pub fn sanitize_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    let mut prev_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                // Skip to the closing quote (doubled quotes stay inside).
                loop {
                    match chars.next() {
                        Some(q) if q == c => {
                            if chars.peek() == Some(&c) {
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
                out.push('?');
                prev_word = false;
            }
            d if d.is_ascii_digit() && !prev_word => {
                while chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '.' || *n == '_')
                {
                    chars.next();
                }
                out.push('?');
                prev_word = false;
            }
            other => {
                prev_word = other.is_alphanumeric() || other == '_';
                out.push(other);
            }
        }
    }
    out
}
