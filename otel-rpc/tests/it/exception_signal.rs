//! The exception signal per mode (span event, `logs`, `logs/dup`) with the SDK's in-memory
//! span and log exporters.

use opentelemetry::Context;
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry_sdk::logs::SdkLogRecord;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::Domain;
use otel_rpc::ExceptionSignal;
use otel_rpc::{DurationMetric, Failure, Outcome, SpanRecorder};
use otel_testkit::{SpanAssert, TestTelemetry};

fn recorder(t: &TestTelemetry, signal: ExceptionSignal, metric: DurationMetric) -> SpanRecorder {
    SpanRecorder::builder(SpanKind::Client, "exception-test")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .logger_provider(t.logger_provider.clone())
        .duration_metric(metric)
        .exception_signal(signal)
        .build()
}

fn log_attr(record: &SdkLogRecord, key: &str) -> Option<String> {
    record
        .attributes_iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| match v {
            AnyValue::String(s) => s.to_string(),
            other => format!("{other:?}"),
        })
}

fn has_span_event(t: &TestTelemetry, name: &str) -> bool {
    t.span(name).events.iter().any(|e| e.name == "exception")
}

/// Ends one real error (with a fixed message), one real error without message and one
/// classified failure; returns the trace/span ids of the first.
fn record_three(rec: &SpanRecorder) -> (String, String) {
    let r = rec.start(&Context::new(), "driver error", vec![]);
    let ids = (
        r.context().span().span_context().trace_id().to_string(),
        r.context().span().span_context().span_id().to_string(),
    );
    r.end(
        Failure::new("io")
            .with_message("connection reset")
            .with_exception()
            .into(),
    );
    rec.start(&Context::new(), "bare error", vec![])
        .end(Failure::new("_OTHER").with_exception().into());
    rec.start(&Context::new(), "response code", vec![])
        .end(Outcome::failure("42P01"));
    ids
}

#[test]
fn default_span_event_mode_records_events_and_no_logs() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, ExceptionSignal::SpanEvent, DurationMetric::db_client());
    record_three(&rec);
    assert!(has_span_event(&t, "driver error"));
    assert!(has_span_event(&t, "bare error"));
    assert!(!has_span_event(&t, "response code"));
    assert!(t.logs().is_empty(), "{:?}", t.logs());
    assert_eq!(t.spans().len(), 3);
}

#[test]
fn logs_mode_emits_domain_log_records_and_no_span_events() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, ExceptionSignal::Logs, DurationMetric::db_client());
    let (trace_id, span_id) = record_three(&rec);
    for name in ["driver error", "bare error", "response code"] {
        assert!(!has_span_event(&t, name), "{name}");
        t.span(name).assert_attr(
            attribute::ERROR_TYPE,
            if name == "response code" {
                "42P01"
            } else if name == "bare error" {
                "_OTHER"
            } else {
                "io"
            },
        );
    }
    let logs = t.logs();
    assert_eq!(
        logs.len(),
        2,
        "one record per real error, none for a response code: {logs:?}"
    );
    let first = &logs[0];
    assert_eq!(first.event_name(), Some("db.client.operation.exception"));
    assert_eq!(first.severity_number(), Some(Severity::Warn));
    assert_eq!(first.severity_text(), Some("WARN"));
    assert_eq!(
        log_attr(first, attribute::EXCEPTION_TYPE).as_deref(),
        Some("io")
    );
    assert_eq!(
        log_attr(first, attribute::ERROR_TYPE).as_deref(),
        Some("io")
    );
    assert_eq!(
        log_attr(first, attribute::EXCEPTION_MESSAGE).as_deref(),
        Some("connection reset")
    );
    let tc = first
        .trace_context()
        .expect("log record in the span's context");
    assert_eq!(tc.trace_id.to_string(), trace_id);
    assert_eq!(tc.span_id.to_string(), span_id);
    let second = &logs[1];
    assert_eq!(
        log_attr(second, attribute::EXCEPTION_TYPE).as_deref(),
        Some("_OTHER")
    );
    assert_eq!(log_attr(second, attribute::EXCEPTION_MESSAGE), None);
}

#[test]
fn logs_dup_mode_records_both() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, ExceptionSignal::LogsDup, DurationMetric::db_client());
    record_three(&rec);
    assert!(has_span_event(&t, "driver error"));
    assert!(has_span_event(&t, "bare error"));
    assert!(!has_span_event(&t, "response code"));
    assert_eq!(t.logs().len(), 2);
}

#[test]
fn event_name_follows_the_domain() {
    let cases = [
        (
            DurationMetric::db_client(),
            Domain::Db,
            "db.client.operation.exception",
        ),
        (
            DurationMetric::http_server(),
            Domain::HttpServer,
            "http.server.request.exception",
        ),
        (
            DurationMetric::http_client(),
            Domain::HttpClient,
            "http.client.request.exception",
        ),
        (
            DurationMetric::rpc_server(),
            Domain::RpcServer,
            "rpc.server.call.exception",
        ),
        (
            DurationMetric::rpc_client(),
            Domain::RpcClient,
            "rpc.client.call.exception",
        ),
    ];
    for (metric, domain, event) in cases {
        let t = TestTelemetry::new();
        let rec = recorder(&t, ExceptionSignal::Logs, metric);
        assert_eq!(rec.domain(), domain);
        rec.start(&Context::new(), "op", vec![])
            .end(Failure::new("_OTHER").with_exception().into());
        let logs = t.logs();
        assert_eq!(logs.len(), 1, "{domain:?}");
        assert_eq!(logs[0].event_name(), Some(event));
    }
}

#[test]
fn cancelled_is_no_exception_in_any_mode() {
    for signal in [
        ExceptionSignal::SpanEvent,
        ExceptionSignal::Logs,
        ExceptionSignal::LogsDup,
    ] {
        let t = TestTelemetry::new();
        let rec = recorder(&t, signal, DurationMetric::db_client());
        drop(rec.start(&Context::new(), "dropped", vec![]));
        assert!(!has_span_event(&t, "dropped"));
        t.span("dropped")
            .assert_attr(attribute::ERROR_TYPE, "cancelled");
        assert!(t.logs().is_empty());
    }
}

#[test]
fn untrusted_text_reaches_no_log_record() {
    let t = TestTelemetry::new();
    let rec = recorder(&t, ExceptionSignal::LogsDup, DurationMetric::db_client());
    rec.start(&Context::new(), "op", vec![]).end(
        Failure::new("_OTHER")
            .with_exception()
            .with_untrusted_message(
                "token PLANTED-SECRET rejected",
                otel_rpc::ErrorTextMode::Off,
            )
            .into(),
    );
    assert_eq!(t.logs().len(), 1);
    assert!(t.leaks("PLANTED-SECRET").is_empty());
}

/// Runs the ignored test `name` of this binary in a child process with `vars` set.
pub fn run_child(name: &str, vars: &[(&str, &str)]) {
    let exe = std::env::current_exe().expect("test binary path");
    // Test names are paths below the crate root: `exception_signal::env_child`.
    let name = module_path!()
        .split_once("::")
        .map_or(name.to_string(), |(_, module)| format!("{module}::{name}"));
    let out = std::process::Command::new(exe)
        .args(["--exact", &name, "--ignored", "--test-threads=1"])
        .envs(vars.iter().copied())
        .output()
        .expect("child test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child {name} {vars:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn from_env_reads_the_opt_in_variable() {
    for (value, want) in [
        ("logs", "Logs"),
        ("logs/dup", "LogsDup"),
        ("", "SpanEvent"),
        ("bogus", "SpanEvent"),
    ] {
        run_child(
            "env_child",
            &[
                ("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", value),
                ("CORE_EXPECT_SIGNAL", want),
            ],
        );
    }
}

#[test]
#[ignore = "run by from_env_reads_the_opt_in_variable in a child process"]
fn env_child() {
    let want = std::env::var("CORE_EXPECT_SIGNAL").expect("run by the parent test");
    assert_eq!(format!("{:?}", ExceptionSignal::from_env()), want);
    // A recorder built without an explicit signal follows the variable.
    let t = TestTelemetry::new();
    let rec = SpanRecorder::builder(SpanKind::Client, "env")
        .tracer_provider(t.tracer_provider.clone())
        .logger_provider(t.logger_provider.clone())
        .build();
    assert_eq!(format!("{:?}", rec.exception_signal()), want);
    rec.start(&Context::new(), "op", vec![])
        .end(Failure::new("_OTHER").with_exception().into());
    assert_eq!(!t.logs().is_empty(), want != "SpanEvent");
    assert_eq!(has_span_event(&t, "op"), want != "Logs");
}
