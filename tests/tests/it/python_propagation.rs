//! Cross-language propagation with the official OpenTelemetry Python SDK
//! (scripts/python/*.py, run with the venv made by `scripts/python-env.sh`):
//!
//! 1. a Python client calls our axum server (`HttpServerLayer`) with a `traceparent` and
//!    `baggage` it made: our server span continues the Python trace under the Python client
//!    span (a remote parent) and the handler sees the baggage;
//! 2. our reqwest client (`OtelMiddleware`) calls a Python server: the trace id, parent span id
//!    and baggage the Python SDK extracts are those of our client span and context.

use otel_rpc::InstrumentationOptions;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{FutureExt as _, SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{HttpClientLayer, HttpServerLayer, OtelMiddleware};
use otel_testkit::{SpanAssert, TestTelemetry};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

const SETUP_COMMAND: &str = "scripts/python-env.sh";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The venv's python (`OTEL_PYTHON_VENV`, default `$HOME/.cache/otel-adapters/venv`); panics
/// naming the set-up command when it is missing.
fn python() -> PathBuf {
    let venv = std::env::var_os("OTEL_PYTHON_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/otel-adapters/venv")
        });
    let python = venv.join("bin/python3");
    assert!(
        python.is_file(),
        "the Python OpenTelemetry venv is missing ({} not found). Create it with `{SETUP_COMMAND}` (scripts/test.sh runs it).",
        python.display()
    );
    python
}

fn script(name: &str) -> PathBuf {
    repo_root().join("scripts/python").join(name)
}

/// Starts a Python script; stdin stays open (the server exits when it closes), stdout is read
/// by the test, and the process is killed when the handle is dropped.
fn spawn_python(script_name: &str, args: &[&str]) -> Child {
    Command::new(python())
        .arg(script(script_name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {script_name} with {}: {e} (set-up: `{SETUP_COMMAND}`)",
                python().display()
            )
        })
}

/// Runs the Python client against `url` and returns the JSON line it printed.
async fn run_python_client(url: &str, baggage: &[&str]) -> Value {
    let mut args = vec![url.to_string()];
    for b in baggage {
        args.push("--baggage".into());
        args.push(b.to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = spawn_python("propagation_client.py", &args);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("python client finished within 30s")
        .expect("python client ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python client failed ({}): {stdout}",
        output.status
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("python client printed {stdout:?}: {e}"))
}

fn hex_span_id(span: &otel_testkit::ExportedSpan) -> String {
    span.span_context.span_id().to_string()
}

fn hex_trace_id(span: &otel_testkit::ExportedSpan) -> String {
    span.span_context.trace_id().to_string()
}

/// What the handler saw: its OTel context's baggage and span.
async fn baggage_handler() -> axum::Json<Value> {
    let cx = Context::current();
    let baggage: serde_json::Map<String, Value> = cx
        .baggage()
        .iter()
        .map(|(k, (v, _))| (k.to_string(), json!(v.to_string())))
        .collect();
    let span = cx.span().span_context().clone();
    axum::Json(json!({
        "baggage": baggage,
        "trace_id": span.trace_id().to_string(),
        "span_id": span.span_id().to_string(),
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_to_our_server() {
    let t = TestTelemetry::new();
    let layer = HttpServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    let app = Router::new()
        .route("/baggage", get(baggage_handler))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let report = run_python_client(
        &format!("http://{addr}/baggage"),
        &["user.id=py-42", "tenant=acme,eu"],
    )
    .await;
    server.abort();
    assert_eq!(report["status"], 200, "{report}");

    let python_trace = report["trace_id"].as_str().expect("trace_id").to_string();
    let python_span = report["span_id"].as_str().expect("span_id").to_string();
    assert_eq!(python_trace.len(), 32);
    assert_ne!(python_trace, "0".repeat(32));
    let sent = &report["headers"];
    assert_eq!(
        sent["traceparent"].as_str().map(|tp| tp.split('-').nth(1)),
        Some(Some(python_trace.as_str())),
        "{report}"
    );
    assert!(
        sent["baggage"].is_string(),
        "the Python SDK sent no baggage header: {report}"
    );

    // Our server span: same trace, remote parent = the Python client span.
    let span = t.span("GET /baggage");
    span.assert_kind(SpanKind::Server)
        .assert_unset()
        .assert_attr(attribute::HTTP_ROUTE, "/baggage")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200i64);
    assert_eq!(hex_trace_id(&span), python_trace);
    assert_eq!(span.parent_span_id.to_string(), python_span);
    assert!(span.parent_span_is_remote, "the parent came over the wire");

    // The handler ran inside that span and saw the Python baggage (its `,` percent-encoded
    // by Python and decoded by us).
    let body: Value =
        serde_json::from_str(report["body"].as_str().expect("body")).expect("JSON body");
    assert_eq!(body["trace_id"], json!(python_trace));
    assert_eq!(body["span_id"], json!(hex_span_id(&span)));
    assert_eq!(
        body["baggage"],
        json!({ "user.id": "py-42", "tenant": "acme,eu" })
    );
}

/// A running `propagation_server.py`, killed on drop.
struct PythonServer {
    _child: Child,
    base: String,
}

async fn python_server() -> PythonServer {
    let mut child = spawn_python(
        "propagation_server.py",
        &["--host", "127.0.0.1", "--port", "0"],
    );
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("python server started within 30s")
        .expect("read python server stdout")
        .expect("python server printed its address");
    let ready: Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{first:?}: {e}"));
    let addr = ready["listening"].as_str().expect("listening").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    PythonServer {
        _child: child,
        base: format!("http://{addr}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_to_python_server() {
    let server = python_server().await;
    let t = TestTelemetry::new();
    let layer = HttpClientLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(OtelMiddleware::from(layer))
        .build();

    let tracer = t.tracer("cross-language-test");
    let parent = tracer.start("rust caller");
    let cx = Context::new().with_span(parent).with_baggage(vec![
        KeyValue::new("user.id", "rust-7"),
        KeyValue::new("note", "a b;c"),
    ]);
    let response = client
        .get(format!("{}/echo?q=1", server.base))
        .send()
        .with_context(cx.clone())
        .await
        .expect("python server answers");
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("JSON");
    cx.span().end();

    let ours = t.span("GET");
    ours.assert_kind(SpanKind::Client)
        .assert_unset()
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200i64)
        .assert_child_of(&t.span("rust caller"));
    assert_eq!(report["trace_id"], json!(hex_trace_id(&ours)), "{report}");
    assert_eq!(
        report["parent_span_id"],
        json!(hex_span_id(&ours)),
        "{report}"
    );
    assert_eq!(report["parent_is_remote"], json!(true));
    assert_eq!(report["parent_valid"], json!(true));
    assert_eq!(report["sampled"], json!(true));
    assert_eq!(report["path"], json!("/echo?q=1"));
    assert_eq!(
        report["baggage"],
        json!({ "user.id": "rust-7", "note": "a b;c" }),
        "{report}"
    );
    // Python's own server span is new, not ours.
    assert_ne!(report["span_id"], json!(hex_span_id(&ours)));
}
