//! Hostile input against FerretDB: a planted secret in every field a client controls
//! (collection and database names, command names, `eval` code, user names, filter values and
//! keys, values the server quotes back in its error messages). In the default configuration
//! none of it reaches a span name, attribute, event, status description or metric attribute.

use crate::common;

use mongodb::bson::{Document, doc};
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::SpanAssert;

/// In every planted value; must never be exported.
const MARK: &str = "pl4ntedS3cret";

/// One hostile operation: a label and the command run against `db` (a raw command keeps
/// the driver from validating what the test wants to send).
struct Case {
    label: &'static str,
    db: String,
    command: Document,
}

fn case(label: &'static str, db: &str, command: Document) -> Case {
    Case {
        label,
        db: db.to_string(),
        command,
    }
}

fn planted(field: &str) -> String {
    format!("{MARK}-{field}")
}

fn cases(db: &str) -> Vec<Case> {
    let long_name = format!("{}{}", planted("long"), "x".repeat(1 << 20));
    let mut out = vec![
        // Collection names of value shape.
        case(
            "collection with spaces",
            db,
            doc! { "insert": format!("a b {}", planted("space")), "documents": [{ "x": 1 }] },
        ),
        case(
            "collection with quotes",
            db,
            doc! { "find": format!("q'\"`{}", planted("quote")), "filter": {} },
        ),
        case(
            "collection with a semicolon",
            db,
            doc! { "find": format!("c;{}", planted("semi")) },
        ),
        case(
            "collection of 1 MiB",
            db,
            doc! { "find": long_name.as_str() },
        ),
        case(
            "getMore collection",
            db,
            doc! { "getMore": 1_i64, "collection": format!("g m {}", planted("getmore")) },
        ),
        // First values that are not collections.
        case(
            "eval code",
            db,
            doc! { "eval": format!("function() {{ return '{}' }}", planted("eval")) },
        ),
        case(
            "usersInfo user",
            db,
            doc! { "usersInfo": planted("usersinfo") },
        ),
        case(
            "dropUser user",
            db,
            doc! { "dropUser": planted("dropuser") },
        ),
        case(
            "grantRolesToUser user",
            db,
            doc! { "grantRolesToUser": planted("grant"), "roles": ["read"] },
        ),
        case(
            "createUser password",
            db,
            doc! { "createUser": planted("createuser"), "pwd": planted("pwd"), "roles": [] },
        ),
        case(
            "renameCollection source",
            "admin",
            doc! { "renameCollection": format!("{db}.{}", planted("rename")), "to": format!("{db}.b") },
        ),
        case(
            "aggregate 1",
            db,
            doc! { "aggregate": 1, "pipeline": [{ "$documents": [{ "v": planted("documents") }] }], "cursor": {} },
        ),
        // Command names chosen by the client.
        case("unknown command", db, doc! { planted("command"): 1 }),
        case(
            "unknown command with spaces",
            db,
            doc! { format!("my cmd {}", planted("cmdspace")): planted("cmdvalue") },
        ),
        // Values and value-shaped keys.
        case(
            "filter values",
            db,
            doc! { "find": "users", "filter": { "name": planted("filter"), "n": { "$in": [planted("in")] } } },
        ),
        case(
            "value-shaped keys",
            db,
            doc! { "find": "users", "filter": { format!("k {}", planted("key")): 1 } },
        ),
        case(
            "update values",
            db,
            doc! { "update": "users", "updates": [{ "q": { "_id": planted("q") }, "u": { "$set": { "v": planted("set") } } }] },
        ),
        case(
            "index name",
            db,
            doc! { "createIndexes": "users", "indexes": [{ "key": { "n": 1 }, "name": planted("index") }] },
        ),
        case(
            "distinct key",
            db,
            doc! { "distinct": "users", "key": planted("distinct") },
        ),
        case(
            "comment",
            db,
            doc! { "find": "users", "comment": planted("comment") },
        ),
        // Session, transaction and cursor fields of the wrong type or shape (the command
        // details are recorded only as integers or a UUID built from 16 bytes).
        case(
            "string txnNumber",
            db,
            doc! { "find": "users", "txnNumber": planted("txn") },
        ),
        case(
            "string lsid",
            db,
            doc! { "find": "users", "lsid": { "id": planted("lsid") } },
        ),
        case(
            "string getMore cursor",
            db,
            doc! { "getMore": planted("cursor"), "collection": "users" },
        ),
        case(
            "string killCursors cursor",
            db,
            doc! { "killCursors": "users", "cursors": [planted("kill")] },
        ),
        // Values the server quotes in error messages.
        case(
            "duplicate key",
            db,
            doc! { "insert": "dups", "documents": [{ "_id": planted("dup") }, { "_id": planted("dup") }] },
        ),
        case(
            "non-numeric $inc",
            db,
            doc! { "update": "typed", "updates": [{ "q": { "_id": planted("inc-id") }, "u": { "$inc": { "s": 1 } } }] },
        ),
        case(
            "immutable _id",
            db,
            doc! { "update": "typed", "updates": [{ "q": { "_id": planted("inc-id") }, "u": { "$set": { "_id": planted("immutable") } } }] },
        ),
        case(
            "unknown operator",
            db,
            doc! { "find": "users", "filter": { "$where2": planted("operator") } },
        ),
        case(
            "bad collection type",
            db,
            doc! { "find": 1, "filter": { "x": planted("badtype") } },
        ),
    ];
    // Database names of value shape.
    for (label, name) in [
        (
            "database with spaces",
            format!("d b {}", planted("dbspace")),
        ),
        ("database with quotes", format!("d'{}", planted("dbquote"))),
        (
            "database of 300 bytes",
            format!("{}{}", planted("dblong"), "d".repeat(300)),
        ),
    ] {
        out.push(case(label, &name, doc! { "find": "users", "filter": {} }));
    }
    out
}

#[tokio::test]
async fn no_planted_secret_reaches_telemetry() {
    let f = common::fixture().await;
    // A document whose field the `$inc` case trips over.
    f.db.collection::<Document>("typed")
        .insert_one(doc! { "_id": planted("inc-id"), "s": planted("stored") })
        .await
        .expect("seed");
    let cases = cases(&f.db_name);
    let mut failed = 0;
    f.in_span("caller", async {
        for c in &cases {
            let result = f
                .client
                .database(&c.db)
                .run_command(c.command.clone())
                .await;
            if let Err(e) = result {
                failed += 1;
                println!("{}: server error {}", c.label, e.kind);
            }
        }
    })
    .await;

    // Not vacuous: every case made a span (the driver rejects nothing here) and a point.
    let spans = f.command_spans();
    assert!(
        spans.len() > cases.len(),
        "{} spans for {} cases",
        spans.len(),
        cases.len()
    );
    assert!(failed >= 8, "only {failed} cases failed on the server");
    let errors = spans
        .iter()
        .filter(|s| s.attr(a::ERROR_TYPE).is_some())
        .count();
    assert!(errors >= 8, "{errors} failed spans");
    let points = f.t.histogram("db.client.operation.duration");
    assert!(!points.is_empty());

    let leaks = f.t.leaks(MARK);
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );

    // What is recorded instead: closed sets and names that passed the shape check.
    for s in &spans {
        if let Some(op) = s.attr(a::DB_OPERATION_NAME) {
            let op = op.to_string();
            assert!(
                op == "_OTHER" || op.bytes().all(|b| b.is_ascii_alphabetic()),
                "{op}"
            );
        }
        if let Some(c) = s.attr(a::DB_COLLECTION_NAME) {
            let c = c.to_string();
            assert!(c.len() <= 255 && !c.contains(' '), "{c}");
        }
    }
    let unknown = f.t.spans_named(&format!("_OTHER {}", f.db_name));
    assert_eq!(unknown.len(), 2, "both unknown commands are _OTHER");
    let dup = spans
        .iter()
        .find(|s| s.attr(a::ERROR_TYPE).map(|v| v.to_string()).as_deref() == Some("11000"))
        .expect("duplicate key failure");
    dup.assert_attr(a::DB_RESPONSE_STATUS_CODE, "11000");
    f.cleanup().await;
}

#[tokio::test]
async fn hostile_names_are_omitted_from_span_and_metric() {
    let f = common::fixture().await;
    let name = format!("a b {}", planted("omitted"));
    let _ = f.db.collection::<Document>(&name).find_one(doc! {}).await;
    let span = f.span("find");
    span.assert_no_attr(a::DB_COLLECTION_NAME)
        .assert_attr(a::DB_QUERY_SUMMARY, "find")
        .assert_attr(a::DB_OPERATION_NAME, "find");
    let text = span.attr(a::DB_QUERY_TEXT).map(|v| v.to_string());
    assert!(
        text.as_deref()
            .is_some_and(|t| t.starts_with(r#"{"find": ?, "#)),
        "{text:?}"
    );
    let points = f.t.histogram("db.client.operation.duration");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].attr(a::DB_COLLECTION_NAME), None);
    assert_eq!(points[0].attr(a::DB_QUERY_SUMMARY).as_deref(), Some("find"));
    f.cleanup().await;
}

/// Names at the limit: a 255-byte collection name is a name, a 256-byte one is omitted; the
/// summary stays within 255 bytes on span and metric alike.
#[tokio::test]
async fn names_are_capped_at_255_bytes() {
    let f = common::fixture().await;
    let at_limit = "c".repeat(255);
    let over = "d".repeat(256);
    for name in [&at_limit, &over] {
        let _ =
            f.db.run_command(doc! { "find": name.as_str(), "filter": {} })
                .await;
    }
    let spans: Vec<_> =
        f.t.spans()
            .into_iter()
            .filter(|s| s.attr(a::DB_OPERATION_NAME).is_some())
            .collect();
    assert_eq!(spans.len(), 2);
    // The summary is never cut inside its target: a target that does not fit is left out.
    spans[0]
        .assert_attr(a::DB_COLLECTION_NAME, at_limit.clone())
        .assert_attr(a::DB_QUERY_SUMMARY, "find");
    spans[1]
        .assert_no_attr(a::DB_COLLECTION_NAME)
        .assert_attr(a::DB_QUERY_SUMMARY, "find");
    let fits = "e".repeat(250);
    let _ =
        f.db.run_command(doc! { "find": fits.as_str(), "filter": {} })
            .await;
    f.t.span(&format!("find {fits}"))
        .assert_attr(a::DB_QUERY_SUMMARY, format!("find {fits}"));
    for s in &spans {
        let summary = s.attr(a::DB_QUERY_SUMMARY).map(|v| v.to_string());
        let summary = summary.expect("summary");
        assert!(summary.len() <= 255, "{} bytes", summary.len());
        assert!(s.name.len() <= 255, "span name {} bytes", s.name.len());
    }
    for p in f.t.histogram("db.client.operation.duration") {
        for kv in &p.attributes {
            assert!(kv.value.to_string().len() <= 255, "{}", kv.key);
        }
    }
    f.cleanup().await;
}
