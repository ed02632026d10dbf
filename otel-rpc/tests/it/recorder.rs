//! Behaviour of the core recorder against the SDK's in-memory exporters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::trace::Sampler;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::testing::DB_DURATION_BOUNDARIES;
use otel_rpc::{DbOperation, ErrorTextMode, Failure, Outcome, QueryText, SpanRecorder};
use otel_testkit::sampling::{REMOTE_PARENT_ID, REMOTE_TRACE_ID};
use otel_testkit::{SpanAssert, TestTelemetry};

fn recorder(t: &TestTelemetry, kind: SpanKind) -> SpanRecorder {
    SpanRecorder::builder(kind, "otel-rpc-test")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .status_code_attribute(attribute::DB_RESPONSE_STATUS_CODE)
        .build()
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn server_continues_a_valid_traceparent() {
    let t = TestTelemetry::new();
    let server = recorder(&t, SpanKind::Server);
    let carrier = headers(&[("traceparent", &format!("00-{TRACE_ID}-{PARENT_ID}-01"))]);
    let parent = server.extract(&carrier);
    server
        .start(&parent, "GET /users", vec![])
        .end(Outcome::Success);

    let span = t.span("GET /users");
    assert_eq!(span.span_context.trace_id().to_string(), TRACE_ID);
    assert_eq!(span.parent_span_id.to_string(), PARENT_ID);
    assert!(span.parent_span_is_remote);
    span.assert_kind(SpanKind::Server).assert_unset();
}

#[test]
fn malformed_headers_start_a_new_root() {
    let huge = format!("00-{TRACE_ID}-{PARENT_ID}-01{}", "0".repeat(100_000));
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![("traceparent", "garbage".into())],
        vec![("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}"))], // truncated
        vec![(
            "traceparent",
            format!("00-{}-{PARENT_ID}-01", "0".repeat(32)),
        )], // zero trace id
        vec![("traceparent", format!("zz-{TRACE_ID}-{PARENT_ID}-01"))],
        vec![("traceparent", huge.clone())],
        vec![("traceparent", "00-\u{1F600}-x-01".into())],
        vec![("baggage", format!("k={}", "v".repeat(20_000)))],
        vec![("baggage", ";;;,,,==%%%".into())],
    ];
    for case in cases {
        let t = TestTelemetry::new();
        let server = recorder(&t, SpanKind::Server);
        let carrier: HashMap<String, String> = case
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let parent = server.extract(&carrier);
        assert!(
            !parent.span().span_context().is_valid(),
            "no remote parent expected for {case:?}"
        );
        server.start(&parent, "op", vec![]).end(Outcome::Success);
        let span = t.span("op");
        assert_eq!(span.parent_span_id, opentelemetry::trace::SpanId::INVALID);
        assert_ne!(span.span_context.trace_id().to_string(), TRACE_ID);
    }
}

#[test]
fn baggage_entries_reach_the_context() {
    let t = TestTelemetry::new();
    let server = recorder(&t, SpanKind::Server);
    let carrier = headers(&[
        ("traceparent", &format!("00-{TRACE_ID}-{PARENT_ID}-01")),
        ("baggage", "tenant=acme,user.id=42"),
    ]);
    let cx = server.extract(&carrier);
    assert_eq!(
        cx.baggage().get("tenant").map(|v| v.to_string()),
        Some("acme".into())
    );
    assert_eq!(
        cx.baggage().get("user.id").map(|v| v.to_string()),
        Some("42".into())
    );
}

#[test]
fn client_injects_what_a_server_extracts() {
    let t = TestTelemetry::new();
    let client = recorder(&t, SpanKind::Client);
    let server = recorder(&t, SpanKind::Server);

    let parent = Context::new().with_baggage(vec![KeyValue::new("tenant", "acme")]);
    let call = client.start(&parent, "client call", vec![]);
    let mut carrier = HashMap::new();
    client.inject(call.context(), &mut carrier);
    assert!(
        carrier
            .get("traceparent")
            .is_some_and(|v| v.starts_with("00-"))
    );
    assert_eq!(
        carrier.get("baggage").map(String::as_str),
        Some("tenant=acme")
    );

    let incoming = server.extract(&carrier);
    assert_eq!(
        incoming.baggage().get("tenant").map(|v| v.to_string()),
        Some("acme".into())
    );
    server
        .start(&incoming, "server call", vec![])
        .end(Outcome::Success);
    call.end(Outcome::Success);

    let c = t.span("client call");
    let s = t.span("server call");
    s.assert_child_of(&c).assert_kind(SpanKind::Server);
    c.assert_kind(SpanKind::Client);
    assert!(s.parent_span_is_remote);
}

fn has_exception(span: &opentelemetry_sdk::trace::SpanData) -> bool {
    span.events.iter().any(|e| e.name == "exception")
}

fn event_attr(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    span.events
        .iter()
        .find(|e| e.name == "exception")?
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[test]
fn classified_failure_sets_error_status_and_type_without_exception() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    rec.start(&Context::new(), "bad", vec![])
        .end(Outcome::Failure(
            Failure::new("23505").with_status_code("23505"),
        ));
    rec.start(&Context::new(), "good", vec![])
        .end(Outcome::Success);

    let bad = t.span("bad");
    bad.assert_attr(attribute::ERROR_TYPE, "23505")
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "23505");
    // No description repeating error.type, no exception for a response code.
    assert_eq!(bad.status, Status::error(""));
    assert!(!has_exception(&bad), "{:?}", bad.events);

    let good = t.span("good");
    good.assert_unset().assert_no_attr(attribute::ERROR_TYPE);
    assert!(good.events.is_empty());
}

#[test]
fn fixed_message_is_the_description_and_exception_only_when_marked() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    rec.start(&Context::new(), "io", vec![]).end(
        Failure::new("io")
            .with_message("connection reset")
            .with_exception()
            .into(),
    );
    let span = t.span("io");
    assert_eq!(span.status, Status::error("connection reset"));
    span.assert_attr(attribute::ERROR_TYPE, "io");
    assert_eq!(
        event_attr(&span, attribute::EXCEPTION_TYPE).as_deref(),
        Some("io")
    );
    assert_eq!(
        event_attr(&span, attribute::EXCEPTION_MESSAGE).as_deref(),
        Some("connection reset")
    );

    // An exception without a message has no exception.message.
    rec.start(&Context::new(), "bare", vec![])
        .end(Failure::new("io").with_exception().into());
    let bare = t.span("bare");
    assert_eq!(bare.status, Status::error(""));
    assert!(has_exception(&bare));
    assert_eq!(event_attr(&bare, attribute::EXCEPTION_MESSAGE), None);
}

#[test]
fn untrusted_text_stays_out_by_default_and_is_scrubbed_when_opted_in() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    let server_text = "duplicate key value (email)=(PLANTED-SECRET@example.com) token 'hunter2'";
    rec.start(&Context::new(), "off", vec![]).end(
        Failure::new("23505")
            .with_status_code("23505")
            .with_exception()
            .with_untrusted_message(server_text, ErrorTextMode::Off)
            .into(),
    );
    rec.start(&Context::new(), "scrubbed", vec![]).end(
        Failure::new("23505")
            .with_exception()
            .with_untrusted_message(server_text, ErrorTextMode::Scrubbed)
            .into(),
    );
    let off = t.span("off");
    assert_eq!(off.status, Status::error(""));
    assert_eq!(event_attr(&off, attribute::EXCEPTION_MESSAGE), None);
    let scrubbed = t.span("scrubbed");
    assert_eq!(
        scrubbed.status,
        Status::error("duplicate key value (email)=? token ?")
    );
    for span in t.spans() {
        let dump = format!("{span:?}");
        assert!(
            !dump.contains("PLANTED") && !dump.contains("hunter2"),
            "{dump}"
        );
    }
    let points = t.histogram("db.client.operation.duration");
    assert!(!points.is_empty());
    assert!(!format!("{points:?}").contains("PLANTED"));
}

#[test]
fn run_classifies_a_rust_error_as_other() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Internal);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r: Result<(), std::io::Error> = rt.block_on(
        rec.start(&Context::new(), "io", vec![])
            .run(async { Err(std::io::Error::other("disk on fire")) }),
    );
    assert!(r.is_err());
    let span = t.span("io");
    span.assert_attr(attribute::ERROR_TYPE, "_OTHER");
    assert_eq!(span.status, Status::error(""));
    assert_eq!(
        event_attr(&span, attribute::EXCEPTION_TYPE).as_deref(),
        Some("_OTHER")
    );
    assert_eq!(event_attr(&span, attribute::EXCEPTION_MESSAGE), None);
    assert!(!format!("{span:?}").contains("disk on fire"));
}

#[test]
fn dropped_recording_ends_as_cancelled() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    drop(rec.start(&Context::new(), "abandoned", vec![]));
    let span = t.span("abandoned");
    span.assert_attr(attribute::ERROR_TYPE, Outcome::CANCELLED_ERROR_TYPE);
    assert_eq!(span.status, Status::error(""));
    assert!(!has_exception(&span));
    let points = t.histogram("db.client.operation.duration");
    assert_eq!(points.len(), 1);
    assert_eq!(
        points[0].attr(attribute::ERROR_TYPE).as_deref(),
        Some("cancelled")
    );
}

#[test]
fn one_histogram_point_per_operation_with_low_cardinality_attributes() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    let op = DbOperation::new("postgresql")
        .namespace("shop")
        .collection("orders")
        .operation("SELECT")
        .query_text(QueryText::Ready("SELECT * FROM orders WHERE id = ?".into()))
        .server("127.0.0.1", Some(5432));
    for _ in 0..3 {
        rec.start_db(&Context::new(), &op).end(Outcome::Success);
    }
    rec.start_db(&Context::new(), &op)
        .end(Failure::new("42601").with_status_code("42601").into());

    assert_eq!(
        t.metric_unit("db.client.operation.duration").as_deref(),
        Some("s")
    );
    let mut points = t.histogram("db.client.operation.duration");
    points.sort_by_key(|p| p.count);
    assert_eq!(points.len(), 2, "{points:?}");
    let (err, ok) = (&points[0], &points[1]);
    assert_eq!(ok.count, 3);
    assert_eq!(err.count, 1);
    assert_eq!(ok.bounds, DB_DURATION_BOUNDARIES.to_vec());
    assert!(
        ok.sum > 0.0 && ok.sum < 1.0,
        "seconds expected, got {}",
        ok.sum
    );
    let mut keys: Vec<_> = ok.attributes.iter().map(|kv| kv.key.to_string()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "db.collection.name",
            "db.namespace",
            "db.operation.name",
            "db.system.name",
            "server.address",
            "server.port"
        ]
    );
    assert_eq!(err.attr(attribute::ERROR_TYPE).as_deref(), Some("42601"));
    assert_eq!(
        err.attr(attribute::DB_RESPONSE_STATUS_CODE).as_deref(),
        Some("42601")
    );
    assert!(err.attr(attribute::DB_QUERY_TEXT).is_none());
}

#[test]
fn explicit_start_and_end_times_are_kept() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let end = start + Duration::from_millis(250);
    rec.start_at(&Context::new(), start, "evt", vec![])
        .end_at(end, Outcome::Success);
    let span = t.span("evt");
    assert_eq!(span.start_time, start);
    assert_eq!(span.end_time, end);
    let p = &t.histogram("db.client.operation.duration")[0];
    assert!((p.sum - 0.25).abs() < 1e-9, "{}", p.sum);
}

#[test]
fn naming_rules_table() {
    struct Case {
        op: DbOperation<'static>,
        name: &'static str,
        attrs: Vec<(&'static str, opentelemetry::Value)>,
    }
    let cases = vec![
        Case {
            op: DbOperation::new("mongodb")
                .namespace("shop")
                .collection("orders")
                .operation("find")
                .summary("find orders"),
            name: "find orders",
            attrs: vec![
                ("db.system.name", "mongodb".into()),
                ("db.query.summary", "find orders".into()),
            ],
        },
        Case {
            op: DbOperation::new("postgresql")
                .namespace("shop")
                .collection("users")
                .operation("SELECT"),
            name: "SELECT users",
            attrs: vec![
                ("db.collection.name", "users".into()),
                ("db.operation.name", "SELECT".into()),
            ],
        },
        Case {
            op: DbOperation::new("redis").namespace("0").operation("GET"),
            name: "GET 0",
            attrs: vec![("db.namespace", "0".into())],
        },
        Case {
            op: DbOperation::new("sqlite").operation("BEGIN"),
            name: "BEGIN",
            attrs: vec![("db.operation.name", "BEGIN".into())],
        },
        Case {
            op: DbOperation::new("mysql").namespace("test"),
            name: "test",
            attrs: vec![("db.namespace", "test".into())],
        },
        Case {
            op: DbOperation::new("redis").server("cache.local", Some(6380)),
            name: "cache.local:6380",
            attrs: vec![
                ("server.address", "cache.local".into()),
                ("server.port", 6380i64.into()),
            ],
        },
        Case {
            op: DbOperation::new("redis")
                .operation("PING")
                .server("cache.local", Some(6380)),
            name: "PING cache.local:6380",
            attrs: vec![],
        },
        Case {
            op: DbOperation::new("mariadb"),
            name: "mariadb",
            attrs: vec![("db.system.name", "mariadb".into())],
        },
        Case {
            op: DbOperation::new("mongodb")
                .collection("orders")
                .operation("insert")
                .batch_size(3),
            name: "insert orders",
            attrs: vec![("db.operation.batch.size", 3i64.into())],
        },
    ];
    for case in cases {
        let t = TestTelemetry::new();
        let rec = recorder(&t, SpanKind::Client);
        assert_eq!(case.op.span_name(), case.name);
        rec.start_db(&Context::new(), &case.op)
            .end(Outcome::Success);
        let span = t.span(case.name);
        span.assert_kind(SpanKind::Client);
        for (k, v) in case.attrs {
            span.assert_attr(k, v);
        }
    }
    // A batch of one is not a batch.
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    rec.start_db(
        &Context::new(),
        &DbOperation::new("mongodb")
            .operation("insert")
            .batch_size(1),
    )
    .end(Outcome::Success);
    t.span("insert").assert_no_attr("db.operation.batch.size");
}

/// A remote parent (`TRACE_ID`, `PARENT_ID`) that is not sampled.
fn unsampled_remote_parent() -> Context {
    assert_eq!((TRACE_ID, PARENT_ID), (REMOTE_TRACE_ID, REMOTE_PARENT_ID));
    otel_testkit::sampling::unsampled_remote_parent()
}

#[test]
fn unsampled_parent_exports_nothing_and_builds_no_detail() {
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    let rec = recorder(&t, SpanKind::Client);
    let parent = unsampled_remote_parent();
    let builds = AtomicUsize::new(0);
    let lazy = || {
        builds.fetch_add(1, Ordering::SeqCst);
        Some(StringValue::from("SELECT ?"))
    };
    for _ in 0..10 {
        let op = DbOperation::new("postgresql")
            .operation("SELECT")
            .query_text(QueryText::Lazy(&lazy));
        let r = rec.start_db(&parent, &op);
        assert!(!r.is_recording());
        // The recording still carries the (unsampled) trace for propagation.
        assert_eq!(
            r.context().span().span_context().trace_id().to_string(),
            TRACE_ID
        );
        r.end(Outcome::Success);
    }
    assert_eq!(
        builds.load(Ordering::SeqCst),
        0,
        "query text built for unsampled spans"
    );
    assert!(t.spans().is_empty());
    // The duration metric still counts every operation.
    assert_eq!(t.histogram("db.client.operation.duration")[0].count, 10);

    // Sampled: the lazy text is built exactly once per span.
    let op = DbOperation::new("postgresql")
        .operation("SELECT")
        .query_text(QueryText::Lazy(&lazy));
    rec.start_db(&Context::new(), &op).end(Outcome::Success);
    assert_eq!(builds.load(Ordering::SeqCst), 1);
    t.span("SELECT")
        .assert_attr(attribute::DB_QUERY_TEXT, "SELECT ?");
}

/// The SDK's tracer provider behind another type: the recorder then takes the API's dynamic
/// tracer path (as with a global provider) instead of the SDK's own.
struct OtherProvider(opentelemetry_sdk::trace::SdkTracerProvider);

impl opentelemetry::trace::TracerProvider for OtherProvider {
    type Tracer = opentelemetry_sdk::trace::SdkTracer;

    fn tracer_with_scope(&self, scope: opentelemetry::InstrumentationScope) -> Self::Tracer {
        self.0.tracer_with_scope(scope)
    }
}

#[test]
fn an_unsampled_operation_propagates_its_own_span_context_on_both_tracer_paths() {
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    let sdk = recorder(&t, SpanKind::Client);
    let dynamic = SpanRecorder::builder(SpanKind::Client, "otel-rpc-test")
        .tracer_provider(OtherProvider(t.tracer_provider.clone()))
        .meter_provider(t.meter_provider.clone())
        .build();
    let parent = unsampled_remote_parent();
    for (path, rec) in [("sdk", &sdk), ("dynamic", &dynamic)] {
        let r = rec.start(&parent, "unsampled", vec![]);
        assert!(!r.is_recording(), "{path}");
        let sc = r.context().span().span_context().clone();
        assert!(sc.is_valid(), "{path}");
        assert_eq!(sc.trace_id().to_string(), TRACE_ID, "{path}");
        assert_ne!(
            sc.span_id().to_string(),
            PARENT_ID,
            "{path}: its own span id"
        );
        assert!(!sc.is_sampled(), "{path}");
        assert!(!sc.is_remote(), "{path}");
        assert!(!r.context().span().is_recording(), "{path}");
        // Calls on the context's span are ignored, as on any span that does not record.
        r.context()
            .span()
            .set_attribute(KeyValue::new("ignored", "x"));
        // What a client injects names this operation, unsampled.
        let mut carrier = HashMap::new();
        rec.inject(r.context(), &mut carrier);
        assert_eq!(
            carrier.get("traceparent").map(String::as_str),
            Some(format!("00-{TRACE_ID}-{}-00", sc.span_id()).as_str()),
            "{path}"
        );
        // Nested work under it is unsampled too, in the same trace.
        let nested = rec.start(r.context(), "nested", vec![]);
        assert!(!nested.is_recording(), "{path}");
        assert_eq!(
            nested.context().span().span_context().trace_id(),
            sc.trace_id(),
            "{path}"
        );
        nested.end(Outcome::Success);
        r.end(Outcome::Success);
    }
    assert!(t.spans().is_empty());
    assert_eq!(t.histogram("db.client.operation.duration")[0].count, 4);
}

#[test]
fn both_tracer_paths_record_the_same_sampled_span() {
    let t = TestTelemetry::new();
    let dynamic = SpanRecorder::builder(SpanKind::Client, "otel-rpc-test")
        .tracer_provider(OtherProvider(t.tracer_provider.clone()))
        .meter_provider(t.meter_provider.clone())
        .build();
    for (name, rec) in [
        ("sdk", recorder(&t, SpanKind::Client)),
        ("dynamic", dynamic),
    ] {
        let op = DbOperation::new("postgresql")
            .operation("SELECT")
            .summary(name)
            .query_text(QueryText::Ready("SELECT 1".into()));
        let r = rec.start_db(&Context::new(), &op);
        assert!(r.is_recording());
        r.context()
            .span()
            .set_attribute(KeyValue::new("nested.set", name));
        r.end(Outcome::Success);
        t.span(name)
            .assert_attr(attribute::DB_QUERY_TEXT, "SELECT 1")
            .assert_attr("nested.set", name);
    }
}

#[test]
fn suppressed_context_records_nothing() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    let cx = Context::new().with_telemetry_suppressed();
    rec.start(&cx, "hidden", vec![]).end(Outcome::Success);
    assert!(t.spans().is_empty());
    assert!(t.histogram("db.client.operation.duration").is_empty());
}

#[test]
fn in_scope_makes_nested_spans_children() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Server);
    let inner = recorder(&t, SpanKind::Client);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outer = rec.start(&Context::new(), "outer", vec![]);
    rt.block_on(outer.in_scope(async {
        tokio::task::yield_now().await;
        inner
            .start(&otel_rpc::current_context(), "nested", vec![])
            .end(Outcome::Success);
    }));
    outer.end(Outcome::Success);
    t.span("nested").assert_child_of(&t.span("outer"));
}

#[test]
fn metrics_can_be_disabled() {
    let t = TestTelemetry::new();
    let rec = SpanRecorder::builder(SpanKind::Client, "x")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .disable_metrics()
        .build();
    rec.start(&Context::new(), "a", vec![])
        .end(Outcome::Success);
    t.span("a");
    assert!(t.histogram("db.client.operation.duration").is_empty());
}

#[test]
fn explicit_parent_is_used() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    let tracer = t.tracer("test");
    let parent_span = tracer.start("parent");
    let parent = Context::new().with_span(parent_span);
    rec.start(&parent, "child", vec![]).end(Outcome::Success);
    parent.span().end();
    t.span("child").assert_child_of(&t.span("parent"));
}

#[test]
fn db_names_are_capped_and_bad_collections_omitted_on_span_and_metric() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, SpanKind::Client);
    let long = "n".repeat(1 << 20);
    let op = DbOperation::new("postgresql")
        .namespace(long.clone())
        .collection("orders WHERE id = 'PLANTED'")
        .operation("SELECT");
    let name = op.span_name();
    assert!(name.len() <= "SELECT ".len() + 255, "{}", name.len());
    assert!(name.starts_with("SELECT nnn"));
    rec.start_db(&Context::new(), &op).end(Outcome::Success);
    let summary = DbOperation::new("postgresql").summary(format!("SELECT {long}"));
    assert!(summary.span_name().len() <= 255);
    rec.start_db(&Context::new(), &summary)
        .end(Outcome::Success);

    let spans = t.spans();
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert!(span.name.len() <= 262, "{}", span.name.len());
        assert!(!span.name.contains("PLANTED"));
        for kv in &span.attributes {
            assert!(kv.value.as_str().len() <= 255, "{} too long", kv.key);
            assert_ne!(kv.key.as_str(), attribute::DB_COLLECTION_NAME);
        }
    }
    let ns = spans
        .iter()
        .flat_map(|s| s.attributes.iter())
        .find(|kv| kv.key.as_str() == attribute::DB_NAMESPACE)
        .expect("namespace recorded (capped)");
    assert!(
        ns.value
            .as_str()
            .ends_with(otel_rpc::text::TRUNCATION_MARKER)
    );
    let points = t.histogram("db.client.operation.duration");
    assert_eq!(points.len(), 2);
    for p in &points {
        assert!(p.attr(attribute::DB_COLLECTION_NAME).is_none());
        for kv in &p.attributes {
            assert!(
                kv.value.as_str().len() <= 255,
                "{} too long on the metric",
                kv.key
            );
        }
    }
    assert!(
        points
            .iter()
            .any(|p| p.attr(attribute::DB_NAMESPACE).is_some())
    );
    assert!(
        points
            .iter()
            .any(|p| p.attr(attribute::DB_QUERY_SUMMARY).is_some())
    );
}

#[test]
fn metric_values_given_by_layers_are_capped() {
    let t = TestTelemetry::new();
    let rec = SpanRecorder::builder(SpanKind::Server, "cap-test")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .duration_metric(otel_rpc::DurationMetric::http_server())
        .build();
    let huge = "r".repeat(70_000);
    let mut r = rec.start(
        &Context::new(),
        "GET",
        vec![KeyValue::new(attribute::HTTP_ROUTE, huge.clone())],
    );
    r.set_metric_attribute(KeyValue::new(attribute::HTTP_REQUEST_METHOD, huge));
    r.set_metric_attribute(KeyValue::new(attribute::HTTP_RESPONSE_STATUS_CODE, 200i64));
    r.end(Outcome::Success);
    let points = t.histogram("http.server.request.duration");
    assert_eq!(points.len(), 1);
    let p = &points[0];
    for key in [attribute::HTTP_ROUTE, attribute::HTTP_REQUEST_METHOD] {
        let v = p.attr(key).unwrap_or_else(|| panic!("{key} on the metric"));
        assert!(v.len() <= 255, "{key}: {} bytes", v.len());
    }
    assert_eq!(
        p.attr(attribute::HTTP_RESPONSE_STATUS_CODE).as_deref(),
        Some("200")
    );
}
