//! A service that already runs `tracing`: tower-http's `TraceLayer` for request logs,
//! `tracing-opentelemetry` exporting `tracing` spans, handlers with `#[instrument]`, plus
//! otel-rpc's [`HttpServerLayer`] and otel-sqlx's [`TracedPool`] (SQLite).
//!
//! The layer order is the point: [`HttpServerLayer`] is the **outer** layer (first in a
//! `ServiceBuilder`, or the last `Router::layer` call), tower-http's `TraceLayer` inside it. The server layer then sees the
//! request first, takes the caller's `traceparent` and starts the SERVER span, and runs the
//! inner service (its `call` and every poll) under that span, so `TraceLayer`'s `request`
//! span, the handler's `#[instrument]` span and the query spans all join the same trace:
//!
//! ```text
//! GET /orders/{id}            SERVER   (HttpServerLayer)
//! └─ request                  INTERNAL (TraceLayer, via tracing-opentelemetry)
//!    └─ load_order            INTERNAL (#[instrument], via tracing-opentelemetry)
//!       └─ SELECT orders      CLIENT   (TracedPool)
//! ```
//!
//! The other order (`TraceLayer` outside) makes `TraceLayer`'s span a root of its own: a server
//! layer parents its span to the incoming `traceparent`, never to a local span, so the request
//! would be split into two traces.

use otel_rpc::InstrumentationOptions;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use otel_rpc::HttpServerLayer;
use otel_sqlx::TracedPool;
use sqlx::Sqlite;
use tower::ServiceBuilder;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use tracing::Level;
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Layer, SubscriberExt};

/// The service's routes behind one `ServiceBuilder` stack (axum's recommended way to add
/// several layers; it lists them outermost first): `HttpServerLayer`, then `TraceLayer`.
pub fn router(pool: TracedPool<Sqlite>, tracer_provider: &SdkTracerProvider) -> Router {
    Router::new()
        .route("/orders/{id}", get(get_order))
        .with_state(Arc::new(pool))
        .layer(
            ServiceBuilder::new()
                // Outer: starts the SERVER span from the incoming `traceparent`.
                .layer(
                    HttpServerLayer::builder()
                        .tracer_provider(tracer_provider.clone())
                        .build(),
                )
                // Inner: created inside the server span, so its `request` span is its child.
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(DefaultMakeSpan::new().level(Level::INFO)),
                ),
        )
}

/// The `tracing` subscriber of the service: `tracing-opentelemetry` exporting `tracing` spans
/// at `INFO` and above through `tracer_provider` (give it a level filter: without one it
/// exports every `TRACE` span of every library). Keep `context_activation` on (the default of
/// `tracing-opentelemetry`): inside a request, the current OpenTelemetry context is the SERVER
/// span, so without activation a query's parent is that span, not the handler's.
pub fn subscriber(
    tracer_provider: &SdkTracerProvider,
    context_activation: bool,
) -> impl tracing::Subscriber + Send + Sync {
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer_provider.tracer("tracing"))
        .with_context_activation(context_activation)
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    Registry::default().with(otel)
}

async fn get_order(
    State(pool): State<Arc<TracedPool<Sqlite>>>,
    Path(id): Path<i64>,
) -> Result<String, StatusCode> {
    load_order(&pool, id)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::NOT_FOUND)
}

/// The handler's own span: the query spans nest under it (otel-sqlx's `tracing` feature finds
/// it even when `tracing-opentelemetry`'s context activation is off).
#[tracing::instrument(skip(pool))]
async fn load_order(pool: &TracedPool<Sqlite>, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT item FROM orders WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A job outside any request: its `#[instrument]` span is a root and the query its child.
/// No OpenTelemetry context is current here, so without `tracing-opentelemetry`'s context
/// activation it is otel-sqlx's `tracing` feature that finds the parent.
#[tracing::instrument(skip(pool))]
pub async fn count_orders(pool: &TracedPool<Sqlite>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(pool)
        .await
}

/// Creates the `orders` table with one row (id 1) on `pool`.
pub async fn seed(pool: &TracedPool<Sqlite>) -> Result<(), sqlx::Error> {
    sqlx::query("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)")
        .execute(pool)
        .await?;
    sqlx::query("INSERT OR REPLACE INTO orders (id, item) VALUES (1, 'teapot')")
        .execute(pool)
        .await?;
    Ok(())
}
