//! End to end: the demo's `user` and `message` services on loopback against the real SQLite,
//! Redis and MongoDB-protocol servers; every span of a request checked as one trace across
//! three processes' worth of telemetry (client, user, message).

use std::time::Duration;

use crate::demo_common;

use examples::demo::{self, StepResult};
use examples::telemetry::ServiceTelemetry;
use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry_semantic_conventions::attribute;
use otel_testkit::env::unique_name;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry, describe};

struct Service {
    t: TestTelemetry,
    telemetry: ServiceTelemetry,
}

impl Service {
    fn new() -> Self {
        let t = TestTelemetry::new();
        let telemetry = ServiceTelemetry {
            tracer_provider: t.tracer_provider.clone(),
            meter_provider: t.meter_provider.clone(),
        };
        Service { t, telemetry }
    }

    /// The single span of `trace` named `name`.
    fn span(&self, trace: TraceId, name: &str) -> ExportedSpan {
        let all: Vec<ExportedSpan> = self
            .t
            .spans()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == trace)
            .collect();
        let mut found: Vec<ExportedSpan> = all.iter().filter(|s| s.name == name).cloned().collect();
        assert_eq!(
            found.len(),
            1,
            "{name:?} in trace {trace}: {}",
            describe(&all)
        );
        found.remove(0)
    }

    fn in_trace(&self, trace: TraceId) -> Vec<ExportedSpan> {
        self.t
            .spans()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == trace)
            .collect()
    }
}

/// Waits (bounded) until `count` spans of `trace` were exported by `service`: a server span
/// ends when its response body has been sent, which can be a moment after the client read it.
async fn wait_for(service: &Service, trace: TraceId, count: usize) {
    for _ in 0..200 {
        if service.in_trace(trace).len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "expected {count} spans in trace {trace}, got: {}",
        describe(&service.in_trace(trace))
    );
}

struct Fixture {
    client: Service,
    user: Service,
    message: Service,
    base: String,
    running: demo::RunningDemo,
}

async fn fixture() -> Fixture {
    let (client, user, message) = (Service::new(), Service::new(), Service::new());
    let running = demo_common::start_demo("demo_e2e", &user.telemetry, &message.telemetry).await;
    let base = format!("http://{}", running.user_addr);
    Fixture {
        client,
        user,
        message,
        base,
        running,
    }
}

impl Fixture {
    async fn step(
        &self,
        title: &str,
        req: reqwest_middleware::RequestBuilder,
    ) -> (StepResult, TraceId) {
        let result = demo::step(&self.client.telemetry, title, req).await;
        let root = self.client.t.span(title);
        (result, root.span_context.trace_id())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_trace_of_each_request() {
    let f = fixture().await;
    let http = demo::http_client(&f.client.telemetry);
    let base = &f.base;
    let email = format!("{}@example.com", unique_name("grace"));

    // Create a user: client -> user (SQL insert, Redis set).
    let (created, trace) = f
        .step(
            "create user",
            http.post(format!("{base}/users"))
                .json(&serde_json::json!({ "name": "Grace", "email": email })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = serde_json::from_str::<serde_json::Value>(&created.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    wait_for(&f.user, trace, 3).await;
    let root = f.client.span(trace, "create user");
    let client_post = f.client.span(trace, "POST");
    client_post
        .assert_child_of(&root)
        .assert_kind(SpanKind::Client)
        .assert_unset()
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 201i64);
    let server = f.user.span(trace, "POST /users");
    server
        .assert_child_of(&client_post)
        .assert_kind(SpanKind::Server)
        .assert_unset()
        .assert_attr(attribute::HTTP_ROUTE, "/users");
    let insert = f.user.span(trace, "INSERT users");
    insert
        .assert_child_of(&server)
        .assert_kind(SpanKind::Client)
        .assert_attr(attribute::DB_SYSTEM_NAME, "sqlite")
        .assert_attr(
            attribute::DB_QUERY_TEXT,
            "INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email",
        );
    let cache_set = f.user.span(trace, "SETEX");
    cache_set
        .assert_child_of(&server)
        .assert_attr(attribute::DB_SYSTEM_NAME, "redis")
        .assert_attr(attribute::DB_QUERY_TEXT, format!("SETEX user:{id} ? ?"));
    assert!(!insert.all_text().contains(&email) && !cache_set.all_text().contains(&email));

    // Post a message: client -> user (Redis get) -> gRPC -> message (MongoDB insert).
    let (posted, trace) = f
        .step(
            "post message",
            http.post(format!("{base}/users/{id}/messages"))
                .json(&serde_json::json!({ "text": "secret plans" })),
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    wait_for(&f.user, trace, 3).await;
    wait_for(&f.message, trace, 2).await;
    let client_post = f.client.span(trace, "POST");
    client_post.assert_child_of(&f.client.span(trace, "post message"));
    let server = f.user.span(trace, "POST /users/{id}/messages");
    server.assert_child_of(&client_post).assert_unset();
    f.user
        .span(trace, "GET")
        .assert_child_of(&server)
        .assert_attr(attribute::DB_QUERY_TEXT, format!("GET user:{id}"));
    let grpc_client = f.user.span(trace, "message.v1.Messages/Post");
    grpc_client
        .assert_child_of(&server)
        .assert_kind(SpanKind::Client)
        .assert_unset()
        .assert_attr(attribute::RPC_SYSTEM_NAME, "grpc")
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "OK");
    let grpc_server = f.message.span(trace, "message.v1.Messages/Post");
    grpc_server
        .assert_child_of(&grpc_client)
        .assert_kind(SpanKind::Server)
        .assert_unset()
        .assert_attr(attribute::RPC_METHOD, "message.v1.Messages/Post");
    let insert = f.message.span(trace, "insert messages");
    insert
        .assert_child_of(&grpc_server)
        .assert_kind(SpanKind::Client)
        .assert_attr(attribute::DB_SYSTEM_NAME, "mongodb")
        .assert_attr(attribute::DB_COLLECTION_NAME, "messages")
        .assert_attr(attribute::DB_OPERATION_NAME, "insert");
    assert!(
        !insert.all_text().contains("secret plans"),
        "{}",
        insert.all_text()
    );
    assert_eq!(
        f.user.in_trace(trace).len(),
        3,
        "{}",
        describe(&f.user.in_trace(trace))
    );
    assert_eq!(f.message.in_trace(trace).len(), 2);

    // List: gRPC server -> MongoDB find.
    let (listed, trace) = f
        .step(
            "list messages",
            http.get(format!("{base}/users/{id}/messages")),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains("secret plans"));
    wait_for(&f.message, trace, 2).await;
    let grpc_server = f.message.span(trace, "message.v1.Messages/List");
    f.message
        .span(trace, "find messages")
        .assert_child_of(&grpc_server)
        .assert_attr(attribute::DB_OPERATION_NAME, "find");
    grpc_server.assert_child_of(&f.user.span(trace, "message.v1.Messages/List"));

    // Error path 1: unknown user. HTTP server 404 = Unset, client 4xx = Error, no gRPC call.
    let (missing, trace) = f
        .step(
            "post for an unknown user",
            http.post(format!("{base}/users/987654/messages"))
                .json(&serde_json::json!({ "text": "hello?" })),
        )
        .await;
    assert_eq!(missing.status, 404);
    wait_for(&f.user, trace, 3).await;
    let client_post = f.client.span(trace, "POST");
    client_post
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "404")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 404i64);
    let server = f.user.span(trace, "POST /users/{id}/messages");
    server
        .assert_child_of(&client_post)
        .assert_unset()
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 404i64);
    f.user
        .span(trace, "SELECT users")
        .assert_child_of(&server)
        .assert_unset();
    assert!(f.message.in_trace(trace).is_empty());
    assert!(
        f.user
            .in_trace(trace)
            .iter()
            .all(|s| s.span_kind != SpanKind::Client || !s.name.starts_with("message.")),
        "no gRPC call for an unknown user"
    );

    // Error path 2: empty message. gRPC INVALID_ARGUMENT: server Unset, client Error;
    // HTTP 400: server Unset, client Error.
    let (empty, trace) = f
        .step(
            "post an empty message",
            http.post(format!("{base}/users/{id}/messages"))
                .json(&serde_json::json!({ "text": "  " })),
        )
        .await;
    assert_eq!(empty.status, 400);
    wait_for(&f.user, trace, 3).await;
    wait_for(&f.message, trace, 1).await;
    let grpc_server = f.message.span(trace, "message.v1.Messages/Post");
    grpc_server
        .assert_unset()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "INVALID_ARGUMENT");
    let grpc_client = f.user.span(trace, "message.v1.Messages/Post");
    grpc_client
        .assert_error()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "INVALID_ARGUMENT")
        .assert_attr(attribute::ERROR_TYPE, "INVALID_ARGUMENT");
    grpc_server.assert_child_of(&grpc_client);
    assert!(
        f.message
            .in_trace(trace)
            .iter()
            .all(|s| s.span_kind == SpanKind::Server)
    );
    f.user
        .span(trace, "POST /users/{id}/messages")
        .assert_unset()
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 400i64);
    f.client.span(trace, "POST").assert_error();

    // Metrics: one server duration point set per route, one DB histogram per store.
    let http_points = f.user.t.histogram("http.server.request.duration");
    assert_eq!(http_points.iter().map(|p| p.count).sum::<u64>(), 5);
    let rpc_points = f.message.t.histogram("rpc.server.call.duration");
    assert_eq!(rpc_points.iter().map(|p| p.count).sum::<u64>(), 3);
    f.running.stop().await;
}
