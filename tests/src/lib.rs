//! Workspace-level integration tests (`tests/tests/*.rs`) and the helpers they share.
//!
//! The tests here talk to the loopback services started by `scripts/services.sh up`
//! (`scripts/test.sh` starts them before `cargo test`). See [`env`] for where they are.

pub mod env {
    //! Connection URLs of the test services, from environment variables with loopback defaults
    //! that match what `scripts/services.sh up` serves:
    //!
    //! | variable       | default                                   | server                 |
    //! |----------------|-------------------------------------------|------------------------|
    //! | `POSTGRES_URL` | `postgres://postgres@127.0.0.1:5432/test` | PostgreSQL, trust auth |
    //! | `MYSQL_URL`    | `mysql://root@127.0.0.1:3306/test`        | MariaDB, empty root pw |
    //! | `REDIS_URL`    | `redis://127.0.0.1:6379/`                 | Redis, no persistence  |
    //! | `MONGODB_URI`  | `mongodb://127.0.0.1:27017/`              | FerretDB (SQLite)      |
    //!
    //! An unset or empty variable means the default. A test whose service is unreachable must
    //! fail, naming [`START_COMMAND`] (see [`unreachable`]); it must never pass silently.

    use std::fmt::Display;

    /// The command that installs and starts every test service.
    pub const START_COMMAND: &str = "scripts/services.sh up";

    /// Default of `POSTGRES_URL`.
    pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
    /// Default of `MYSQL_URL`.
    pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";
    /// Default of `REDIS_URL`.
    pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/";
    /// Default of `MONGODB_URI`.
    pub const DEFAULT_MONGODB_URI: &str = "mongodb://127.0.0.1:27017/";

    /// PostgreSQL URL: `POSTGRES_URL`, default [`DEFAULT_POSTGRES_URL`].
    pub fn postgres_url() -> String {
        var_or("POSTGRES_URL", DEFAULT_POSTGRES_URL)
    }

    /// MySQL-protocol (MariaDB) URL: `MYSQL_URL`, default [`DEFAULT_MYSQL_URL`].
    pub fn mysql_url() -> String {
        var_or("MYSQL_URL", DEFAULT_MYSQL_URL)
    }

    /// Redis URL: `REDIS_URL`, default [`DEFAULT_REDIS_URL`].
    pub fn redis_url() -> String {
        var_or("REDIS_URL", DEFAULT_REDIS_URL)
    }

    /// MongoDB-protocol (FerretDB) connection string: `MONGODB_URI`, default
    /// [`DEFAULT_MONGODB_URI`].
    pub fn mongodb_uri() -> String {
        var_or("MONGODB_URI", DEFAULT_MONGODB_URI)
    }

    /// The value of environment variable `name`, or `default` when it is unset or empty.
    pub fn var_or(name: &str, default: &str) -> String {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    /// The panic message for a service that could not be reached: names the service, the URL,
    /// the error, and how to start the services.
    ///
    /// ```should_panic
    /// let url = tests::env::redis_url();
    /// panic!("{}", tests::env::unreachable("Redis", &url, &"connection refused"));
    /// ```
    pub fn unreachable(service: &str, url: &str, error: &dyn Display) -> String {
        format!(
            "{service} is not reachable at {url}: {error}\n\
             Start the test services with `{START_COMMAND}` (or run the tests through \
             `scripts/test.sh`), or point the URL variable at a running server."
        )
    }

    /// A name unique to this process and call (`{prefix}_{pid}_{nanos}_{n}`), for per-test
    /// databases, tables, collections and key prefixes, so tests can run in parallel.
    pub fn unique_name(prefix: &str) -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!(
            "{prefix}_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }
}
