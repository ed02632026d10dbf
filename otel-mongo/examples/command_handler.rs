//! The command handler installed on `ClientOptions`: an insert, a find, and a duplicate key
//! (11000) classified as expected, under one application span.
//!
//! ```text
//! scripts/services.sh up ferretdb
//! cargo run -p otel-mongo --example command_handler
//! ```
//!
//! Reads `MONGODB_URI` (default `mongodb://127.0.0.1:27017/`; FerretDB answers there in the test
//! services) and prints the spans it recorded. An application would hand the provider an OTLP
//! exporter; the SDK's in-memory exporter keeps this example self-contained.

use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::{Client, options::ClientOptions};
use opentelemetry::Context;
use opentelemetry::trace::{FutureExt, SpanId, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otel_mongo::{InstrumentationOptions, OtelCommandHandler};
use otel_rpc::{Observed, Verdict};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017/".into());
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();

    let mut options = ClientOptions::parse(&uri).await?;
    options.server_selection_timeout = Some(Duration::from_secs(3)); // fail fast when it is down
    // Install the handler once on the options (command and connection pool events).
    OtelCommandHandler::builder()
        .tracer_provider(tracer_provider.clone())
        .disable_metrics()
        .classify(|o| match o {
            // A duplicate key is an answer this application expects, not an error.
            Observed::Db {
                status_code: Some("11000"),
                ..
            } => Some(Verdict::NotError),
            _ => None,
        })
        .build()
        .install(&mut options);
    let client = Client::with_options(options)?;
    let users = client
        .database("test")
        .collection::<Document>("otel_mongo_example");

    // The commands' spans are children of whatever span is current when they are issued.
    let request = tracer_provider.tracer("example").start("handle request");
    let cx = Context::current_with_span(request);
    let outcome = async {
        users.delete_many(doc! {}).await?;
        users
            .insert_one(doc! { "_id": 1, "name": "alice", "email": "alice@example.com" })
            .await?;
        let mut cursor = users.find(doc! { "name": "alice" }).await?;
        while cursor.advance().await? {
            let user = cursor.deserialize_current()?;
            println!("found {:?}", user.get_str("name"));
        }
        let duplicate = users.insert_one(doc! { "_id": 1, "name": "bob" }).await;
        println!(
            "duplicate _id rejected, as expected: {}",
            duplicate.is_err()
        );
        users.drop().await?;
        Ok::<(), mongodb::error::Error>(())
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    if let Err(e) = outcome {
        eprintln!("MongoDB at {uri} failed: {e}");
        eprintln!("start the test services with: scripts/services.sh up");
        std::process::exit(1);
    }

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
