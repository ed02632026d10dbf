//! Shared fixture: an isolated telemetry pipeline, a handler on it, a client with the handler
//! installed, and a database unique to the test.
#![allow(dead_code)]

use std::future::Future;

use mongodb::options::ClientOptions;
use mongodb::{Client, Database};
use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{TraceContextExt, Tracer};
use otel_mongo::{OtelCommandHandler, OtelCommandHandlerBuilder};
use otel_testkit::{ExportedSpan, TestTelemetry, env};

pub struct Fixture {
    pub t: TestTelemetry,
    pub handler: OtelCommandHandler,
    pub client: Client,
    pub db: Database,
    pub db_name: String,
}

/// A builder already pointed at `t`'s providers.
pub fn builder(t: &TestTelemetry) -> OtelCommandHandlerBuilder {
    OtelCommandHandler::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
}

pub async fn fixture() -> Fixture {
    let t = TestTelemetry::new();
    let handler = builder(&t).build();
    fixture_with(t, handler).await
}

pub async fn fixture_with(t: TestTelemetry, handler: OtelCommandHandler) -> Fixture {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let mut options = ClientOptions::parse(&uri).await.expect("parse MONGODB_URI");
    handler.install(&mut options);
    let client = Client::with_options(options).expect("client");
    let db_name = env::unique_name("otel_mongo");
    let db = client.database(&db_name);
    Fixture {
        t,
        handler,
        client,
        db,
        db_name,
    }
}

impl Fixture {
    /// Runs `fut` inside a new test span named `name` and returns its output; the span is
    /// ended afterwards.
    pub async fn in_span<F: Future>(&self, name: &'static str, fut: F) -> F::Output {
        in_span(&self.t, name, fut).await
    }

    /// The single exported span named `name`.
    pub fn span(&self, name: &str) -> ExportedSpan {
        self.t.span(name)
    }

    /// Drops the database (not traced: done on a client without the handler).
    pub async fn cleanup(&self) {
        if let Ok(client) = Client::with_uri_str(env::mongodb_uri()).await {
            let _ = client.database(&self.db_name).drop().await;
        }
    }
}

pub async fn in_span<F: Future>(t: &TestTelemetry, name: &'static str, fut: F) -> F::Output {
    let span = t.tracer("test").start(name);
    let cx = Context::current_with_span(span);
    let out = fut.with_context(cx.clone()).await;
    cx.span().end();
    out
}

/// Asserts the span's attributes are exactly `expected` (order ignored).
pub fn assert_attrs_exactly(span: &ExportedSpan, expected: &[(&str, opentelemetry::Value)]) {
    let mut actual: Vec<(String, String)> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.to_string(), typed(&kv.value)))
        .collect();
    let mut wanted: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), typed(v)))
        .collect();
    actual.sort();
    wanted.sort();
    assert_eq!(actual, wanted, "attributes of span {:?}", span.name);
}

/// A value as `type:text`, so `"1"` and `1` differ but owned and static strings do not.
fn typed(v: &opentelemetry::Value) -> String {
    use opentelemetry::Value;
    let kind = match v {
        Value::Bool(_) => "bool",
        Value::I64(_) => "i64",
        Value::F64(_) => "f64",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        _ => "other",
    };
    format!("{kind}:{v}")
}

/// The attributes every span of this fixture carries, plus `extra`.
pub fn db_attrs(
    f: &Fixture,
    operation: &str,
    collection: Option<&str>,
    extra: &[(&str, opentelemetry::Value)],
) -> Vec<(&'static str, opentelemetry::Value)> {
    use opentelemetry_semantic_conventions::attribute as a;
    let mut attrs: Vec<(&'static str, opentelemetry::Value)> = vec![
        (a::DB_SYSTEM_NAME, "mongodb".into()),
        (a::DB_NAMESPACE, f.db_name.clone().into()),
        (a::DB_OPERATION_NAME, operation.to_string().into()),
        (a::SERVER_ADDRESS, "127.0.0.1".into()),
        (a::SERVER_PORT, 27017_i64.into()),
    ];
    match collection {
        Some(c) => {
            attrs.push((a::DB_COLLECTION_NAME, c.to_string().into()));
            attrs.push((a::DB_QUERY_SUMMARY, format!("{operation} {c}").into()));
        }
        None => attrs.push((a::DB_QUERY_SUMMARY, operation.to_string().into())),
    }
    for (k, v) in extra {
        let key: &'static str = Box::leak(k.to_string().into_boxed_str());
        attrs.push((key, v.clone()));
    }
    attrs
}
