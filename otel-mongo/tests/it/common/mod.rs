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

pub mod proxy;

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

/// A client of `uri` with `handler` installed, after one `ping` through it.
pub async fn pinged_client(uri: &str, handler: &OtelCommandHandler) -> Client {
    let mut options = ClientOptions::parse(uri).await.expect("uri");
    handler.install(&mut options);
    let client = Client::with_options(options).expect("client");
    client
        .database("admin")
        .run_command(mongodb::bson::doc! { "ping": 1 })
        .await
        .expect("ping");
    client
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

    /// Every exported span but the test's own `caller` span (see [`in_span`](Self::in_span)).
    pub fn command_spans(&self) -> Vec<ExportedSpan> {
        self.t
            .spans()
            .into_iter()
            .filter(|s| s.name != "caller")
            .collect()
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

/// The connection and session attributes of every command span (`tests/details.rs` checks
/// their values).
pub const CONNECTION_KEYS: [&str; 4] = [
    "network.transport",
    "db.mongodb.server_connection_id",
    "db.mongodb.driver_connection_id",
    "db.mongodb.lsid",
];

/// Asserts the span's attributes are exactly `expected` (order ignored), plus
/// [`CONNECTION_KEYS`] (each present, of its type) unless `expected` names them.
pub fn assert_attrs_exactly(span: &ExportedSpan, expected: &[(&str, opentelemetry::Value)]) {
    use opentelemetry::Value;
    let mut actual: Vec<(String, String)> = Vec::new();
    let mut connection = Vec::new();
    for kv in &span.attributes {
        let key = kv.key.as_str();
        if CONNECTION_KEYS.contains(&key) && !expected.iter().any(|(k, _)| *k == key) {
            let typed_ok = match (key, &kv.value) {
                ("network.transport", Value::String(s)) => s.as_str() == "tcp",
                ("db.mongodb.lsid", Value::String(s)) => s.as_str().len() == 36,
                (_, Value::I64(n)) => *n >= 1,
                _ => false,
            };
            assert!(typed_ok, "{key} = {:?} on {:?}", kv.value, span.name);
            connection.push(key);
        } else {
            actual.push((key.to_string(), typed(&kv.value)));
        }
    }
    connection.sort_unstable();
    let mut all = CONNECTION_KEYS.to_vec();
    all.retain(|k| !expected.iter().any(|(e, _)| e == k));
    all.sort_unstable();
    assert_eq!(
        connection, all,
        "connection attributes of span {:?}",
        span.name
    );
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
        // A command on no collection: its database is the target.
        None => attrs.push((
            a::DB_QUERY_SUMMARY,
            format!("{operation} {}", f.db_name).into(),
        )),
    }
    for (k, v) in extra {
        let key: &'static str = Box::leak(k.to_string().into_boxed_str());
        attrs.push((key, v.clone()));
    }
    attrs
}
