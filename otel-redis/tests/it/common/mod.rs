//! Shared helpers of the integration tests: the test server, traced connections, parents.
#![allow(dead_code)]

use opentelemetry::Context;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry_semantic_conventions::attribute;
use otel_redis::TracedConnection;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};

/// A client for the test server, failing loudly when it is down.
pub fn client() -> redis::Client {
    let url = otel_testkit::env::redis_url();
    otel_testkit::env::require("redis", &url);
    redis::Client::open(url).expect("valid REDIS_URL")
}

/// `server.address` / `server.port` expected for `client`.
pub fn server_of(client: &redis::Client) -> (String, i64) {
    match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, port) => (host.clone(), i64::from(*port)),
        other => panic!("tests expect a TCP server, got {other:?}"),
    }
}

/// A traced multiplexed connection reporting into `t`.
pub async fn traced(
    t: &TestTelemetry,
) -> (
    redis::Client,
    TracedConnection<redis::aio::MultiplexedConnection>,
) {
    let client = client();
    let conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let traced = TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(conn);
    (client, traced)
}

/// A traced blocking connection reporting into `t`.
#[cfg(feature = "sync")]
pub fn traced_sync(t: &TestTelemetry) -> (redis::Client, TracedConnection<redis::Connection>) {
    let client = client();
    let conn = client.get_connection().expect("connect to redis");
    let traced = TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(conn);
    (client, traced)
}

/// A parent span made by the test, as a context to run work in.
pub fn parent_context(t: &TestTelemetry, name: &'static str) -> Context {
    let span = t.tracer("otel-redis-test").start(name);
    Context::current_with_span(span)
}

/// Ends the parent span held by `cx` and returns it as exported.
pub fn end_parent(t: &TestTelemetry, cx: &Context, name: &str) -> ExportedSpan {
    cx.span().end();
    t.span(name)
}

/// Asserts the attributes every command span has.
pub fn assert_db_span(span: &ExportedSpan, client: &redis::Client, operation: &str) {
    let (host, port) = server_of(client);
    span.assert_kind(opentelemetry::trace::SpanKind::Client)
        .assert_attr(attribute::DB_SYSTEM_NAME, "redis")
        .assert_attr(attribute::DB_OPERATION_NAME, operation.to_string())
        .assert_attr(attribute::DB_QUERY_SUMMARY, operation.to_string())
        .assert_attr(
            attribute::DB_NAMESPACE,
            client
                .get_connection_info()
                .redis_settings()
                .db()
                .to_string(),
        )
        .assert_attr(attribute::SERVER_ADDRESS, host)
        .assert_attr(attribute::SERVER_PORT, port);
    assert_eq!(span.name, operation, "span name");
}

/// A cluster client for the test cluster (`REDIS_CLUSTER_URLS`), failing loudly when a node is
/// down.
#[cfg(feature = "cluster")]
pub fn cluster_client() -> redis::cluster::ClusterClient {
    let urls = otel_testkit::env::redis_cluster_urls();
    for url in &urls {
        otel_testkit::env::require("Redis Cluster", url);
    }
    redis::cluster::ClusterClient::new(urls).expect("valid REDIS_CLUSTER_URLS")
}

/// The port of the cluster node that owns `key`'s slot, asked of the nodes themselves
/// (`CLUSTER KEYSLOT`, `CLUSTER NODES`) on plain connections.
#[cfg(feature = "cluster")]
pub fn cluster_owner(key: &str) -> u16 {
    let url = otel_testkit::env::redis_cluster_urls().remove(0);
    let mut conn = redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("connect to a cluster node");
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut conn)
        .expect("CLUSTER KEYSLOT");
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query(&mut conn)
        .expect("CLUSTER NODES");
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 9 || !fields[2].contains("master") {
            continue;
        }
        let owns = fields[8..].iter().any(|range| {
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            matches!((lo.parse::<i64>(), hi.parse::<i64>()), (Ok(lo), Ok(hi)) if (lo..=hi).contains(&slot))
        });
        if owns {
            let addr = fields[1].split('@').next().unwrap_or_default();
            return addr
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("node port");
        }
    }
    panic!("no master owns slot {slot}:\n{nodes}")
}

/// Keys (with `prefix`) owned by different cluster nodes, one per node.
#[cfg(feature = "cluster")]
pub fn keys_on_every_node(prefix: &str) -> Vec<(String, u16)> {
    let nodes = otel_testkit::env::redis_cluster_urls().len();
    let mut keys: Vec<(String, u16)> = Vec::new();
    for i in 0..1000 {
        let key = format!("{prefix}_{i}");
        let port = cluster_owner(&key);
        if keys.iter().all(|(_, p)| *p != port) {
            keys.push((key, port));
        }
        if keys.len() == nodes {
            return keys;
        }
    }
    panic!("could not find keys on {nodes} nodes: {keys:?}")
}
