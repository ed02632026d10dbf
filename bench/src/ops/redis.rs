//! Redis: `GET` and a 10-command pipeline through a multiplexed connection, raw and wrapped in
//! `otel_redis::TracedConnection` (same underlying connection).

use redis::aio::MultiplexedConnection;
use tracing::Instrument;

use super::{Plan, check, with_parent};
use crate::measure::{Comparison, Variant, compare};
use crate::pipeline::Pipeline;

/// Keys used by the benchmark (unique per process).
struct Keys {
    get: String,
    pipe: Vec<String>,
}

fn pipeline(keys: &Keys) -> redis::Pipeline {
    let mut p = redis::pipe();
    for k in &keys.pipe {
        p.cmd("SET").arg(k).arg("value").ignore();
        p.cmd("GET").arg(k).ignore();
    }
    p
}

/// Connects raw and traced connections.
pub async fn connect(
    p: &Pipeline,
) -> redis::RedisResult<(
    redis::Client,
    MultiplexedConnection,
    otel_redis::TracedConnection<MultiplexedConnection>,
)> {
    let client = redis::Client::open(otel_testkit::env::redis_url())?;
    let raw = client.get_multiplexed_async_connection().await?;
    let traced = otel_redis::TracedConnection::builder(&client)
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build(raw.clone());
    Ok((client, raw, traced))
}

/// `GET` and pipeline comparisons.
pub async fn bench(p: &Pipeline, plan: Plan) -> redis::RedisResult<Vec<Comparison>> {
    let (_client, raw, traced) = connect(p).await?;
    let pid = std::process::id();
    let keys = Keys {
        get: format!("otel-bench:{pid}:get"),
        pipe: (0..5).map(|i| format!("otel-bench:{pid}:p{i}")).collect(),
    };
    let mut setup = raw.clone();
    let _: () = redis::cmd("SET")
        .arg(&keys.get)
        .arg("value")
        .query_async(&mut setup)
        .await?;

    let get = {
        let (mut raw, mut traced) = (raw.clone(), traced.clone());
        let key = keys.get.as_str();
        compare(
            "Redis GET",
            plan.rounds,
            plan.ops(2000),
            &[],
            async |v, n| {
                with_parent(v, async {
                    for _ in 0..n {
                        let cmd = redis::cmd("GET").arg(key).clone();
                        let r: redis::RedisResult<Option<String>> = match v {
                            Variant::Raw => cmd.query_async(&mut raw).await,
                            Variant::Sampled | Variant::Unsampled => {
                                cmd.query_async(&mut traced).await
                            }
                            Variant::Alt(_) => unreachable!("no Redis alternative"),
                            Variant::Tracing => {
                                let span = tracing::info_span!(
                                    "GET",
                                    otel.kind = "client",
                                    db.system.name = "redis",
                                    db.namespace = "0",
                                    db.operation.name = "GET",
                                    db.query.summary = "GET",
                                    db.query.text = "GET otel-bench:get",
                                    server.address = "127.0.0.1",
                                    server.port = 6379,
                                );
                                cmd.query_async(&mut raw).instrument(span).await
                            }
                        };
                        check(r);
                    }
                })
                .await
            },
        )
        .await
    };

    let pipe = {
        let (mut raw, mut traced) = (raw.clone(), traced.clone());
        let pl = pipeline(&keys);
        compare(
            "Redis pipeline (10 cmds)",
            plan.rounds,
            plan.ops(1000),
            &[],
            async |v, n| {
                with_parent(v, async {
                    for _ in 0..n {
                        let r: redis::RedisResult<()> = match v {
                            Variant::Raw => pl.query_async(&mut raw).await,
                            Variant::Sampled | Variant::Unsampled => {
                                pl.query_async(&mut traced).await
                            }
                            Variant::Alt(_) => unreachable!("no Redis alternative"),
                            Variant::Tracing => {
                                let span = tracing::info_span!(
                                    "PIPELINE SET GET",
                                    otel.kind = "client",
                                    db.system.name = "redis",
                                    db.namespace = "0",
                                    db.operation.name = "PIPELINE",
                                    db.query.summary = "PIPELINE SET GET",
                                    db.operation.batch.size = 10,
                                    server.address = "127.0.0.1",
                                    server.port = 6379,
                                );
                                pl.query_async(&mut raw).instrument(span).await
                            }
                        };
                        check(r);
                    }
                })
                .await
            },
        )
        .await
    };

    let mut cleanup = raw.clone();
    let mut del = redis::cmd("DEL");
    del.arg(&keys.get).arg(&keys.pipe);
    let _: redis::RedisResult<i64> = del.query_async(&mut cleanup).await;
    Ok(vec![get, pipe])
}
