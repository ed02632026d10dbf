//! `database/dup` on the real servers: the previous attribute names (`db.system`, `db.name`,
//! `db.statement`, `db.operation`, `db.sql.table`, `db.redis.database_index`,
//! `db.mongodb.collection`, `net.peer.name`, `net.peer.port`) beside the current ones, set
//! through every adapter's builder with no adapter code of its own; copies of the sanitized
//! values, so a planted secret reaches neither; and none of them without the mode.

use mongodb::bson::doc;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute as a;
use otel_rpc::InstrumentationOptions;
use otel_rpc::SemconvStability;
use otel_testkit::{SpanAssert, TestTelemetry, env};

const SECRET: &str = "dupSecret-58c1";

fn dup() -> SemconvStability {
    SemconvStability::stable().with_database_dup(true)
}

/// `old` equals `new` on `span` (a copy), and is present.
fn copied(span: &SpanData, new: &str, old: &str) {
    let value = span
        .attr(new)
        .unwrap_or_else(|| panic!("{new} on {}", span.name));
    span.assert_attr(old, value.clone());
}

/// A one-connection traced PostgreSQL pool on `t` in `mode`.
async fn postgres(
    t: &TestTelemetry,
    mode: SemconvStability,
) -> otel_sqlx::TracedPool<sqlx::Postgres> {
    let url = env::postgres_url();
    env::require("PostgreSQL", &url);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("postgres pool");
    otel_sqlx::TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .semconv_stability(mode)
        .build()
}

fn db_spans(t: &TestTelemetry, system: &str) -> Vec<SpanData> {
    t.spans()
        .into_iter()
        .filter(|s| s.attr(a::DB_SYSTEM_NAME) == Some(&Value::from(system.to_owned())))
        .collect()
}

#[tokio::test]
async fn database_dup_adds_the_previous_names_on_every_adapter() {
    let t = TestTelemetry::new();

    // PostgreSQL through otel-sqlx.
    let pool = postgres(&t, dup()).await;
    let table = env::unique_name("dup");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {table} (v text)"
    )))
    .execute(&pool)
    .await
    .expect("create");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} VALUES ('{SECRET}')"
    )))
    .execute(&pool)
    .await
    .expect("insert");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&pool)
        .await
        .expect("drop");
    let pg = db_spans(&t, "postgresql");
    let insert = pg
        .iter()
        .find(|s| s.name.starts_with("INSERT"))
        .expect("insert span");
    for (new, old) in [
        (a::DB_SYSTEM_NAME, "db.system"),
        (a::DB_NAMESPACE, "db.name"),
        (a::DB_QUERY_TEXT, "db.statement"),
        (a::SERVER_ADDRESS, "net.peer.name"),
        (a::SERVER_PORT, "net.peer.port"),
    ] {
        copied(insert, new, old);
    }
    assert!(
        insert
            .attr("db.statement")
            .expect("statement")
            .as_str()
            .contains('?'),
        "sanitized: {insert:?}"
    );

    // Redis through otel-redis: the index as `db.redis.database_index` (an int).
    let url = env::redis_url();
    env::require("Redis", &url);
    let client = redis::Client::open(url).expect("redis client");
    let conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    let mut conn = otel_redis::TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .semconv_stability(dup())
        .build(conn);
    let key = env::unique_name("dup");
    redis::cmd("SET")
        .arg(&key)
        .arg(SECRET)
        .query_async::<()>(&mut conn)
        .await
        .expect("set");
    redis::cmd("DEL")
        .arg(&key)
        .query_async::<()>(&mut conn)
        .await
        .expect("del");
    let set = db_spans(&t, "redis")
        .into_iter()
        .find(|s| s.attr(a::DB_OPERATION_NAME) == Some(&Value::from("SET")))
        .expect("set span");
    copied(&set, a::DB_QUERY_TEXT, "db.statement");
    copied(&set, a::DB_OPERATION_NAME, "db.operation");
    let index: i64 = set
        .attr(a::DB_NAMESPACE)
        .expect("namespace")
        .as_str()
        .parse()
        .expect("index");
    set.assert_attr("db.redis.database_index", index);

    // MongoDB (FerretDB) through otel-mongo: the collection as `db.mongodb.collection`.
    let handler = otel_mongo::OtelCommandHandler::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .semconv_stability(dup())
        .build();
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let mut options = mongodb::options::ClientOptions::parse(&uri)
        .await
        .expect("parse MONGODB_URI");
    handler.install(&mut options);
    let mongo = mongodb::Client::with_options(options).expect("mongo client");
    let db = mongo.database(&env::unique_name("dup"));
    db.collection::<mongodb::bson::Document>("orders")
        .insert_one(doc! { "note": SECRET })
        .await
        .expect("insert");
    let _ = db.drop().await;
    let insert = db_spans(&t, "mongodb")
        .into_iter()
        .find(|s| s.attr(a::DB_COLLECTION_NAME) == Some(&Value::from("orders")))
        .expect("mongo insert span");
    copied(&insert, a::DB_COLLECTION_NAME, "db.mongodb.collection");
    copied(&insert, a::DB_NAMESPACE, "db.name");
    copied(&insert, a::DB_SYSTEM_NAME, "db.system");

    let leaks = t.leaks(SECRET);
    assert!(leaks.is_empty(), "{leaks:#?}");
    // Metrics keep the current names only.
    for p in t.histogram("db.client.operation.duration") {
        assert!(
            p.attr("db.system").is_none() && p.attr("db.name").is_none(),
            "{p:?}"
        );
    }
}

#[tokio::test]
async fn no_previous_name_without_the_mode() {
    let t = TestTelemetry::new();
    let pool = postgres(&t, SemconvStability::parse("database")).await;
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");
    let spans = db_spans(&t, "postgresql");
    assert!(!spans.is_empty());
    for span in spans {
        for old in ["db.system", "db.name", "db.statement", "net.peer.name"] {
            span.assert_no_attr(old);
        }
    }
}
