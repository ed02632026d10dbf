//! The W3C Trace Context test suite's cases (w3c/trace-context `test/test.py`, strict level 2),
//! replayed server side against a real axum server (raw HTTP/1.1 over TCP, so header casing,
//! whitespace and repeated header lines reach the server as written) and a real tonic server
//! (gRPC metadata over HTTP/2), both behind our server layers with the default propagator
//! (no global propagator is installed in this test binary: the strict W3C fallback).
//!
//! Each case sends headers and expects either a new trace (server span is a root whose trace
//! id appears in no header) or the trace continued (trace id and remote parent taken from the
//! `traceparent`, the `tracestate` the handler sees equal to the expected one). A second table
//! covers W3C Baggage limits.
#![cfg(all(feature = "http", feature = "axum", feature = "grpc"))]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt};
use opentelemetry_sdk::trace::SpanData;
use otel_rpc::GrpcServerLayer;
use otel_rpc::HttpServerLayer;
use otel_testkit::{TestTelemetry, describe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::{Request, Response, Status};

mod proto {
    // Generated from tests/proto/echo.proto by scripts/gen-protos.sh.
    include!("../gen/echo.rs");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

const TRACE: &str = "12345678901234567890123456789012";
const PARENT: &str = "1234567890123456";
const TP00: &str = "00-12345678901234567890123456789012-1234567890123456-00";
const TP01: &str = "00-12345678901234567890123456789012-1234567890123456-01";

enum Expect {
    /// The server span is a root of a new trace.
    NewTrace,
    /// The trace continues with this `tracestate` (empty: none).
    Continued(String),
}

struct Case {
    name: &'static str,
    headers: Vec<(String, String)>,
    expect: Expect,
}

fn case(name: &'static str, headers: &[(&str, &str)], expect: Expect) -> Case {
    Case {
        name,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        expect,
    }
}

fn new_trace(name: &'static str, traceparent: &str) -> Case {
    case(name, &[("traceparent", traceparent)], Expect::NewTrace)
}

fn continued(name: &'static str, headers: &[(&str, &str)], tracestate: &str) -> Case {
    case(name, headers, Expect::Continued(tracestate.to_string()))
}

fn tracestate_dropped(name: &'static str, tracestate_lines: &[&str]) -> Case {
    let mut headers = vec![("traceparent", TP00)];
    headers.extend(tracestate_lines.iter().map(|v| ("tracestate", *v)));
    continued(name, &headers, "")
}

fn tracestate_kept(name: &'static str, tracestate_lines: &[String], expected: &str) -> Case {
    let mut headers = vec![("traceparent", TP00)];
    headers.extend(tracestate_lines.iter().map(|v| ("tracestate", v.as_str())));
    continued(name, &headers, expected)
}

/// The cases of `test.py`'s `TraceContextTest` (in its order; one row per request it sends),
/// then the malformed values issue 14 found continued by the SDK's lenient parser.
fn cases() -> Vec<Case> {
    let mut c = vec![
        case(
            "both traceparent and tracestate missing",
            &[],
            Expect::NewTrace,
        ),
        continued(
            "traceparent included, tracestate missing",
            &[("traceparent", TP01)],
            "",
        ),
        case(
            "traceparent duplicated",
            &[
                (
                    "traceparent",
                    "00-12345678901234567890123456789011-1234567890123456-01",
                ),
                ("traceparent", TP01),
            ],
            Expect::NewTrace,
        ),
        case(
            "header name trace-parent",
            &[("trace-parent", TP01)],
            Expect::NewTrace,
        ),
        case(
            "header name trace.parent",
            &[("trace.parent", TP01)],
            Expect::NewTrace,
        ),
        continued("header name TraceParent", &[("TraceParent", TP01)], ""),
        continued("header name TrAcEpArEnT", &[("TrAcEpArEnT", TP01)], ""),
        continued("header name TRACEPARENT", &[("TRACEPARENT", TP01)], ""),
        new_trace(
            "version 00 trailing characters",
            "00-12345678901234567890123456789012-1234567890123456-01.",
        ),
        new_trace(
            "version 00 with future fields",
            "00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
        ),
        continued(
            "version cc",
            &[(
                "traceparent",
                "cc-12345678901234567890123456789012-1234567890123456-01",
            )],
            "",
        ),
        continued(
            "version cc with future fields",
            &[(
                "traceparent",
                "cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
            )],
            "",
        ),
        new_trace(
            "version cc, future fields not dash-separated",
            "cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like",
        ),
        new_trace(
            "version ff",
            "ff-12345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "version illegal .0",
            ".0-12345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "version illegal 0.",
            "0.-12345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "version too long 000",
            "000-12345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "version too long 0000",
            "0000-12345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "version too short",
            "0-12345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "trace-id all zero",
            "00-00000000000000000000000000000000-1234567890123456-01",
        ),
        new_trace(
            "trace-id illegal leading .",
            "00-.2345678901234567890123456789012-1234567890123456-01",
        ),
        new_trace(
            "trace-id illegal trailing .",
            "00-1234567890123456789012345678901.-1234567890123456-01",
        ),
        new_trace(
            "trace-id too long",
            "00-123456789012345678901234567890123-1234567890123456-01",
        ),
        new_trace(
            "trace-id too short",
            "00-1234567890123456789012345678901-1234567890123456-01",
        ),
        new_trace(
            "parent-id all zero",
            "00-12345678901234567890123456789012-0000000000000000-01",
        ),
        new_trace(
            "parent-id illegal leading .",
            "00-12345678901234567890123456789012-.234567890123456-01",
        ),
        new_trace(
            "parent-id illegal trailing .",
            "00-12345678901234567890123456789012-123456789012345.-01",
        ),
        new_trace(
            "parent-id too long",
            "00-12345678901234567890123456789012-12345678901234567-01",
        ),
        new_trace(
            "parent-id too short",
            "00-12345678901234567890123456789012-123456789012345-01",
        ),
        new_trace(
            "flags illegal .0",
            "00-12345678901234567890123456789012-1234567890123456-.0",
        ),
        new_trace(
            "flags illegal 0.",
            "00-12345678901234567890123456789012-1234567890123456-0.",
        ),
        new_trace(
            "flags too long",
            "00-12345678901234567890123456789012-1234567890123456-001",
        ),
        new_trace(
            "flags too short",
            "00-12345678901234567890123456789012-1234567890123456-1",
        ),
        continued(
            "traceparent leading space",
            &[("traceparent", &format!(" {TP01}"))],
            "",
        ),
        continued(
            "traceparent leading tab",
            &[("traceparent", &format!("\t{TP01}"))],
            "",
        ),
        continued(
            "traceparent trailing space",
            &[("traceparent", &format!("{TP01} "))],
            "",
        ),
        continued(
            "traceparent trailing tab",
            &[("traceparent", &format!("{TP01}\t"))],
            "",
        ),
        continued(
            "traceparent both OWS",
            &[("traceparent", &format!("\t {TP01} \t"))],
            "",
        ),
        case(
            "tracestate without traceparent",
            &[("tracestate", "foo=1")],
            Expect::NewTrace,
        ),
        case(
            "tracestate (2 members) without traceparent",
            &[("tracestate", "foo=1,bar=2")],
            Expect::NewTrace,
        ),
        continued(
            "tracestate included, traceparent included",
            &[("traceparent", TP00), ("tracestate", "foo=1,bar=2")],
            "foo=1,bar=2",
        ),
        continued(
            "header name trace-state",
            &[("traceparent", TP00), ("trace-state", "foo=1")],
            "",
        ),
        continued(
            "header name trace.state",
            &[("traceparent", TP00), ("trace.state", "foo=1")],
            "",
        ),
        continued(
            "header name TraceState",
            &[("traceparent", TP00), ("TraceState", "foo=1")],
            "foo=1",
        ),
        continued(
            "header name TrAcEsTaTe",
            &[("traceparent", TP00), ("TrAcEsTaTe", "foo=1")],
            "foo=1",
        ),
        continued(
            "header name TRACESTATE",
            &[("traceparent", TP00), ("TRACESTATE", "foo=1")],
            "foo=1",
        ),
        tracestate_dropped("tracestate empty", &[""]),
        tracestate_kept(
            "tracestate foo=1 then empty",
            &["foo=1".into(), "".into()],
            "foo=1",
        ),
        tracestate_kept(
            "tracestate empty then foo=1",
            &["".into(), "foo=1".into()],
            "foo=1",
        ),
        tracestate_kept(
            "tracestate multiple headers, different keys, combined in order",
            &[
                "foo=1,bar=2".into(),
                "rojo=1,congo=2".into(),
                "baz=3".into(),
            ],
            "foo=1,bar=2,rojo=1,congo=2,baz=3",
        ),
        tracestate_dropped("tracestate duplicated key, same value", &["foo=1,foo=1"]),
        tracestate_dropped("tracestate duplicated key, other value", &["foo=1,foo=2"]),
        tracestate_dropped(
            "tracestate duplicated key across lines, same value",
            &["foo=1", "foo=1"],
        ),
        tracestate_dropped(
            "tracestate duplicated key across lines, other value",
            &["foo=1", "foo=2"],
        ),
    ];

    let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    let key_with_vendor = format!("{key}@a-z0-9_-*/");
    let value: String = (0x20u8..=0x7e)
        .filter(|b| *b != b',' && *b != b'=')
        .map(char::from)
        .collect();
    let all_chars = format!("{key}={value}");
    let all_chars_vendor = format!("{key_with_vendor}={value}");
    c.push(tracestate_kept(
        "tracestate all allowed characters",
        std::slice::from_ref(&all_chars),
        &all_chars,
    ));
    c.push(tracestate_kept(
        "tracestate all allowed characters, vendor key",
        std::slice::from_ref(&all_chars_vendor),
        &all_chars_vendor,
    ));

    for (name, line) in [
        (
            "tracestate OWS around commas",
            "foo=1 \t , \t bar=2, \t baz=3",
        ),
        (
            "tracestate OWS around commas 2",
            "foo=1\t \t,\t \tbar=2,\t \tbaz=3",
        ),
    ] {
        c.push(tracestate_kept(name, &[line.into()], "foo=1,bar=2,baz=3"));
    }
    for (name, line) in [
        ("tracestate leading space", " foo=1"),
        ("tracestate leading tab", "\tfoo=1"),
        ("tracestate trailing space", "foo=1 "),
        ("tracestate trailing tab", "foo=1\t"),
        ("tracestate both OWS", "\t foo=1 \t"),
    ] {
        c.push(tracestate_kept(name, &[line.into()], "foo=1"));
    }
    for (name, line) in [
        ("tracestate key with space", "foo =1"),
        ("tracestate key uppercase", "FOO=1"),
        ("tracestate key with dot", "foo.bar=1"),
        ("tracestate vendor empty", "foo@=1,bar=2"),
        ("tracestate tenant empty", "@foo=1,bar=2"),
        ("tracestate double @", "foo@@bar=1,bar=2"),
        ("tracestate two @", "foo@bar@baz=1,bar=2"),
        ("tracestate value with =", "foo=bar=baz"),
        ("tracestate empty value", "foo=,bar=3"),
    ] {
        c.push(tracestate_dropped(name, &[line]));
    }

    let members = |range: std::ops::RangeInclusive<u32>| {
        range
            .map(|i| format!("bar{i:02}={i:02}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let lines_32 = [
        members(1..=10),
        members(11..=20),
        members(21..=30),
        members(31..=32),
    ];
    c.push(tracestate_kept(
        "tracestate 32 members",
        &lines_32,
        &members(1..=32),
    ));
    let lines_33 = [
        members(1..=10),
        members(11..=20),
        members(21..=30),
        members(31..=33),
    ];
    let lines_33: Vec<&str> = lines_33.iter().map(String::as_str).collect();
    c.push(tracestate_dropped("tracestate 33 members", &lines_33));

    let key_256 = format!("{}=1", "z".repeat(256));
    c.push(tracestate_kept(
        "tracestate key 256 chars",
        &["foo=1".into(), key_256.clone()],
        &format!("foo=1,{key_256}"),
    ));
    let key_257 = format!("{}=1", "z".repeat(257));
    c.push(tracestate_dropped(
        "tracestate key 257 chars",
        &["foo=1", &key_257],
    ));
    // W3C: valid, and our strict view hands it on (unit test `tracestate::tests::key_limits`),
    // but opentelemetry 0.33's `TraceState` rejects a 14-character system-id (off by one in
    // `valid_key`: `i + 14 < key.len()`) and so drops the whole tracestate. Kept as the SDK
    // behaves; the only row that differs from test.py's expectation.
    let tenant_241 = format!("{}@{}=1", "t".repeat(241), "v".repeat(14));
    c.push(tracestate_kept(
        "tracestate tenant 241 + vendor 14 chars (SDK drops it, see above)",
        &["foo=1".into(), tenant_241.clone()],
        "",
    ));
    let tenant_241_vendor_13 = format!("{}@{}=1", "t".repeat(241), "v".repeat(13));
    c.push(tracestate_kept(
        "tracestate tenant 241 + vendor 13 chars",
        &["foo=1".into(), tenant_241_vendor_13.clone()],
        &format!("foo=1,{tenant_241_vendor_13}"),
    ));
    let tenant_242 = format!("{}@v=1", "t".repeat(242));
    c.push(tracestate_dropped(
        "tracestate tenant 242 chars",
        &["foo=1", &tenant_242],
    ));
    let vendor_15 = format!("t@{}=1", "v".repeat(15));
    c.push(tracestate_dropped(
        "tracestate vendor 15 chars",
        &["foo=1", &vendor_15],
    ));

    // Issue 14: values the SDK 0.33 parser alone continues.
    for (name, traceparent) in [
        ("issue 14: short fields", "00-1-2-01"),
        (
            "issue 14: 31-digit trace-id",
            "00-1234567890123456789012345678901-1234567890123456-01",
        ),
        (
            "issue 14: 33-digit trace-id",
            "00-123456789012345678901234567890123-1234567890123456-01",
        ),
        (
            "issue 14: 17-digit span-id",
            "00-12345678901234567890123456789012-12345678901234567-01",
        ),
        (
            "issue 14: one-digit version",
            "0-12345678901234567890123456789012-1234567890123456-01",
        ),
        (
            "issue 14: one-digit flags",
            "00-12345678901234567890123456789012-1234567890123456-1",
        ),
        (
            "issue 14: + sign in flags",
            "00-12345678901234567890123456789012-1234567890123456-+1",
        ),
        (
            "issue 14: + sign in version",
            "+0-12345678901234567890123456789012-1234567890123456-01",
        ),
        (
            "issue 14: trailing -",
            "00-12345678901234567890123456789012-1234567890123456-01-",
        ),
        (
            "uppercase trace-id",
            "00-1234567890ABCDEF1234567890123456-1234567890123456-01",
        ),
        (
            "uppercase version",
            "0A-12345678901234567890123456789012-1234567890123456-01",
        ),
    ] {
        c.push(new_trace(name, traceparent));
    }
    c.push(continued(
        "unknown flags kept",
        &[(
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-09",
        )],
        "",
    ));
    c
}

/// What the handler saw as its current context: trace id, tracestate, sorted baggage.
fn seen_by_handler() -> String {
    let cx = Context::current();
    let span = cx.span();
    let sc = span.span_context();
    let mut baggage: Vec<String> = cx
        .baggage()
        .iter()
        .map(|(k, (v, _))| format!("{k}={v}"))
        .collect();
    baggage.sort();
    format!(
        "{}\n{}\n{}",
        sc.trace_id(),
        sc.trace_state().header(),
        baggage.join(",")
    )
}

fn server_span(t: &TestTelemetry) -> SpanData {
    // The span ends when the response body ends, which can be just after the client read it.
    for _ in 0..500 {
        if let Some(span) = t
            .spans()
            .into_iter()
            .find(|s| s.span_kind == SpanKind::Server)
        {
            return span;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("no server span; spans: {}", describe(&t.spans()));
}

/// Checks one case's server span and handler view; returns a failure description.
fn check(case: &Case, span: &SpanData, seen: &str) -> Result<(), String> {
    let trace_id = span.span_context.trace_id().to_string();
    let fail = |why: &str| {
        Err(format!(
            "{}: {why}; span trace={trace_id} parent={} remote={} handler saw {seen:?}",
            case.name, span.parent_span_id, span.parent_span_is_remote
        ))
    };
    let handler_tracestate = seen.split('\n').nth(1).unwrap_or("?");
    if !seen.starts_with(&trace_id) {
        return fail("the handler's context is not the server span's");
    }
    match &case.expect {
        Expect::NewTrace => {
            if span.parent_span_id != SpanId::INVALID
                || case.headers.iter().any(|(_, v)| v.contains(&trace_id))
            {
                return fail("expected a new trace");
            }
            if !handler_tracestate.is_empty() {
                return fail("a new trace carries no tracestate");
            }
        }
        Expect::Continued(tracestate) => {
            if trace_id != TRACE
                || span.parent_span_id.to_string() != PARENT
                || !span.parent_span_is_remote
            {
                return fail("expected the trace continued from the traceparent");
            }
            if handler_tracestate != tracestate {
                return fail(&format!("expected tracestate {tracestate:?}"));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- HTTP

async fn http_server(t: &TestTelemetry) -> SocketAddr {
    let layer = HttpServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    let app = Router::new()
        .route("/", get(|| async { seen_by_handler() }))
        .layer(layer);
    crate::http_fixture::serve(app).await
}

/// Sends the header lines exactly as given (names, casing, whitespace, repetitions) and
/// returns the response body.
async fn raw_http_get(addr: SocketAddr, headers: &[(String, String)]) -> String {
    let mut request = String::from("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}:{value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_follows_the_w3c_trace_context_cases() {
    let t = TestTelemetry::new();
    let addr = http_server(&t).await;
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        t.reset();
        let seen = raw_http_get(addr, &case.headers).await;
        if let Err(e) = check(case, &server_span(&t), &seen) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // 79 rows of test.py (one per request it sends) + 13 of ours (issue 14's values,
    // uppercase hex, unknown flags, the 13-char system-id twin of the SDK-deviation row).
    assert_eq!(cases.len(), 79 + 13, "the table holds every case");
}

// ---------------------------------------------------------------- gRPC

struct SeenService;

#[tonic::async_trait]
impl Echo for SeenService {
    async fn say(&self, _request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(Response::new(EchoReply {
            message: seen_by_handler(),
        }))
    }

    type StreamStream = futures_util::stream::Empty<Result<EchoReply, Status>>;

    async fn stream(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Ok(Response::new(futures_util::stream::empty()))
    }
}

async fn grpc_client(t: &TestTelemetry) -> EchoClient<tonic::transport::Channel> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(SeenService))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    EchoClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
}

/// gRPC metadata keys are lowercase on the wire (HTTP/2), so the casing rows test the same
/// as their lowercase form; every other row reaches the server as written.
fn grpc_request(headers: &[(String, String)]) -> Request<EchoRequest> {
    let mut request = Request::new(EchoRequest::default());
    for (name, value) in headers {
        let key = MetadataKey::from_bytes(name.as_bytes()).expect("metadata key");
        let value: MetadataValue<_> = value.parse().expect("metadata value");
        request.metadata_mut().append(key, value);
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_server_follows_the_w3c_trace_context_cases() {
    let t = TestTelemetry::new();
    let mut client = grpc_client(&t).await;
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        t.reset();
        let seen = match client.say(grpc_request(&case.headers)).await {
            Ok(reply) => reply.into_inner().message,
            Err(status) => {
                failures.push(format!("{}: call failed: {status}", case.name));
                continue;
            }
        };
        if let Err(e) = check(case, &server_span(&t), &seen) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------- Baggage

struct BaggageCase {
    name: &'static str,
    lines: Vec<String>,
    /// Sorted `key=value` pairs the handler must see.
    expect: String,
}

fn baggage_cases() -> Vec<BaggageCase> {
    let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let many: Vec<String> = (0..200).map(|i| format!("k{i:03}=v")).collect();
    let first_64: Vec<String> = (0..64).map(|i| format!("k{i:03}=v")).collect();
    let big = format!("big={}", "x".repeat(4100));
    vec![
        BaggageCase {
            name: "valid members, percent-encoded value, properties",
            lines: lines(&["userId=alice, serverNode = DF%2028;prop;p=1"]),
            expect: "serverNode=DF 28,userId=alice".into(),
        },
        BaggageCase {
            name: "invalid members dropped one by one",
            lines: lines(&["a=1,bad key=2,b=\"q\",c=3;,d=4"]),
            expect: "a=1,d=4".into(),
        },
        BaggageCase {
            name: "several lines combined",
            lines: lines(&["a=1", "b=2"]),
            expect: "a=1,b=2".into(),
        },
        BaggageCase {
            name: "member over 4096 bytes dropped, others kept",
            lines: vec![format!("a=1,{big}")],
            expect: "a=1".into(),
        },
        BaggageCase {
            name: "200 members: the first 64 reach the API",
            lines: vec![many.join(",")],
            expect: first_64.join(","),
        },
        BaggageCase {
            name: "a header over 8192 bytes is not read",
            lines: vec![format!("a=1,{}", "b=2,".repeat(2100))],
            expect: String::new(),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_and_grpc_servers_apply_the_w3c_baggage_limits() {
    let t = TestTelemetry::new();
    let addr = http_server(&t).await;
    let mut client = grpc_client(&t).await;
    let mut failures = Vec::new();
    for case in baggage_cases() {
        let headers: Vec<(String, String)> =
            std::iter::once(("traceparent".to_string(), TP01.to_string()))
                .chain(
                    case.lines
                        .iter()
                        .map(|l| ("baggage".to_string(), l.clone())),
                )
                .collect();
        let http = raw_http_get(addr, &headers).await;
        let grpc = client
            .say(grpc_request(&headers))
            .await
            .expect("call")
            .into_inner()
            .message;
        for (side, seen) in [("http", http), ("grpc", grpc)] {
            let baggage = seen.rsplit('\n').next().unwrap_or("?");
            if baggage != case.expect {
                failures.push(format!("{side} {}: saw {baggage:?}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
