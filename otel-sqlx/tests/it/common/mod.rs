//! Shared helpers of the integration tests.
#![allow(dead_code)]

use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, Value};
use otel_sqlx::InstrumentationOptions;
use otel_sqlx::{TracedDatabase, TracedPool};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry, describe};

/// A traced pool exporting into `t`, with row counts on.
pub fn traced<DB: TracedDatabase>(t: &TestTelemetry, pool: sqlx::Pool<DB>) -> TracedPool<DB> {
    TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .record_row_counts(true)
        .build()
}

/// A parent span context named `name` from the test's own tracer.
pub fn parent(t: &TestTelemetry, name: &'static str) -> Context {
    let span = t.tracer("test").start(name);
    Context::current_with_span(span)
}

/// Ends the parent span in `cx` and returns it as exported.
pub fn end_parent(t: &TestTelemetry, cx: &Context, name: &str) -> ExportedSpan {
    cx.span().end();
    t.span(name)
}

/// The single span whose `db.query.text` is `text`.
pub fn span_with_text(t: &TestTelemetry, text: &str) -> ExportedSpan {
    let all = t.spans();
    let mut found: Vec<ExportedSpan> = all
        .iter()
        .filter(|s| s.attr("db.query.text") == Some(&Value::from(text.to_string())))
        .cloned()
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one span with text {text:?}; spans: {}",
        describe(&all)
    );
    found.remove(0)
}

/// Asserts the connection attributes and kind common to every span of a backend.
pub fn assert_common(
    span: &ExportedSpan,
    system: &str,
    namespace: &str,
    server: Option<(&str, i64)>,
) {
    span.assert_kind(SpanKind::Client)
        .assert_attr("db.system.name", system.to_string())
        .assert_attr("db.namespace", namespace.to_string());
    match server {
        Some((addr, port)) => {
            span.assert_attr("server.address", addr.to_string())
                .assert_attr("server.port", port);
        }
        None => {
            span.assert_no_attr("server.address")
                .assert_no_attr("server.port");
        }
    }
    assert!(
        !span.all_text().contains("password"),
        "span mentions a password: {}",
        span.all_text()
    );
}

/// Asserts a successful query span: name, operation, collection, summary, text, rows.
#[allow(clippy::too_many_arguments)]
pub fn assert_query(
    span: &ExportedSpan,
    parent: &ExportedSpan,
    operation: &str,
    collection: Option<&str>,
    summary: &str,
    returned: i64,
    affected: Option<i64>,
) {
    assert_eq!(span.name, summary, "span name is the summary");
    span.assert_child_of(parent)
        .assert_unset()
        .assert_attr("db.query.summary", summary.to_string())
        .assert_attr("db.response.returned_rows", returned)
        .assert_no_attr("error.type")
        .assert_no_attr("db.response.status_code");
    // Not parsed from the query text by default (the summary carries them).
    let _ = (operation, collection);
    span.assert_no_attr("db.operation.name")
        .assert_no_attr("db.collection.name");
    if let Some(a) = affected {
        span.assert_attr(otel_sqlx::DB_RESPONSE_AFFECTED_ROWS, a);
    }
}

/// Asserts a failed query span: a database error is a classified response code (error.type
/// and db.response.status_code = the code), status Error, and no exception event.
pub fn assert_failed(span: &ExportedSpan, parent: &ExportedSpan, code: &str) {
    span.assert_child_of(parent)
        .assert_error()
        .assert_no_exception()
        .assert_attr("error.type", code.to_string())
        .assert_attr("db.response.status_code", code.to_string());
}
