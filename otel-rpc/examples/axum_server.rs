//! An axum server traced by `HttpServerLayer` that calls itself through a `reqwest` client
//! traced by `HttpClientLayer`: one trace across two hops, propagated by `traceparent`.
//!
//! ```text
//! cargo run -p otel-rpc --example axum_server --features axum,reqwest
//! ```
//!
//! Needs no external service (the server listens on a free loopback port). Prints the spans
//! it recorded. An application would hand the provider an OTLP exporter; the SDK's in-memory
//! exporter keeps this example self-contained.

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otel_rpc::{HttpClientLayer, HttpServerLayer, OtelMiddleware};
use reqwest_middleware::ClientWithMiddleware;

#[derive(Clone)]
struct App {
    client: ClientWithMiddleware,
    base: String,
}

/// `GET /hello/{name}`: asks `/users/{name}` on this same server through the traced client.
async fn hello(State(app): State<App>, Path(name): Path<String>) -> Result<String, StatusCode> {
    let reply = app
        .client
        .get(format!("{}/users/{name}", app.base))
        .send()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    if !reply.status().is_success() {
        return Err(reply.status());
    }
    let user = reply.text().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    Ok(format!("hello, {user}\n"))
}

/// `GET /users/{name}`: 404 for `nobody`.
async fn user(Path(name): Path<String>) -> Result<String, StatusCode> {
    match name.as_str() {
        "nobody" => Err(StatusCode::NOT_FOUND),
        _ => Ok(name),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();

    // The traced client: a CLIENT span per request, context injected into the headers.
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(OtelMiddleware::from(
            HttpClientLayer::builder()
                .tracer_provider(tracer_provider.clone())
                .disable_metrics()
                .build(),
        ))
        .build();

    // The traced server: a SERVER span `GET /users/{name}` per request (the matched route),
    // parent extracted from the headers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/hello/{name}", get(hello))
        .route("/users/{name}", get(user))
        .with_state(App {
            client: client.clone(),
            base: base.clone(),
        })
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(tracer_provider.clone())
                .disable_metrics()
                .build(),
        );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
    });

    // Two hops in one trace: client -> server /hello -> client -> server /users.
    let reply = client.get(format!("{base}/hello/alice")).send().await?;
    print!("{} {}", reply.status(), reply.text().await?);
    // A 404 is an error for the client span (error.type 404), not for the server span.
    let reply = client.get(format!("{base}/users/nobody")).send().await?;
    println!("{}", reply.status());

    // Stop the server and wait until every response (and so every server span) has ended.
    drop(client);
    let _ = stop.send(());
    server.await??;

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
