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
//! * untrusted text: server, peer and application error text is never recorded by default
//!   ([`ErrorTextMode`]); names pass a shape check ([`name_shape_ok`], [`scrub`]), codes come
//!   from closed sets ([`closed`], [`OTHER`]);
//! * [`Outcome`] / [`Failure`]: status Error + `error.type` on failure, a description only
//!   when it adds something, exceptions only for real errors;
//! * exceptions as span events, log records or both ([`ExceptionSignal`],
//!   `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`);
//! * classification: the conventions' error defaults and a user rule on top ([`Observed`],
//!   [`Verdict`]);
//! * the one builder vocabulary ([`InstrumentationOptions`], [`DbInstrumentationOptions`]);
//! * per [`Domain`] the semantic-conventions version and schema URL.
//! * `OTEL_SEMCONV_STABILITY_OPT_IN` ([`SemconvStability`]: `database/dup`, `http/dup`,
//!   `rpc/dup`): the previous attribute names beside the current ones, from one table;
//! * header and gRPC metadata capture by allow-list (feature `http`, `LayerBuilder::capture_request_headers`).
//!
//! The core has no HTTP or gRPC dependency; the layers live behind features:
//!
//! * `http`: `HttpServerLayer` and `HttpClientLayer`, tower layers for HTTP servers (axum,
//!   hyper) and clients (hyper-util), configured with a `LayerBuilder`;
//! * `axum`: route templates (`MatchedPath`) and client addresses (`ConnectInfo`) from axum;
//! * `grpc`: `GrpcServerLayer` and `GrpcClientLayer` for tonic;
//! * `reqwest`: `OtelMiddleware` for `reqwest-middleware`;
//! * `testing`: the conventions tables and limits tests assert on (`otel_rpc::testing`).
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
mod capture;
mod classify;
mod conventions;
mod db;
mod exception;
#[cfg(feature = "grpc")]
mod grpc;
mod health;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
mod layer;
mod metric;
mod options;
mod outcome;
mod parent;
pub mod pool;
mod prepared;
mod propagation;
mod providers;
mod recorder;
mod recording;
mod semconv_mode;
mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
mod untrusted;

// The whole public API: what adapters, layers and applications name.
pub use self::{
    // Recording spans: the recorder, one operation's recording, how it ended.
    classify::{Observed, Verdict},
    conventions::Domain,
    db::{DbOperation, QueryText, QueryTextMode},
    exception::{ExceptionSignal, set_logger_provider},
    health::{count_swallowed_error, swallowed_errors},
    metric::DurationMetric,
    options::{CommonOptions, DbHooks, DbInstrumentationOptions, InstrumentationOptions},
    outcome::{Failure, Outcome},
    parent::current_context,
    prepared::PreparedOperation,
    propagation::env::propagator_from_env,
    recorder::{SpanRecorder, SpanRecorderBuilder},
    recording::Recording,
    semconv_mode::SemconvStability,
    untrusted::{ErrorTextMode, MAX_NAME_LEN, OTHER, closed, name_shape_ok, scrub},
};

#[cfg(feature = "http")]
pub use self::{
    http::client::{HttpClientLayer, HttpClientService},
    http::known_methods::KnownMethods,
    http::protocol::{HttpClient, HttpServer},
    http::server::HttpServerLayer,
    layer::body::TracedBody,
    layer::future::TraceFuture,
    layer::service::TraceService,
    layer::trace_layer::{LayerBuilder, TraceLayer},
};

#[cfg(feature = "reqwest")]
pub use self::http::reqwest::OtelMiddleware;

#[cfg(feature = "grpc")]
pub use self::{
    grpc::client::{GrpcClientLayer, GrpcClientService},
    grpc::protocol::{GrpcClient, GrpcServer},
    grpc::server::GrpcServerLayer,
};

/// Re-exported so adapters and users name the same versions.
pub use opentelemetry;
