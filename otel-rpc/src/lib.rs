//! OpenTelemetry tracing core for Rust services: one [`SpanRecorder`] per span kind that
//! starts spans (extracting the parent from incoming carriers on the server side, injecting
//! into outgoing ones on the client side), ends them with an [`Outcome`] that classifies
//! errors, and records the `*.duration` histogram of the domain.
//!
//! It is the Rust form of go-kratos' `middleware/tracing` (`NewTracer(kind)`, `Start`, `End`),
//! generalised so that database adapters (`otel-mongo`, `otel-sqlx`, `otel-redis`) and the
//! HTTP / gRPC tower layers share one implementation of naming, status and metric rules.
//!
//! The rules every adapter shares live once, here:
//!
//! * [`untrusted`]: server, peer and application error text is never recorded by default
//!   ([`ErrorTextMode`]); names pass a shape check, codes come from closed sets;
//! * [`Outcome`] / [`Failure`]: status Error + `error.type` on failure, a description only
//!   when it adds something, exceptions only for real errors;
//! * [`exception`]: exceptions as span events, log records or both
//!   (`OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`);
//! * [`classify`]: the conventions' error defaults and a user rule on top;
//! * [`options`]: the one builder vocabulary ([`InstrumentationOptions`]);
//! * [`conventions`]: per domain the semantic-conventions version, schema URL and attribute
//!   sets with requirement levels.
//! * [`semconv_mode`]: `OTEL_SEMCONV_STABILITY_OPT_IN` (`database/dup`, `http/dup`,
//!   `rpc/dup`): the previous attribute names beside the current ones, from one table;
//! * `capture` (feature `http`): request / response headers and gRPC metadata by allow-list.
//!
//! The core has no HTTP or gRPC dependency; the layers live behind features:
//!
//! * `http`: [`http::HttpServerLayer`] and [`http::HttpClientLayer`], tower layers for HTTP
//!   servers (axum, hyper) and clients (hyper-util), configured with a
//!   [`layer::LayerBuilder`];
//! * `axum`: route templates (`MatchedPath`) and client addresses (`ConnectInfo`) from axum;
//! * `grpc`: [`grpc::GrpcServerLayer`] and [`grpc::GrpcClientLayer`] for tonic;
//! * `reqwest`: `http::OtelMiddleware` for `reqwest-middleware`.
//!
//! Each layer type documents a copy-paste example. With the `tracing` feature, [`current_context`] falls back to the current
//! `tracing` span (via `tracing-opentelemetry`) when no OpenTelemetry span is active.
//!
//! ```
//! use opentelemetry::trace::SpanKind;
//! use otel_rpc::{DbOperation, Outcome, SpanRecorder, current_context};
//!
//! let recorder = SpanRecorder::builder(SpanKind::Client, "my-db-adapter")
//!     .status_code_attribute(opentelemetry_semantic_conventions::attribute::DB_RESPONSE_STATUS_CODE)
//!     .build();
//! let op = DbOperation::new("postgresql").namespace("shop").operation("SELECT").collection("orders");
//! let recording = recorder.start_db(&current_context(), &op);
//! // ... run the query ...
//! recording.end(Outcome::Success);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "http")]
pub mod capture;
pub mod classify;
pub mod conventions;
mod db;
pub mod exception;
#[cfg(feature = "grpc")]
pub mod grpc;
pub mod health;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub mod layer;
mod metric;
pub mod options;
mod outcome;
mod parent;
pub mod pool;
pub mod propagation;
mod providers;
mod recorder;
mod recording;
pub mod semconv_mode;
pub mod text;
pub mod untrusted;

pub use db::{DbOperation, QueryText};
pub use metric::{
    DB_DURATION_BOUNDARIES, DB_METRIC_KEYS, DurationMetric, HTTP_CLIENT_METRIC_KEYS,
    HTTP_DURATION_BOUNDARIES, HTTP_METRIC_KEYS, HTTP_SERVER_METRIC_KEYS,
    HTTP_SERVER_METRIC_KEYS_WITH_SERVER_ADDRESS, RPC_METRIC_KEYS,
};
pub use options::{CommonOptions, InstrumentationOptions};
pub use outcome::{CANCELLED_ERROR_TYPE, Failure, Outcome};
pub use parent::current_context;
pub use recorder::{SpanRecorder, SpanRecorderBuilder};
pub use recording::Recording;
pub use untrusted::ErrorTextMode;

/// Re-exported so adapters and users name the same versions.
pub use opentelemetry;
