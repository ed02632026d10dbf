//! Workspace-level integration tests (`tests/tests/*.rs`): the demo end to end, the real trace
//! backend, cross-language propagation, reliability and secrets, and smoke tests of the test
//! servers started by `scripts/services.sh up` (`scripts/test.sh` starts them before
//! `cargo test`).
//!
//! Where the servers are ([`env`]) lives in the shared test kit, `otel-testkit`.

pub use otel_testkit::env;
