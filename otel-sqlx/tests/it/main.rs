//! All integration tests of this crate in one binary (one link instead of one per file).
//! Tests that need a process of their own (a counting global allocator, a process-wide
//! counter, RSS or latency measurements, global providers) stay separate files beside `it/`.

mod common;
#[cfg(feature = "sqlite")]
mod conventions;
#[cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod error_text;
#[cfg(feature = "postgres")]
mod idioms;
#[cfg(feature = "mysql")]
mod mariadb;
#[cfg(all(feature = "postgres", feature = "mysql"))]
mod options;
#[cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod pool_metrics;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod propagation;
#[cfg(all(feature = "postgres", feature = "query-log"))]
mod query_log;
mod sanitizer;
#[cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod sql_dialect_probes;
#[cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod sql_differential;
mod sql_literals;
mod sql_semconv_cases;
#[cfg(all(feature = "postgres", feature = "mysql"))]
mod sqlcommenter;
#[cfg(feature = "sqlite")]
mod sqlite;
