//! The opt-in HTTP metrics beside the duration: `http.server.active_requests` /
//! `http.client.active_requests` (UpDownCounter, `{request}`) and the body size histograms
//! `http.{server,client}.{request,response}.body.size` (bytes), switched on per layer. All are
//! `Development` in the conventions, hence off by default.
//!
//! Where the sizes come from:
//!
//! | | request body | response body |
//! |---|---|---|
//! | server | `Content-Length` of the request | bytes of the data frames sent (counted) |
//! | client | `Content-Length` of the request | `Content-Length` of the response (the span ends at the response head) |
//!
//! A body without `Content-Length` (chunked, streamed) records no request size, and a client
//! response without one no response size. With body sizes on, the span also carries
//! `http.request.body.size` / `http.response.body.size`.

use super::protocol::{HttpClient, HttpServer};
use crate::layer::trace_layer::LayerBuilder;

mod sealed {
    pub trait HttpOptions: crate::layer::protocol::Protocol {
        const SERVER: bool;
    }
}

impl sealed::HttpOptions for HttpServer {
    const SERVER: bool = true;
}

impl sealed::HttpOptions for HttpClient {
    const SERVER: bool = false;
}

impl<P: sealed::HttpOptions> LayerBuilder<P> {
    /// Records `http.server.active_requests` (server layer) or `http.client.active_requests`
    /// (client layer): +1 when a request starts, -1 when its span ends, with
    /// `http.request.method`, `url.scheme` and, where the duration metric has them,
    /// `server.address` / `server.port`. Off by default.
    ///
    /// Cost: two counter updates per request (one attribute-set lookup each).
    pub fn active_requests_metric(mut self, on: bool) -> Self {
        self.metric.extra.active_requests = on;
        self.metric.extra.server = P::SERVER;
        self
    }

    /// Records `http.{server,client}.request.body.size` and `...response.body.size` (bytes,
    /// the duration metric's attributes), from these sources. Off by default.
    ///
    /// | | request body | response body |
    /// |---|---|---|
    /// | server | `Content-Length` of the request | bytes of the data frames sent (counted) |
    /// | client | `Content-Length` of the request | `Content-Length` of the response (the span ends at the response head) |
    ///
    /// A body without `Content-Length` (chunked, streamed) records no request size, and a client
    /// response without one no response size. With body sizes on, the span also carries
    /// `http.request.body.size` / `http.response.body.size`.
    ///
    /// Cost: two histogram points per request, and on the server a counter add per body frame.
    pub fn body_size_metrics(mut self, on: bool) -> Self {
        self.metric.extra.body_sizes = on;
        self.metric.extra.server = P::SERVER;
        self
    }
}
