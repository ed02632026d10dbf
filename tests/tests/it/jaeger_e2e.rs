//! End to end through a real trace backend: the demo's three services (client, user, message)
//! export over OTLP (client and user over HTTP/protobuf, message over gRPC) to the Jaeger v2
//! started by `scripts/services.sh up`; after their providers are flushed, the test reads each
//! trace back from Jaeger's query API and checks the whole tree: services, span names, kinds,
//! parent links, attributes and error statuses.
//!
//! Every run uses its own `service.namespace` and finds its traces by that resource attribute.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::demo_common;

use examples::demo;
use examples::telemetry::{Destination, ServiceTelemetry, otlp_traces_to};
use opentelemetry_semantic_conventions::attribute;
use otel_testkit::env::{START_COMMAND, require, unique_name};
use serde_json::{Value, json};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// `JAEGER_QUERY_URL`, default `http://127.0.0.1:16686`.
fn query_url() -> String {
    env_or("JAEGER_QUERY_URL", "http://127.0.0.1:16686")
}

/// `JAEGER_OTLP_HTTP`, default `http://127.0.0.1:4318`.
fn otlp_http() -> String {
    env_or("JAEGER_OTLP_HTTP", "http://127.0.0.1:4318")
}

/// `JAEGER_OTLP_GRPC`, default `http://127.0.0.1:4317`.
fn otlp_grpc() -> String {
    env_or("JAEGER_OTLP_GRPC", "http://127.0.0.1:4317")
}

/// One span as Jaeger returns it (API v1 JSON), flattened.
#[derive(Debug, Clone)]
struct JaegerSpan {
    span_id: String,
    trace_id: String,
    name: String,
    service: String,
    namespace: Option<String>,
    /// `(refType, spanID)` of each reference.
    references: Vec<(String, String)>,
    tags: BTreeMap<String, Value>,
}

impl JaegerSpan {
    fn tag(&self, key: &str) -> Option<&Value> {
        self.tags.get(key)
    }

    fn assert_tag(&self, key: &str, value: Value) -> &Self {
        assert_eq!(self.tag(key), Some(&value), "tag {key} of {self:#?}");
        self
    }

    fn assert_no_tag(&self, key: &str) -> &Self {
        assert_eq!(self.tag(key), None, "tag {key} of {self:#?}");
        self
    }

    fn assert_root(&self) -> &Self {
        assert!(
            self.references.is_empty(),
            "root span has references: {self:#?}"
        );
        self
    }

    fn assert_child_of(&self, parent: &JaegerSpan) -> &Self {
        assert_eq!(
            self.references,
            vec![("CHILD_OF".to_string(), parent.span_id.clone())],
            "{} should be a child of {} ({})",
            self.name,
            parent.name,
            parent.span_id
        );
        assert_eq!(self.trace_id, parent.trace_id);
        self
    }

    /// Span kind and service, as Jaeger shows them.
    fn assert_kind(&self, service: &str, kind: &str) -> &Self {
        assert_eq!(self.service, service, "service of {self:#?}");
        assert_eq!(
            self.tag("span.kind"),
            Some(&json!(kind)),
            "span.kind of {self:#?}"
        );
        self
    }

    /// Status Unset: no status tag, no error flag.
    fn assert_ok(&self) -> &Self {
        self.assert_no_tag("otel.status_code")
            .assert_no_tag("error")
    }

    /// Status Error: `otel.status_code=ERROR` and `error=true`.
    fn assert_error(&self) -> &Self {
        self.assert_tag("otel.status_code", json!("ERROR"))
            .assert_tag("error", json!(true))
    }
}

fn parse_trace(trace: &Value) -> Vec<JaegerSpan> {
    let processes = &trace["processes"];
    let empty = Vec::new();
    trace["spans"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|s| {
            let process = &processes[s["processID"].as_str().unwrap_or_default()];
            let namespace = process["tags"].as_array().and_then(|tags| {
                tags.iter()
                    .find(|t| t["key"] == attribute::SERVICE_NAMESPACE)
                    .and_then(|t| t["value"].as_str().map(str::to_string))
            });
            JaegerSpan {
                span_id: s["spanID"].as_str().unwrap_or_default().to_string(),
                trace_id: s["traceID"].as_str().unwrap_or_default().to_string(),
                name: s["operationName"].as_str().unwrap_or_default().to_string(),
                service: process["serviceName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                namespace,
                references: s["references"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .map(|r| {
                        (
                            r["refType"].as_str().unwrap_or_default().to_string(),
                            r["spanID"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                tags: s["tags"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .filter_map(|t| Some((t["key"].as_str()?.to_string(), t["value"].clone())))
                    .collect(),
            }
        })
        .collect()
}

/// A trace read back from Jaeger.
struct Trace {
    title: String,
    spans: Vec<JaegerSpan>,
}

impl Trace {
    /// The single span named `name` of `service`.
    fn span(&self, service: &str, name: &str) -> &JaegerSpan {
        let found: Vec<&JaegerSpan> = self
            .spans
            .iter()
            .filter(|s| s.service == service && s.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{service}/{name} in {:?}: {}",
            self.title,
            self.describe()
        );
        found[0]
    }

    fn describe(&self) -> String {
        let mut lines: Vec<String> = self
            .spans
            .iter()
            .map(|s| {
                format!(
                    "  {}/{} {} refs={:?}",
                    s.service, s.name, s.span_id, s.references
                )
            })
            .collect();
        lines.sort();
        format!("{} spans:\n{}", self.spans.len(), lines.join("\n"))
    }

    fn count(&self, service: &str) -> usize {
        self.spans.iter().filter(|s| s.service == service).count()
    }
}

/// Reads the trace whose root span is the client's `title` step, retrying (bounded) until it
/// holds `expected` spans: each service's batch exporter delivers its part separately.
async fn fetch_trace(
    http: &reqwest::Client,
    namespace: &str,
    title: &str,
    expected: usize,
) -> Trace {
    let tags = json!({ (attribute::SERVICE_NAMESPACE): namespace }).to_string();
    let url = format!("{}/api/traces", query_url());
    let mut last = String::new();
    for _ in 0..60 {
        let response = http
            .get(&url)
            .query(&[
                ("service", "client"),
                ("operation", title),
                ("tags", tags.as_str()),
                ("lookback", "1h"),
                ("limit", "20"),
            ])
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => {
                let body: Value = r.json().await.expect("Jaeger answers JSON");
                let traces = body["data"].as_array().cloned().unwrap_or_default();
                assert!(
                    traces.len() <= 1,
                    "one {title:?} trace per run expected: {body}"
                );
                if let Some(trace) = traces.first() {
                    let trace = Trace {
                        title: title.to_string(),
                        spans: parse_trace(trace),
                    };
                    if trace.spans.len() >= expected {
                        assert_eq!(
                            trace.spans.len(),
                            expected,
                            "{title:?}: {}",
                            trace.describe()
                        );
                        return trace;
                    }
                    last = trace.describe();
                } else {
                    last = format!("no trace yet: {body}");
                }
            }
            Ok(r) => {
                last = format!(
                    "HTTP {}: {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                )
            }
            Err(e) => last = format!("request failed: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "trace {title:?} (service.namespace={namespace}) did not reach {expected} spans in Jaeger at {}; last answer: {last}",
        query_url()
    );
}

/// Flushes and shuts the providers down off the async workers (the exporters block).
async fn flush(services: Vec<ServiceTelemetry>) {
    tokio::task::spawn_blocking(move || {
        for s in &services {
            s.shutdown();
        }
    })
    .await
    .expect("flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_traces_arrive_whole_in_jaeger() {
    for (what, url) in [
        ("Jaeger query API", query_url()),
        ("Jaeger OTLP/HTTP receiver", otlp_http()),
        ("Jaeger OTLP/gRPC receiver", otlp_grpc()),
    ] {
        require(what, &url);
    }

    let namespace = unique_name("jaeger_e2e");
    let telemetry = |service: &str, destination: Destination, endpoint: String| {
        otlp_traces_to(service, &destination, &endpoint, &namespace).expect("OTLP exporter")
    };
    let client = telemetry("client", Destination::OtlpHttp, otlp_http());
    let user = telemetry("user", Destination::OtlpHttp, otlp_http());
    let message = telemetry("message", Destination::OtlpGrpc, otlp_grpc());
    let running = demo_common::start_demo("jaeger_e2e", &user, &message).await;
    let base = format!("http://{}", running.user_addr);
    let http = demo::http_client(&client);

    let created = demo::step(
        &client,
        "create user",
        http.post(format!("{base}/users"))
            .json(&json!({ "name": "Jae", "email": format!("{namespace}@example.com") })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = serde_json::from_str::<Value>(&created.body).expect("JSON")["id"]
        .as_i64()
        .expect("id");
    let posted = demo::step(
        &client,
        "post message",
        http.post(format!("{base}/users/{id}/messages"))
            .json(&json!({ "text": "to the backend" })),
    )
    .await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let empty = demo::step(
        &client,
        "post an empty message",
        http.post(format!("{base}/users/{id}/messages"))
            .json(&json!({ "text": " " })),
    )
    .await;
    assert_eq!(empty.status, 400, "{}", empty.body);

    running.stop().await;
    flush(vec![client, user, message]).await;

    let jaeger = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("reqwest client");
    if jaeger.get(query_url()).send().await.is_err() {
        panic!(
            "Jaeger's query API at {} does not answer HTTP. Start it with `{START_COMMAND}`.",
            query_url()
        );
    }

    // create user: client (step, POST) -> user (server, SQL insert, Redis SETEX).
    let t = fetch_trace(&jaeger, &namespace, "create user", 5).await;
    assert!(
        t.spans
            .iter()
            .all(|s| s.namespace.as_deref() == Some(namespace.as_str()))
    );
    let root = t.span("client", "create user");
    root.assert_root()
        .assert_kind("client", "internal")
        .assert_ok();
    let post = t.span("client", "POST");
    post.assert_child_of(root)
        .assert_kind("client", "client")
        .assert_ok()
        .assert_tag(attribute::HTTP_REQUEST_METHOD, json!("POST"))
        .assert_tag(attribute::HTTP_RESPONSE_STATUS_CODE, json!(201));
    let server = t.span("user", "POST /users");
    server
        .assert_child_of(post)
        .assert_kind("user", "server")
        .assert_ok()
        .assert_tag(attribute::HTTP_ROUTE, json!("/users"))
        .assert_tag(attribute::HTTP_RESPONSE_STATUS_CODE, json!(201));
    t.span("user", "INSERT users")
        .assert_child_of(server)
        .assert_kind("user", "client")
        .assert_tag(attribute::DB_SYSTEM_NAME, json!("sqlite"))
        .assert_tag(
            attribute::DB_QUERY_TEXT,
            json!("INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email"),
        );
    t.span("user", "SETEX")
        .assert_child_of(server)
        .assert_kind("user", "client")
        .assert_tag(attribute::DB_SYSTEM_NAME, json!("redis"))
        .assert_tag(
            attribute::DB_QUERY_TEXT,
            json!(format!("SETEX user:{id} ? ?")),
        );
    assert!(
        t.spans
            .iter()
            .all(|s| !format!("{:?}", s.tags).contains(&namespace)),
        "the e-mail (which contains the namespace) leaked into a span: {}",
        t.describe()
    );

    // post message: ... user -> gRPC (OTLP/gRPC exporter) -> message -> MongoDB.
    let t = fetch_trace(&jaeger, &namespace, "post message", 7).await;
    assert_eq!(
        (t.count("client"), t.count("user"), t.count("message")),
        (2, 3, 2)
    );
    let root = t.span("client", "post message");
    root.assert_root();
    let post = t.span("client", "POST");
    post.assert_child_of(root).assert_ok();
    let server = t.span("user", "POST /users/{id}/messages");
    server
        .assert_child_of(post)
        .assert_kind("user", "server")
        .assert_ok();
    t.span("user", "GET")
        .assert_child_of(server)
        .assert_tag(attribute::DB_QUERY_TEXT, json!(format!("GET user:{id}")));
    let grpc_client = t.span("user", "message.v1.Messages/Post");
    grpc_client
        .assert_child_of(server)
        .assert_kind("user", "client")
        .assert_ok()
        .assert_tag(attribute::RPC_SYSTEM_NAME, json!("grpc"))
        .assert_tag(attribute::RPC_RESPONSE_STATUS_CODE, json!("OK"));
    let grpc_server = t.span("message", "message.v1.Messages/Post");
    grpc_server
        .assert_child_of(grpc_client)
        .assert_kind("message", "server")
        .assert_ok()
        .assert_tag(attribute::RPC_METHOD, json!("message.v1.Messages/Post"));
    let insert = t.span("message", "insert messages");
    insert
        .assert_child_of(grpc_server)
        .assert_kind("message", "client")
        .assert_tag(attribute::DB_SYSTEM_NAME, json!("mongodb"))
        .assert_tag(attribute::DB_COLLECTION_NAME, json!("messages"))
        .assert_tag(attribute::DB_OPERATION_NAME, json!("insert"));
    assert!(!format!("{:?}", insert.tags).contains("to the backend"));

    // post an empty message: gRPC INVALID_ARGUMENT -> the gRPC client span and the HTTP client
    // span (400) are errors, both servers are not.
    let t = fetch_trace(&jaeger, &namespace, "post an empty message", 6).await;
    assert_eq!(
        (t.count("client"), t.count("user"), t.count("message")),
        (2, 3, 1)
    );
    let root = t.span("client", "post an empty message");
    root.assert_root().assert_ok();
    let post = t.span("client", "POST");
    post.assert_child_of(root)
        .assert_error()
        .assert_tag(attribute::ERROR_TYPE, json!("400"))
        .assert_tag(attribute::HTTP_RESPONSE_STATUS_CODE, json!(400));
    let server = t.span("user", "POST /users/{id}/messages");
    server
        .assert_child_of(post)
        .assert_ok()
        .assert_tag(attribute::HTTP_RESPONSE_STATUS_CODE, json!(400));
    let grpc_client = t.span("user", "message.v1.Messages/Post");
    grpc_client
        .assert_child_of(server)
        .assert_error()
        .assert_tag(attribute::ERROR_TYPE, json!("INVALID_ARGUMENT"))
        .assert_tag(
            attribute::RPC_RESPONSE_STATUS_CODE,
            json!("INVALID_ARGUMENT"),
        );
    t.span("message", "message.v1.Messages/Post")
        .assert_child_of(grpc_client)
        .assert_kind("message", "server")
        .assert_ok()
        .assert_tag(
            attribute::RPC_RESPONSE_STATUS_CODE,
            json!("INVALID_ARGUMENT"),
        );
}
