//! A traced multiplexed Redis connection: plain commands, a pipeline, an atomic pipeline and an
//! error reply, under one application span.
//!
//! ```text
//! scripts/services.sh up redis
//! cargo run -p otel-redis --example traced_connection
//! ```
//!
//! Reads `REDIS_URL` (default `redis://127.0.0.1:6379/`) and prints the spans it recorded. An
//! application would hand the provider an OTLP exporter; the SDK's in-memory exporter keeps this
//! example self-contained.

use opentelemetry::Context;
use opentelemetry::trace::{FutureExt, SpanId, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otel_redis::TracedConnection;
use redis::AsyncCommands;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();

    let client = redis::Client::open(url.as_str())?;
    let inner = match client.get_multiplexed_async_connection().await {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("cannot reach Redis at {url}: {e}");
            eprintln!("start the test services with: scripts/services.sh up");
            std::process::exit(1);
        }
    };
    // Wrap the connection once (server.address / port / db come from the client's URL).
    let mut conn = TracedConnection::builder(&client)
        .tracer_provider(tracer_provider.clone())
        .disable_metrics()
        .build(inner);

    // The commands' spans are children of whatever span is current when they are issued.
    let request = tracer_provider.tracer("example").start("handle request");
    let cx = Context::current_with_span(request);
    async {
        let () = conn.set("otel_redis_example:user", "alice").await?;
        let user: String = conn.get("otel_redis_example:user").await?;
        println!("read back {user:?}");

        // One span for the whole pipeline, named PIPELINE, db.operation.batch.size = 3.
        let (visits, ttl): (i64, i64) = redis::pipe()
            .incr("otel_redis_example:visits", 1)
            .expire("otel_redis_example:visits", 60)
            .ignore()
            .ttl("otel_redis_example:visits")
            .query_async(&mut conn)
            .await?;
        println!("visits {visits}, ttl {ttl}s");

        // MULTI ... EXEC: one span, db.operation.name = MULTI.
        let (): () = redis::pipe()
            .atomic()
            .del("otel_redis_example:user")
            .del("otel_redis_example:visits")
            .query_async(&mut conn)
            .await?;

        // An error reply: error.type is its closed prefix (ERR), the reply text is not recorded.
        let () = conn.set("otel_redis_example:name", "not a number").await?;
        let failed: redis::RedisResult<i64> = conn.incr("otel_redis_example:name", 1).await;
        println!("INCR on a string failed, as expected: {}", failed.is_err());
        let _: i64 = conn.del("otel_redis_example:name").await?;
        Ok::<(), redis::RedisError>(())
    }
    .with_context(cx.clone())
    .await?;
    cx.span().end();

    println!();
    print_spans(&spans.get_finished_spans()?);
    tracer_provider.shutdown()?;
    Ok(())
}

/// Prints each span (kind, name, status, attributes, events), children under their parent.
fn print_spans(spans: &[SpanData]) {
    let known = |id: SpanId| spans.iter().any(|s| s.span_context.span_id() == id);
    let mut roots: Vec<&SpanData> = spans.iter().filter(|s| !known(s.parent_span_id)).collect();
    roots.sort_by_key(|s| s.start_time);
    for span in roots {
        print_tree(spans, span, 0);
    }
}

fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
    let pad = "  ".repeat(depth);
    println!(
        "{pad}{:?} {:?} status={}",
        span.span_kind,
        span.name,
        match &span.status {
            Status::Unset => "Unset".into(),
            Status::Ok => "Ok".into(),
            Status::Error { description } if description.is_empty() => "Error".into(),
            Status::Error { description } => format!("Error({description:?})"),
        }
    );
    for kv in &span.attributes {
        println!("{pad}    {} = {}", kv.key, kv.value);
    }
    for event in span.events.iter() {
        println!("{pad}    event {}", event.name);
    }
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|s| s.start_time);
    for child in children {
        print_tree(spans, child, depth + 1);
    }
}
