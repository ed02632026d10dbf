//! Opt-in sqlcommenter against the real PostgreSQL (issue 17 part 2): the server sees the
//! trace context of sampled statements (`pg_stat_activity` read from a second connection while
//! a `pg_sleep` runs), the prepared-statement cache stays steady over 10,000 commented
//! queries, and unsampled statements reach the server byte for byte as written.

use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry_sdk::trace::Sampler;
use otel_sqlx::InstrumentationOptions;
use otel_sqlx::{SqlCommenter, TracedPool};
use otel_testkit::env::{postgres_url, require};
use otel_testkit::{SpanAssert, TestTelemetry};
use sqlx::{Connection, Executor as _, Row};

async fn raw(max: u32) -> sqlx::PgPool {
    let url = postgres_url();
    require("PostgreSQL", &url);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max)
        .connect(&url)
        .await
        .expect("connect")
}

fn commented(t: &TestTelemetry, pool: sqlx::PgPool) -> TracedPool<sqlx::Postgres> {
    TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .sqlcommenter(SqlCommenter::new().tag("application", "otel-sqlx-test"))
        .build()
}

/// Runs `sql` (a `pg_sleep`) on `pool` while reading its text from `pg_stat_activity` through
/// a separate connection; returns the text the server saw.
async fn seen_by_server(pool: &TracedPool<sqlx::Postgres>, sql: &'static str) -> String {
    let mut watcher = sqlx::PgConnection::connect(&postgres_url())
        .await
        .expect("watcher");
    let run = async {
        sqlx::query(sql).execute(pool).await.expect("sleep");
    };
    let watch = async {
        for _ in 0..200 {
            let row = sqlx::query(
                "SELECT query FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep(0.8)%' \
                 AND state = 'active'",
            )
            .fetch_optional(&mut watcher)
            .await
            .expect("pg_stat_activity");
            if let Some(row) = row {
                return row.get::<String, _>(0);
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the statement never showed up in pg_stat_activity");
    };
    let ((), text) = tokio::join!(run, watch);
    text
}

#[tokio::test]
async fn sampled_statements_carry_the_trace_context() {
    let t = TestTelemetry::new();
    let pool = commented(&t, raw(2).await);
    let parent = t.tracer("test").start("parent");
    let cx = opentelemetry::Context::current_with_span(parent);
    let text = {
        use opentelemetry::context::FutureExt;
        seen_by_server(&pool, "SELECT pg_sleep(0.8)")
            .with_context(cx.clone())
            .await
    };
    cx.span().end();
    let span = t.span("SELECT");
    let expected = format!(
        "SELECT pg_sleep(0.8) /*application='otel-sqlx-test',traceparent='00-{}-{}-01'*/",
        span.span_context.trace_id(),
        span.span_context.span_id()
    );
    assert_eq!(text, expected);
    span.assert_attr("db.query.text", "SELECT pg_sleep(?)")
        .assert_attr("db.query.summary", "SELECT");
    assert!(
        t.leaks("traceparent").is_empty(),
        "{:?}",
        t.leaks("traceparent")
    );
}

#[tokio::test]
async fn unsampled_statements_are_sent_unchanged() {
    let t = TestTelemetry::with_sampler(Sampler::AlwaysOff);
    let pool = commented(&t, raw(2).await);
    let text = seen_by_server(&pool, "SELECT pg_sleep(0.8)").await;
    assert_eq!(text, "SELECT pg_sleep(0.8)");
}

#[tokio::test]
async fn statement_cache_stays_steady_over_many_commented_queries() {
    let t = TestTelemetry::new();
    let raw = raw(1).await;
    let pool = commented(&t, raw.clone());
    let cached = async || {
        let conn = raw.acquire().await.expect("acquire");
        conn.cached_statements_size()
    };
    // One persistent statement first (as unsampled traffic would leave it).
    raw.execute(sqlx::query("SELECT 1")).await.expect("warm");
    let before = cached().await;
    for i in 0..10_000i64 {
        let n: i64 = sqlx::query_scalar("SELECT $1::int8 + 1")
            .bind(i)
            .fetch_one(&pool)
            .await
            .expect("commented query");
        assert_eq!(n, i + 1);
    }
    assert_eq!(cached().await, before, "commented statements were cached");
    let spans = t.spans();
    assert_eq!(spans.len(), 10_000);
    assert!(spans.iter().all(
        |s| s.attr("db.query.text").map(|v| v.to_string()).as_deref()
            == Some("SELECT $1::int8 + ?")
    ));
}

/// MariaDB: `information_schema.PROCESSLIST` read from a second connection shows the comment
/// of a sampled statement sent as text (no arguments: the text protocol), and the unchanged
/// text of an unsampled one and of a sampled prepared one (`sqlx::query`: on MySQL a commented
/// statement would have to go non-persistent, which stalls the connection ~40 ms over TCP).
#[tokio::test]
async fn mariadb_processlist_shows_the_comment() {
    let url = otel_testkit::env::mysql_url();
    require("MariaDB", &url);
    for (sampled, prepared) in [(true, false), (false, false), (true, true)] {
        let t = if sampled {
            TestTelemetry::new()
        } else {
            TestTelemetry::with_sampler(Sampler::AlwaysOff)
        };
        let raw = sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .expect("connect");
        let pool = TracedPool::builder(raw)
            .tracer_provider(t.tracer_provider.clone())
            .sqlcommenter(SqlCommenter::new().tag("application", "otel-sqlx-test"))
            .build();
        // Server detection first, so the watched statement is the only one running.
        sqlx::query("SELECT 1").execute(&pool).await.expect("warm");
        let mut watcher = sqlx::MySqlConnection::connect(&url).await.expect("watcher");
        let run = async {
            if prepared {
                sqlx::query("SELECT SLEEP(0.8)")
                    .execute(&pool)
                    .await
                    .expect("sleep");
            } else {
                sqlx::Executor::execute(&pool, "SELECT SLEEP(0.8)")
                    .await
                    .expect("sleep");
            }
        };
        let watch = async {
            for _ in 0..200 {
                let row = sqlx::query(
                    "SELECT INFO FROM information_schema.PROCESSLIST \
                     WHERE ID <> CONNECTION_ID() AND INFO LIKE 'SELECT SLEEP(0.8)%'",
                )
                .fetch_optional(&mut watcher)
                .await
                .expect("processlist");
                if let Some(row) = row {
                    return row.get::<String, _>(0);
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("the statement never showed up in the process list");
        };
        let ((), text) = tokio::join!(run, watch);
        if sampled && !prepared {
            let span = t
                .spans()
                .into_iter()
                .find(|s| {
                    s.attr("db.query.text").map(|v| v.to_string()).as_deref()
                        == Some("SELECT SLEEP(?)")
                })
                .expect("the SLEEP span");
            assert_eq!(
                text,
                format!(
                    "SELECT SLEEP(0.8) /*application='otel-sqlx-test',traceparent='00-{}-{}-01'*/",
                    span.span_context.trace_id(),
                    span.span_context.span_id()
                )
            );
        } else {
            assert_eq!(text, "SELECT SLEEP(0.8)");
        }
    }
}
