//! MariaDB (MySQL protocol): system detection, CRUD, errors and transactions.

use crate::common;

use common::*;
use futures_util::TryStreamExt;
use opentelemetry::context::FutureExt;
use otel_sqlx::TracedPool;
use otel_testkit::env::{mysql_url, require, unique_name};
use otel_testkit::{SpanAssert, TestTelemetry};
use sqlx::{AssertSqlSafe, MySql};

async fn pool(t: &TestTelemetry) -> TracedPool<MySql> {
    let url = mysql_url();
    require("MariaDB", &url);
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(5)
        .connect(&url)
        .await
        .expect("connect to MariaDB");
    traced(t, pool)
}

fn server() -> Option<(&'static str, i64)> {
    Some(("127.0.0.1", 3306))
}

#[tokio::test]
async fn crud_and_mariadb_detection() {
    let t = TestTelemetry::new();
    let pool = pool(&t).await;
    let table = unique_name("my_crud");
    let cx = parent(&t, "parent");
    async {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE)"
        )))
        .execute(&pool)
        .await
        .expect("create");
        assert_eq!(pool.system_name(), "mariadb");
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} (id, name) VALUES (?, ?), (2, 'bob-secret')"
        )))
        .bind(1i64)
        .bind("alice-secret")
        .execute(&pool)
        .await
        .expect("insert");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, name FROM {table} ORDER BY id"
        )))
        .fetch_all(&pool)
        .await
        .expect("select");
        assert_eq!(rows.len(), 2);
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE name = \"bob-secret\""
        )))
        .fetch_one(&pool)
        .await
        .expect("fetch_one");
        assert_eq!(n, 2);
        {
            let mut s = sqlx::query(AssertSqlSafe(format!(
                "SELECT id FROM `{table}` ORDER BY id DESC"
            )))
            .fetch(&pool);
            s.try_next().await.expect("row").expect("some");
        }
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET name = 'x-secret' WHERE id = ?"
        )))
        .bind(1i64)
        .execute(&pool)
        .await
        .expect("update");
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE id = ?")))
            .bind(1i64)
            .execute(&pool)
            .await
            .expect("delete");
        let dup = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} (id, name) VALUES (3, 'bob-secret')"
        )))
        .execute(&pool)
        .await;
        assert!(dup.is_err());
        let syntax = sqlx::query("SELEC 1").execute(&pool).await;
        assert!(syntax.is_err());
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} (id, name) VALUES (?, ?)"
        )))
        .bind(10i64)
        .bind("in-tx")
        .execute(&mut *tx)
        .await
        .expect("insert in tx");
        tx.rollback().await.expect("rollback");
        let mut tx = pool.begin().await.expect("begin 2");
        {
            let mut sp = tx.begin().await.expect("savepoint");
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {table} (id, name) VALUES (?, ?)"
            )))
            .bind(11i64)
            .bind("in-sp")
            .execute(&mut *sp)
            .await
            .expect("insert in sp");
            sp.commit().await.expect("release");
        }
        tx.commit().await.expect("commit");
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(count, 2);
        sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE {table}")))
            .execute(&pool)
            .await
            .expect("drop");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    let summary = |op: &str| format!("{op} {table}");

    for s in t.spans() {
        if s.name != "parent" {
            assert_common(&s, "mariadb", "test", server());
            s.assert_child_of(&p);
        }
        assert!(!s.all_text().contains("secret"), "leak: {}", s.all_text());
    }

    let insert = span_with_text(
        &t,
        &format!("INSERT INTO {table} (id, name) VALUES (?, ?), (?, ?)"),
    );
    assert_query(
        &insert,
        &p,
        "INSERT",
        Some(&table),
        &summary("INSERT"),
        0,
        Some(2),
    );
    let all = span_with_text(&t, &format!("SELECT id, name FROM {table} ORDER BY id"));
    assert_query(
        &all,
        &p,
        "SELECT",
        Some(&table),
        &summary("SELECT"),
        2,
        None,
    );
    let one = span_with_text(&t, &format!("SELECT id FROM {table} WHERE name = ?"));
    assert_query(
        &one,
        &p,
        "SELECT",
        Some(&table),
        &summary("SELECT"),
        1,
        None,
    );
    let early = span_with_text(&t, &format!("SELECT id FROM `{table}` ORDER BY id DESC"));
    assert_query(
        &early,
        &p,
        "SELECT",
        Some(&table),
        &summary("SELECT"),
        1,
        None,
    );
    let update = span_with_text(&t, &format!("UPDATE {table} SET name = ? WHERE id = ?"));
    assert_query(
        &update,
        &p,
        "UPDATE",
        Some(&table),
        &summary("UPDATE"),
        0,
        Some(1),
    );
    let delete = span_with_text(&t, &format!("DELETE FROM {table} WHERE id = ?"));
    assert_query(
        &delete,
        &p,
        "DELETE",
        Some(&table),
        &summary("DELETE"),
        0,
        Some(1),
    );

    let failed: Vec<_> = t
        .spans_named(&summary("INSERT"))
        .into_iter()
        .filter(|s| s.attr("error.type").is_some())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_failed(&failed[0], &p, "23000");
    assert_failed(&t.span("SELEC"), &p, "42000");

    assert_eq!(t.spans_named("BEGIN").len(), 2);
    t.span("ROLLBACK").assert_unset();
    t.span("COMMIT").assert_unset();
    t.span("SAVEPOINT").assert_unset();
    t.span("RELEASE SAVEPOINT").assert_unset();
}
