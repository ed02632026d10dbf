//! Operation spans on FerretDB: one `find db.coll` span per traced driver call, parent of the
//! command spans of every attempt (a real retry through a proxy that cuts the connection after
//! the command was sent), server selection inside it (a timeout against a closed port is an
//! operation span with no command), one duration measurement per operation, transactions.

use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::{
    DbInstrumentationOptions, OtelCommandHandler, TraceOperation as _, TracedClient,
    TracedCollection, TracedDatabase, TracedSession,
};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry, env};

use crate::common::{self, proxy};

const METRIC: &str = "db.client.operation.duration";

/// Measurements of the duration metric whose `db.operation.name` is `op`.
fn measurements(t: &TestTelemetry, op: &str) -> u64 {
    t.histogram(METRIC)
        .iter()
        .filter(|p| p.attr(a::DB_OPERATION_NAME).as_deref() == Some(op))
        .map(|p| p.count)
        .sum()
}

async fn client_to(uri: &str, handler: &OtelCommandHandler) -> Client {
    let mut options = ClientOptions::parse(uri).await.expect("parse uri");
    options.server_selection_timeout = Some(Duration::from_secs(10));
    handler.install(&mut options);
    Client::with_options(options).expect("client")
}

fn children<'a>(spans: &'a [ExportedSpan], parent: &ExportedSpan) -> Vec<&'a ExportedSpan> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_context.span_id())
        .collect()
}

#[tokio::test]
async fn a_traced_call_is_one_operation_span_over_its_commands() {
    let f = common::fixture().await;
    let orders = TracedCollection::new(f.db.collection::<Document>("orders"), &f.handler);
    orders.insert_one(doc! { "x": 1 }).await.expect("insert");
    let found = f
        .in_span("request", async {
            orders
                .find_one(doc! { "x": 1 })
                .sort(doc! { "x": -1 })
                .traced(&orders)
                .await
        })
        .await
        .expect("find");
    assert!(
        found.is_some(),
        "chained options and the output are the driver's"
    );

    let request = f.span("request");
    let op = f.span(&format!("find {}.orders", f.db_name));
    op.assert_kind(SpanKind::Client)
        .assert_child_of(&request)
        .assert_unset()
        .assert_attr(a::DB_SYSTEM_NAME, "mongodb")
        .assert_attr(a::DB_NAMESPACE, f.db_name.clone())
        .assert_attr(a::DB_COLLECTION_NAME, "orders")
        .assert_attr(a::DB_OPERATION_NAME, "find")
        .assert_attr(a::DB_QUERY_SUMMARY, "find orders")
        .assert_attr(a::SERVER_ADDRESS, "127.0.0.1")
        .assert_attr(a::SERVER_PORT, 27017_i64)
        .assert_no_attr(a::DB_QUERY_TEXT);
    assert_eq!(op.instrumentation_scope.name(), "otel-mongo");
    assert_eq!(
        op.instrumentation_scope.version(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        op.instrumentation_scope.schema_url(),
        Some(opentelemetry_semantic_conventions::SCHEMA_URL)
    );
    // The driver fired the command events inline, while the operation's future was polled
    // with the operation span current: the command span is its child.
    let spans = f.t.spans();
    let commands = children(&spans, &op);
    assert_eq!(commands.len(), 1, "{}", otel_testkit::describe(&spans));
    commands[0]
        .assert_kind(SpanKind::Client)
        .assert_attr(a::DB_QUERY_SUMMARY, "find orders")
        .assert_attr(a::DB_OPERATION_NAME, "find");
    assert!(commands[0].start_time >= op.start_time && commands[0].end_time <= op.end_time);
    // One measurement for the operation (the untraced insert has its own).
    assert_eq!(measurements(&f.t, "find"), 1);
    assert_eq!(measurements(&f.t, "insert"), 1);
    let point =
        f.t.histogram(METRIC)
            .into_iter()
            .find(|p| p.attr(a::DB_OPERATION_NAME).as_deref() == Some("find"))
            .expect("find point");
    assert_eq!(
        point.attr(a::DB_QUERY_SUMMARY).as_deref(),
        Some("find orders")
    );
    assert_eq!(point.attr(a::SERVER_ADDRESS).as_deref(), Some("127.0.0.1"));
    assert_eq!(point.attr(a::ERROR_TYPE), None);
    f.cleanup().await;
}

#[tokio::test]
async fn operation_names_follow_the_drivers_specification() {
    let f = common::fixture().await;
    let db = TracedDatabase::new(f.db.clone(), &f.handler);
    let items = db.collection::<Document>("items");
    items
        .insert_many([doc! { "n": 1 }, doc! { "n": 2 }])
        .traced(&items)
        .await
        .expect("insert_many");
    items
        .find_one_and_update(doc! { "n": 1 }, doc! { "$set": { "m": 1 } })
        .traced(&items)
        .await
        .expect("find_one_and_update");
    items
        .count_documents(doc! {})
        .traced(&items)
        .await
        .expect("count_documents");
    db.run_command(doc! { "ping": 1 })
        .traced(&db)
        .await
        .expect("ping");
    let client = TracedClient::new(f.client.clone(), &f.handler);
    let names = client
        .list_database_names()
        .traced(&client)
        .await
        .expect("listDatabases");
    assert!(names.contains(&f.db_name));
    // The traced call is a future like the driver's: `Send`, so it can be spawned.
    fn assert_send<T: Send>(_: &T) {}
    let pending = items.find_one(doc! {}).traced(&items);
    assert_send(&pending);
    drop(pending);
    for (name, summary) in [
        (
            format!("insert {}.items", f.db_name),
            "insert items".to_string(),
        ),
        (
            format!("findAndModify {}.items", f.db_name),
            "findAndModify items".to_string(),
        ),
        (
            format!("aggregate {}.items", f.db_name),
            "aggregate items".to_string(),
        ),
        (
            format!("runCommand {}", f.db_name),
            format!("runCommand {}", f.db_name),
        ),
        (
            "listDatabases admin".to_string(),
            "listDatabases admin".to_string(),
        ),
    ] {
        // `listDatabases admin` names the operation and its command alike: the operation is
        // the one with a child.
        let spans = f.t.spans();
        let span = spans
            .iter()
            .filter(|s| s.name == name.as_str())
            .find(|s| !children(&spans, s).is_empty())
            .unwrap_or_else(|| panic!("operation {name}"));
        span.assert_attr(a::DB_QUERY_SUMMARY, summary);
        assert_eq!(children(&spans, span).len(), 1, "{name}");
    }
    f.span(&format!("runCommand {}", f.db_name))
        .assert_no_attr(a::DB_COLLECTION_NAME)
        .assert_attr(a::DB_OPERATION_NAME, "runCommand");
    // The command under `runCommand` is the command sent.
    let ping = f.span(&format!("ping {}", f.db_name));
    ping.assert_child_of(&f.span(&format!("runCommand {}", f.db_name)));
    f.cleanup().await;
}

/// A handler on `t`, a client through a proxy that cuts the connection of the first command
/// naming a collection unique to the test, and that collection, traced.
struct Cut {
    t: TestTelemetry,
    proxy: proxy::DropProxy,
    db_name: String,
    coll_name: String,
    coll: TracedCollection<Document>,
}

async fn through_cutting_proxy(prefix: &str) -> Cut {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let coll_name = env::unique_name(prefix);
    let proxy = proxy::start(proxy::upstream().await, coll_name.clone().into_bytes(), 1).await;
    let client = client_to(&proxy.uri(), &handler).await;
    let db_name = env::unique_name("otel_mongo");
    let coll = TracedCollection::new(
        client.database(&db_name).collection::<Document>(&coll_name),
        &handler,
    );
    Cut {
        t,
        proxy,
        db_name,
        coll_name,
        coll,
    }
}

/// Connection cut after the `find` was sent: the driver retries on a new connection. One
/// operation span (Ok), two command spans under it (the first `Error`, `Io`; the second
/// unset), one measurement.
#[tokio::test]
async fn a_retried_read_is_one_operation_with_two_attempts() {
    let Cut {
        t,
        proxy,
        db_name,
        coll_name,
        coll,
    } = through_cutting_proxy("retry_probe").await;
    let found = common::in_span(&t, "request", async {
        coll.find_one(doc! { "x": 1 }).traced(&coll).await
    })
    .await;
    assert!(found.is_ok(), "retried: {found:?}");
    assert_eq!(proxy.cut.load(std::sync::atomic::Ordering::SeqCst), 1);

    let spans = t.spans();
    let op = t.span(&format!("find {db_name}.{coll_name}"));
    op.assert_unset().assert_child_of(&t.span("request"));
    let mut attempts = children(&spans, &op);
    attempts.sort_by_key(|s| s.start_time);
    assert_eq!(attempts.len(), 2, "{}", otel_testkit::describe(&spans));
    attempts[0]
        .assert_error()
        .assert_attr(a::ERROR_TYPE, "Io")
        .assert_attr(a::DB_OPERATION_NAME, "find");
    attempts[1].assert_unset().assert_no_attr(a::ERROR_TYPE);
    // Both attempts are commands of their own connection.
    let conn = |s: &ExportedSpan| s.attr("db.mongodb.driver_connection_id").cloned();
    assert_ne!(conn(attempts[0]), conn(attempts[1]));
    // Server selection and the first attempt are inside the operation's time.
    assert!(op.start_time <= attempts[0].start_time && attempts[1].end_time <= op.end_time);
    // Recorded once per operation, not per attempt.
    assert_eq!(measurements(&t, "find"), 1);
    let points = t.histogram(METRIC);
    assert!(
        points.iter().all(|p| p.attr(a::ERROR_TYPE).is_none()),
        "{points:?}"
    );
}

/// The same retry without operation spans: two sibling command spans under the caller, two
/// measurements (what a command listener alone can see).
#[tokio::test]
async fn without_operation_spans_attempts_are_siblings() {
    let Cut {
        t,
        proxy: _proxy,
        coll_name,
        coll,
        ..
    } = through_cutting_proxy("retry_plain").await;
    // The driver's collection: no operation span.
    let coll: &Collection<Document> = &coll;
    let found = common::in_span(&t, "request", async {
        coll.find_one(doc! { "x": 1 }).await
    })
    .await;
    assert!(found.is_ok(), "retried: {found:?}");
    let request = t.span("request");
    let attempts = t.spans_named(&format!("find {coll_name}"));
    assert_eq!(attempts.len(), 2);
    for s in &attempts {
        s.assert_child_of(&request);
    }
    assert_eq!(measurements(&t, "find"), 2);
}

/// A write is not retried by the driver on a standalone server (FerretDB is one): the cut
/// connection fails the operation, whose span carries the driver error kind.
#[tokio::test]
async fn a_failed_write_is_the_operations_error() {
    let Cut {
        t,
        proxy,
        db_name,
        coll_name,
        coll,
    } = through_cutting_proxy("write_probe").await;
    let result = coll.insert_one(doc! { "x": 1 }).traced(&coll).await;
    assert!(result.is_err());
    assert_eq!(proxy.cut.load(std::sync::atomic::Ordering::SeqCst), 1);
    let op = t.span(&format!("insert {db_name}.{coll_name}"));
    op.assert_error()
        .assert_attr(a::ERROR_TYPE, "Io")
        .assert_exception();
    let spans = t.spans();
    let attempts = children(&spans, &op);
    assert_eq!(attempts.len(), 1, "{}", otel_testkit::describe(&spans));
    attempts[0].assert_error().assert_attr(a::ERROR_TYPE, "Io");
    let points = t.histogram(METRIC);
    let insert: Vec<_> = points
        .iter()
        .filter(|p| p.attr(a::DB_OPERATION_NAME).as_deref() == Some("insert"))
        .collect();
    assert_eq!(insert.len(), 1);
    assert_eq!(insert[0].count, 1);
    assert_eq!(insert[0].attr(a::ERROR_TYPE).as_deref(), Some("Io"));
    if let Ok(c) = Client::with_uri_str(env::mongodb_uri()).await {
        let _ = c.database(&db_name).drop().await;
    }
}

/// Server selection against a closed port times out before any command is sent: an operation
/// span with the error (`ServerSelection`, an exception, no driver text), no command span,
/// one measurement.
#[tokio::test]
async fn a_server_selection_timeout_is_an_operation_span_without_commands() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let mut options = ClientOptions::parse(format!("mongodb://127.0.0.1:{port}/"))
        .await
        .expect("parse");
    options.server_selection_timeout = Some(Duration::from_millis(300));
    options.connect_timeout = Some(Duration::from_millis(200));
    handler.install(&mut options);
    let client = Client::with_options(options).expect("client");
    let coll = TracedCollection::new(
        client.database("shop").collection::<Document>("orders"),
        &handler,
    );
    let result = common::in_span(&t, "request", async {
        coll.find_one(doc! { "x": 1 }).traced(&coll).await
    })
    .await;
    let err = result.expect_err("no server");
    assert!(
        matches!(*err.kind, mongodb::error::ErrorKind::ServerSelection { .. }),
        "{err}"
    );
    let op = t.span("find shop.orders");
    op.assert_child_of(&t.span("request"))
        .assert_error()
        .assert_attr(a::ERROR_TYPE, "ServerSelection")
        .assert_attr(a::DB_NAMESPACE, "shop")
        .assert_no_attr(a::SERVER_ADDRESS)
        .assert_exception();
    // The fixed form only: no driver text (it names the servers it tried).
    assert_eq!(op.status, Status::error(""));
    for e in op.events.iter() {
        assert!(
            e.attributes
                .iter()
                .all(|kv| kv.key.as_str() != a::EXCEPTION_MESSAGE),
            "{e:?}"
        );
    }
    let spans = t.spans();
    assert_eq!(spans.len(), 2, "{}", otel_testkit::describe(&spans));
    let points = t.histogram(METRIC);
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].count, 1);
    assert_eq!(
        points[0].attr(a::ERROR_TYPE).as_deref(),
        Some("ServerSelection")
    );
    assert_eq!(
        points[0].attr(a::DB_OPERATION_NAME).as_deref(),
        Some("find")
    );
}

/// A server error on the operation: the code (closed set), the code's name, no server text.
#[tokio::test]
async fn a_server_error_is_recorded_by_code_on_operation_and_command() {
    let f = common::fixture().await;
    let coll = TracedCollection::new(f.db.collection::<Document>("dups"), &f.handler);
    coll.insert_one(doc! { "_id": 1 })
        .traced(&coll)
        .await
        .expect("first");
    let dup = coll.insert_one(doc! { "_id": 1 }).traced(&coll).await;
    assert!(dup.is_err());
    let ops = f.t.spans_named(&format!("insert {}.dups", f.db_name));
    assert_eq!(ops.len(), 2);
    let failed = ops
        .iter()
        .find(|s| s.attr(a::ERROR_TYPE).is_some())
        .expect("failed op");
    failed
        .assert_error()
        .assert_attr(a::ERROR_TYPE, "11000")
        .assert_attr(a::DB_RESPONSE_STATUS_CODE, "11000")
        .assert_no_exception();
    assert_eq!(failed.status, Status::error("DuplicateKey"));
    let spans = f.t.spans();
    let commands = children(&spans, failed);
    assert_eq!(commands.len(), 1);
    commands[0].assert_attr(a::ERROR_TYPE, "11000");
    // One measurement per operation: 1 ok + 1 failed insert.
    assert_eq!(measurements(&f.t, "insert"), 2);
    f.cleanup().await;
}

/// A traced session of `f` in a transaction, after a traced insert into `txn` run in the
/// transaction's context (FerretDB fails it: no transactions).
async fn start_with_insert(f: &common::Fixture) -> TracedSession {
    let coll = TracedCollection::new(f.db.collection::<Document>("txn"), &f.handler);
    let mut session =
        TracedSession::new(f.client.start_session().await.expect("session"), &f.handler);
    session.start_transaction().await.expect("start");
    let txn = session.transaction_context();
    let _ = coll
        .insert_one(doc! { "x": 1 })
        .session(&mut session)
        .traced(&coll)
        .with_context(txn)
        .await;
    session
}

/// A transaction span over the operations run in its context, ended by the abort (FerretDB
/// rejects transactions: the insert fails, the driver swallows the abort's error as the
/// specification says).
#[tokio::test]
async fn a_transaction_span_parents_its_operations() {
    let f = common::fixture().await;
    f.in_span("request", async {
        let mut session = start_with_insert(&f).await;
        let _ = session.abort_transaction().await;
    })
    .await;
    let transaction = f.span("transaction");
    transaction
        .assert_child_of(&f.span("request"))
        .assert_attr(a::DB_SYSTEM_NAME, "mongodb");
    assert_eq!(transaction.attributes.len(), 1, "only db.system.name");
    let insert = f.span(&format!("insert {}.txn", f.db_name));
    insert.assert_child_of(&transaction);
    // The operation and its command share the name (`{operation} admin`, `{command} admin`).
    let spans = f.t.spans();
    let under_txn = children(&spans, &transaction);
    assert_eq!(under_txn.len(), 2, "{}", otel_testkit::describe(&spans));
    let abort = *under_txn
        .iter()
        .find(|s| s.name == "abortTransaction admin")
        .expect("abort operation");
    abort
        .assert_attr(a::DB_NAMESPACE, "admin")
        .assert_attr(a::DB_OPERATION_NAME, "abortTransaction")
        .assert_no_attr(a::DB_COLLECTION_NAME)
        // The driver ignores the abort's error (FerretDB: CommandNotFound) ...
        .assert_unset();
    // ... which its command span shows.
    let abort_commands = children(&spans, abort);
    assert_eq!(abort_commands.len(), 1);
    abort_commands[0]
        .assert_attr(a::ERROR_TYPE, "59")
        .assert_attr("db.mongodb.txn_number", 1_i64);
    // The insert's command carries the session and transaction number.
    let insert_commands = children(&spans, &insert);
    assert_eq!(insert_commands.len(), 1);
    insert_commands[0].assert_attr("db.mongodb.txn_number", 1_i64);
    assert!(abort.end_time <= transaction.end_time);
    // No measurement for the transaction span itself.
    assert_eq!(measurements(&f.t, "transaction"), 0);
    f.cleanup().await;
}

#[tokio::test]
async fn a_disabled_handler_or_a_filtered_operation_records_no_operation_span() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .filter(|op: &otel_rpc::DbOperation| {
            op.operation.as_ref().is_none_or(|o| o.as_str() != "count")
        })
        .build();
    let f = common::fixture_with(t, handler).await;
    let coll = TracedCollection::new(f.db.collection::<Document>("c"), &f.handler);
    let n = coll
        .estimated_document_count()
        .traced(&coll)
        .await
        .expect("count");
    assert_eq!(n, 0);
    assert!(
        f.t.spans().is_empty(),
        "{}",
        otel_testkit::describe(&f.t.spans())
    );

    use otel_mongo::InstrumentationOptions as _;
    let t = TestTelemetry::new();
    let off = common::builder(&t).enabled(false).build();
    let coll = TracedCollection::new(f.db.collection::<Document>("c"), &off);
    coll.find_one(doc! {}).traced(&coll).await.expect("find");
    assert!(t.spans().is_empty());
    assert!(t.histogram(METRIC).is_empty());
    f.cleanup().await;
}

/// An operation dropped before it completes ends as `cancelled`.
#[tokio::test]
async fn a_dropped_operation_ends_cancelled() {
    let f = common::fixture().await;
    let coll = TracedCollection::new(f.db.collection::<Document>("slow"), &f.handler);
    let slow = coll
        .find_one(doc! { "$where": "sleep(2000) || true" })
        .traced(&coll);
    let _ = tokio::time::timeout(Duration::from_millis(1), slow).await;
    let op = f.span(&format!("find {}.slow", f.db_name));
    op.assert_error().assert_attr(a::ERROR_TYPE, "cancelled");
    f.cleanup().await;
}

/// In every planted value; must never be exported.
const MARK: &str = "pl4ntedS3cret";

/// Hostile input through traced calls: a planted secret in the collection and database names
/// (value-shaped, so left out), filter values and value-shaped keys (keys of a name's shape are
/// the application's schema and kept, see the README), pipeline stages, a command name, a
/// duplicate key the server quotes in its error, an operator the server names in its error.
/// Every exported span (operations and commands), event and metric point is scanned.
#[tokio::test]
async fn hostile_input_never_reaches_operation_spans() {
    let f = common::fixture().await;
    let secret = |field: &str| format!("{MARK}-{field}");
    let good = TracedCollection::new(f.db.collection::<Document>("hostile"), &f.handler);
    let spaced = TracedCollection::new(
        f.db.collection::<Document>(&format!("a b {}", secret("coll"))),
        &f.handler,
    );
    let bad_db = TracedDatabase::new(
        f.client.database(&format!("d;{}", secret("db"))),
        &f.handler,
    );
    let bad_db_coll = bad_db.collection::<Document>("c");
    let db = TracedDatabase::new(f.db.clone(), &f.handler);

    let mut failed = 0;
    let mut count = |r: bool| failed += usize::from(!r);
    count(
        good.insert_one(doc! { "_id": secret("dup") })
            .traced(&good)
            .await
            .is_ok(),
    );
    count(
        good.insert_one(doc! { "_id": secret("dup") })
            .traced(&good)
            .await
            .is_ok(),
    );
    count(
        good.find_one(doc! { "k": secret("value"), format!("k {}", secret("key")): 1 })
            .traced(&good)
            .await
            .is_ok(),
    );
    count(
        good.find_one(doc! { "a": { format!("$x {}", secret("op")): 1 } })
            .traced(&good)
            .await
            .is_ok(),
    );
    count(
        good.aggregate([doc! { "$match": { "x": secret("stage") } }])
            .traced(&good)
            .await
            .is_ok(),
    );
    count(
        good.update_one(
            doc! { "_id": secret("u") },
            doc! { "$set": { "v": secret("set") } },
        )
        .traced(&good)
        .await
        .is_ok(),
    );
    count(spaced.find_one(doc! {}).traced(&spaced).await.is_ok());
    count(
        spaced
            .insert_one(doc! { "x": 1 })
            .traced(&spaced)
            .await
            .is_ok(),
    );
    count(
        bad_db_coll
            .find_one(doc! {})
            .traced(&bad_db_coll)
            .await
            .is_ok(),
    );
    count(
        bad_db
            .run_command(doc! { "ping": 1 })
            .traced(&bad_db)
            .await
            .is_ok(),
    );
    count(
        db.run_command(doc! { secret("cmd"): 1 })
            .traced(&db)
            .await
            .is_ok(),
    );
    count(
        db.run_command(doc! { "find": secret("runcmd coll"), "filter": { "a": secret("f") } })
            .traced(&db)
            .await
            .is_ok(),
    );
    assert!(failed >= 3, "only {failed} hostile calls failed");

    let spans = f.t.spans();
    let operations = spans
        .iter()
        .filter(|s| s.attr(a::DB_OPERATION_NAME).is_some() && children(&spans, s).len() == 1)
        .count();
    assert!(operations >= 12, "{}", otel_testkit::describe(&spans));
    let errors = spans
        .iter()
        .filter(|s| s.attr(a::ERROR_TYPE).is_some())
        .count();
    assert!(errors >= 6, "{errors} failed spans");
    assert!(!f.t.histogram(METRIC).is_empty());
    let leaks = f.t.leaks(MARK);
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    // The value-shaped names are left out of name and attributes alike.
    f.span(&format!("find {}", f.db_name))
        .assert_no_attr(a::DB_COLLECTION_NAME)
        .assert_attr(a::DB_QUERY_SUMMARY, format!("find {}", f.db_name));
    f.span("runCommand").assert_no_attr(a::DB_NAMESPACE);
    f.cleanup().await;
}

/// Connection check-out happens inside the operation: the pool's check-out events (seen by
/// the application's own pool handler, which `install` keeps) fall between the operation
/// span's start and its first command.
#[tokio::test]
async fn connection_checkout_is_inside_the_operation() {
    use mongodb::event::EventHandler;
    use mongodb::event::cmap::CmapEvent;
    use std::sync::{Arc, Mutex};
    use std::time::SystemTime;

    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let seen: Arc<Mutex<Vec<(&'static str, SystemTime)>>> = Arc::default();
    let mut options = ClientOptions::parse(env::mongodb_uri())
        .await
        .expect("parse");
    let log = Arc::clone(&seen);
    options.cmap_event_handler = Some(EventHandler::callback(move |ev: CmapEvent| {
        let name = match ev {
            CmapEvent::ConnectionCheckoutStarted(_) => "checkout started",
            CmapEvent::ConnectionCheckedOut(_) => "checked out",
            _ => return,
        };
        log.lock().expect("log").push((name, SystemTime::now()));
    }));
    handler.install(&mut options);
    let client = Client::with_options(options).expect("client");
    let db_name = env::unique_name("otel_mongo");
    let coll = TracedCollection::new(
        client.database(&db_name).collection::<Document>("c"),
        &handler,
    );
    coll.find_one(doc! {}).traced(&coll).await.expect("find");
    let op = t.span(&format!("find {db_name}.c"));
    let spans = t.spans();
    let command = children(&spans, &op)[0].clone();
    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["checkout started", "checked out"]
    );
    for (name, at) in &seen {
        assert!(
            op.start_time <= *at && *at <= command.start_time,
            "{name} outside the operation's time before its command"
        );
    }
}

/// Commit: the `commitTransaction admin` operation under the `transaction` span, which ends
/// with the commit's outcome (FerretDB rejects the transaction, so both are errors).
#[tokio::test]
async fn a_commit_ends_the_transaction_span_with_its_outcome() {
    let f = common::fixture().await;
    let mut session = start_with_insert(&f).await;
    let commit = session.commit_transaction().await;
    assert!(commit.is_err(), "FerretDB has no transactions");
    let transaction = f.span("transaction");
    transaction.assert_error();
    let spans = f.t.spans();
    let under = children(&spans, &transaction);
    let commit_op = under
        .iter()
        .find(|s| s.name == "commitTransaction admin")
        .expect("commit operation");
    commit_op
        .assert_error()
        .assert_attr(a::DB_OPERATION_NAME, "commitTransaction")
        .assert_attr(a::DB_NAMESPACE, "admin");
    assert_eq!(
        commit_op.attr(a::ERROR_TYPE),
        transaction.attr(a::ERROR_TYPE),
        "the transaction ends with the commit's outcome"
    );
    assert!(commit_op.end_time <= transaction.end_time);
    f.cleanup().await;
}
