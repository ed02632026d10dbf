//! The blocking `redis::ConnectionLike` (feature `sync`): commands, pipelines read back from
//! packed bytes, errors, parents.
#![cfg(feature = "sync")]

use crate::common;

use opentelemetry_semantic_conventions::attribute;
use otel_redis::PIPELINE_FAILED_COMMANDS;
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};
use redis::Commands;

use common::{assert_db_span, end_parent, parent_context};

#[test]
fn sync_connection_is_traced() {
    let t = TestTelemetry::new();
    let (client, mut conn) = common::traced_sync(&t);
    let key = unique_name("otel_redis_sync");
    let cx = parent_context(&t, "parent");
    {
        let _guard = cx.clone().attach();
        let () = conn.set(&key, "sync-value").unwrap();
        let v: Option<String> = conn.get(&key).unwrap();
        assert_eq!(v.as_deref(), Some("sync-value"));
        let err = conn.hset::<_, _, _, i64>(&key, "f", "v").unwrap_err();
        assert_eq!(err.code(), Some("WRONGTYPE"));
    }
    let parent = end_parent(&t, &cx, "parent");

    let span = t.span("SET");
    assert_db_span(&span, &client, "SET");
    span.assert_attr(attribute::DB_QUERY_TEXT, format!("SET {key} ?"))
        .assert_unset()
        .assert_child_of(&parent);
    let span = t.span("GET");
    assert_db_span(&span, &client, "GET");
    span.assert_attr(attribute::DB_QUERY_TEXT, format!("GET {key}"))
        .assert_child_of(&parent);
    t.span("HSET")
        .assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_child_of(&parent);

    // Pipelines reach the blocking trait as packed bytes.
    let (v, n): (String, i64) = redis::pipe()
        .get(&key)
        .strlen(&key)
        .query(&mut conn)
        .unwrap();
    assert_eq!((v.as_str(), n), ("sync-value", 10));
    let span = t.span("PIPELINE");
    span.assert_attr(attribute::DB_OPERATION_NAME, "PIPELINE")
        .assert_attr(attribute::DB_OPERATION_BATCH_SIZE, 2)
        .assert_attr(attribute::DB_QUERY_TEXT, format!("GET {key}; STRLEN {key}"))
        .assert_unset();

    let err = redis::pipe()
        .atomic()
        .get(&key)
        .lpush(&key, "x")
        .query::<(String, i64)>(&mut conn)
        .unwrap_err();
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    let span = t.span("MULTI");
    span.assert_attr(attribute::DB_OPERATION_NAME, "MULTI")
        .assert_attr(attribute::DB_OPERATION_BATCH_SIZE, 2)
        .assert_attr(
            attribute::DB_QUERY_TEXT,
            format!("GET {key}; LPUSH {key} ?"),
        )
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_attr(PIPELINE_FAILED_COMMANDS, 1)
        .assert_error();

    let n: i64 = conn.del(&key).unwrap();
    assert_eq!(n, 1);
    assert!(
        !t.spans()
            .iter()
            .any(|s| s.all_text().contains("sync-value"))
    );
}
