//! The command-span attributes of the MongoDB drivers' OpenTelemetry specification, on
//! FerretDB: transport, connection ids, session, transaction number, cursor id; the summary of
//! commands that work on no collection; unlisted command names; the application's own
//! `abortTransaction`. Span only: none of them reaches the duration metric.

use crate::common;

use mongodb::bson::{Document, doc};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::{SpanAssert, describe};

const SERVER_CONNECTION_ID: &str = "db.mongodb.server_connection_id";
const DRIVER_CONNECTION_ID: &str = "db.mongodb.driver_connection_id";
const LSID: &str = "db.mongodb.lsid";
const TXN_NUMBER: &str = "db.mongodb.txn_number";
const CURSOR_ID: &str = "db.mongodb.cursor_id";
const DETAIL_KEYS: [&str; 6] = [
    a::NETWORK_TRANSPORT,
    SERVER_CONNECTION_ID,
    DRIVER_CONNECTION_ID,
    LSID,
    TXN_NUMBER,
    CURSOR_ID,
];

fn int(span: &SpanData, key: &str) -> i64 {
    match span.attr(key) {
        Some(Value::I64(n)) => *n,
        other => panic!("{key} of {:?} is {other:?}, not an int", span.name),
    }
}

fn string(span: &SpanData, key: &str) -> String {
    match span.attr(key) {
        Some(Value::String(s)) => s.to_string(),
        other => panic!("{key} of {:?} is {other:?}, not a string", span.name),
    }
}

/// Lower-case hyphenated UUID, `8-4-4-4-12`.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// No detail key on any point of the duration metric.
fn assert_metric_has_no_details(f: &common::Fixture) {
    let points = f.t.histogram("db.client.operation.duration");
    assert!(!points.is_empty());
    for p in &points {
        for key in DETAIL_KEYS {
            assert_eq!(p.attr(key), None, "{key} on the metric");
        }
    }
}

#[tokio::test]
async fn connection_and_session_of_every_command() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("orders");
    f.in_span("caller", async {
        coll.insert_one(doc! { "x": 1 }).await.expect("insert");
        coll.find_one(doc! {}).await.expect("find");
    })
    .await;
    let insert = f.span("insert orders");
    let find = f.span("find orders");
    for span in [&insert, &find] {
        span.assert_attr(a::NETWORK_TRANSPORT, "tcp");
        assert!(int(span, DRIVER_CONNECTION_ID) >= 1);
        // FerretDB's hello answers a `connectionId`.
        assert!(int(span, SERVER_CONNECTION_ID) >= 1);
        // FerretDB's hello advertises `logicalSessionTimeoutMinutes`: every command carries
        // the implicit session's `lsid`.
        let lsid = string(span, LSID);
        assert!(is_uuid(&lsid), "{lsid:?}");
        span.assert_no_attr(TXN_NUMBER);
    }
    // One connection, one implicit session per operation.
    assert_eq!(
        int(&insert, DRIVER_CONNECTION_ID),
        int(&find, DRIVER_CONNECTION_ID)
    );
    assert_eq!(
        int(&insert, SERVER_CONNECTION_ID),
        int(&find, SERVER_CONNECTION_ID)
    );
    assert_metric_has_no_details(&f);
    f.cleanup().await;
}

#[tokio::test]
async fn an_explicit_session_is_one_lsid() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("s");
    let mut session = f.client.start_session().await.expect("session");
    f.in_span("caller", async {
        coll.insert_one(doc! { "x": 1 })
            .session(&mut session)
            .await
            .expect("insert");
        coll.find_one(doc! {})
            .session(&mut session)
            .await
            .expect("find");
    })
    .await;
    let lsids = [
        string(&f.span("insert s"), LSID),
        string(&f.span("find s"), LSID),
    ];
    assert_eq!(lsids[0], lsids[1]);
    let id = session.id().get_binary_generic("id").map(|_| ());
    assert!(id.is_err(), "the driver's lsid is a UUID, subtype 4");
    f.cleanup().await;
}

/// `find` with a batch smaller than the result: its reply opens a cursor (recorded on the
/// `find` span), each `getMore` names it, and `killCursors` too.
#[tokio::test]
async fn cursor_id_from_the_reply_then_from_the_commands() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("many");
    let docs: Vec<Document> = (0..10).map(|i| doc! { "i": i }).collect();
    coll.insert_many(docs).await.expect("seed");
    f.t.reset();
    let cursor_id = f
        .in_span("caller", async {
            let mut cursor = coll.find(doc! {}).batch_size(3).await.expect("find");
            for _ in 0..4 {
                assert!(cursor.advance().await.expect("advance"));
            }
            // Kill it ourselves (the driver's own kill on drop is a background command).
            let reply =
                f.db.run_command(doc! { "find": "many", "batchSize": 2 })
                    .await
                    .expect("find");
            let id = reply
                .get_document("cursor")
                .and_then(|c| c.get_i64("id"))
                .expect("cursor.id");
            f.db.run_command(doc! { "killCursors": "many", "cursors": [id] })
                .await
                .expect("killCursors");
            id
        })
        .await;
    let spans = f.t.spans();
    let finds = f.t.spans_named("find many");
    assert_eq!(finds.len(), 2, "{}", describe(&spans));
    let first = int(&finds[0], CURSOR_ID);
    assert_ne!(first, 0);
    let get_more = f.span("getMore many");
    assert_eq!(
        int(&get_more, CURSOR_ID),
        first,
        "getMore names the find's cursor"
    );
    assert_eq!(int(&finds[1], CURSOR_ID), cursor_id);
    assert_eq!(int(&f.span("killCursors many"), CURSOR_ID), cursor_id);
    // A command that opens no cursor has none.
    let mut exhausted = coll.find(doc! { "i": 1 }).await.expect("find one");
    assert!(exhausted.advance().await.expect("advance"));
    let last = f.t.spans_named("find many").pop().expect("third find");
    last.assert_no_attr(CURSOR_ID);
    assert_metric_has_no_details(&f);
    f.cleanup().await;
}

#[tokio::test]
async fn txn_number_from_the_command() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("t");
    let mut session = f.client.start_session().await.expect("session");
    session
        .start_transaction()
        .await
        .expect("start transaction");
    let result = f
        .in_span("caller", async {
            coll.insert_one(doc! { "x": 1 }).session(&mut session).await
        })
        .await;
    let spans = f.t.spans();
    let insert = f.span("insert t");
    assert!(
        int(&insert, TXN_NUMBER) >= 1,
        "{result:?} {}",
        describe(&spans)
    );
    let _ = session.abort_transaction().await;
    f.cleanup().await;
}

/// Commands that work on no collection are summarised with the database they run against
/// (`listDatabases admin`, as the drivers' specification writes it).
#[tokio::test]
async fn summaries_of_database_and_admin_commands() {
    let f = common::fixture().await;
    f.db.collection::<Document>("c")
        .insert_one(doc! { "x": 1 })
        .await
        .expect("insert");
    f.in_span("caller", async {
        f.client.list_database_names().await.expect("listDatabases");
        f.db.list_collection_names().await.expect("listCollections");
        f.db.run_command(doc! { "ping": 1 }).await.expect("ping");
        // A database-level aggregate (FerretDB may refuse it: the summary is ours).
        let _ =
            f.db.run_command(doc! { "aggregate": 1, "pipeline": [], "cursor": {} })
                .await;
    })
    .await;
    let spans = f.t.spans();
    let aggregate = format!("aggregate {}", f.db_name);
    f.span(&aggregate)
        .assert_attr(a::DB_QUERY_SUMMARY, aggregate.clone())
        .assert_no_attr(a::DB_COLLECTION_NAME);
    let list_dbs = f.span("listDatabases admin");
    list_dbs
        .assert_attr(a::DB_QUERY_SUMMARY, "listDatabases admin")
        .assert_attr(a::DB_NAMESPACE, "admin")
        .assert_attr(a::DB_OPERATION_NAME, "listDatabases")
        .assert_no_attr(a::DB_COLLECTION_NAME);
    let list_colls = format!("listCollections {}", f.db_name);
    f.span(&list_colls)
        .assert_attr(a::DB_QUERY_SUMMARY, list_colls.clone())
        .assert_no_attr(a::DB_COLLECTION_NAME);
    let ping = format!("ping {}", f.db_name);
    assert_eq!(f.t.spans_named(&ping).len(), 1, "{}", describe(&spans));
    f.cleanup().await;
}

/// `commitTransaction` / `abortTransaction` run against `admin`; the application's own abort,
/// with no span current, is recorded (only `killCursors` and `endSessions` are background
/// commands).
#[tokio::test]
async fn transaction_commands_and_an_untraced_abort() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("t");
    coll.insert_one(doc! { "seed": 1 }).await.expect("create");
    let mut session = f.client.start_session().await.expect("session");
    session.start_transaction().await.expect("start");
    let _ = coll.insert_one(doc! { "x": 1 }).session(&mut session).await;
    let _ = session.commit_transaction().await;
    session.start_transaction().await.expect("start again");
    let _ = coll.insert_one(doc! { "x": 2 }).session(&mut session).await;
    // No span is current here.
    let _ = session.abort_transaction().await;
    let spans = f.t.spans();
    let commit = f.span("commitTransaction admin");
    commit
        .assert_attr(a::DB_NAMESPACE, "admin")
        .assert_attr(a::DB_QUERY_SUMMARY, "commitTransaction admin");
    let abort = f.span("abortTransaction admin");
    assert_eq!(abort.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    let lsid = string(&commit, LSID);
    assert_eq!(string(&abort, LSID), lsid, "{}", describe(&spans));
    let inserts = f.t.spans_named("insert t");
    assert_eq!(int(&commit, TXN_NUMBER), int(&inserts[1], TXN_NUMBER));
    assert_eq!(int(&abort, TXN_NUMBER), int(&inserts[2], TXN_NUMBER));
    assert!(int(&abort, TXN_NUMBER) > int(&commit, TXN_NUMBER));
    f.cleanup().await;
}

/// A command outside the known table is recorded by name on the span (it is a key the
/// application sent); a name that is not an identifier stays `_OTHER`. On the metric every
/// unlisted name is `_OTHER` with no summary: a closed set.
#[tokio::test]
async fn unlisted_command_names_on_spans_other_on_the_metric() {
    let f = common::fixture().await;
    let admin = f.client.database("admin");
    f.in_span("caller", async {
        for name in ["connPoolStats", "top", "shardingState", "my cmd"] {
            // FerretDB answers some of these with CommandNotFound: the name is still ours.
            let _ = admin.run_command(doc! { name: 1 }).await;
        }
    })
    .await;
    let spans = f.t.spans();
    for name in ["connPoolStats", "top", "shardingState"] {
        let span = f.span(&format!("{name} admin"));
        span.assert_attr(a::DB_OPERATION_NAME, name)
            .assert_attr(a::DB_QUERY_SUMMARY, format!("{name} admin"))
            .assert_attr(a::DB_QUERY_TEXT, format!(r#"{{"{name}": ?}}"#));
    }
    let other = f.span("_OTHER admin");
    other
        .assert_attr(a::DB_OPERATION_NAME, "_OTHER")
        .assert_no_attr(a::DB_QUERY_SUMMARY);
    assert!(!other.all_text().contains("my cmd"), "{}", describe(&spans));
    let points = f.t.histogram("db.client.operation.duration");
    assert!(!points.is_empty());
    for p in &points {
        assert_eq!(p.attr(a::DB_OPERATION_NAME).as_deref(), Some("_OTHER"));
        assert_eq!(p.attr(a::DB_QUERY_SUMMARY), None);
    }
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert_eq!(total, 4);
    f.cleanup().await;
}
