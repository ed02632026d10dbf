//! The SQL tokenizer and what is built on it: [`sanitize`] (literals to `?`) and [`analyze`]
//! (operation, main table, summary), plus the bounded per-pool [`QueryCache`].

mod cache;
mod lexer;
mod sanitize;
mod summary;

pub use cache::{DEFAULT_CACHE_CAPACITY, MAX_CACHED_SQL_LEN, QueryCache, QueryInfo};
pub use lexer::Dialect;
pub use sanitize::sanitize;
pub use summary::{Analysis, MAX_SUMMARY_LEN, analyze};

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
