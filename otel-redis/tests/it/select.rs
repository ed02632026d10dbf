//! `db.namespace` after `SELECT`: followed on the blocking connection the wrapper alone drives,
//! omitted from the first `SELECT` on for async (shared) connections.

use crate::common;

use opentelemetry_semantic_conventions::attribute;
use otel_testkit::{TestTelemetry, describe, env::unique_name};
use redis::AsyncCommands;

/// The client's database index (the tests' URL picks it; `SELECT`s below go elsewhere).
fn client_db(client: &redis::Client) -> i64 {
    client.get_connection_info().redis_settings().db()
}

/// A database other than the client's, `n` steps away (16 databases by default).
fn other_db(client: &redis::Client, n: i64) -> i64 {
    (client_db(client) + n) % 16
}

/// The `db.namespace` of the last span named `name`, if any.
fn namespace_of(t: &TestTelemetry, name: &str) -> Option<String> {
    let spans = t.spans_named(name);
    let span = spans
        .last()
        .unwrap_or_else(|| panic!("no span {name}: {}", describe(&t.spans())));
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == attribute::DB_NAMESPACE)
        .map(|kv| kv.value.to_string())
}

#[cfg(feature = "sync")]
#[test]
fn blocking_connection_follows_select() {
    use redis::Commands;

    let t = TestTelemetry::new();
    let (client, mut conn) = common::traced_sync(&t);
    let (db0, db1, db2) = (
        client_db(&client),
        other_db(&client, 3),
        other_db(&client, 5),
    );
    let key = unique_name("otel_redis_select");

    let _: Option<String> = conn.get(&key).unwrap();
    assert_eq!(namespace_of(&t, "GET"), Some(db0.to_string()));

    // SELECT itself runs in the database it leaves.
    let () = redis::cmd("SELECT").arg(db1).query(&mut conn).unwrap();
    assert_eq!(namespace_of(&t, "SELECT"), Some(db0.to_string()));
    let () = conn.set(&key, "in-db1").unwrap();
    assert_eq!(namespace_of(&t, "SET"), Some(db1.to_string()));
    // Ground truth: the key is in db1, not in the client's database.
    let mut raw = client.get_connection().unwrap();
    let () = redis::cmd("SELECT").arg(db1).query(&mut raw).unwrap();
    let v: Option<String> = raw.get(&key).unwrap();
    assert_eq!(v.as_deref(), Some("in-db1"));

    // A SELECT the server refuses leaves the database where it was.
    let err = redis::cmd("SELECT")
        .arg(100_000)
        .query::<()>(&mut conn)
        .unwrap_err();
    assert_eq!(err.code(), Some("ERR"), "{err}");
    let _: Option<String> = conn.get(&key).unwrap();
    assert_eq!(namespace_of(&t, "GET"), Some(db1.to_string()));

    // A pipeline with a SELECT runs in two databases: no namespace on its span; the database
    // after it is the one its SELECT chose.
    let (): () = redis::pipe()
        .cmd("SELECT")
        .arg(db2)
        .ignore()
        .get(&key)
        .ignore()
        .query(&mut conn)
        .unwrap();
    assert_eq!(namespace_of(&t, "PIPELINE"), None);
    let _: Option<String> = conn.get(&key).unwrap();
    assert_eq!(namespace_of(&t, "GET"), Some(db2.to_string()));

    // The same in MULTI/EXEC.
    let (): () = redis::pipe()
        .atomic()
        .cmd("SELECT")
        .arg(db1)
        .ignore()
        .query(&mut conn)
        .unwrap();
    assert_eq!(namespace_of(&t, "MULTI SELECT"), None);
    let n: i64 = conn.del(&key).unwrap();
    assert_eq!(n, 1, "the key is found in db1 again");
    assert_eq!(namespace_of(&t, "DEL"), Some(db1.to_string()));
}

#[tokio::test]
async fn async_connection_omits_the_namespace_after_select() {
    let t = TestTelemetry::new();
    let (client, mut conn) = common::traced(&t).await;
    let mut clone = conn.clone();
    let db0 = client_db(&client);
    let key = unique_name("otel_redis_select_async");

    let _: Option<String> = conn.get(&key).await.unwrap();
    assert_eq!(namespace_of(&t, "GET"), Some(db0.to_string()));

    // Another task may send commands on the same multiplexed connection at any time, and a
    // reconnecting connection goes back to the client's database: from the first SELECT on
    // the database is unknown, on every clone of the wrapper.
    let () = redis::cmd("SELECT")
        .arg(other_db(&client, 3))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(namespace_of(&t, "SELECT"), Some(db0.to_string()));
    let _: Option<String> = conn.get(&key).await.unwrap();
    assert_eq!(namespace_of(&t, "GET"), None);
    let _: i64 = clone.exists(&key).await.unwrap();
    assert_eq!(namespace_of(&t, "EXISTS"), None);
    // Even a SELECT back to the client's database does not make it known again.
    let () = redis::cmd("SELECT")
        .arg(db0)
        .query_async(&mut clone)
        .await
        .unwrap();
    let _: i64 = conn.del(&key).await.unwrap();
    assert_eq!(namespace_of(&t, "DEL"), None);
    // The metric carries no namespace either.
    let points = t.histogram("db.client.operation.duration");
    assert!(
        points.iter().any(
            |p| p.attr(attribute::DB_OPERATION_NAME).as_deref() == Some("DEL")
                && p.attr(attribute::DB_NAMESPACE).is_none()
        ),
        "{points:?}"
    );
}

#[tokio::test]
async fn async_pipeline_with_select_omits_the_namespace() {
    let t = TestTelemetry::new();
    let (client, mut conn) = common::traced(&t).await;
    // A connection wrapped separately keeps its own database.
    let inner = client.get_multiplexed_async_connection().await.unwrap();
    let mut other = conn.with_inner(inner);
    let (): () = redis::pipe()
        .cmd("SELECT")
        .arg(other_db(&client, 2))
        .ignore()
        .cmd("PING")
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(namespace_of(&t, "PIPELINE"), None);
    let _: Option<String> = conn.get("otel_redis_select_none").await.unwrap();
    assert_eq!(namespace_of(&t, "GET"), None);
    let _: Option<String> = other.get("otel_redis_select_none").await.unwrap();
    assert_eq!(
        namespace_of(&t, "GET"),
        Some(client_db(&client).to_string())
    );
}
