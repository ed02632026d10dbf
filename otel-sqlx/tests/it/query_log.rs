//! `QueryLogLayer` on PostgreSQL: spans from sqlx's `sqlx::query` events for the paths no
//! wrapper reaches (a raw `PgPool`, `Migrator::run`, `PgListener`, SeaORM 2), compared
//! attribute by attribute with what `TracedPool` records for the same statements, and no
//! second span for statements a `TracedPool` runs.

use crate::common;
use otel_sqlx::InstrumentationOptions;

use std::path::Path;
use std::time::Duration;

use common::parent;
use futures_util::StreamExt;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::trace::SpanData;
use otel_sqlx::{QueryLogLayer, TracedPool};
use otel_testkit::env::{postgres_url, require, unique_name};
use otel_testkit::{SpanAssert, TestTelemetry, describe};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor, PgPool, Postgres};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

const SECRET: &str = "ql-planted-secret";
const DURATION: &str = "db.client.operation.duration";

fn options() -> PgConnectOptions {
    let url = postgres_url();
    require("PostgreSQL", &url);
    url.parse().expect("POSTGRES_URL parses")
}

fn layer(t: &TestTelemetry, options: &PgConnectOptions) -> QueryLogLayer {
    QueryLogLayer::builder::<Postgres>(options)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .record_row_counts(true)
        .build()
}

async fn raw_pool(options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("connect to PostgreSQL")
}

/// The statements run once on a raw pool (recorded by the layer) and once on a `TracedPool`.
fn statements(table: &str) -> Vec<String> {
    let wide: Vec<String> = (0..400).map(|i| format!("{i} AS c{i}")).collect();
    vec![
        format!("DROP TABLE IF EXISTS {table}"),
        format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, owner TEXT NOT NULL)"),
        format!("INSERT INTO {table} (id, owner) VALUES (1, '{SECRET}'), (2, 'b'), (3, 'c')"),
        format!("SELECT id, owner FROM {table} WHERE owner <> '{SECRET}' ORDER BY id"),
        format!("UPDATE {table} SET owner = 'd' WHERE id >= 2"),
        "SELECT 1".to_string(),
        format!("SELECT {}", wide.join(", ")),
        "SELECT 1; SELECT 2".to_string(),
        "SELECT pg_sleep(0.2)".to_string(),
        format!("DELETE FROM {table} WHERE id = 1"),
        format!("SELECT owner FROM {table}_missing WHERE owner = '{SECRET}'"),
    ]
}

async fn run_all<'a, E>(executor: E, statements: &[String])
where
    E: Executor<'a, Database = Postgres> + Copy,
{
    for sql in statements {
        // Simple-query protocol for all, so the batch is allowed; the missing table fails.
        let _ = sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .fetch_all(executor)
            .await;
    }
}

fn text(span: &SpanData) -> Option<String> {
    span.attr("db.query.text").map(|v| v.as_str().into_owned())
}

fn db_spans(t: &TestTelemetry) -> Vec<SpanData> {
    t.spans()
        .into_iter()
        .filter(|s| s.attr("db.system.name").is_some())
        .collect()
}

fn millis(span: &SpanData) -> f64 {
    span.end_time
        .duration_since(span.start_time)
        .unwrap_or_default()
        .as_secs_f64()
        * 1e3
}

#[tokio::test]
async fn the_layer_records_what_traced_pool_records_for_the_same_statements() {
    let options = options();
    let log = TestTelemetry::new();
    let traced = TestTelemetry::new();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(layer(&log, &options)),
    );
    let table = unique_name("ql_cmp");
    let statements = statements(&table);

    let raw = raw_pool(options.clone()).await;
    let cx = parent(&log, "raw-parent");
    run_all(&raw, &statements).with_context(cx.clone()).await;
    cx.span().end();

    let pool = TracedPool::builder(raw_pool(options.clone()).await)
        .tracer_provider(traced.tracer_provider.clone())
        .meter_provider(traced.meter_provider.clone())
        .record_row_counts(true)
        .pool_metrics(false)
        .build();
    let before = db_spans(&log).len();
    let pcx = parent(&traced, "pool-parent");
    run_all(&pool, &statements).with_context(pcx.clone()).await;
    pcx.span().end();
    assert_eq!(
        db_spans(&log).len(),
        before,
        "statements run through TracedPool were recorded a second time: {}",
        describe(&log.spans())
    );

    let raw_parent = log.span("raw-parent");
    let logged = db_spans(&log);
    let spans = db_spans(&traced);
    assert_eq!(logged.len(), statements.len(), "{}", describe(&logged));
    assert_eq!(spans.len(), statements.len(), "{}", describe(&spans));
    eprintln!("statement | name | layer ms | TracedPool ms");
    for (l, p) in logged.iter().zip(&spans) {
        // Same name, kind, parent and every attribute but what the event lacks.
        assert_eq!(l.name, p.name);
        l.assert_kind(SpanKind::Client).assert_child_of(&raw_parent);
        assert_eq!(text(l), text(p), "db.query.text of {}", p.name);
        for key in [
            "db.system.name",
            "db.namespace",
            "server.address",
            "server.port",
            "db.query.summary",
            "db.operation.batch.size",
        ] {
            assert_eq!(l.attr(key), p.attr(key), "{key} of {}", p.name);
        }
        let counts = [
            "db.response.returned_rows",
            otel_sqlx::DB_RESPONSE_AFFECTED_ROWS,
        ];
        if p.status == Status::Unset {
            for key in counts {
                assert_eq!(l.attr(key), p.attr(key), "{key} of {}", p.name);
            }
        } else {
            // The difference: a failed statement is logged like a successful one, with no
            // rows; TracedPool records the SQLSTATE and no counts.
            p.assert_error()
                .assert_attr("error.type", "42P01")
                .assert_no_attr("db.response.returned_rows");
            l.assert_unset()
                .assert_no_attr("error.type")
                .assert_no_attr("db.response.status_code")
                .assert_attr("db.response.returned_rows", 0i64);
        }
        eprintln!(
            "{:<40} | {:<24} | {:>8.2} | {:>8.2}",
            text(p)
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect::<String>(),
            p.name,
            millis(l),
            millis(p)
        );
    }
    // The start time comes from `elapsed`: the sleep lasts its 200 ms in both.
    let sleep = |s: &[SpanData]| {
        s.iter()
            .find(|s| text(s).as_deref() == Some("SELECT pg_sleep(?)"))
            .map(millis)
            .expect("the pg_sleep span")
    };
    let (l, p) = (sleep(&logged), sleep(&spans));
    assert!((200.0..1000.0).contains(&l), "layer span lasts {l} ms");
    assert!((l - p).abs() < 50.0, "layer {l} ms, TracedPool {p} ms");
    // Sanitized and capped like TracedPool's.
    let wide = logged
        .iter()
        .filter_map(text)
        .map(|t| t.len())
        .max()
        .unwrap_or(0);
    assert!((1..=2048).contains(&wide), "longest text {wide} bytes");
    assert!(log.leaks(SECRET).is_empty(), "{:?}", log.leaks(SECRET));
    // The same duration metric: one point per statement, same attribute sets.
    let points = |t: &TestTelemetry| {
        let mut v: Vec<(u64, Vec<String>)> = t
            .histogram(DURATION)
            .into_iter()
            .map(|p| {
                let mut a: Vec<String> = p
                    .attributes
                    .iter()
                    .filter(|kv| kv.key.as_str() != "error.type")
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                a.sort();
                (p.count, a)
            })
            .collect();
        v.sort();
        v
    };
    let (lp, pp) = (points(&log), points(&traced));
    let total = |v: &[(u64, Vec<String>)]| v.iter().map(|p| p.0).sum::<u64>();
    assert_eq!(total(&lp), statements.len() as u64);
    assert_eq!(total(&pp), statements.len() as u64);
    eprintln!(
        "duration metric series: layer {}, TracedPool {}",
        lp.len(),
        pp.len()
    );
}

#[tokio::test]
async fn traced_pool_paths_are_not_recorded_twice() {
    let options = options();
    let log = TestTelemetry::new();
    let traced = TestTelemetry::new();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(layer(&log, &options)),
    );
    let pool = TracedPool::builder(raw_pool(options).await)
        .tracer_provider(traced.tracer_provider.clone())
        .meter_provider(traced.meter_provider.clone())
        .build();
    let cx = parent(&traced, "p");
    async {
        sqlx::query("SELECT 1")
            .fetch_all(&pool)
            .await
            .expect("fetch_all");
        sqlx::query("SELECT 2")
            .fetch_one(&pool)
            .await
            .expect("fetch_one");
        sqlx::query("SELECT 3")
            .fetch_optional(&pool)
            .await
            .expect("optional");
        sqlx::query("SELECT 4")
            .execute(&pool)
            .await
            .expect("execute");
        // A stream dropped after its first row: the statement logs on drop.
        let mut rows = sqlx::query("SELECT generate_series(1, 1000)").fetch(&pool);
        rows.next().await.expect("a row").expect("row");
        drop(rows);
        let mut conn = pool.acquire().await.expect("acquire");
        sqlx::query("SELECT 5")
            .fetch_all(&mut *conn)
            .await
            .expect("conn");
        drop(conn);
        // Transaction statements: sqlx's driver runs COMMIT and ROLLBACK as statements.
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("SELECT 6")
            .execute(&mut *tx)
            .await
            .expect("in tx");
        let mut sp = tx.begin().await.expect("savepoint");
        sqlx::query("SELECT 7")
            .execute(&mut *sp)
            .await
            .expect("in savepoint");
        sp.rollback().await.expect("rollback to savepoint");
        tx.commit().await.expect("commit");
        let tx = pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await
            .expect("begin_with");
        tx.rollback().await.expect("rollback");
        let _ = sqlx::query("SELECT * FROM ql_nowhere")
            .fetch_all(&pool)
            .await;
    }
    .with_context(cx)
    .await;
    assert_eq!(db_spans(&traced).len(), 15, "{}", describe(&traced.spans()));
    assert!(
        db_spans(&log).is_empty(),
        "recorded twice: {}",
        describe(&log.spans())
    );
}

#[tokio::test]
async fn migrations_and_listener_on_a_raw_pool_get_spans() {
    let schema = unique_name("ql_schema");
    let setup = raw_pool(options()).await;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&setup)
        .await
        .expect("create schema");
    let options = options().options([("search_path", schema.as_str())]);
    let log = TestTelemetry::new();
    let guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(layer(&log, &options)),
    );
    let pool = raw_pool(options).await;
    let cx = parent(&log, "deploy");
    async {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/query_log_migrations");
        let migrator = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
        migrator.run(&pool).await.expect("migrate");
        let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
            .await
            .expect("listener");
        listener.listen("ql_events").await.expect("listen");
        sqlx::query("SELECT pg_notify('ql_events', $1)")
            .bind(SECRET)
            .execute(&pool)
            .await
            .expect("notify");
        let n = tokio::time::timeout(Duration::from_secs(5), listener.recv())
            .await
            .expect("a notification in time")
            .expect("recv");
        assert_eq!(n.payload(), SECRET);
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    // The layer records every sqlx connection in its subscriber's reach, this one's too.
    drop(guard);
    sqlx::raw_sql(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&setup)
        .await
        .expect("drop schema");

    let deploy = log.span("deploy");
    let spans = db_spans(&log);
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    for s in &spans {
        s.assert_kind(SpanKind::Client);
        if s.name == "UNLISTEN" {
            // Sent by a task PgListener's drop spawns: no caller context reaches it.
            assert_ne!(s.span_context.trace_id(), deploy.span_context.trace_id());
        } else {
            s.assert_child_of(&deploy);
        }
    }
    let migration = spans
        .iter()
        .find(|s| text(s).is_some_and(|t| t.starts_with("CREATE TABLE ql_accounts")))
        .unwrap_or_else(|| panic!("no span for the migration: {names:?}"));
    migration.assert_attr("db.operation.batch.size", 2i64);
    assert!(
        spans
            .iter()
            .any(|s| text(s).is_some_and(|t| t.starts_with("LISTEN"))),
        "no LISTEN span: {names:?}"
    );
    // The migration's transaction: sqlx 0.9 queues `BEGIN` on PostgreSQL without logging it,
    // and logs `COMMIT`.
    assert!(
        names.contains(&"COMMIT") && !names.contains(&"BEGIN"),
        "{names:?}"
    );
    assert!(log.leaks(SECRET).is_empty(), "{:?}", log.leaks(SECRET));
    assert!(
        log.leaks("migration-planted-secret").is_empty(),
        "{:?}",
        log.leaks("migration-planted-secret")
    );
    eprintln!("migration + listener: {} spans: {names:?}", spans.len());
}

#[tokio::test]
async fn seaorm_on_a_raw_pool_gets_spans() {
    use sea_orm::{ConnectionTrait, DbBackend, SqlxPostgresConnector, Statement};

    let options = options();
    let log = TestTelemetry::new();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(layer(&log, &options)),
    );
    let db = SqlxPostgresConnector::from_sqlx_postgres_pool(raw_pool(options).await);
    let table = unique_name("ql_sea");
    let cx = parent(&log, "service");
    async {
        db.execute_unprepared(&format!("CREATE TABLE {table} (id BIGINT, owner TEXT)"))
            .await
            .expect("create");
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("INSERT INTO {table} (id, owner) VALUES ($1, $2)"),
            [1i64.into(), SECRET.into()],
        ))
        .await
        .expect("insert");
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT owner FROM {table} WHERE id = $1"),
                [1i64.into()],
            ))
            .await
            .expect("select");
        assert_eq!(rows.len(), 1);
        db.execute_unprepared(&format!("DROP TABLE {table}"))
            .await
            .expect("drop");
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    let service = log.span("service");
    let spans = db_spans(&log);
    assert_eq!(spans.len(), 4, "{}", describe(&spans));
    for s in &spans {
        s.assert_kind(SpanKind::Client).assert_child_of(&service);
    }
    let select = log.span(&format!("SELECT {table}"));
    select
        .assert_attr(
            "db.query.text",
            format!("SELECT owner FROM {table} WHERE id = $1"),
        )
        .assert_attr("db.response.returned_rows", 1i64)
        .assert_attr("db.system.name", "postgresql");
    assert!(log.leaks(SECRET).is_empty(), "{:?}", log.leaks(SECRET));
}

/// The parent comes from the entered `tracing` span, with and without tracing-opentelemetry's
/// context activation.
#[tokio::test]
async fn the_parent_is_the_callers_tracing_span() {
    for activation in [true, false] {
        let options = options();
        let log = TestTelemetry::new();
        let otel = tracing_opentelemetry::layer()
            .with_tracer(log.tracer("tracing"))
            .with_context_activation(activation);
        let _guard = tracing::subscriber::set_default(
            tracing_subscriber::registry()
                .with(otel)
                .with(layer(&log, &options)),
        );
        let pool = raw_pool(options).await;
        async {
            sqlx::query("SELECT 42")
                .fetch_all(&pool)
                .await
                .expect("select");
        }
        .instrument(tracing::info_span!("handler"))
        .await;
        let handler = log.span("handler");
        let spans = db_spans(&log);
        assert_eq!(
            spans.len(),
            1,
            "activation {activation}: {}",
            describe(&spans)
        );
        spans[0].assert_child_of(&handler);
        assert_eq!(
            spans[0].attr("db.query.text"),
            Some(&Value::from("SELECT ?"))
        );
        let _ = Context::current();
    }
}

/// Hostile statements with the secret hidden in every kind of PostgreSQL literal and comment,
/// and one far over the text cap: nothing of it is exported, and the text stays capped.
#[tokio::test]
async fn hostile_statement_text_never_reaches_the_telemetry() {
    let options = options();
    let log = TestTelemetry::new();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(layer(&log, &options)),
    );
    let pool = raw_pool(options).await;
    let huge = format!("SELECT '{}' || '{SECRET}'", "x".repeat(1 << 20));
    let hostile = [
        format!("SELECT 'it''s {SECRET}'"),
        format!("SELECT E'\\' {SECRET}'"),
        format!("SELECT $q$ {SECRET} $q$"),
        format!("SELECT U&'{SECRET}'"),
        format!("SELECT 1 /* {SECRET} */"),
        format!("SELECT 1 -- {SECRET}\n"),
        format!("SELECT B'1010', X'ff', '{SECRET}'::text"),
        format!("SELECT '\n{SECRET}\n'; SELECT '{SECRET}'"),
        format!("SELECT 1 WHERE '{SECRET}' = $1"),
        huge,
    ];
    let cx = parent(&log, "hostile");
    async {
        for sql in &hostile {
            let q = sqlx::raw_sql(AssertSqlSafe(sql.clone()));
            if sql.contains("$1") {
                let _ = sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(SECRET)
                    .fetch_all(&pool)
                    .await;
            } else {
                q.fetch_all(&pool).await.expect("hostile statement runs");
            }
        }
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    let spans = db_spans(&log);
    assert_eq!(spans.len(), hostile.len(), "{}", describe(&spans));
    for s in &spans {
        let t = text(s).expect("db.query.text");
        assert!(t.len() <= 2048, "{} bytes", t.len());
        assert!(s.name.len() <= 255, "name {} bytes", s.name.len());
    }
    assert!(log.leaks(SECRET).is_empty(), "{:?}", log.leaks(SECRET));
}

/// The shared options apply: with `require_parent(true)` a statement without a parent records
/// its metric point but no span.
#[tokio::test]
async fn the_layer_honours_require_parent() {
    use otel_sqlx::DbInstrumentationOptions as _;

    let options = options();
    let log = TestTelemetry::new();
    let layer = QueryLogLayer::builder::<Postgres>(&options)
        .tracer_provider(log.tracer_provider.clone())
        .meter_provider(log.meter_provider.clone())
        .require_parent(true)
        .build();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let pool = raw_pool(options).await;
    sqlx::query("SELECT 'orphan'")
        .execute(&pool)
        .await
        .expect("orphan");
    let cx = parent(&log, "job");
    sqlx::query("SELECT 'child'")
        .execute(&pool)
        .with_context(cx.clone())
        .await
        .expect("child");
    cx.span().end();
    let spans = db_spans(&log);
    assert_eq!(spans.len(), 1, "{}", describe(&spans));
    spans[0].assert_child_of(&log.span("job"));
    let points: u64 = log.histogram(DURATION).iter().map(|p| p.count).sum();
    assert_eq!(
        points, 2,
        "one duration point per statement, with or without a span"
    );
}
