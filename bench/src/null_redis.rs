//! A redis connection that answers every command at once without I/O: it isolates the CPU
//! cost of `otel_redis::TracedConnection` (span, metric, argument redaction) from the network.

use std::hint::black_box;

use redis::aio::ConnectionLike;
use redis::{Cmd, Pipeline as RedisPipeline, RedisFuture, Value};

use crate::micro::{Micro, time};
use crate::pipeline::{Pipeline, unsampled_parent};

/// Answers `GET`s with a bulk string and pipelines with `OK`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullConnection;

impl ConnectionLike for NullConnection {
    fn req_packed_command<'a>(&'a mut self, _cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(std::future::ready(Ok(Value::BulkString(b"value".to_vec()))))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        _pipeline: &'a RedisPipeline,
        _offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(std::future::ready(Ok(vec![Value::Okay; count])))
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// `SET key value` through `conn`, polled to completion in place (the futures are ready).
fn set<C: ConnectionLike>(rt: &tokio::runtime::Runtime, conn: &mut C) {
    let mut cmd = redis::cmd("SET");
    cmd.arg("user:1").arg("a secret value");
    let r: redis::RedisResult<()> = rt.block_on(cmd.query_async(conn));
    let _ = black_box(r);
}

/// The redis adapter's CPU cost over [`NullConnection`].
pub fn micro(p: &Pipeline, n: usize) -> Vec<Micro> {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime for the redis microbenchmark: {e}");
            return Vec::new();
        }
    };
    let client = match redis::Client::open(otel_testkit::env::redis_url()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bad REDIS_URL: {e}");
            return Vec::new();
        }
    };
    let mut raw = NullConnection;
    let mut traced = otel_redis::TracedConnection::builder(&client)
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build(NullConnection);
    let mut out = vec![
        time("Redis SET over a null connection: raw", n, || {
            set(&rt, &mut raw)
        }),
        time(
            "Redis SET over a null connection: traced, sampled (incl. redaction)",
            n,
            || set(&rt, &mut traced),
        ),
    ];
    let _guard = unsampled_parent().attach();
    out.push(time(
        "Redis SET over a null connection: traced, unsampled",
        n,
        || set(&rt, &mut traced),
    ));
    out
}

/// `n` raw SETs over the null connection (the baseline of [`profile`]).
pub fn profile_raw(n: usize) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let mut raw = NullConnection;
    for _ in 0..n {
        set(&rt, &mut raw);
    }
}

/// `n` traced SETs over the null connection, under an unsampled parent when `unsampled`.
pub fn profile(p: &Pipeline, n: usize, unsampled: bool) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let Ok(client) = redis::Client::open(otel_testkit::env::redis_url()) else {
        return;
    };
    let mut traced = otel_redis::TracedConnection::builder(&client)
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build(NullConnection);
    let _guard = unsampled.then(|| unsampled_parent().attach());
    for _ in 0..n {
        set(&rt, &mut traced);
    }
}
