//! Test support (feature `testing`): the semantic-conventions tables tests check exported
//! telemetry against, and the limits, defaults and environment names they assert on. Not part
//! of the API applications or adapters use.

pub use crate::classify::{GRPC_SERVER_ERROR_CODES, classifier, default_verdict};
pub use crate::conventions::{
    Attr, Conventions, DB, HTTP_CLIENT, HTTP_SERVER, RPC_CLIENT, RPC_SERVER, RPC_STATUS_CODE,
    Requirement, SCHEMA_URL, SEMCONV_VERSION, Stability,
};
pub use crate::exception::EXCEPTION_SIGNAL_ENV;
pub use crate::metric::{
    DB_DURATION_BOUNDARIES, DB_METRIC_KEYS, HTTP_CLIENT_METRIC_KEYS, HTTP_DURATION_BOUNDARIES,
    HTTP_SERVER_METRIC_KEYS, HTTP_SERVER_METRIC_KEYS_WITH_SERVER_ADDRESS, RPC_METRIC_KEYS,
};
pub use crate::options::{enabled_env_var, enabled_from_env};
pub use crate::pool::observer::{MAX_POOL_NAME_LEN, POOL_TIME_BOUNDARIES};
pub use crate::propagation::{
    MAX_PROPAGATION_HEADER_LEN,
    baggage::{MAX_BAGGAGE_LEN, MAX_BAGGAGE_MEMBER_LEN, MAX_BAGGAGE_MEMBERS},
    env::{
        BoxedPropagator, DEFAULT_PROPAGATORS, OTEL_PROPAGATORS, propagator_from_env_with,
        propagator_from_names,
    },
    extractor::BoundedExtractor,
    global::{DefaultPropagator, global_propagator_installed, w3c_propagator},
    traceparent::{TRACEPARENT_LEN, valid_traceparent},
    tracestate::{MAX_TRACESTATE_LEN, MAX_TRACESTATE_MEMBERS},
};
pub use crate::semconv_mode::SEMCONV_STABILITY_ENV;
pub use crate::untrusted::DEFAULT_MAX_ERROR_TEXT_LEN;

#[cfg(feature = "http")]
pub use crate::capture::{
    MAX_CAPTURED_HEADERS, MAX_CAPTURED_VALUE_LEN, MAX_CAPTURED_VALUES, SENSITIVE_HEADERS,
    request_env_vars, response_env_vars,
};
#[cfg(feature = "http")]
pub use crate::http::known_methods::{DEFAULT_KNOWN_METHODS, KNOWN_METHODS_ENV, MAX_KNOWN_METHODS};
#[cfg(feature = "http")]
pub use crate::layer::rules::Side;

#[cfg(feature = "http")]
pub use crate::http::{
    request_facts::{REDACTED, redact_url},
    server::MAX_METRIC_SERVER_ADDRESSES,
};
#[cfg(feature = "http")]
pub use crate::layer::{
    headers::{HeaderExtractor, HeaderInjector},
    peer::{MAX_PEER_SERVICE_LEN, PEER_SERVICE_HEADER},
};

#[cfg(feature = "grpc")]
pub use crate::grpc::{
    method::MAX_LEARNED_METHODS,
    status::{code_name, is_server_error},
};
