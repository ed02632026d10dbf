//! PostgreSQL and SQLite through sqlx: a prepared `SELECT` by primary key and an `INSERT`, raw
//! on the `Pool` and through `otel_sqlx::TracedPool` wrapping the same pool (one connection,
//! so both variants use the same prepared-statement cache).

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

/// Rows inserted before the `SELECT` loop.
const SEED_ROWS: i64 = 1000;

/// The statements of one backend.
struct Statements {
    create: &'static str,
    seed: &'static str,
    select: &'static str,
    insert: &'static str,
    drop: &'static str,
}

fn statements(table: &str, sqlite: bool) -> Statements {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (p1, p2, key) = if sqlite {
        ("?", "?", "INTEGER PRIMARY KEY")
    } else {
        ("$1", "$2", "BIGSERIAL PRIMARY KEY")
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
        drop: leak(format!("DROP TABLE IF EXISTS {table}")),
    }
}

/// Expands to the SELECT and INSERT comparisons for one backend (the sqlx executor traits
/// differ per database, a macro keeps the two loops identical).
macro_rules! sql_bench {
    ($p:expr, $plan:expr, $label:expr, $system:expr, $pool:expr, $st:expr) => {{
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
        #[cfg(feature = "alt-sqlx-otel")]
        let alt_pool = {
            crate::alt::otel032::install_globals();
            sqlx_otel::PoolBuilder::from(pool.clone()).build()
        };
        let select = compare(
            concat!($label, " SELECT by id"),
            plan.rounds,
            plan.ops(1000),
            ALTERNATIVES,
            async |v, n| {
                with_parent(v, async {
                    for i in 0..n as i64 {
                        let id = i % SEED_ROWS + 1;
                        let q = sqlx::query(st.select).bind(id);
                        let row = match v {
                            Variant::Raw => q.fetch_one(&pool).await,
                            Variant::Sampled | Variant::Unsampled => q.fetch_one(&traced).await,
                            #[cfg(feature = "alt-sqlx-otel")]
                            Variant::Alt(_) => q.fetch_one(&alt_pool).await,
                            #[cfg(not(feature = "alt-sqlx-otel"))]
                            Variant::Alt(_) => unreachable!("no alternative configured"),
                            Variant::Tracing => {
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
                                    server.port = 5432,
                                );
                                q.fetch_one(&pool).instrument(span).await
                            }
                        };
                        let got: i64 = check(check(row).try_get(0));
                        std::hint::black_box(got);
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
            ALTERNATIVES,
            async |v, n| {
                with_parent(v, async {
                    for i in 0..n as i64 {
                        let q = sqlx::query(st.insert).bind("inserted").bind(i);
                        let done = match v {
                            Variant::Raw => q.execute(&pool).await,
                            Variant::Sampled | Variant::Unsampled => q.execute(&traced).await,
                            #[cfg(feature = "alt-sqlx-otel")]
                            Variant::Alt(_) => q.execute(&alt_pool).await,
                            #[cfg(not(feature = "alt-sqlx-otel"))]
                            Variant::Alt(_) => unreachable!("no alternative configured"),
                            Variant::Tracing => {
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
                                    server.port = 5432,
                                );
                                q.execute(&pool).instrument(span).await
                            }
                        };
                        std::hint::black_box(check(done).rows_affected());
                    }
                })
                .await
            },
        )
        .await;
        let cached = traced.query_cache().len();
        sqlx::query(st.drop).execute(&pool).await?;
        (vec![select, insert], cached)
    }};
}

/// PostgreSQL comparisons, plus the number of SQL strings the traced pool's cache holds.
pub async fn bench_postgres(
    p: &Pipeline,
    plan: Plan,
) -> Result<(Vec<Comparison>, usize), sqlx::Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&otel_testkit::env::postgres_url())
        .await?;
    let st = statements(&format!("otel_bench_{}", std::process::id()), false);
    Ok(sql_bench!(p, plan, "PostgreSQL", "postgresql", pool, st))
}

/// SQLite (in memory, one connection) comparisons, plus the traced pool's cache size.
pub async fn bench_sqlite(
    p: &Pipeline,
    plan: Plan,
) -> Result<(Vec<Comparison>, usize), sqlx::Error> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await?;
    let st = statements("otel_bench", true);
    Ok(sql_bench!(p, plan, "SQLite", "sqlite", pool, st))
}

/// An in-memory SQLite database (no network I/O: the sqlx path plus SQLite's own work on
/// sqlx's worker thread), seeded, with every client of one `SELECT` by id.
struct InMemory {
    st: Statements,
    pool: sqlx::SqlitePool,
    traced: otel_sqlx::TracedPool<sqlx::Sqlite>,
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
        let st = statements("otel_bench", true);
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
        #[cfg(feature = "alt-sqlx-otel")]
        let alt = {
            crate::alt::otel032::install_globals();
            sqlx_otel::PoolBuilder::from(pool.clone()).build()
        };
        Ok(InMemory {
            st,
            pool,
            traced,
            #[cfg(feature = "alt-sqlx-otel")]
            alt,
        })
    }

    /// One `SELECT` of row `id` through `which`: `raw`, `traced` (also for the unsampled
    /// variant: the parent decides) or `sqlx-otel`.
    async fn select(&self, which: &str, id: i64) -> Result<i64, sqlx::Error> {
        let q = sqlx::query(self.st.select).bind(id % SEED_ROWS + 1);
        let row = match which {
            "raw" => q.fetch_one(&self.pool).await?,
            "traced" | "unsampled" => q.fetch_one(&self.traced).await?,
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
/// Row name: in-memory SQLite SELECT through `TracedPool`, sampled.
pub const SQLITE_TRACED: &str = "SQLite in-memory SELECT by id: otel-sqlx TracedPool, sampled";
/// Row name: in-memory SQLite SELECT through `TracedPool`, unsampled parent.
pub const SQLITE_UNSAMPLED: &str =
    "SQLite in-memory SELECT by id: otel-sqlx TracedPool, unsampled parent";
/// Row name: in-memory SQLite SELECT through sqlx-otel.
pub const SQLITE_SQLX_OTEL: &str =
    "SQLite in-memory SELECT by id: sqlx-otel 0.5 (own 0.32 pipeline; no SQL parsing)";

/// The sqlx path without network I/O, timed: the same `SELECT` on an in-memory SQLite
/// database, raw, through `TracedPool` (sampled, unsampled) and through sqlx-otel.
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
/// `raw` on the pool, `traced` / `unsampled` through `TracedPool`, `sqlx-otel` through
/// sqlx-otel (feature `alt-sqlx-otel`).
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
