//! The instruments of one recorder: the duration histogram and, for HTTP layers that opted
//! in, `http.*.active_requests` and the request / response body size histograms.

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use opentelemetry_semantic_conventions::{attribute, metric};

/// Which of the HTTP metrics beside the duration a recorder records (all `Development` in the
/// conventions, so off unless asked for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ExtraMetrics {
    /// `http.server.active_requests` / `http.client.active_requests`.
    pub(crate) active_requests: bool,
    /// `http.{server,client}.{request,response}.body.size`.
    pub(crate) body_sizes: bool,
    /// Server-side names (`http.server.*`), else client-side.
    pub(crate) server: bool,
}

/// The keys of `http.*.active_requests`, taken from the operation's start metric attributes
/// (so `server.address` / `server.port` only where the duration metric has them).
const ACTIVE_REQUEST_KEYS: [&str; 4] = [
    attribute::HTTP_REQUEST_METHOD,
    attribute::URL_SCHEME,
    attribute::SERVER_ADDRESS,
    attribute::SERVER_PORT,
];

/// Bucket boundaries (bytes) of the body size histograms: powers of 4 from 64 B to 64 MiB
/// (the conventions advise none).
const BODY_SIZE_BOUNDARIES: [f64; 11] = [
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// The duration histogram and the opted-in extras, built from one meter.
#[derive(Clone)]
pub(crate) struct Instruments {
    duration: Histogram<f64>,
    pub(crate) http: Option<Arc<HttpInstruments>>,
}

/// The extra HTTP instruments of a recorder.
pub(crate) struct HttpInstruments {
    active: Option<UpDownCounter<i64>>,
    request_size: Option<Histogram<u64>>,
    response_size: Option<Histogram<u64>>,
}

impl Instruments {
    /// `duration` and the instruments `extra` asks for, from `meter`.
    pub(crate) fn new(duration: Histogram<f64>, meter: &Meter, extra: ExtraMetrics) -> Self {
        let http = (extra.active_requests || extra.body_sizes).then(|| {
            let (active, request, response) = if extra.server {
                (
                    metric::HTTP_SERVER_ACTIVE_REQUESTS,
                    metric::HTTP_SERVER_REQUEST_BODY_SIZE,
                    metric::HTTP_SERVER_RESPONSE_BODY_SIZE,
                )
            } else {
                (
                    metric::HTTP_CLIENT_ACTIVE_REQUESTS,
                    metric::HTTP_CLIENT_REQUEST_BODY_SIZE,
                    metric::HTTP_CLIENT_RESPONSE_BODY_SIZE,
                )
            };
            let size = |name: &'static str, description: &'static str| {
                meter
                    .u64_histogram(name)
                    .with_unit("By")
                    .with_description(description)
                    .with_boundaries(BODY_SIZE_BOUNDARIES.to_vec())
                    .build()
            };
            Arc::new(HttpInstruments {
                active: extra.active_requests.then(|| {
                    meter
                        .i64_up_down_counter(active)
                        .with_unit("{request}")
                        .with_description("Number of active HTTP requests.")
                        .build()
                }),
                request_size: extra
                    .body_sizes
                    .then(|| size(request, "Size of HTTP request bodies.")),
                response_size: extra
                    .body_sizes
                    .then(|| size(response, "Size of HTTP response bodies.")),
            })
        });
        Instruments { duration, http }
    }

    /// The duration histogram (seconds).
    pub(crate) fn duration(&self) -> &Histogram<f64> {
        &self.duration
    }
}

/// What an operation with extra HTTP instruments keeps until it ends.
pub(crate) struct HttpState {
    instruments: Arc<HttpInstruments>,
    /// The attributes the active-requests counter was incremented with (decremented with
    /// the same at the end); `None` when that counter is off.
    active: Option<Vec<KeyValue>>,
    pub(crate) request_size: Option<u64>,
    pub(crate) response_size: Option<u64>,
}

impl HttpState {
    /// Starts an operation: increments the active-requests counter with the active-request
    /// keys of `metric_attrs`.
    pub(crate) fn start(instruments: Arc<HttpInstruments>, metric_attrs: &[KeyValue]) -> Self {
        let active = instruments.active.as_ref().map(|counter| {
            let attrs: Vec<KeyValue> = metric_attrs
                .iter()
                .filter(|kv| ACTIVE_REQUEST_KEYS.contains(&kv.key.as_str()))
                .cloned()
                .collect();
            counter.add(1, &attrs);
            attrs
        });
        HttpState {
            instruments,
            active,
            request_size: None,
            response_size: None,
        }
    }

    /// `true` when body sizes are recorded.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn body_sizes(&self) -> bool {
        self.instruments.request_size.is_some()
    }

    /// Ends the operation: decrements the active-requests counter and records the body
    /// sizes that are known, with the operation's final metric attributes.
    pub(crate) fn finish(self, metric_attrs: &[KeyValue]) {
        if let (Some(counter), Some(attrs)) = (&self.instruments.active, &self.active) {
            counter.add(-1, attrs);
        }
        if let (Some(h), Some(n)) = (&self.instruments.request_size, self.request_size) {
            h.record(n, metric_attrs);
        }
        if let (Some(h), Some(n)) = (&self.instruments.response_size, self.response_size) {
            h.record(n, metric_attrs);
        }
    }
}
