//! Code a service writes with each backend it enables: otel-sqlx's traced pools for ours, plain
//! sqlx for theirs. It only has to compile (scripts/feature-matrix.sh).
#![allow(dead_code)]

#[cfg(feature = "ours-postgres")]
pub async fn ours_postgres(pool: sqlx::PgPool) -> Result<i64, sqlx::Error> {
    let pool = otel_sqlx::TracedPool::new(pool);
    let mut tx = pool.begin().await?;
    let n = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(feature = "ours-mysql")]
pub async fn ours_mysql(pool: sqlx::MySqlPool) -> Result<i64, sqlx::Error> {
    let pool = otel_sqlx::TracedPool::new(pool);
    let mut conn = pool.acquire().await?;
    sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *conn).await
}

#[cfg(feature = "ours-sqlite")]
pub async fn ours_sqlite(pool: sqlx::SqlitePool) -> Result<i64, sqlx::Error> {
    let pool = otel_sqlx::TracedPool::new(pool);
    sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&pool).await
}

#[cfg(feature = "theirs-postgres")]
pub async fn theirs_postgres(pool: &sqlx::PgPool) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(feature = "theirs-mysql")]
pub async fn theirs_mysql(pool: &sqlx::MySqlPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM t").execute(pool).await?.rows_affected())
}

#[cfg(feature = "theirs-sqlite")]
pub async fn theirs_sqlite(pool: &sqlx::SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(pool).await
}

#[cfg(all(feature = "theirs-migrate", feature = "theirs-postgres"))]
pub async fn theirs_migrate(pool: &sqlx::PgPool, dir: &std::path::Path) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate::Migrator::new(dir).await?.run(pool).await
}
