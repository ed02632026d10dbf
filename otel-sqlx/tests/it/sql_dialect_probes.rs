//! Issue 24's classes on the real servers, through the traced pools (so the dialect is the one
//! the pool's database type gives):
//!
//! - lexing that is each server's own: PostgreSQL's `E'..'` / `U&'..'` prefixes are plain
//!   words and operators on SQLite and MariaDB, MariaDB's executable comments are SQL, SQLite's
//!   TCL variables (`$a(...)`) run to `)`. Each probe is a statement whose marker the server
//!   returns as a value (checked: the probe is a real literal), and the marker must appear in
//!   no exported span, event or metric point;
//! - statement shape: compound bodies (`CREATE TRIGGER .. BEGIN ..; END`, MariaDB
//!   `CREATE PROCEDURE .. BEGIN ..; END`, PostgreSQL `BEGIN ATOMIC ..; END`) are one statement
//!   (no `db.operation.batch.size`, a summary without the body), and `EXECUTE name` of a
//!   prepared statement is no `db.stored_procedure.name`.

use crate::common;

use common::*;
use otel_testkit::env::{mysql_url, postgres_url, require, unique_name};
use otel_testkit::{SpanAssert, TestTelemetry, describe};
use sqlx::{AssertSqlSafe, Executor as _, Row};

/// Probes (statement, marker) per server. The SQLite and MariaDB ones failed before issue 24
/// (the lexer read them differently from the server and printed the marker in
/// `db.query.text`); the PostgreSQL ones guard the rules that stay PostgreSQL's own.
const SQLITE_PROBES: &[(&str, &str)] = &[
    // `e` is a column and `'\'` a string (SQLite has no E'..'), not an escape string that
    // runs to the second quote.
    (
        r"SELECT e'\', 'mk24sqlitee' FROM (SELECT 1 AS e) AS t",
        "mk24sqlitee",
    ),
    // TCL variables: `$a(')` is one token (tokenize.c), so the strings after it are strings.
    ("SELECT $a('), 'mk24sqlitetcl', $b(')", "mk24sqlitetcl"),
    ("SELECT :a('), 'mk24sqlitecolon', @b(')", "mk24sqlitecolon"),
];

const MARIADB_PROBES: &[(&str, &str)] = &[
    (
        r"SELECT u&'\'', 'mk24mariau' FROM (SELECT 1 AS u) AS t",
        "mk24mariau",
    ),
    // Executable comments are SQL: a `*/` inside a string there does not end them.
    ("SELECT 1 /*! , '*/ mk24mariaexec' */", "mk24mariaexec"),
    ("SELECT 1 /*M! , '*/ mk24mariam' */", "mk24mariam"),
    ("SELECT 1 /*!50000 , '*/ mk24mariaver' */", "mk24mariaver"),
    // An opener inside an executable comment opens nothing (found by the differential test).
    (
        "SELECT /*! 'a' /*! '*/' */, 'mk24marianested'",
        "mk24marianested",
    ),
];

const POSTGRES_PROBES: &[(&str, &str)] = &[
    (r"SELECT E'\'', 'mk24pge'", "mk24pge"),
    (r"SELECT U&'\0041', 'mk24pgu'", "mk24pgu"),
    // Nested comments: the first `*/` does not end the outer one.
    ("SELECT /* /* */ 'x' */ 'mk24pgnested'", "mk24pgnested"),
];

/// Asserts the probe's marker is among the values and in no exported telemetry.
fn assert_probe(t: &TestTelemetry, server: &str, sql: &str, marker: &str, values: &[String]) {
    assert!(
        values.iter().any(|v| v.contains(marker)),
        "{server} did not return {marker:?} for {sql:?} (got {values:?}): not a literal there"
    );
    let leaks = t.leaks(marker);
    assert!(
        leaks.is_empty(),
        "{server}: {marker:?} of {sql:?} reached telemetry: {leaks:?}"
    );
}

fn strings<R: Row>(rows: &[R]) -> Vec<String>
where
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    rows.iter()
        .flat_map(|row| (0..row.len()).filter_map(|i| row.try_get::<Option<String>, _>(i).ok()))
        .flatten()
        .collect()
}

#[tokio::test]
async fn sqlite_reads_its_own_lexing() {
    let t = TestTelemetry::new();
    let raw = sqlx::SqlitePool::connect("sqlite::memory:")
        .await
        .expect("open SQLite");
    let pool = traced(&t, raw);
    for (sql, marker) in SQLITE_PROBES {
        let rows = sqlx::raw_sql(AssertSqlSafe(*sql))
            .fetch_all(&pool)
            .await
            .unwrap_or_else(|e| panic!("SQLite rejected {sql:?}: {e}"));
        assert_probe(&t, "SQLite", sql, marker, &strings(&rows));
    }
}

#[tokio::test]
async fn mariadb_reads_its_own_lexing() {
    let url = mysql_url();
    require("MariaDB", &url);
    let t = TestTelemetry::new();
    let pool = traced(&t, sqlx::MySqlPool::connect(&url).await.expect("connect"));
    for (sql, marker) in MARIADB_PROBES {
        let rows = sqlx::raw_sql(AssertSqlSafe(*sql))
            .fetch_all(&pool)
            .await
            .unwrap_or_else(|e| panic!("MariaDB rejected {sql:?}: {e}"));
        assert_probe(&t, "MariaDB", sql, marker, &strings(&rows));
    }
}

#[tokio::test]
async fn postgres_reads_its_own_lexing() {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let t = TestTelemetry::new();
    let pool = traced(&t, sqlx::PgPool::connect(&url).await.expect("connect"));
    for (sql, marker) in POSTGRES_PROBES {
        let rows = sqlx::raw_sql(AssertSqlSafe(*sql))
            .fetch_all(&pool)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL rejected {sql:?}: {e}"));
        assert_probe(&t, "PostgreSQL", sql, marker, &strings(&rows));
    }
}

/// The one span of `sql`'s text: one statement with `summary`, no batch size, no procedure.
fn assert_one_statement(t: &TestTelemetry, summary: &str) {
    let spans = t.spans();
    let span = spans
        .iter()
        .find(|s| {
            s.attr("db.query.summary") == Some(&opentelemetry::Value::from(summary.to_string()))
        })
        .unwrap_or_else(|| panic!("no span with summary {summary:?}: {}", describe(&spans)));
    span.assert_no_attr("db.operation.batch.size")
        .assert_no_attr("db.stored_procedure.name");
}

#[tokio::test]
async fn compound_bodies_are_one_statement() {
    // SQLite trigger.
    let t = TestTelemetry::new();
    let raw = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("open SQLite");
    raw.execute("CREATE TABLE src (v INT); CREATE TABLE log (v INT)")
        .await
        .expect("tables");
    let pool = traced(&t, raw);
    sqlx::raw_sql(
        "CREATE TRIGGER src_log AFTER INSERT ON src BEGIN \
         INSERT INTO log VALUES (new.v); UPDATE log SET v = v + 1; END",
    )
    .execute(&pool)
    .await
    .expect("trigger");
    assert_one_statement(&t, "CREATE TRIGGER src_log");

    // MariaDB procedure with a compound body.
    let url = mysql_url();
    require("MariaDB", &url);
    let t = TestTelemetry::new();
    let raw = sqlx::MySqlPool::connect(&url).await.expect("connect");
    let procedure = unique_name("my_body");
    let pool = traced(&t, raw.clone());
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE PROCEDURE {procedure}() BEGIN SELECT 1; SELECT 2; END"
    )))
    .execute(&pool)
    .await
    .expect("procedure");
    assert_one_statement(&t, &format!("CREATE PROCEDURE {procedure}"));
    raw.execute(AssertSqlSafe(format!("DROP PROCEDURE {procedure}")))
        .await
        .expect("cleanup");

    // PostgreSQL SQL-standard function body.
    let url = postgres_url();
    require("PostgreSQL", &url);
    let t = TestTelemetry::new();
    let raw = sqlx::PgPool::connect(&url).await.expect("connect");
    let function = unique_name("pg_atomic");
    let pool = traced(&t, raw.clone());
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE FUNCTION {function}() RETURNS int LANGUAGE sql \
         BEGIN ATOMIC SELECT 1; SELECT 2; END"
    )))
    .execute(&pool)
    .await
    .expect("function");
    assert_one_statement(&t, &format!("CREATE FUNCTION {function}"));
    raw.execute(AssertSqlSafe(format!("DROP FUNCTION {function}")))
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn execute_of_a_prepared_statement_is_not_a_procedure() {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let t = TestTelemetry::new();
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect");
    let pool = traced(&t, raw);
    let name = unique_name("pg_prep");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "PREPARE {name}(int) AS SELECT $1 + 1"
    )))
    .execute(&pool)
    .await
    .expect("prepare");
    sqlx::raw_sql(AssertSqlSafe(format!("EXECUTE {name}(41)")))
        .execute(&pool)
        .await
        .expect("execute");
    let summary = format!("EXECUTE {name}");
    assert_one_statement(&t, &summary);

    let url = mysql_url();
    require("MariaDB", &url);
    let t = TestTelemetry::new();
    let raw = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect");
    let pool = traced(&t, raw);
    sqlx::raw_sql("PREPARE my_prep FROM 'SELECT 1'")
        .execute(&pool)
        .await
        .expect("prepare");
    sqlx::raw_sql("EXECUTE my_prep")
        .execute(&pool)
        .await
        .expect("execute");
    assert_one_statement(&t, "EXECUTE my_prep");
}
