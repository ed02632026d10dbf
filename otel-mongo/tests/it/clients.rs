//! One handler installed into several clients (FerretDB): each client's commands, pools and
//! configured server are its own. The driver numbers connections per pool, from 1, so two
//! clients to one server both have a connection 1.

use crate::common;

use std::time::Duration;

use mongodb::Client;
use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::OtelCommandHandler;
use otel_testkit::{SpanAssert, TestTelemetry, describe, env};

async fn client(handler: &OtelCommandHandler, uri: &str) -> Client {
    let mut options = ClientOptions::parse(uri).await.expect("parse uri");
    handler.install(&mut options);
    Client::with_options(options).expect("client")
}

/// `uri` with its host replaced by `host` (the same FerretDB under another name).
fn with_host(uri: &str, host: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let after_host = rest.find([':', '/']).map_or("", |i| &rest[i..]);
    format!("mongodb://{host}{after_host}")
}

/// Client B's long insert is in flight on its connection 1 while client A's connection 1 is
/// checked in: B's command must end with its own reply, not as cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_on_one_client_never_ends_another_clients_command() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let a = client(&handler, &uri).await;
    let b = client(&handler, &uri).await;
    let db_name = env::unique_name("otel_mongo_clients");
    let slow = b.database(&db_name).collection::<Document>("slow");
    let docs: Vec<Document> = (0..20_000i64)
        .map(|i| doc! { "i": i, "pad": "x".repeat(64) })
        .collect();
    let insert = tokio::spawn(async move { slow.insert_many(docs).await.map(|_| ()) });
    // Wait until B's insert was sent (its started event recorded in flight).
    let mut waited = Duration::ZERO;
    while handler.in_flight() == 0 && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(2)).await;
        waited += Duration::from_millis(2);
    }
    assert_eq!(handler.in_flight(), 1, "B's insert in flight");
    // A: a few commands on its connection 1, each checked in while B's insert runs.
    let a_db = a.database(&db_name);
    for _ in 0..3 {
        a_db.run_command(doc! { "ping": 1 }).await.expect("ping");
    }
    assert_eq!(
        handler.in_flight(),
        1,
        "B's insert still in flight after A's check-ins"
    );
    insert.await.expect("task").expect("insert");
    let spans = t.spans();
    let inserts = t.spans_named("insert slow");
    assert!(!inserts.is_empty(), "{}", describe(&spans));
    for span in &inserts {
        span.assert_unset().assert_no_attr(a::ERROR_TYPE);
    }
    let pings = t.spans_named(&format!("ping {db_name}"));
    assert_eq!(pings.len(), 3);
    // Both clients used their connection 1.
    assert_eq!(
        pings[0].attr("db.mongodb.driver_connection_id"),
        inserts[0].attr("db.mongodb.driver_connection_id"),
        "{}",
        describe(&spans)
    );
    assert_eq!(handler.in_flight(), 0);
    assert_eq!(handler.lost_replies(), 0);
    let _ = a.database(&db_name).drop().await;
}

/// Two clients configured with different hosts for the same server: each span carries its
/// own client's `server.address`, on the span and on the metric.
#[tokio::test]
async fn each_client_records_its_own_configured_server() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let by_ip = client(&handler, &with_host(&uri, "127.0.0.1")).await;
    let by_name = client(&handler, &with_host(&uri, "localhost")).await;
    by_ip
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("ping by ip");
    by_name
        .database("admin")
        .run_command(doc! { "buildInfo": 1 })
        .await
        .expect("buildInfo by name");
    by_ip
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("ping by ip again");
    let spans = t.spans();
    let of = |op: &str| -> Vec<_> {
        spans
            .iter()
            .filter(|s| s.attr(a::DB_OPERATION_NAME) == Some(&op.to_string().into()))
            .collect()
    };
    assert_eq!(of("ping").len(), 2, "{}", describe(&spans));
    for ping in of("ping") {
        ping.assert_attr(a::SERVER_ADDRESS, "127.0.0.1");
    }
    assert_eq!(of("buildInfo").len(), 1, "{}", describe(&spans));
    of("buildInfo")[0].assert_attr(a::SERVER_ADDRESS, "localhost");
    let points = t.histogram("db.client.operation.duration");
    for p in &points {
        let expected = match p.attr(a::DB_OPERATION_NAME).as_deref() {
            Some("ping") => "127.0.0.1",
            Some("buildInfo") => "localhost",
            other => panic!("unexpected operation {other:?}"),
        };
        assert_eq!(p.attr(a::SERVER_ADDRESS).as_deref(), Some(expected));
    }
}
