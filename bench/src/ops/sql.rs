//! PostgreSQL, MariaDB and SQLite through sqlx: a prepared `SELECT` by primary key and an
//! `INSERT`, raw on the `Pool` and through `otel_sqlx::TracedPool`s wrapping the same pool
//! (one connection, so every variant uses the same prepared-statement cache).

use otel_rpc::InstrumentationOptions;
use sqlx::Row as _;
use tracing::Instrument;

use super::{Plan, check, with_parent};
use crate::measure::{Comparison, Variant, compare};
use crate::pipeline::Pipeline;

/// The Rust alternatives measured in the same rounds ([`Variant::Alt`]).
#[cfg(feature = "alt-sqlx-otel")]
const ALTERNATIVES: &[&str] = &[
    "(d) sqlx-otel 0.5 (OTel 0.32, own pipeline; no SQL parsing: span named after the system, raw query text, no operation/table/summary)",
];
#[cfg(not(feature = "alt-sqlx-otel"))]
const ALTERNATIVES: &[&str] = &[];

/// The variants of otel-sqlx's own options (and the raw driver they are compared with), measured
/// in the same rounds after the alternatives ([`Variant::Alt`] past [`ALTERNATIVES`]).
const OPTION_VARIANTS: &[&str] = &[
    "(f) sampled + sqlcommenter (`application` tag; commented statements sent non-persistent)",
    "(g) raw driver, what (f) sends: the statement + a unique 55-byte comment, `.persistent(false)`",
    "(h) sampled, pool metrics off (`.pool_metrics(false)`)",
    "(i) raw driver, text protocol: literal values + a unique 55-byte comment, no arguments (`sqlx::raw_sql`)",
];

/// Who runs one operation of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// The pool, prepared statements cached (sqlx's default).
    Raw,
    /// The pool, what the sqlcommenter sends: the statement with a unique comment,
    /// `.persistent(false)` (an unnamed / closed-after-use statement per query). The text must
    /// be unique: sqlx-postgres looks a non-persistent statement up in its cache first.
    RawNonPersistent,
    /// `TracedPool` with the defaults (pool metrics on).
    Traced,
    /// `TracedPool` with the sqlcommenter on.
    Commented,
    /// `TracedPool` with the pool metrics off.
    NoPoolMetrics,
    /// The pool, the text protocol (`raw_sql`): literal values and a unique comment.
    RawText,
    /// The pool inside a `tracing` span.
    Tracing,
    /// The Rust alternative (sqlx-otel).
    Alternative,
}

fn client(v: Variant) -> Client {
    match v {
        Variant::Raw => Client::Raw,
        Variant::Sampled | Variant::Unsampled => Client::Traced,
        Variant::Tracing => Client::Tracing,
        Variant::Alt(i) => match i.checked_sub(ALTERNATIVES.len()) {
            None => Client::Alternative,
            Some(0) => Client::Commented,
            Some(1) => Client::RawNonPersistent,
            Some(2) => Client::NoPoolMetrics,
            Some(_) => Client::RawText,
        },
    }
}

/// The labels of the extra variants of every SQL comparison.
fn extra_variants() -> Vec<&'static str> {
    ALTERNATIVES
        .iter()
        .chain(OPTION_VARIANTS)
        .copied()
        .collect()
}

/// The sqlcommenter of the benchmarks (as in the README's example).
fn commenter() -> otel_sqlx::SqlCommenter {
    otel_sqlx::SqlCommenter::new().tag("application", "otel-bench")
}

/// Rows inserted before the `SELECT` loop.
const SEED_ROWS: i64 = 1000;

/// The statements of one backend.
struct Statements {
    create: &'static str,
    seed: &'static str,
    select: &'static str,
    insert: &'static str,
    /// The `SELECT` up to its literal id (text protocol variant).
    select_text: &'static str,
    /// The `INSERT` up to its literal quantity (text protocol variant).
    insert_text: &'static str,
    drop: &'static str,
}

/// A unique comment the length of a sqlcommenter `traceparent` (variants (g) and (i)).
fn unique_comment(i: i64) -> String {
    format!("/*traceparent='00-{i:032x}-{i:016x}-01'*/")
}

/// The SQL dialect of the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Postgres,
    MySql,
    Sqlite,
}

fn statements(table: &str, backend: Backend) -> Statements {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (p1, p2, key) = match backend {
        Backend::Sqlite => ("?", "?", "INTEGER PRIMARY KEY"),
        Backend::MySql => ("?", "?", "BIGINT AUTO_INCREMENT PRIMARY KEY"),
        Backend::Postgres => ("$1", "$2", "BIGSERIAL PRIMARY KEY"),
    };
    Statements {
        create: leak(format!(
            "CREATE TABLE {table} (id {key}, name TEXT NOT NULL, qty BIGINT NOT NULL)"
        )),
        seed: leak(format!(
            "INSERT INTO {table} (name, qty) VALUES ({p1}, {p2})"
        )),
        select: leak(format!("SELECT id, name, qty FROM {table} WHERE id = {p1}")),
        insert: leak(format!(
            "INSERT INTO {table} (name, qty) VALUES ({p1}, {p2})"
        )),
        select_text: leak(format!("SELECT id, name, qty FROM {table} WHERE id = ")),
        insert_text: leak(format!(
            "INSERT INTO {table} (name, qty) VALUES ('inserted', "
        )),
        drop: leak(format!("DROP TABLE IF EXISTS {table}")),
    }
}

/// Expands to the SELECT and INSERT comparisons for one backend (the sqlx executor traits
/// differ per database, a macro keeps the loops identical). Every comparison runs, in the same
/// interleaved rounds: raw, (a) sampled, (b) unsampled, (c) tracing route, the alternatives,
/// then (f) sampled + sqlcommenter, (g) raw non-persistent, (h) sampled without pool metrics.
macro_rules! sql_bench {
    ($p:expr, $plan:expr, $label:expr, $system:expr, $port:expr, $backend:expr, $pool:expr, $st:expr) => {{
        let (p, plan, st, pool) = ($p, $plan, $st, $pool);
        sqlx::query(st.drop).execute(&pool).await?;
        sqlx::query(st.create).execute(&pool).await?;
        for i in 0..SEED_ROWS {
            sqlx::query(st.seed)
                .bind(format!("name-{i}"))
                .bind(i)
                .execute(&pool)
                .await?;
        }
        let traced = otel_sqlx::TracedPool::builder(pool.clone())
            .tracer_provider(p.tracer_provider.clone())
            .meter_provider(p.meter_provider.clone())
            .build();
        let commented = otel_sqlx::TracedPool::builder(pool.clone())
            .tracer_provider(p.tracer_provider.clone())
            .meter_provider(p.meter_provider.clone())
            .pool_name("otel-bench-commented")
            .sqlcommenter(commenter())
            .build();
        let no_pool_metrics = otel_sqlx::TracedPool::builder(pool.clone())
            .tracer_provider(p.tracer_provider.clone())
            .meter_provider(p.meter_provider.clone())
            .pool_metrics(false)
            .build();
        #[cfg(feature = "alt-sqlx-otel")]
        let alt_pool = {
            crate::alt::otel032::install_globals();
            sqlx_otel::PoolBuilder::from(pool.clone()).build()
        };
        let extra = extra_variants();
        let select = compare(
            concat!($label, " SELECT by id"),
            plan.rounds,
            plan.ops(1000),
            &extra,
            async |v, n| {
                with_parent(v, async {
                    for i in 0..n as i64 {
                        let id = i % SEED_ROWS + 1;
                        let q = sqlx::query(st.select).bind(id);
                        let row = match client(v) {
                            Client::Raw => q.fetch_one(&pool).await,
                            Client::RawNonPersistent => {
                                let sql = format!("{} {}", st.select, unique_comment(i));
                                sqlx::query(sqlx::AssertSqlSafe(sql))
                                    .bind(id)
                                    .persistent(false)
                                    .fetch_one(&pool)
                                    .await
                            }
                            Client::Traced => q.fetch_one(&traced).await,
                            Client::Commented => q.fetch_one(&commented).await,
                            Client::NoPoolMetrics => q.fetch_one(&no_pool_metrics).await,
                            Client::RawText => {
                                let sql = format!("{}{id} {}", st.select_text, unique_comment(i));
                                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                                    .fetch_one(&pool)
                                    .await
                            }
                            #[cfg(feature = "alt-sqlx-otel")]
                            Client::Alternative => q.fetch_one(&alt_pool).await,
                            #[cfg(not(feature = "alt-sqlx-otel"))]
                            Client::Alternative => unreachable!("no alternative configured"),
                            Client::Tracing => {
                                let span = tracing::info_span!(
                                    "SELECT bench",
                                    otel.kind = "client",
                                    db.system.name = $system,
                                    db.namespace = "test",
                                    db.collection.name = "bench",
                                    db.operation.name = "SELECT",
                                    db.query.summary = "SELECT bench",
                                    db.query.text = st.select,
                                    server.address = "127.0.0.1",
                                    server.port = $port,
                                );
                                q.fetch_one(&pool).instrument(span).await
                            }
                        };
                        let got: i64 = check(check(row).try_get(0));
                        std::hint::black_box(got);
                    }
                    if settles(v, $backend) {
                        std::hint::black_box(check(
                            sqlx::query(st.select).bind(1_i64).fetch_one(&pool).await,
                        ));
                    }
                })
                .await
            },
        )
        .await;
        let insert = compare(
            concat!($label, " INSERT"),
            plan.rounds,
            plan.ops(500),
            &extra,
            async |v, n| {
                with_parent(v, async {
                    for i in 0..n as i64 {
                        let q = sqlx::query(st.insert).bind("inserted").bind(i);
                        let done = match client(v) {
                            Client::Raw => q.execute(&pool).await,
                            Client::RawNonPersistent => {
                                let sql = format!("{} {}", st.insert, unique_comment(i));
                                sqlx::query(sqlx::AssertSqlSafe(sql))
                                    .bind("inserted")
                                    .bind(i)
                                    .persistent(false)
                                    .execute(&pool)
                                    .await
                            }
                            Client::Traced => q.execute(&traced).await,
                            Client::Commented => q.execute(&commented).await,
                            Client::NoPoolMetrics => q.execute(&no_pool_metrics).await,
                            Client::RawText => {
                                let sql = format!("{}{i}) {}", st.insert_text, unique_comment(i));
                                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await
                            }
                            #[cfg(feature = "alt-sqlx-otel")]
                            Client::Alternative => q.execute(&alt_pool).await,
                            #[cfg(not(feature = "alt-sqlx-otel"))]
                            Client::Alternative => unreachable!("no alternative configured"),
                            Client::Tracing => {
                                let span = tracing::info_span!(
                                    "INSERT bench",
                                    otel.kind = "client",
                                    db.system.name = $system,
                                    db.namespace = "test",
                                    db.collection.name = "bench",
                                    db.operation.name = "INSERT",
                                    db.query.summary = "INSERT bench",
                                    db.query.text = st.insert,
                                    server.address = "127.0.0.1",
                                    server.port = $port,
                                );
                                q.execute(&pool).instrument(span).await
                            }
                        };
                        std::hint::black_box(check(done).rows_affected());
                    }
                    if settles(v, $backend) {
                        std::hint::black_box(check(
                            sqlx::query(st.select).bind(1_i64).fetch_one(&pool).await,
                        ));
                    }
                })
                .await
            },
        )
        .await;
        let cached = SqlState {
            traced: traced.query_cache().len(),
            commented: commented.query_cache().len(),
        };
        sqlx::query(st.drop).execute(&pool).await?;
        (vec![select, insert], cached)
    }};
}

/// Whether a round of `v` ends with one cached raw `SELECT`, charged to that round: on MySQL,
/// for the non-persistent variants. sqlx closes a non-persistent MySQL statement with `COM_STMT_CLOSE`, which has no
/// reply, and does not set `TCP_NODELAY`: the next packet on the connection (the pool's ping at
/// the next acquire) waits, under Nagle's algorithm, for the server's delayed ACK of the close
/// (~40 ms on Linux). Without this query the round after a non-persistent one would pay its
/// last statement's stall.
fn settles(v: Variant, backend: Backend) -> bool {
    backend == Backend::MySql && matches!(client(v), Client::Commented | Client::RawNonPersistent)
}

/// Adapter state after one backend's comparisons.
#[derive(Debug, Clone, Copy)]
pub struct SqlState {
    /// SQL strings in the default `TracedPool`'s analysis cache.
    pub traced: usize,
    /// SQL strings in the sqlcommenter `TracedPool`'s analysis cache (the comment is added
    /// after the analysis: the same two statements).
    pub commented: usize,
}

/// PostgreSQL comparisons, plus the traced pools' cache sizes.
pub async fn bench_postgres(
    p: &Pipeline,
    plan: Plan,
) -> Result<(Vec<Comparison>, SqlState), sqlx::Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&otel_testkit::env::postgres_url())
        .await?;
    let st = statements(
        &format!("otel_bench_{}", std::process::id()),
        Backend::Postgres,
    );
    Ok(sql_bench!(
        p,
        plan,
        "PostgreSQL",
        "postgresql",
        5432,
        Backend::Postgres,
        pool,
        st
    ))
}

/// MariaDB (MySQL protocol) comparisons, plus the traced pools' cache sizes. On MySQL a
/// non-persistent statement is prepared, executed and closed per query (sqlx has no unnamed
/// statement there): variants (f) and (g) measure what that costs.
pub async fn bench_mariadb(
    p: &Pipeline,
    plan: Plan,
) -> Result<(Vec<Comparison>, SqlState), sqlx::Error> {
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&otel_testkit::env::mysql_url())
        .await?;
    let st = statements(
        &format!("otel_bench_{}", std::process::id()),
        Backend::MySql,
    );
    Ok(sql_bench!(
        p,
        plan,
        "MariaDB",
        "mariadb",
        3306,
        Backend::MySql,
        pool,
        st
    ))
}

/// SQLite (in memory, one connection) comparisons, plus the traced pools' cache sizes.
pub async fn bench_sqlite(
    p: &Pipeline,
    plan: Plan,
) -> Result<(Vec<Comparison>, SqlState), sqlx::Error> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await?;
    let st = statements("otel_bench", Backend::Sqlite);
    Ok(sql_bench!(
        p,
        plan,
        "SQLite",
        "sqlite",
        0,
        Backend::Sqlite,
        pool,
        st
    ))
}

/// An in-memory SQLite database (no network I/O: the sqlx path plus SQLite's own work on
/// sqlx's worker thread), seeded, with every client of one `SELECT` by id.
struct InMemory {
    st: Statements,
    pool: sqlx::SqlitePool,
    traced: otel_sqlx::TracedPool<sqlx::Sqlite>,
    no_pool_metrics: otel_sqlx::TracedPool<sqlx::Sqlite>,
    commented: otel_sqlx::TracedPool<sqlx::Sqlite>,
    #[cfg(feature = "alt-sqlx-otel")]
    alt: sqlx_otel::Pool<sqlx::Sqlite>,
}

impl InMemory {
    async fn new(p: &Pipeline) -> Result<Self, sqlx::Error> {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect("sqlite::memory:")
            .await?;
        let st = statements("otel_bench", Backend::Sqlite);
        sqlx::query(st.create).execute(&pool).await?;
        for i in 0..SEED_ROWS {
            sqlx::query(st.seed)
                .bind(format!("name-{i}"))
                .bind(i)
                .execute(&pool)
                .await?;
        }
        let builder = || {
            otel_sqlx::TracedPool::builder(pool.clone())
                .tracer_provider(p.tracer_provider.clone())
                .meter_provider(p.meter_provider.clone())
        };
        let traced = builder().build();
        let no_pool_metrics = builder().pool_metrics(false).build();
        let commented = builder()
            .pool_name("otel-bench-commented")
            .sqlcommenter(commenter())
            .build();
        #[cfg(feature = "alt-sqlx-otel")]
        let alt = {
            crate::alt::otel032::install_globals();
            sqlx_otel::PoolBuilder::from(pool.clone()).build()
        };
        Ok(InMemory {
            st,
            pool,
            traced,
            no_pool_metrics,
            commented,
            #[cfg(feature = "alt-sqlx-otel")]
            alt,
        })
    }

    /// One `SELECT` of row `id` through `which`: `raw`, `raw-nonpersistent` (the pool,
    /// `.persistent(false)`), `traced` (also for the unsampled variant: the parent decides),
    /// `nopool` (pool metrics off), `commenter` (sqlcommenter on) or `sqlx-otel`.
    async fn select(&self, which: &str, id: i64) -> Result<i64, sqlx::Error> {
        let q = sqlx::query(self.st.select).bind(id % SEED_ROWS + 1);
        let row = match which {
            "raw" => q.fetch_one(&self.pool).await?,
            "raw-nonpersistent" => q.persistent(false).fetch_one(&self.pool).await?,
            "traced" | "unsampled" => q.fetch_one(&self.traced).await?,
            "nopool" => q.fetch_one(&self.no_pool_metrics).await?,
            "commenter" => q.fetch_one(&self.commented).await?,
            #[cfg(feature = "alt-sqlx-otel")]
            "sqlx-otel" => q.fetch_one(&self.alt).await?,
            other => {
                return Err(sqlx::Error::Configuration(
                    format!("unknown SQLite client {other}").into(),
                ));
            }
        };
        row.try_get::<i64, _>(0)
    }
}

fn sqlite_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// Row name: in-memory SQLite SELECT, raw pool.
pub const SQLITE_RAW: &str = "SQLite in-memory SELECT by id: raw pool";
/// Row name: in-memory SQLite SELECT, raw pool, `.persistent(false)`.
pub const SQLITE_RAW_NONPERSISTENT: &str =
    "SQLite in-memory SELECT by id: raw pool, .persistent(false)";
/// Row name: in-memory SQLite SELECT through `TracedPool`, sampled.
pub const SQLITE_TRACED: &str = "SQLite in-memory SELECT by id: otel-sqlx TracedPool, sampled";
/// Row name: in-memory SQLite SELECT through `TracedPool` without pool metrics, sampled.
pub const SQLITE_NO_POOL_METRICS: &str =
    "SQLite in-memory SELECT by id: otel-sqlx TracedPool, sampled, pool metrics off";
/// Row name: in-memory SQLite SELECT through `TracedPool` with the sqlcommenter, sampled.
pub const SQLITE_COMMENTER: &str =
    "SQLite in-memory SELECT by id: otel-sqlx TracedPool, sampled + sqlcommenter (non-persistent)";
/// Row name: in-memory SQLite SELECT through `TracedPool`, unsampled parent.
pub const SQLITE_UNSAMPLED: &str =
    "SQLite in-memory SELECT by id: otel-sqlx TracedPool, unsampled parent";
/// Row name: in-memory SQLite SELECT through sqlx-otel.
pub const SQLITE_SQLX_OTEL: &str =
    "SQLite in-memory SELECT by id: sqlx-otel 0.5 (own 0.32 pipeline; no SQL parsing)";

/// The sqlx path without network I/O, timed: the same `SELECT` on an in-memory SQLite
/// database, raw (cached and `.persistent(false)`), through `TracedPool` (sampled, sampled
/// without pool metrics, sampled with the sqlcommenter, unsampled) and through sqlx-otel.
pub fn micro(p: &Pipeline, n: usize) -> Vec<crate::micro::Micro> {
    use crate::micro::time;
    let (rt, db) = match sqlite_runtime().and_then(|rt| {
        let db = rt.block_on(InMemory::new(p)).map_err(|e| e.to_string())?;
        Ok((rt, db))
    }) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("no in-memory SQLite for the microbenchmarks: {e}");
            return Vec::new();
        }
    };
    let n = n / 4;
    let mut id = 0_i64;
    let mut run = |which: &str| {
        id += 1;
        let _ = std::hint::black_box(rt.block_on(db.select(which, id)));
    };
    let mut out = vec![
        time(SQLITE_RAW, n, || run("raw")),
        time(SQLITE_TRACED, n, || run("traced")),
        time(SQLITE_NO_POOL_METRICS, n, || run("nopool")),
        time(SQLITE_RAW_NONPERSISTENT, n, || run("raw-nonpersistent")),
        time(SQLITE_COMMENTER, n, || run("commenter")),
    ];
    {
        let _guard = crate::pipeline::unsampled_parent().attach();
        out.push(time(SQLITE_UNSAMPLED, n, || run("traced")));
    }
    #[cfg(feature = "alt-sqlx-otel")]
    out.push(time(SQLITE_SQLX_OTEL, n, || run("sqlx-otel")));
    out
}

/// `n` prepared `SELECT`s by id on an in-memory SQLite database (for callgrind: the process's
/// instruction count, minus the same run with a smaller `n`, gives instructions per query):
/// `raw` / `raw-nonpersistent` on the pool, `traced` / `unsampled` / `nopool` (pool metrics
/// off) / `commenter` (sqlcommenter on) through `TracedPool`, `sqlx-otel` through sqlx-otel
/// (feature `alt-sqlx-otel`).
pub fn profile_sqlite(p: &Pipeline, n: usize, which: &str) -> Result<(), String> {
    let rt = sqlite_runtime()?;
    rt.block_on(async {
        let db = InMemory::new(p).await?;
        let _guard = (which == "unsampled").then(|| crate::pipeline::unsampled_parent().attach());
        for i in 0..n as i64 {
            std::hint::black_box(db.select(which, i).await?);
        }
        Ok(())
    })
    .map_err(|e: sqlx::Error| e.to_string())
}
