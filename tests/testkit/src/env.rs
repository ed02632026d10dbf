//! Where the test servers are: URLs from env vars with loopback defaults, and a loud failure
//! naming the command that starts them when one is down.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The command that installs and starts every test server.
pub const START_COMMAND: &str = "scripts/services.sh up";

/// `POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`.
pub fn postgres_url() -> String {
    var("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
}

/// `MYSQL_URL`, default `mysql://root@127.0.0.1:3306/test`.
pub fn mysql_url() -> String {
    var("MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
}

/// `REDIS_URL`, default `redis://127.0.0.1:6379/`.
pub fn redis_url() -> String {
    var("REDIS_URL", "redis://127.0.0.1:6379/")
}

/// `REDIS_CLUSTER_URLS` (comma-separated node URLs), default the three masters of
/// `scripts/services.sh`: `redis://127.0.0.1:7000` to `7002`.
pub fn redis_cluster_urls() -> Vec<String> {
    var(
        "REDIS_CLUSTER_URLS",
        "redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002",
    )
    .split(',')
    .map(|u| u.trim().to_string())
    .filter(|u| !u.is_empty())
    .collect()
}

/// `MONGODB_URI`, default `mongodb://127.0.0.1:27017/`.
pub fn mongodb_uri() -> String {
    var("MONGODB_URI", "mongodb://127.0.0.1:27017/")
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The panic message for a service that could not be used: names the service, the URL, the
/// error, and how to start the services.
///
/// ```should_panic
/// let url = otel_testkit::env::redis_url();
/// panic!("{}", otel_testkit::env::unreachable("Redis", &url, &"connection refused"));
/// ```
pub fn unreachable(service: &str, url: &str, error: &dyn std::fmt::Display) -> String {
    format!(
        "{service} is not reachable at {url}: {error}\n\
         Start the test services with `{START_COMMAND}` (or run the tests through \
         `scripts/test.sh`), or point the URL variable at a running server."
    )
}

/// Panics with the start command unless something accepts TCP connections at `host:port`
/// taken from `url` (`scheme://[user@]host:port/...`).
pub fn require(service: &str, url: &str) {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let reachable = hostport
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
    assert!(
        reachable,
        "{}",
        unreachable(
            service,
            url,
            &format!("nothing accepts connections at {hostport}")
        )
    );
}

/// A name unique to this process and call, for per-test databases, collections, tables and
/// key prefixes.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}
