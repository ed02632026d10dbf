//! The shared options vocabulary and classification, against the SDK's in-memory exporters.

use opentelemetry::Context;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::testing::classifier;
use otel_rpc::testing::enabled_env_var;
use otel_rpc::{CommonOptions, InstrumentationOptions};
use otel_rpc::{DbOperation, DurationMetric, Failure, Outcome, SpanRecorder};
use otel_rpc::{Observed, Verdict};
use otel_testkit::{SpanAssert, TestTelemetry};

struct Builder {
    common: CommonOptions,
}

impl InstrumentationOptions for Builder {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
}

impl Builder {
    fn new() -> Self {
        Builder {
            common: CommonOptions::new("coretest"),
        }
    }

    fn build(self) -> SpanRecorder {
        self.common.build_recorder(
            SpanKind::Client,
            "options-test",
            Some("1.2.3"),
            DurationMetric::db_client(),
            Some(attribute::DB_RESPONSE_STATUS_CODE),
        )
    }
}

fn providers(t: &TestTelemetry) -> Builder {
    Builder::new()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
}

#[test]
fn db_rule_flips_an_expected_code_to_unset_and_a_success_to_error() {
    let t = TestTelemetry::new();
    let rec = providers(&t)
        .classify(|o| match o {
            Observed::Db {
                status_code: Some("23505"),
                ..
            } => Some(Verdict::NotError),
            Observed::Db {
                error_type: None, ..
            } => Some(Verdict::Error),
            _ => None,
        })
        .build();
    let op = DbOperation::new("postgresql").operation("INSERT");
    rec.start_db(&Context::new(), &op).end(
        Failure::new("23505")
            .with_status_code("23505")
            .with_exception()
            .into(),
    );
    let op2 = DbOperation::new("postgresql").operation("SELECT");
    rec.start_db(&Context::new(), &op2).end(Outcome::Success);
    let op3 = DbOperation::new("postgresql").operation("DELETE");
    rec.start_db(&Context::new(), &op3)
        .end(Failure::new("42P01").with_status_code("42P01").into());

    let expected = t.span("INSERT");
    assert_eq!(expected.status, Status::Unset);
    expected
        .assert_no_attr(attribute::ERROR_TYPE)
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "23505");
    assert!(
        expected.events.is_empty(),
        "no exception for an expected code"
    );
    let flipped = t.span("SELECT");
    assert_eq!(flipped.status, Status::error(""));
    flipped.assert_attr(attribute::ERROR_TYPE, "_OTHER");
    let kept = t.span("DELETE");
    kept.assert_attr(attribute::ERROR_TYPE, "42P01");

    let points = t.histogram("db.client.operation.duration");
    let by_op = |op: &str| {
        points
            .iter()
            .find(|p| p.attr(attribute::DB_OPERATION_NAME).as_deref() == Some(op))
            .unwrap_or_else(|| panic!("{op} point in {points:?}"))
    };
    assert_eq!(by_op("INSERT").attr(attribute::ERROR_TYPE), None);
    assert_eq!(
        by_op("INSERT")
            .attr(attribute::DB_RESPONSE_STATUS_CODE)
            .as_deref(),
        Some("23505")
    );
    assert_eq!(
        by_op("SELECT").attr(attribute::ERROR_TYPE).as_deref(),
        Some("_OTHER")
    );
    assert_eq!(
        by_op("DELETE").attr(attribute::ERROR_TYPE).as_deref(),
        Some("42P01")
    );
}

#[test]
fn layers_ask_the_recorder_and_get_the_default_otherwise() {
    let t = TestTelemetry::new();
    let rule = classifier(|o| match o {
        Observed::Http { status: 404 } => Some(Verdict::Error),
        Observed::Grpc { code: 5 } => Some(Verdict::NotError),
        _ => None,
    });
    let server = SpanRecorder::builder(SpanKind::Server, "x")
        .tracer_provider(t.tracer_provider.clone())
        .duration_metric(DurationMetric::http_server())
        .classifier(rule.clone())
        .build();
    let client = SpanRecorder::builder(SpanKind::Client, "x")
        .tracer_provider(t.tracer_provider.clone())
        .duration_metric(DurationMetric::rpc_client())
        .classifier(rule)
        .build();
    assert_eq!(
        server.classify(&Observed::Http { status: 404 }),
        Some(Verdict::Error)
    );
    assert_eq!(server.classify(&Observed::Http { status: 500 }), None);
    assert_eq!(
        server.verdict(&Observed::Http { status: 500 }),
        Verdict::Error
    );
    assert_eq!(
        server.verdict(&Observed::Http { status: 403 }),
        Verdict::NotError
    );
    assert_eq!(
        client.verdict(&Observed::Grpc { code: 5 }),
        Verdict::NotError
    );
    assert_eq!(client.verdict(&Observed::Grpc { code: 3 }), Verdict::Error);

    // The database rule is not applied to an HTTP recorder's outcomes by Recording::end.
    let all_expected = SpanRecorder::builder(SpanKind::Server, "x")
        .tracer_provider(t.tracer_provider.clone())
        .duration_metric(DurationMetric::http_server())
        .classifier(classifier(|_| Some(Verdict::NotError)))
        .build();
    all_expected
        .start(&Context::new(), "GET /", vec![])
        .end(Outcome::failure("500"));
    t.span("GET /").assert_attr(attribute::ERROR_TYPE, "500");
}

#[test]
fn common_options_build_a_recorder_with_the_given_providers() {
    let t = TestTelemetry::new();
    let rec = providers(&t).build();
    rec.start_db(&Context::new(), &DbOperation::new("redis").operation("GET"))
        .end(Outcome::Success);
    let span = t.span("GET");
    assert_eq!(span.instrumentation_scope.name(), "options-test");
    assert_eq!(span.instrumentation_scope.version(), Some("1.2.3"));
    assert!(span.instrumentation_scope.schema_url().is_some());
    assert_eq!(t.histogram("db.client.operation.duration").len(), 1);

    // disable_metrics, and a prebuilt recorder wins over everything else.
    let t2 = TestTelemetry::new();
    let quiet = Builder::new()
        .tracer_provider(t2.tracer_provider.clone())
        .meter_provider(t2.meter_provider.clone())
        .disable_metrics()
        .build();
    quiet
        .start(&Context::new(), "quiet", vec![])
        .end(Outcome::Success);
    t2.span("quiet");
    assert!(t2.histogram("db.client.operation.duration").is_empty());
    let reused = Builder::new()
        .recorder(rec.clone())
        .disable_metrics()
        .build();
    reused
        .start(&Context::new(), "reused", vec![])
        .end(Outcome::Success);
    t.span("reused");
    assert_eq!(t.histogram("db.client.operation.duration").len(), 2);
}

#[test]
fn vocabulary_sets_the_common_fields() {
    let b = Builder::new()
        .query_text(otel_rpc::QueryTextMode::Off)
        .max_query_text_len(77)
        .error_text(otel_rpc::ErrorTextMode::Scrubbed)
        .exception_signal(otel_rpc::ExceptionSignal::Logs)
        .enabled(false);
    let c = &b.common;
    assert_eq!(c.query_text, otel_rpc::QueryTextMode::Off);
    assert_eq!(c.max_query_text_len, 77);
    assert_eq!(c.error_text, otel_rpc::ErrorTextMode::Scrubbed);
    assert_eq!(c.exception_signal, Some(otel_rpc::ExceptionSignal::Logs));
    assert!(!c.enabled);
    let rec = b.build();
    assert_eq!(rec.error_text(), otel_rpc::ErrorTextMode::Scrubbed);
    assert_eq!(rec.exception_signal(), otel_rpc::ExceptionSignal::Logs);
}

#[test]
fn env_switch_turns_an_instrumentation_off() {
    assert_eq!(
        enabled_env_var("coretest"),
        "OTEL_INSTRUMENTATION_CORETEST_ENABLED"
    );
    for (value, want) in [
        ("false", "false"),
        ("FALSE", "false"),
        ("true", "true"),
        ("junk", "true"),
    ] {
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                concat!(module_path!(), "::env_child")
                    .split_once("::")
                    .map_or("env_child", |(_, path)| path),
                "--ignored",
                "--test-threads=1",
            ])
            .env("OTEL_INSTRUMENTATION_CORETEST_ENABLED", value)
            .env("CORE_EXPECT_ENABLED", want)
            .output()
            .expect("child runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{value}: {stdout}"
        );
    }
    // Without the variable (this process does not set it) the instrumentation is on.
    assert!(CommonOptions::new("coretest-unset").enabled);
}

#[test]
#[ignore = "run by env_switch_turns_an_instrumentation_off in a child process"]
fn env_child() {
    let want = std::env::var("CORE_EXPECT_ENABLED").expect("run by the parent test");
    assert_eq!(CommonOptions::new("coretest").enabled.to_string(), want);
    // The builder's explicit word wins over the variable.
    assert!(Builder::new().enabled(true).common.enabled);
}
