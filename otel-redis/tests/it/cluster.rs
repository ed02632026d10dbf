//! Redis Cluster connections (feature `cluster`) against the three-master test cluster of
//! `scripts/services.sh`: commands on keys served by different nodes, pipelines, errors, the
//! async and the blocking connection.
#![cfg(feature = "cluster")]

use crate::common;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_redis::TracedConnection;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry, describe, env::unique_name};
use redis::AsyncCommands;

use common::{cluster_client, end_parent, keys_on_every_node, parent_context};

/// What every span of a cluster connection carries: db 0, and no server (redis-rs does not
/// tell which node served the command).
fn assert_cluster_span(span: &ExportedSpan, operation: &str) {
    span.assert_kind(SpanKind::Client)
        .assert_attr(attribute::DB_SYSTEM_NAME, "redis")
        .assert_attr(attribute::DB_OPERATION_NAME, operation.to_string())
        .assert_attr(attribute::DB_NAMESPACE, "0")
        .assert_no_attr(attribute::SERVER_ADDRESS)
        .assert_no_attr(attribute::SERVER_PORT);
}

/// The value of `key` read straight from the node `port`, on a plain connection: proves
/// which node holds it.
fn value_on_node(port: u16, key: &str) -> Option<String> {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .and_then(|c| c.get_connection())
        .expect("connect to the node");
    redis::cmd("GET")
        .arg(key)
        .query(&mut conn)
        .expect("GET on the owner")
}

/// A traced async cluster connection reporting into `t`.
async fn traced_cluster(
    t: &TestTelemetry,
) -> TracedConnection<redis::cluster_async::ClusterConnection> {
    let client = cluster_client();
    let conn = client
        .get_async_connection()
        .await
        .expect("connect to the cluster");
    TracedConnection::cluster_builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(conn)
}

#[tokio::test]
async fn async_cluster_commands_on_every_node() {
    let t = TestTelemetry::new();
    let mut conn = traced_cluster(&t).await;
    let keys = keys_on_every_node(&unique_name("otel_redis_cluster"));
    let cx = parent_context(&t, "parent");
    async {
        for (key, _) in &keys {
            let () = conn.set(key, "cluster-value").await.unwrap();
            let v: Option<String> = conn.get(key).await.unwrap();
            assert_eq!(v.as_deref(), Some("cluster-value"));
        }
    }
    .with_context(cx.clone())
    .await;
    let parent = end_parent(&t, &cx, "parent");
    for (key, port) in &keys {
        assert_eq!(value_on_node(*port, key).as_deref(), Some("cluster-value"));
    }

    let sets = t.spans_named("SET");
    let gets = t.spans_named("GET");
    assert_eq!(
        (sets.len(), gets.len()),
        (keys.len(), keys.len()),
        "{}",
        describe(&t.spans())
    );
    for ((key, _), (set, get)) in keys.iter().zip(sets.iter().zip(&gets)) {
        assert_cluster_span(set, "SET");
        set.assert_attr(attribute::DB_QUERY_TEXT, format!("SET {key} ?"))
            .assert_unset()
            .assert_child_of(&parent);
        assert_cluster_span(get, "GET");
        get.assert_attr(attribute::DB_QUERY_TEXT, format!("GET {key}"))
            .assert_child_of(&parent);
    }
    let points = t.histogram("db.client.operation.duration");
    let set_point = points
        .iter()
        .find(|p| p.attr(attribute::DB_OPERATION_NAME).as_deref() == Some("SET"))
        .unwrap_or_else(|| panic!("no SET point: {points:?}"));
    assert_eq!(set_point.count, keys.len() as u64);
    assert_eq!(
        set_point.attr(attribute::DB_NAMESPACE).as_deref(),
        Some("0")
    );
    assert_eq!(set_point.attr(attribute::SERVER_ADDRESS), None);

    let () = conn
        .del(keys.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>())
        .await
        .unwrap();
}

#[tokio::test]
async fn async_cluster_pipelines_and_errors() {
    let t = TestTelemetry::new();
    let mut conn = traced_cluster(&t).await;
    // One hash tag: one slot, one node.
    let tag = unique_name("otel_redis_cluster_pipe");
    let (a, b) = (format!("{{{tag}}}a"), format!("{{{tag}}}b"));

    let (): () = redis::pipe()
        .set(&a, "1")
        .ignore()
        .incr(&b, 2)
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    let span = t.span("PIPELINE");
    assert_cluster_span(&span, "PIPELINE");
    span.assert_attr(attribute::DB_OPERATION_BATCH_SIZE, 2)
        .assert_attr(attribute::DB_QUERY_TEXT, format!("SET {a} ?; INCRBY {b} ?"))
        .assert_unset();

    let (x, y): (String, i64) = redis::pipe()
        .atomic()
        .get(&a)
        .incr(&b, 1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!((x.as_str(), y), ("1", 3));
    let span = t.span("MULTI");
    assert_cluster_span(&span, "MULTI");
    span.assert_attr(attribute::DB_OPERATION_BATCH_SIZE, 2)
        .assert_unset();

    // A server error, from whichever node owns the key.
    let err = conn.hset::<_, _, _, i64>(&a, "f", "v").await.unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"), "{err}");
    let span = t.span("HSET");
    assert_cluster_span(&span, "HSET");
    span.assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE");

    // A pipeline across slots: refused before it is sent.
    let owner = common::cluster_owner(&a);
    let (other, _) = keys_on_every_node(&unique_name("otel_redis_cluster_other"))
        .into_iter()
        .find(|(_, port)| *port != owner)
        .expect("a key on another node");
    let keys = [a.as_str(), other.as_str()];
    let err = redis::pipe()
        .get(keys[0])
        .get(keys[1])
        .query_async::<(Option<String>, Option<String>)>(&mut conn)
        .await
        .unwrap_err();
    let spans = t.spans_named("PIPELINE GET");
    assert_eq!(spans.len(), 1, "{}", describe(&t.spans()));
    spans[0].assert_error();
    assert_eq!(
        spans[0]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == attribute::ERROR_TYPE)
            .map(|kv| kv.value.to_string()),
        err.code()
            .map(str::to_string)
            .or(Some(format!("{:?}", err.kind()))),
        "{err}"
    );

    // SELECT on a cluster reaches one node: the namespace is no longer known.
    let () = redis::cmd("SELECT")
        .arg(0)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: Option<String> = conn.get(&a).await.unwrap();
    t.spans_named("GET")
        .last()
        .expect("GET span")
        .assert_no_attr(attribute::DB_NAMESPACE);

    let () = conn.del(&[&a, &b]).await.unwrap();
}

#[cfg(feature = "sync")]
#[test]
fn blocking_cluster_connection() {
    use redis::Commands;

    let t = TestTelemetry::new();
    let client = cluster_client();
    let mut conn = TracedConnection::cluster_builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(client.get_connection().expect("connect to the cluster"));
    let keys = keys_on_every_node(&unique_name("otel_redis_cluster_sync"));
    let cx = parent_context(&t, "parent");
    {
        let _guard = cx.clone().attach();
        for (key, _) in &keys {
            let () = conn.set(key, "sync-cluster").unwrap();
        }
        let err = conn.lpush::<_, _, i64>(&keys[0].0, "x").unwrap_err();
        assert_eq!(err.code(), Some("WRONGTYPE"), "{err}");
    }
    let parent = end_parent(&t, &cx, "parent");
    for (key, port) in &keys {
        assert_eq!(value_on_node(*port, key).as_deref(), Some("sync-cluster"));
    }
    let sets = t.spans_named("SET");
    assert_eq!(sets.len(), keys.len(), "{}", describe(&t.spans()));
    for ((key, _), set) in keys.iter().zip(&sets) {
        assert_cluster_span(set, "SET");
        set.assert_attr(attribute::DB_QUERY_TEXT, format!("SET {key} ?"))
            .assert_child_of(&parent);
    }
    let span = t.span("LPUSH");
    assert_cluster_span(&span, "LPUSH");
    span.assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_child_of(&parent);

    // redis-rs's blocking cluster connection refuses `redis::pipe()` before sending (its
    // `cluster_pipe()` takes the concrete connection, which the wrapper is not): no span.
    let before = t.spans().len();
    let err = redis::pipe()
        .get(&keys[0].0)
        .query::<Option<String>>(&mut conn)
        .unwrap_err();
    assert!(err.to_string().contains("pipelining"), "{err}");
    assert_eq!(t.spans().len(), before);

    for (key, _) in &keys {
        let n: i64 = conn.del(key).unwrap();
        assert_eq!(n, 1);
    }
}
