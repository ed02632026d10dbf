//! Server faults: connections killed by the server in the middle of a stream of operations.
//! The operation that was hit ends its span as an Error, later operations succeed once the
//! driver reconnects, and every operation issued has exactly one ended span whose status
//! matches what the caller got (no span left open, none doubled). Mongo's in-flight state
//! returns to zero after operations that fail.

use crate::reliability_common;
use otel_rpc::InstrumentationOptions;

use std::time::Duration;

use mongodb::bson::{Document, doc};
use opentelemetry_semantic_conventions::attribute;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry, describe, env};
use reliability_common as common;

/// The caller-visible result of each operation, in issue order.
#[derive(Default)]
struct Ledger {
    results: Vec<(String, bool)>,
}

impl Ledger {
    fn record<T, E: std::fmt::Debug>(&mut self, name: &str, r: &Result<T, E>) {
        self.results.push((name.to_owned(), r.is_ok()));
    }

    fn errors(&self) -> usize {
        self.results.iter().filter(|(_, ok)| !ok).count()
    }

    /// One span per operation, in order, named as expected and with the matching status.
    fn check(&self, spans: &[ExportedSpan]) {
        let mut spans: Vec<&ExportedSpan> = spans.iter().collect();
        spans.sort_by_key(|s| s.start_time);
        assert_eq!(
            spans.len(),
            self.results.len(),
            "one span per operation expected; spans: {}",
            describe(&spans.iter().map(|s| (*s).clone()).collect::<Vec<_>>())
        );
        for (i, (span, (name, ok))) in spans.iter().zip(&self.results).enumerate() {
            assert_eq!(&span.name, name, "operation {i}");
            assert_eq!(
                common::is_error(span),
                !ok,
                "operation {i} ({name}): caller saw ok={ok}, span status {:?} {:?}",
                span.status,
                span.attributes
            );
            if !ok {
                span.assert_error();
                assert!(span.attr(attribute::ERROR_TYPE).is_some(), "{span:?}");
            }
        }
    }
}

#[tokio::test]
async fn redis_connection_killed_mid_stream_errors_once_then_reconnects() {
    let t = TestTelemetry::new();
    let url = env::redis_url();
    env::require("Redis", &url);
    let client = redis::Client::open(url).expect("client");
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(10)))
        .set_min_delay(Duration::from_millis(10))
        .set_max_delay(Duration::from_millis(100));
    let manager = client
        .get_connection_manager_with_config(config)
        .await
        .expect("connection manager");
    let mut conn = otel_redis::TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(manager);
    // The killer: an untraced connection of its own.
    let mut admin = client
        .get_multiplexed_async_connection()
        .await
        .expect("admin connection");
    let key = env::unique_name("faults:counter");
    let list = env::unique_name("faults:list");
    let mut ledger = Ledger::default();
    let mut kills = 0;

    for round in 0..3 {
        // A burst of ordinary commands.
        for _ in 0..50 {
            let r: redis::RedisResult<i64> =
                redis::cmd("INCR").arg(&key).query_async(&mut conn).await;
            ledger.record("INCR", &r);
        }
        // Which server-side client is ours (retried: right after a kill it may fail).
        let id = loop {
            let r: redis::RedisResult<i64> =
                redis::cmd("CLIENT").arg("ID").query_async(&mut conn).await;
            ledger.record("CLIENT ID", &r);
            if let Ok(id) = r {
                break id;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // Kill it while a blocking command is in flight on it.
        let killer = async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let killed: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query_async(&mut admin)
                .await
                .expect("CLIENT KILL");
            killed
        };
        let blpop = redis::cmd("BLPOP").arg(&list).arg(3).clone();
        let (r, killed) = tokio::join!(
            blpop.query_async::<Option<(String, String)>>(&mut conn),
            killer
        );
        assert_eq!(
            killed, 1,
            "round {round}: CLIENT KILL ID {id} killed nothing"
        );
        kills += 1;
        assert!(
            r.is_err(),
            "round {round}: BLPOP on a killed connection returned {r:?}"
        );
        ledger.record("BLPOP", &r);
    }
    // After the last kill: the manager reconnects and commands succeed again.
    let mut succeeded_after = 0;
    for _ in 0..50 {
        let r: redis::RedisResult<i64> = redis::cmd("INCR").arg(&key).query_async(&mut conn).await;
        ledger.record("INCR", &r);
        if r.is_ok() {
            succeeded_after += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(
        succeeded_after >= 45,
        "only {succeeded_after}/50 INCR succeeded after reconnect"
    );
    let r: redis::RedisResult<i64> = redis::cmd("DEL").arg(&key).query_async(&mut conn).await;
    ledger.record("DEL", &r);

    let spans = t.spans();
    ledger.check(&spans);
    eprintln!(
        "redis faults: {} operations, {kills} connections killed, {} errors, {} spans",
        ledger.results.len(),
        ledger.errors(),
        spans.len()
    );
    assert!(ledger.errors() >= kills);
}

#[tokio::test]
async fn postgres_backend_terminated_mid_stream_errors_then_the_pool_reconnects() {
    let t = TestTelemetry::new();
    let url = env::postgres_url();
    env::require("PostgreSQL", &url);
    // One connection, not tested before acquire: a dead connection is seen by the next query.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect(&url)
        .await
        .expect("pool");
    let pool = otel_sqlx::TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    let admin = sqlx::PgPool::connect(&url).await.expect("admin pool");
    let mut ledger = Ledger::default();
    let mut kills = 0;

    for round in 0..3 {
        for _ in 0..30 {
            let r = sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(&pool)
                .await;
            ledger.record("SELECT", &r);
        }
        let pid = loop {
            let r = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
                .fetch_one(&pool)
                .await;
            ledger.record("SELECT", &r);
            if let Ok(pid) = r {
                break pid;
            }
        };
        // Terminate the backend while a query is running on it.
        let killer = async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            sqlx::query_scalar::<_, bool>("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&admin)
                .await
                .expect("pg_terminate_backend")
        };
        let (r, terminated) =
            tokio::join!(sqlx::query("SELECT pg_sleep(3)").execute(&pool), killer);
        assert!(
            terminated,
            "round {round}: backend {pid} was not terminated"
        );
        kills += 1;
        assert!(
            r.is_err(),
            "round {round}: pg_sleep on a terminated backend returned {r:?}"
        );
        ledger.record("SELECT", &r);
    }
    let mut succeeded_after = 0;
    for _ in 0..30 {
        let r = sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&pool)
            .await;
        ledger.record("SELECT", &r);
        succeeded_after += usize::from(r.is_ok());
    }
    assert!(
        succeeded_after >= 29,
        "only {succeeded_after}/30 queries succeeded after the kills"
    );

    let spans = t.spans();
    ledger.check(&spans);
    // The query that was running when its backend died: SQLSTATE 57P01 (admin_shutdown).
    let terminated: Vec<_> = spans
        .iter()
        .filter(|s| {
            s.attr(attribute::DB_QUERY_TEXT)
                .map(|v| v.to_string())
                .as_deref()
                == Some("SELECT pg_sleep(?)")
        })
        .collect();
    assert_eq!(terminated.len(), 3);
    for s in terminated {
        s.assert_error();
    }
    eprintln!(
        "postgres faults: {} operations, {kills} backends terminated, {} errors, {} spans",
        ledger.results.len(),
        ledger.errors(),
        spans.len()
    );
}

#[tokio::test]
async fn mongo_in_flight_state_returns_to_zero_after_failing_and_succeeding_commands() {
    let t = TestTelemetry::new();
    let handler = common::mongo_handler(&t);
    let (_client, db) = common::mongo(&handler).await;
    let coll = db.collection::<Document>("faults");
    let mut ledger = Ledger::default();
    for i in 0..20i64 {
        let r = coll.insert_one(doc! { "_id": i }).await;
        ledger.record("insert faults", &r);
        // The same _id again: duplicate key (code 11000).
        let r = coll.insert_one(doc! { "_id": i }).await;
        assert!(r.is_err());
        ledger.record("insert faults", &r);
        let r = db.run_command(doc! { "noSuchCommand": 1 }).await;
        assert!(r.is_err());
        // An unlisted command name of identifier shape is a key the application sends: the
        // span keeps it (the metric says `_OTHER`).
        ledger.record(&format!("noSuchCommand {}", db.name()), &r);
        let r = coll
            .aggregate(vec![doc! { "$noSuchStage": {} }])
            .await
            .map(|_| ());
        assert!(r.is_err());
        ledger.record("aggregate faults", &r);
        let r = coll.find_one(doc! { "_id": i }).await;
        assert!(matches!(r, Ok(Some(_))));
        ledger.record("find faults", &r);
        assert_eq!(handler.in_flight(), 0, "after round {i}");
    }
    let spans = t.spans();
    ledger.check(&spans);
    assert_eq!(handler.in_flight(), 0);
    assert_eq!(handler.lost_replies(), 0);
    eprintln!(
        "mongo faults: {} operations, {} errors, {} spans, in_flight {}",
        ledger.results.len(),
        ledger.errors(),
        spans.len(),
        handler.in_flight()
    );
    common::drop_mongo_db(&db).await;
}
