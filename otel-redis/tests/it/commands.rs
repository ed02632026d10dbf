//! Single commands against the real test server: names, attributes, status, parents.

use crate::common;

use opentelemetry::context::FutureExt;
use opentelemetry_semantic_conventions::attribute;
use otel_redis::TracedConnection;
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};
use redis::AsyncCommands;

use common::{assert_db_span, end_parent, parent_context, traced};

#[tokio::test]
async fn basic_commands_have_exact_spans() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_basic");
    let hash = format!("{key}:h");
    let cx = parent_context(&t, "parent");

    async {
        let () = conn.set(&key, "value-1").await.unwrap();
        let v: Option<String> = conn.get(&key).await.unwrap();
        assert_eq!(v.as_deref(), Some("value-1"));
        let n: i64 = conn.incr(format!("{key}:n"), 5).await.unwrap();
        assert_eq!(n, 5);
        let n: i64 = conn.hset(&hash, "field-1", "value-2").await.unwrap();
        assert_eq!(n, 1);
        let ok: bool = conn.expire(&key, 60).await.unwrap();
        assert!(ok);
        let n: i64 = conn.del(&[&key, &hash]).await.unwrap();
        assert_eq!(n, 2);
        let _: i64 = conn.del(format!("{key}:n")).await.unwrap();
    }
    .with_context(cx.clone())
    .await;
    let parent = end_parent(&t, &cx, "parent");

    let cases = [
        ("SET", format!("SET {key} ?")),
        ("GET", format!("GET {key}")),
        ("HSET", format!("HSET {hash} ? ?")),
        ("EXPIRE", format!("EXPIRE {key} ?")),
    ];
    for (name, text) in cases {
        let span = t.span(name);
        assert_db_span(&span, &client, name);
        span.assert_attr(attribute::DB_QUERY_TEXT, text)
            .assert_unset()
            .assert_child_of(&parent)
            .assert_no_attr(attribute::ERROR_TYPE)
            .assert_no_attr(attribute::DB_RESPONSE_STATUS_CODE);
    }
    // INCRBY (redis-rs sends INCRBY for `incr`): the amount is a value.
    let span = t.span("INCRBY");
    assert_db_span(&span, &client, "INCRBY");
    span.assert_attr(attribute::DB_QUERY_TEXT, format!("INCRBY {key}:n ?"))
        .assert_child_of(&parent);
    let dels = t.spans_named("DEL");
    assert_eq!(dels.len(), 2);
    let texts: Vec<String> = dels
        .iter()
        .map(|s| {
            s.attr(attribute::DB_QUERY_TEXT)
                .map(|v| v.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert!(texts.contains(&format!("DEL {key} {hash}")), "{texts:?}");
    assert!(texts.contains(&format!("DEL {key}:n")), "{texts:?}");
    assert_eq!(t.spans().len(), 8, "7 commands + parent");

    // One duration point per operation name, each counting its commands.
    let points = t.histogram("db.client.operation.duration");
    let count_of = |op: &str| {
        points
            .iter()
            .filter(|p| p.attr(attribute::DB_OPERATION_NAME).as_deref() == Some(op))
            .map(|p| p.count)
            .sum::<u64>()
    };
    assert_eq!(count_of("SET"), 1);
    assert_eq!(count_of("DEL"), 2);
    assert!(
        points
            .iter()
            .all(|p| p.attr(attribute::DB_QUERY_TEXT).is_none())
    );
}

#[tokio::test]
async fn missing_key_is_not_an_error() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_missing");
    let v: Option<String> = conn.get(&key).await.unwrap();
    assert_eq!(v, None);
    let span = t.span("GET");
    assert_db_span(&span, &client, "GET");
    span.assert_unset()
        .assert_attr(attribute::DB_QUERY_TEXT, format!("GET {key}"))
        .assert_no_attr(attribute::ERROR_TYPE);
    assert!(span.events.is_empty());
}

#[tokio::test]
async fn wrongtype_is_an_error_with_its_code() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_wrongtype");
    let () = conn.set(&key, "a string").await.unwrap();
    let err = conn
        .hset::<_, _, _, i64>(&key, "field", "value")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let _: i64 = conn.del(&key).await.unwrap();

    let span = t.span("HSET");
    assert_db_span(&span, &client, "HSET");
    span.assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_attr(attribute::ERROR_TYPE, "WRONGTYPE")
        .assert_attr(attribute::DB_QUERY_TEXT, format!("HSET {key} ? ?"));
    let points = t.histogram("db.client.operation.duration");
    let hset = points
        .iter()
        .find(|p| p.attr(attribute::DB_OPERATION_NAME).as_deref() == Some("HSET"))
        .expect("HSET point");
    assert_eq!(
        hset.attr(attribute::ERROR_TYPE).as_deref(),
        Some("WRONGTYPE")
    );
    assert_eq!(
        hset.attr(attribute::DB_RESPONSE_STATUS_CODE).as_deref(),
        Some("WRONGTYPE")
    );
}

#[tokio::test]
async fn unknown_command_error_does_not_echo_its_arguments() {
    let t = TestTelemetry::new();
    let (_client, mut conn) = traced(&t).await;
    let err = redis::cmd("NOSUCHCOMMAND")
        .arg("argument-value-1")
        .arg("argument-value-2")
        .query_async::<redis::Value>(&mut conn)
        .await
        .unwrap_err();
    // The server's message quotes the arguments ...
    assert!(err.to_string().contains("argument-value-1"), "{err}");
    // ... the span does not, nor the unknown command's name.
    let span = t.span("_OTHER");
    span.assert_error()
        .assert_attr(attribute::DB_OPERATION_NAME, "_OTHER")
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "ERR")
        .assert_attr(attribute::ERROR_TYPE, "ERR")
        .assert_attr(attribute::DB_QUERY_TEXT, "_OTHER ? ?");
    assert!(
        !span.all_text().contains("argument-value"),
        "{}",
        span.all_text()
    );
}

#[tokio::test]
async fn eval_records_keys_but_never_the_script() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_eval");
    let cx = parent_context(&t, "parent");
    let v: String = redis::cmd("EVAL")
        .arg("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])")
        .arg(1)
        .arg(&key)
        .arg("script-argument")
        .query_async(&mut conn)
        .with_context(cx.clone())
        .await
        .unwrap();
    assert_eq!(v, "script-argument");
    let parent = end_parent(&t, &cx, "parent");
    let _: i64 = conn.del(&key).await.unwrap();

    let span = t.span("EVAL");
    assert_db_span(&span, &client, "EVAL");
    span.assert_unset()
        .assert_child_of(&parent)
        .assert_attr(attribute::DB_QUERY_TEXT, format!("EVAL ? 1 {key} ?"));
    let text = span.all_text();
    assert!(
        !text.contains("redis.call") && !text.contains("script-argument"),
        "{text}"
    );

    // A script error: NOSCRIPT for an unknown sha.
    let err = redis::cmd("EVALSHA")
        .arg("0000000000000000000000000000000000000000")
        .arg(0)
        .query_async::<redis::Value>(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOSCRIPT"));
    t.span("EVALSHA")
        .assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "NOSCRIPT")
        .assert_attr(attribute::DB_QUERY_TEXT, "EVALSHA ? 0");
}

#[tokio::test]
async fn two_word_commands_are_named_by_both_words() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let _: Vec<String> = redis::cmd("config")
        .arg("get")
        .arg("maxmemory")
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("otel-redis-test")
        .query_async(&mut conn)
        .await
        .unwrap();
    let span = t.span("CONFIG GET");
    assert_db_span(&span, &client, "CONFIG GET");
    span.assert_attr(attribute::DB_QUERY_TEXT, "CONFIG GET ?");
    let span = t.span("CLIENT SETNAME");
    assert_db_span(&span, &client, "CLIENT SETNAME");
    span.assert_attr(attribute::DB_QUERY_TEXT, "CLIENT SETNAME ?");
}

#[tokio::test]
async fn a_dropped_command_ends_its_span_as_cancelled() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_blpop");
    let blocked = conn.blpop::<_, Option<(String, String)>>(&key, 5.0);
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(100), blocked).await;
    assert!(timed_out.is_err(), "BLPOP on an empty list should block");
    let span = t.span("BLPOP");
    assert_db_span(&span, &client, "BLPOP");
    span.assert_error()
        .assert_attr(
            attribute::ERROR_TYPE,
            otel_rpc::Outcome::CANCELLED_ERROR_TYPE,
        )
        .assert_attr(attribute::DB_QUERY_TEXT, format!("BLPOP {key} ?"));
}

#[tokio::test]
async fn works_over_a_connection_manager_and_selected_db() {
    let t = TestTelemetry::new();
    let url = otel_testkit::env::redis_url();
    otel_testkit::env::require("redis", &url);
    let info = redis::IntoConnectionInfo::into_connection_info(url.as_str()).unwrap();
    let settings = info.redis_settings().clone().set_db(3);
    let client = redis::Client::open(info.set_redis_settings(settings)).unwrap();
    let manager = redis::aio::ConnectionManager::new(client.clone())
        .await
        .unwrap();
    let mut conn = TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(manager);
    let key = unique_name("otel_redis_manager");
    let () = conn.set_ex(&key, 1, 30).await.unwrap();
    let span = t.span("SETEX");
    assert_db_span(&span, &client, "SETEX");
    span.assert_attr(attribute::DB_NAMESPACE, "3")
        .assert_attr(attribute::DB_QUERY_TEXT, format!("SETEX {key} ? ?"));
    let _: i64 = conn.del(&key).await.unwrap();
}

#[test]
fn traced_connections_are_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<TracedConnection<redis::aio::MultiplexedConnection>>();
    assert_traits::<TracedConnection<redis::aio::ConnectionManager>>();
}
