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
