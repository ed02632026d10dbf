//! Smoke tests for the loopback test services (`scripts/services.sh up`): one real round trip
//! each. An unreachable service fails the test with a message naming the start command.

use std::fmt::Display;
use std::future::IntoFuture;
use std::time::Duration;

use tests::env;

/// Upper bound for each step, so a wedged server fails the test instead of hanging it.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// Awaits `fut` (a future, or a driver action such as mongodb's) with [`STEP_TIMEOUT`]; on error or timeout panics with [`env::unreachable`].
async fn step<T, E: Display>(
    service: &str,
    url: &str,
    what: &str,
    fut: impl IntoFuture<Output = Result<T, E>>,
) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, fut.into_future()).await {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => panic!(
            "{}",
            env::unreachable(service, url, &format!("{what}: {err}"))
        ),
        Err(_) => panic!(
            "{}",
            env::unreachable(
                service,
                url,
                &format!("{what}: timed out after {STEP_TIMEOUT:?}")
            )
        ),
    }
}

#[tokio::test]
async fn postgres_select_1() {
    use sqlx::Connection as _;

    let url = env::postgres_url();
    let mut conn = step(
        "PostgreSQL",
        &url,
        "connect",
        sqlx::PgConnection::connect(&url),
    )
    .await;
    let one: i32 = step(
        "PostgreSQL",
        &url,
        "SELECT 1",
        sqlx::query_scalar("SELECT 1").fetch_one(&mut conn),
    )
    .await;
    assert_eq!(one, 1);
    step("PostgreSQL", &url, "close", conn.close()).await;
}

#[tokio::test]
async fn mysql_select_1() {
    use sqlx::Connection as _;

    let url = env::mysql_url();
    let mut conn = step(
        "MariaDB",
        &url,
        "connect",
        sqlx::MySqlConnection::connect(&url),
    )
    .await;
    let one: i64 = step(
        "MariaDB",
        &url,
        "SELECT 1",
        sqlx::query_scalar("SELECT CAST(1 AS SIGNED)").fetch_one(&mut conn),
    )
    .await;
    assert_eq!(one, 1);
    step("MariaDB", &url, "close", conn.close()).await;
}

#[tokio::test]
async fn sqlite_in_memory_round_trip() {
    use sqlx::Connection as _;

    let url = "sqlite::memory:";
    let mut conn = step("SQLite", url, "open", sqlx::SqliteConnection::connect(url)).await;
    step(
        "SQLite",
        url,
        "CREATE TABLE",
        sqlx::query("CREATE TABLE smoke (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .execute(&mut conn),
    )
    .await;
    step(
        "SQLite",
        url,
        "INSERT",
        sqlx::query("INSERT INTO smoke (name) VALUES (?)")
            .bind("ferris")
            .execute(&mut conn),
    )
    .await;
    let name: String = step(
        "SQLite",
        url,
        "SELECT",
        sqlx::query_scalar("SELECT name FROM smoke WHERE id = 1").fetch_one(&mut conn),
    )
    .await;
    assert_eq!(name, "ferris");
    step("SQLite", url, "close", conn.close()).await;
}

#[tokio::test]
async fn redis_ping_set_get() {
    let url = env::redis_url();
    let client = redis::Client::open(url.as_str())
        .unwrap_or_else(|e| panic!("REDIS_URL {url:?} is not a valid Redis URL: {e}"));
    let mut conn = step(
        "Redis",
        &url,
        "connect",
        client.get_multiplexed_async_connection(),
    )
    .await;

    let pong: String = step(
        "Redis",
        &url,
        "PING",
        redis::cmd("PING").query_async(&mut conn),
    )
    .await;
    assert_eq!(pong, "PONG");

    let key = env::unique_name("smoke");
    let _: () = step(
        "Redis",
        &url,
        "SET",
        redis::cmd("SET")
            .arg(&key)
            .arg("value")
            .arg("EX")
            .arg(60)
            .query_async(&mut conn),
    )
    .await;
    let value: Option<String> = step(
        "Redis",
        &url,
        "GET",
        redis::cmd("GET").arg(&key).query_async(&mut conn),
    )
    .await;
    assert_eq!(value.as_deref(), Some("value"));
    let deleted: i64 = step(
        "Redis",
        &url,
        "DEL",
        redis::cmd("DEL").arg(&key).query_async(&mut conn),
    )
    .await;
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn mongodb_insert_find() {
    use mongodb::bson::{Document, doc};

    let uri = env::mongodb_uri();
    let mut options = step(
        "MongoDB (FerretDB)",
        &uri,
        "parse MONGODB_URI",
        mongodb::options::ClientOptions::parse(&uri),
    )
    .await;
    options.server_selection_timeout = Some(Duration::from_secs(10));
    options.connect_timeout = Some(Duration::from_secs(5));
    let client = mongodb::Client::with_options(options)
        .unwrap_or_else(|e| panic!("{}", env::unreachable("MongoDB (FerretDB)", &uri, &e)));

    let collection = client
        .database("test")
        .collection::<Document>(&env::unique_name("smoke"));
    let marker = env::unique_name("doc");
    step(
        "MongoDB (FerretDB)",
        &uri,
        "insert_one",
        collection.insert_one(doc! { "marker": &marker, "n": 42 }),
    )
    .await;
    let found = step(
        "MongoDB (FerretDB)",
        &uri,
        "find_one",
        collection.find_one(doc! { "marker": &marker }),
    )
    .await
    .expect("the inserted document is found");
    assert_eq!(found.get_i32("n").ok(), Some(42));
    step("MongoDB (FerretDB)", &uri, "drop", collection.drop()).await;
}
