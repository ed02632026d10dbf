//! Plumbing shared by the HTTP and gRPC tower layers: the [`LayerBuilder`] every layer is
//! configured with, the response [`TracedBody`] that ends a span when the body ends, and
//! `http::HeaderMap` carriers for the propagators.

mod body;
mod builder;
mod headers;

pub use body::TracedBody;
pub use builder::{AttributesFn, FilterFn, LayerBuilder, SpanNameFn};
pub use headers::{HeaderExtractor, HeaderInjector};

pub(crate) use body::Completion;
pub(crate) use builder::Shared;

/// The `error.type` of an error value: its type name without generic parameters.
pub(crate) fn error_type_of<E: ?Sized>() -> &'static str {
    let full = std::any::type_name::<E>();
    full.split('<').next().unwrap_or(full)
}
