//! SQLite: CRUD, the `query!` macro family, `describe`, constraint errors and transactions.

use crate::common;

use std::path::PathBuf;

use common::*;
use futures_util::TryStreamExt;
use opentelemetry::context::FutureExt;
use otel_sqlx::TracedPool;
use otel_testkit::env::unique_name;
use otel_testkit::{SpanAssert, TestTelemetry};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Executor, SqlSafeStr, Sqlite};

struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

async fn pool(t: &TestTelemetry) -> (TracedPool<Sqlite>, TempDb, String) {
    let file = format!("{}.db", unique_name("otel_sqlx"));
    let path = std::env::temp_dir().join(&file);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("open SQLite");
    (traced(t, pool), TempDb(path), file)
}

#[tokio::test]
async fn crud_constraints_and_transactions() {
    let t = TestTelemetry::new();
    let (pool, _guard, file) = pool(&t).await;
    let cx = parent(&t, "parent");
    async {
        sqlx::query("CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE)")
            .execute(&pool)
            .await
            .expect("create");
        sqlx::query("INSERT INTO items (id, sku) VALUES (?1, ?2), (2, 'sku-secret')")
            .bind(1i64)
            .bind("first-secret")
            .execute(&pool)
            .await
            .expect("insert");
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, sku FROM items ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("select");
        assert_eq!(rows.len(), 2);
        let sku: String = sqlx::query_scalar("SELECT sku FROM items WHERE id = $1")
            .bind(2i64)
            .fetch_one(&pool)
            .await
            .expect("fetch_one");
        assert_eq!(sku, "sku-secret");
        {
            let mut s = sqlx::query("SELECT id FROM items").fetch(&pool);
            s.try_next().await.expect("row").expect("some");
        }
        sqlx::query("UPDATE items SET sku = 'new-secret' WHERE id = ?")
            .bind(1i64)
            .execute(&pool)
            .await
            .expect("update");
        let unique = sqlx::query("INSERT INTO items (id, sku) VALUES (3, 'sku-secret')")
            .execute(&pool)
            .await;
        assert!(unique.is_err());
        let pk = sqlx::query("INSERT INTO items (id, sku) VALUES (1, 'other-secret')")
            .execute(&pool)
            .await;
        assert!(pk.is_err());

        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("DELETE FROM items WHERE id = 2")
            .execute(&mut *tx)
            .await
            .expect("delete");
        {
            let sp = tx.begin().await.expect("savepoint");
            drop(sp);
        }
        tx.commit().await.expect("commit");
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM items")
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(count, 1);
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");

    for s in t.spans() {
        if s.name != "parent" {
            assert_common(&s, "sqlite", &file, None);
            s.assert_child_of(&p);
        }
        assert!(!s.all_text().contains("secret"), "leak: {}", s.all_text());
    }
    let insert = span_with_text(&t, "INSERT INTO items (id, sku) VALUES (?1, ?2), (?, ?)");
    assert_query(
        &insert,
        &p,
        "INSERT",
        Some("items"),
        "INSERT items",
        0,
        Some(2),
    );
    let all = span_with_text(&t, "SELECT id, sku FROM items ORDER BY id");
    assert_query(&all, &p, "SELECT", Some("items"), "SELECT items", 2, None);
    let one = span_with_text(&t, "SELECT sku FROM items WHERE id = $1");
    assert_query(&one, &p, "SELECT", Some("items"), "SELECT items", 1, None);
    let early = span_with_text(&t, "SELECT id FROM items");
    assert_query(&early, &p, "SELECT", Some("items"), "SELECT items", 1, None);
    let update = span_with_text(&t, "UPDATE items SET sku = ? WHERE id = ?");
    assert_query(
        &update,
        &p,
        "UPDATE",
        Some("items"),
        "UPDATE items",
        0,
        Some(1),
    );
    let delete = span_with_text(&t, "DELETE FROM items WHERE id = ?");
    assert_query(
        &delete,
        &p,
        "DELETE",
        Some("items"),
        "DELETE items",
        0,
        Some(1),
    );

    let failed: Vec<_> = t
        .spans_named("INSERT items")
        .into_iter()
        .filter(|s| s.attr("error.type").is_some())
        .collect();
    assert_eq!(failed.len(), 2);
    let mut codes: Vec<String> = failed
        .iter()
        .map(|s| {
            s.attr("error.type")
                .map(|v| v.to_string())
                .unwrap_or_default()
        })
        .collect();
    codes.sort();
    assert_eq!(codes, vec!["1555".to_string(), "2067".to_string()]);
    for f in &failed {
        let code = f
            .attr("error.type")
            .map(|v| v.to_string())
            .unwrap_or_default();
        assert_failed(f, &p, &code);
    }

    t.span("BEGIN").assert_unset();
    t.span("SAVEPOINT").assert_unset();
    t.span("ROLLBACK TO SAVEPOINT")
        .assert_attr(otel_sqlx::DB_TRANSACTION_DROPPED, true)
        .assert_unset();
    t.span("COMMIT").assert_unset();
}

#[derive(Debug)]
struct Note {
    id: i64,
    body: String,
}

/// The `query!` family, type-checked at compile time against tests/fixtures/macros_schema.db
/// (see build.rs), run against a fresh database through the traced pool.
#[tokio::test]
async fn query_macros_work_unchanged() {
    let t = TestTelemetry::new();
    let (pool, _guard, _file) = pool(&t).await;
    sqlx::raw_sql(include_str!("../fixtures/macros_schema.sql"))
        .execute(&pool)
        .await
        .expect("schema");
    t.reset();
    let cx = parent(&t, "parent");
    async {
        let done = sqlx::query!(
            "INSERT INTO notes (id, body) VALUES (?1, ?2)",
            1i64,
            "hello"
        )
        .execute(&pool)
        .await
        .expect("query!");
        assert_eq!(done.rows_affected(), 1);
        let note = sqlx::query_as!(Note, "SELECT id, body FROM notes WHERE id = ?1", 1i64)
            .fetch_one(&pool)
            .await
            .expect("query_as!");
        assert_eq!((note.id, note.body.as_str()), (1, "hello"));
        let n = sqlx::query_scalar!("SELECT count(*) AS n FROM notes")
            .fetch_one(&pool)
            .await
            .expect("query_scalar!");
        assert_eq!(n, 1);
        let row = sqlx::query!("SELECT body FROM notes WHERE id = ?1", 1i64)
            .fetch_optional(&pool)
            .await
            .expect("fetch_optional");
        assert_eq!(row.map(|r| r.body).as_deref(), Some("hello"));
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    let insert = t.span("INSERT notes");
    assert_query(
        &insert,
        &p,
        "INSERT",
        Some("notes"),
        "INSERT notes",
        0,
        Some(1),
    );
    insert.assert_attr(
        "db.query.text",
        "INSERT INTO notes (id, body) VALUES (?1, ?2)",
    );
    let selects = t.spans_named("SELECT notes");
    assert_eq!(selects.len(), 3);
    for s in &selects {
        assert_query(s, &p, "SELECT", Some("notes"), "SELECT notes", 1, None);
    }

    // `describe` (what the macros call) works through the traced pool.
    let describe = (&pool)
        .describe("SELECT id, body FROM notes".into_sql_str())
        .await
        .expect("describe");
    let names: Vec<&str> = describe.columns().iter().map(sqlx::Column::name).collect();
    assert_eq!(names, vec!["id", "body"]);
    let _ = AssertSqlSafe("");
}

/// A statement's names are checked once, when its span facts are prepared in the statement
/// cache, and every later execution starts from them: a table whose quoted name fails the
/// shape check (a space, the planted secret) is never recorded as a name, on the first
/// execution or the cached ones, on spans or points; the statement's points share one bound
/// series.
#[tokio::test]
async fn a_cached_statement_keeps_refusing_a_hostile_table_name() {
    const SECRET: &str = "TabSecret-7c1d";
    let t = TestTelemetry::new();
    let (pool, _guard, _file) = pool(&t).await;
    let create = format!("CREATE TABLE \"acct {SECRET}\" (id INTEGER PRIMARY KEY)");
    sqlx::query(AssertSqlSafe(create))
        .execute(&pool)
        .await
        .expect("create");
    t.reset();
    let select = format!("SELECT id FROM \"acct {SECRET}\" WHERE id = ?1");
    for i in 0..3_i64 {
        let row: Option<(i64,)> = sqlx::query_as(AssertSqlSafe(select.clone()))
            .bind(i)
            .fetch_optional(&pool)
            .await
            .expect("select");
        assert!(row.is_none());
    }
    let spans = t.spans();
    assert_eq!(spans.len(), 3, "{}", otel_testkit::describe(&spans));
    for s in &spans {
        assert_eq!(s.name, spans[0].name);
        assert!(
            !s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "db.collection.name"),
            "{:?}",
            s.attributes
        );
    }
    let points = t.histogram("db.client.operation.duration");
    let selects: Vec<_> = points
        .iter()
        .filter(|p| p.attr("db.query.summary").as_deref() != Some("CREATE TABLE"))
        .collect();
    assert_eq!(selects.len(), 1, "{points:?}");
    assert_eq!(selects[0].count, 3);
    assert_eq!(selects[0].attr("db.collection.name"), None);
    // The sanitized query text keeps the statement's identifiers (it is the application's own
    // text, literals removed); no name, summary, attribute or point holds the table name.
    let leaks: Vec<String> = t
        .leaks(SECRET)
        .into_iter()
        .filter(|l| !l.contains("attribute db.query.text:"))
        .collect();
    assert_eq!(leaks, Vec::<String>::new());
}
