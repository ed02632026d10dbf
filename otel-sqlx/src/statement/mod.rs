//! The SQL tokenizer and what is built on it: the sanitizer (literals to `?`), the analysis
//! (summary, operation, main table, stored procedure, statement count) and the bounded
//! per-pool [`QueryCache`]. What of it is public is listed in the crate root's `sql` module.

mod cache;
mod lexer;
mod mode;
mod names;
mod sanitize;
mod summary;
mod tokens;

pub use cache::{DEFAULT_CACHE_CAPACITY, QueryCache, QueryInfo};
pub use lexer::Dialect;
pub use mode::{Backslashes, SqlMode};
pub use names::MAX_NAME_LEN;
pub use sanitize::{sanitize, sanitize_with};
pub use summary::{Analysis, MAX_SUMMARY_LEN, analyze, analyze_with};
