//! `otel-bench`: the overhead of every adapter against its raw driver, in one process.
//!
//! ```text
//! cargo run --release -p otel-bench -- [--quick] [--ops N] [--rounds R] [--only redis,sql,...]
//! ```
//!
//! Sections: `micro` (CPU microbenchmarks), `redis`, `postgres`, `mariadb`, `sqlite`, `mongo`, `http`,
//! `grpc` (loopback operations, raw vs (a) sampled, (b) unsampled, (c) tracing route) and
//! `memory` (RSS and adapter state around a million cheap operations). See BENCHMARKS.md.
#![warn(missing_docs)]

mod alt;
mod floor;
mod http_optin;
mod layers;
mod measure;
mod memory;
mod micro;
mod null_redis;
mod ops;
mod pipeline;
mod report;
mod tracing_route;

use std::process::ExitCode;

use ops::Plan;
use pipeline::Pipeline;

/// Command line options.
struct Args {
    plan: Plan,
    quick: bool,
    only: Option<Vec<String>>,
    profile: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        plan: Plan {
            rounds: 15,
            ops: None,
            scale: 1.0,
        },
        quick: false,
        only: None,
        profile: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--quick" => {
                args.quick = true;
                args.plan.rounds = 5;
                args.plan.scale = 0.25;
            }
            "--ops" => {
                args.plan.ops = Some(value("--ops")?.parse().map_err(|e| format!("--ops: {e}"))?)
            }
            "--rounds" => {
                args.plan.rounds = value("--rounds")?
                    .parse()
                    .map_err(|e| format!("--rounds: {e}"))?
            }
            "--only" => args.only = Some(value("--only")?.split(',').map(str::to_owned).collect()),
            "--profile" => args.profile = Some(value("--profile")?),
            "-h" | "--help" => {
                return Err("usage: otel-bench [--quick] [--ops N] [--rounds R] \
                            [--only micro,redis,postgres,mariadb,sqlite,mongo,http,grpc,memory] \
                            [--profile sampled|unsampled|mongo|mongo-unsampled|mongo-baseline|mongo-real-{find,insert}-{raw,noop-command,noop-handlers,otel,otel-unsampled,driver}|redis-raw|redis-sampled|redis-unsampled|\
                            floor-db|floor-db-unsampled|floor-http|floor-grpc|http-raw|http-pair|grpc-raw|grpc-pair|\
                            http-pair-global-meter|grpc-pair-global-meter|\
                            sqlite-raw|sqlite-raw-nonpersistent|sqlite-traced|sqlite-nopool|sqlite-commenter|sqlite-unsampled|sqlite-sqlx-otel]"
                    .to_owned());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

impl Args {
    fn wants(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == section))
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let p = {
        let _enter = rt.enter();
        Pipeline::install()
    };
    if let Some(name) = &args.profile {
        // A single hot loop, for `valgrind --tool=callgrind`.
        let n = args.plan.ops.unwrap_or(100_000);
        let done = match name.strip_prefix("mongo-real-") {
            Some(what) => rt.block_on(ops::mongo::profile(&p, what, n)),
            None => micro::profile(&p, name, n),
        };
        return match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    report::header(&args.plan, args.quick);

    if args.wants("micro") {
        report::micro(&micro::run(&p, args.quick));
    }
    let result: Result<(), Box<dyn std::error::Error>> = rt.block_on(async {
        let mut state = Vec::new();
        if args.wants("redis") {
            otel_testkit::env::require("redis", &otel_testkit::env::redis_url());
            report::comparisons(&ops::redis::bench(&p, args.plan).await?);
        }
        if args.wants("postgres") {
            otel_testkit::env::require("postgres", &otel_testkit::env::postgres_url());
            let (c, cached) = ops::sql::bench_postgres(&p, args.plan).await?;
            report::comparisons(&c);
            state.push(format!(
                "PostgreSQL TracedPool query cache entries after the run: {} (sqlcommenter pool: {})",
                cached.traced, cached.commented
            ));
        }
        if args.wants("mariadb") {
            otel_testkit::env::require("mariadb", &otel_testkit::env::mysql_url());
            let (c, cached) = ops::sql::bench_mariadb(&p, args.plan).await?;
            report::comparisons(&c);
            state.push(format!(
                "MariaDB TracedPool query cache entries after the run: {} (sqlcommenter pool: {})",
                cached.traced, cached.commented
            ));
        }
        if args.wants("sqlite") {
            let (c, cached) = ops::sql::bench_sqlite(&p, args.plan).await?;
            report::comparisons(&c);
            state.push(format!(
                "SQLite TracedPool query cache entries after the run: {} (sqlcommenter pool: {})",
                cached.traced, cached.commented
            ));
        }
        if args.wants("mongo") {
            otel_testkit::env::require("mongodb", &otel_testkit::env::mongodb_uri());
            let (c, in_flight, _handler) = ops::mongo::bench(&p, args.plan).await?;
            report::comparisons(&c);
            state.push(format!(
                "Mongo handler in_flight after the run: {in_flight}"
            ));
        }
        if args.wants("http") {
            report::comparisons(&ops::http::bench(&p, args.plan).await?);
        }
        if args.wants("grpc") {
            report::comparisons(&ops::grpc::bench(&p, args.plan).await?);
        }
        report::state(&state);
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("benchmark failed: {e}");
        return ExitCode::FAILURE;
    }
    if args.wants("memory") {
        let n = if args.quick { 200_000 } else { 1_000_000 };
        let mut phases = memory::run(&p, n);
        let gets = if args.quick { 10_000 } else { 50_000 };
        match rt.block_on(memory::redis_phase(&p, gets)) {
            Ok(ph) => phases.push(ph),
            Err(e) => eprintln!("redis memory phase failed: {e}"),
        }
        report::memory(&phases);
    }
    println!(
        "\nspans exported (and dropped) by the no-op exporter: {}",
        p.exported()
    );
    #[cfg(feature = "alt-mongodb")]
    println!(
        "spans exported by the mongodb driver's OpenTelemetry 0.31 pipeline: {}",
        alt::otel031::exported()
    );
    #[cfg(feature = "alt-sqlx-otel")]
    println!(
        "spans exported by sqlx-otel's OpenTelemetry 0.32 pipeline: {}",
        alt::otel032::exported()
    );
    if let Err(e) = p.tracer_provider.shutdown() {
        eprintln!("tracer provider shutdown: {e}");
    }
    ExitCode::SUCCESS
}
