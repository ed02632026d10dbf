//! CPU microbenchmarks: each measured in-process (no I/O) as the median of several timed
//! repetitions of a tight loop, with `black_box` around inputs and outputs.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use mongodb::bson::doc;
use mongodb::options::ServerAddress;
use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, StringValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use otel_mongo::{CommandKey, OtelCommandHandler, StartedCommand, SucceededCommand};
use otel_rpc::QueryTextMode;
use otel_rpc::{DbOperation, Outcome, PreparedOperation, QueryText, SpanRecorder};
use otel_sqlx::sql::{Dialect, analyze, sanitize};
use otel_sqlx::testing::QueryCache;

use crate::measure::median;
use crate::pipeline::{Pipeline, unsampled_parent};

/// Repetitions per microbenchmark (the median is reported).
const REPEATS: usize = 7;

/// A typical prepared statement.
pub const SQL: &str = "SELECT id, name, qty FROM orders WHERE id = $1 AND status = 'open'";

/// One microbenchmark result.
#[derive(Debug, Clone)]
pub struct Micro {
    /// What was measured.
    pub name: String,
    /// Median nanoseconds per iteration.
    pub ns: f64,
}

/// Times `f` over `iters` iterations, `REPEATS` times after a warm-up; median ns/iteration.
pub fn time(name: &str, iters: usize, mut f: impl FnMut()) -> Micro {
    for _ in 0..iters / 10 + 1 {
        f();
    }
    let mut samples = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        let t0 = Instant::now();
        for _ in 0..iters {
            f();
        }
        samples.push(t0.elapsed().as_nanos() as f64 / iters as f64);
    }
    Micro {
        name: name.to_owned(),
        ns: median(&samples),
    }
}

/// A database client recorder on the benchmark pipeline.
pub fn db_recorder(p: &Pipeline) -> SpanRecorder {
    SpanRecorder::builder(SpanKind::Client, "otel-bench")
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .status_code_attribute(
            opentelemetry_semantic_conventions::attribute::DB_RESPONSE_STATUS_CODE,
        )
        .build()
}

/// The operation a Redis `GET` becomes.
pub fn redis_get_op<'a>(text: &'a dyn Fn() -> Option<StringValue>) -> DbOperation<'a> {
    DbOperation::new("redis")
        .namespace("0")
        .operation("GET")
        .summary("GET")
        .server("127.0.0.1", Some(6379))
        .query_text(QueryText::Lazy(text))
}

/// One recorder start + end of a Redis-GET-shaped operation under `parent`.
pub fn start_end(rec: &SpanRecorder, parent: &Context) {
    let text = || Some(StringValue::from("GET user:1"));
    let op = redis_get_op(&text);
    rec.start_db(parent, black_box(&op)).end(Outcome::Success);
}

/// The Redis-GET-shaped operation prepared once (as an adapter's per-command cache holds it).
pub fn prepare(rec: &SpanRecorder) -> PreparedOperation {
    let text = || None;
    let mut op = redis_get_op(&text);
    op.query_text = None;
    rec.prepare_db(&op, Some("GET".into()))
}

/// One start + end of `prepared` under `parent`, with its query text (as the adapters start a
/// cached statement or command).
pub fn start_end_prepared(rec: &SpanRecorder, prepared: &PreparedOperation, parent: &Context) {
    let text = || Some(StringValue::from("GET user:1"));
    let text = QueryText::Lazy(&text);
    rec.start_prepared_db(parent, None, black_box(prepared), Some(&text))
        .end(Outcome::Success);
}

/// A synthetic Mongo `find` started + succeeded through the handler, then its connection
/// checked in.
pub fn mongo_events(handler: &OtelCommandHandler, request_id: i32) {
    let key = CommandKey::new(1, request_id);
    let cmd = doc! { "find": "orders", "filter": { "_id": 42_i64 }, "limit": 1_i64, "$db": "shop" };
    handler.on_started(
        StartedCommand::new(key, "shop", "find", cmd).with_server("127.0.0.1", Some(27017)),
    );
    handler.on_succeeded(SucceededCommand::new(
        key,
        Duration::from_micros(100),
        doc! { "ok": 1 },
    ));
    // The pool's check-in of the connection after the operation (CMAP handler).
    handler.on_connection_checked_in(&MONGO_SERVER, key.connection_id);
}

/// The synthetic events of [`mongo_events`] built and dropped, no handler (its baseline).
fn mongo_events_alone() {
    let key = CommandKey::new(1, 1);
    let cmd = doc! { "find": "orders", "filter": { "_id": 42_i64 }, "limit": 1_i64, "$db": "shop" };
    black_box(StartedCommand::new(key, "shop", "find", cmd).with_server("127.0.0.1", Some(27017)));
    black_box(SucceededCommand::new(
        key,
        Duration::from_micros(100),
        doc! { "ok": 1 },
    ));
}

/// The server of the synthetic Mongo events, as the pool's check-in events name it.
static MONGO_SERVER: LazyLock<ServerAddress> = LazyLock::new(|| ServerAddress::Tcp {
    host: "127.0.0.1".to_owned(),
    port: Some(27017),
});

/// Every microbenchmark.
pub fn run(p: &Pipeline, quick: bool) -> Vec<Micro> {
    let n = if quick { 20_000 } else { 100_000 };
    let rec = db_recorder(p);
    let root = Context::new();
    let unsampled = unsampled_parent();
    let mut out = crate::floor::micro(p, n);
    out.extend(crate::layers::micro(p, n));

    out.push(time(
        "recorder start+end, sampled (DB span, metric)",
        n,
        || start_end(&rec, &root),
    ));
    let prepared = prepare(&rec);
    out.push(time(
        "recorder start+end from a PreparedOperation, sampled",
        n,
        || start_end_prepared(&rec, &prepared, &root),
    ));
    out.push(time(
        "recorder start+end from a PreparedOperation, unsampled parent",
        n,
        || start_end_prepared(&rec, &prepared, &unsampled),
    ));
    out.push(time("recorder start+end, unsampled parent", n, || {
        start_end(&rec, &unsampled)
    }));
    let no_metrics = SpanRecorder::builder(SpanKind::Client, "otel-bench")
        .tracer_provider(p.tracer_provider.clone())
        .disable_metrics()
        .build();
    out.push(time(
        "recorder start+end, unsampled parent, metrics disabled",
        n,
        || start_end(&no_metrics, &unsampled),
    ));
    let histogram = opentelemetry::metrics::MeterProvider::meter(&p.meter_provider, "otel-bench")
        .f64_histogram("bench.floor")
        .build();
    let text = || None;
    let metric_attrs = redis_get_op(&text).attributes();
    out.push(time(
        "floor: SDK histogram.record with the 6 DB metric attributes",
        n,
        || histogram.record(black_box(0.001), black_box(&metric_attrs)),
    ));
    out.push(time(
        "tracing route: info_span! (same fields) enter+exit+close",
        n,
        || {
            let span = tracing::info_span!(
                "GET",
                otel.kind = "client",
                db.system.name = "redis",
                db.namespace = "0",
                db.operation.name = "GET",
                db.query.summary = "GET",
                db.query.text = "GET user:1",
                server.address = "127.0.0.1",
                server.port = 6379,
            );
            let _e = span.enter();
        },
    ));
    out.push(time("DbOperation::span_name + attributes", n, || {
        let text = || None;
        let op = redis_get_op(&text);
        black_box(black_box(&op).span_name());
        black_box(op.attributes());
    }));

    out.push(time("SQL sanitize, cold", n, || {
        black_box(sanitize(black_box(SQL), Dialect::Postgres, 2048));
    }));
    out.push(time(
        "SQL analyze (operation/table/summary), cold",
        n,
        || {
            black_box(analyze(black_box(SQL), Dialect::Postgres));
        },
    ));
    let cache = QueryCache::new(Dialect::Postgres, 1000, 2048);
    out.push(time("SQL QueryCache info + sanitized, cached", n, || {
        let info = cache.info(black_box(SQL));
        black_box(cache.sanitized(SQL, &info));
    }));

    let find = doc! { "find": "orders", "filter": { "user": "alice", "qty": { "$gt": 5 } }, "limit": 1, "$db": "shop" };
    out.push(time(
        "Mongo command redaction (query_text, find)",
        n,
        || {
            black_box(otel_mongo::sanitize::query_text(
                "find",
                black_box(&find),
                QueryTextMode::Sanitized,
                2048,
            ));
        },
    ));
    let handler = OtelCommandHandler::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build();
    let mut id = 0_i32;
    out.push(time(
        "Mongo handler started+succeeded+checked-in events, sampled",
        n,
        || {
            id = id.wrapping_add(1);
            mongo_events(&handler, id);
        },
    ));
    {
        let _guard = unsampled.clone().attach();
        out.push(time(
            "Mongo handler started+succeeded+checked-in events, unsampled",
            n,
            || {
                id = id.wrapping_add(1);
                mongo_events(&handler, id);
            },
        ));
    }
    out.push(time(
        "Mongo: building the synthetic events alone (baseline)",
        n,
        mongo_events_alone,
    ));

    out.extend(crate::null_redis::micro(p, n));
    out.extend(crate::ops::sql::micro(p, n));

    let mut headers = http::HeaderMap::new();
    let recording = rec.start(&root, "GET", Vec::new());
    out.push(time("header inject (traceparent + baggage)", n, || {
        headers.clear();
        rec.inject(recording.context(), &mut HeaderInjector(&mut headers));
    }));
    out.push(time("header extract (traceparent + baggage)", n, || {
        black_box(rec.extract(&HeaderExtractor(black_box(&headers))));
    }));
    recording.end(Outcome::Success);
    let mut map = HashMap::new();
    out.push(time(
        "baseline: HashMap<String,String> insert of one header",
        n,
        || {
            map.clear();
            map.insert("traceparent".to_owned(), "00-x-y-01".to_owned());
            black_box(&map);
        },
    ));
    out
}

/// Runs one hot loop `n` times (for a profiler): `sampled` / `unsampled` recorder start+end,
/// `prepared` / `prepared-unsampled` the same operation started from a `PreparedOperation`,
/// `sampled-global` the same with a recorder following the global providers, `global-read`
/// one read of the global tracer and meter providers,
/// `mongo` / `mongo-unsampled` handler events (`mongo-baseline`: the events alone),
/// `redis-raw` / `redis-unsampled` / `redis-sampled`
/// null-connection SETs, `floor-db` / `floor-db-unsampled` / `floor-http` / `floor-grpc` the
/// bare SDK, `http-raw` /
/// `http-pair` / `grpc-raw` / `grpc-pair` the in-process layer calls (`*-pair-global-meter`:
/// the layers following the global meter provider), `sqlite-raw` /
/// `sqlite-traced` / `sqlite-unsampled` / `sqlite-sqlx-otel` in-memory SQLite SELECTs.
pub fn profile(p: &Pipeline, name: &str, n: usize) -> Result<(), String> {
    let rec = db_recorder(p);
    match name {
        "sampled" => (0..n).for_each(|_| start_end(&rec, &Context::new())),
        "sampled-global" => {
            // A recorder built before the global providers were installed, following them.
            let rec = SpanRecorder::builder(SpanKind::Client, "otel-bench")
                .status_code_attribute(
                    opentelemetry_semantic_conventions::attribute::DB_RESPONSE_STATUS_CODE,
                )
                .build();
            opentelemetry::global::set_tracer_provider(p.tracer_provider.clone());
            opentelemetry::global::set_meter_provider(p.meter_provider.clone());
            (0..n).for_each(|_| start_end(&rec, &Context::new()));
        }
        "global-read" => (0..n).for_each(|_| {
            // What reading the globals per operation would cost (without building a tracer).
            black_box(opentelemetry::global::tracer_provider());
            black_box(opentelemetry::global::meter_provider());
        }),
        "unsampled" => {
            let parent = unsampled_parent();
            (0..n).for_each(|_| start_end(&rec, &parent));
        }
        "prepared" => {
            let prepared = prepare(&rec);
            (0..n).for_each(|_| start_end_prepared(&rec, &prepared, &Context::new()));
        }
        "prepared-unsampled" => {
            let prepared = prepare(&rec);
            let parent = unsampled_parent();
            (0..n).for_each(|_| start_end_prepared(&rec, &prepared, &parent));
        }
        "mongo" => {
            let handler = OtelCommandHandler::builder()
                .tracer_provider(p.tracer_provider.clone())
                .meter_provider(p.meter_provider.clone())
                .build();
            (0..n).for_each(|i| mongo_events(&handler, i as i32));
        }
        "mongo-unsampled" => {
            let handler = OtelCommandHandler::builder()
                .tracer_provider(p.tracer_provider.clone())
                .meter_provider(p.meter_provider.clone())
                .build();
            let _guard = unsampled_parent().attach();
            (0..n).for_each(|i| mongo_events(&handler, i as i32));
        }
        "mongo-baseline" => (0..n).for_each(|_| mongo_events_alone()),
        "redis-raw" => crate::null_redis::profile_raw(n),
        "redis-sampled" => crate::null_redis::profile(p, n, false),
        "redis-unsampled" => crate::null_redis::profile(p, n, true),
        "floor-db" => crate::floor::profile_db(p, n, false),
        "floor-db-unsampled" => crate::floor::profile_db(p, n, true),
        "floor-http" => crate::floor::profile_pair(p, n, false),
        "floor-grpc" => crate::floor::profile_pair(p, n, true),
        "http-raw"
        | "http-pair"
        | "grpc-raw"
        | "grpc-pair"
        | "http-pair-global-meter"
        | "grpc-pair-global-meter" => crate::layers::profile(p, name, n),
        sql if sql.starts_with("sqlite-") => {
            crate::ops::sql::profile_sqlite(p, n, &sql["sqlite-".len()..])?
        }
        other => return Err(format!("unknown profile {other}")),
    }
    Ok(())
}
