//! Classification: whether an observed outcome (an HTTP status, a gRPC code, a database error
//! code) is an error, with the semantic conventions' defaults and a user rule on top.
//!
//! A [`Classifier`] sees what was [`Observed`] and returns `Some(Verdict)` to decide, or
//! `None` to leave the decision to the default rule ([`default_verdict`]). The same hook exists
//! on every layer and adapter (`classify(..)` in the options vocabulary, see
//! [`InstrumentationOptions`](crate::options::InstrumentationOptions)).
//!
//! ```
//! use opentelemetry::trace::SpanKind;
//! use otel_rpc::{Observed, Verdict};
//! use otel_rpc::testing::default_verdict;
//!
//! // Defaults: a 404 is not a server error, a 503 is; any 4xx is a client error.
//! assert_eq!(default_verdict(&SpanKind::Server, &Observed::Http { status: 404 }), Verdict::NotError);
//! assert_eq!(default_verdict(&SpanKind::Server, &Observed::Http { status: 503 }), Verdict::Error);
//! assert_eq!(default_verdict(&SpanKind::Client, &Observed::Http { status: 404 }), Verdict::Error);
//!
//! // A user rule: a unique violation is expected on this pool, NOT_FOUND is expected from
//! // this service, and everything else keeps the default.
//! let rule = |o: &Observed<'_>| match o {
//!     Observed::Db { status_code: Some("23505"), .. } => Some(Verdict::NotError),
//!     Observed::Grpc { code: 5 } => Some(Verdict::NotError),
//!     _ => None,
//! };
//! assert_eq!(rule(&Observed::Db { status_code: Some("23505"), error_type: Some("23505") }), Some(Verdict::NotError));
//! assert_eq!(rule(&Observed::Http { status: 500 }), None);
//! ```

use std::sync::Arc;

use opentelemetry::trace::SpanKind;

/// Whether an outcome is recorded as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Status `Error` and `error.type` on span and metric.
    Error,
    /// Status left `Unset`, no `error.type` (the status code attribute is kept).
    NotError,
}

/// What an operation's outcome looked like, as given to a classification rule (`classify(..)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observed<'a> {
    /// An HTTP response status code.
    Http {
        /// The status code, e.g. `404`.
        status: u16,
    },
    /// A gRPC status code (`0` = OK, `5` = NOT_FOUND, ...).
    Grpc {
        /// The numeric code.
        code: i32,
    },
    /// A database outcome: both `None` for a success; for a failure the status code (SQLSTATE
    /// `23505`, Mongo code `11000`, Redis prefix `WRONGTYPE`) and `error.type` the adapter gave.
    Db {
        /// The response status code, when the server gave one.
        status_code: Option<&'a str>,
        /// The failure's `error.type`; `None` for a success.
        error_type: Option<&'a str>,
    },
}

/// A user rule: `Some(verdict)` decides, `None` keeps the default rule.
pub type Classifier = Arc<dyn Fn(&Observed<'_>) -> Option<Verdict> + Send + Sync>;

/// gRPC codes a server records as errors (the RPC conventions): UNKNOWN, DEADLINE_EXCEEDED,
/// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. A client records every non-OK code.
pub const GRPC_SERVER_ERROR_CODES: &[i32] = &[2, 4, 12, 13, 14, 15];

/// The one gRPC server-error rule: a [`GRPC_SERVER_ERROR_CODES`] code, or a code outside
/// the known range (0..=16).
pub(crate) fn grpc_server_error(code: i32) -> bool {
    GRPC_SERVER_ERROR_CODES.contains(&code) || !(0..=16).contains(&code)
}

/// The semantic conventions' default for `observed` on a span of `kind`:
///
/// * HTTP: a server errs on 5xx (4xx is the client's fault); a client on any status >= 400;
///   a status outside 100..=599 is an error on both sides;
/// * gRPC: a server errs on [`GRPC_SERVER_ERROR_CODES`], a client on every non-OK code;
/// * database: a failure (an `error_type`) is an error, a success is not.
pub fn default_verdict(kind: &SpanKind, observed: &Observed<'_>) -> Verdict {
    let error = match *observed {
        Observed::Http { status } => match kind {
            SpanKind::Server => !(100..500).contains(&status),
            _ => !(100..400).contains(&status),
        },
        Observed::Grpc { code } => match kind {
            SpanKind::Server => grpc_server_error(code),
            _ => code != 0,
        },
        Observed::Db { error_type, .. } => error_type.is_some(),
    };
    if error {
        Verdict::Error
    } else {
        Verdict::NotError
    }
}

/// Wraps a closure into a classifier (`Arc<dyn Fn(&Observed) -> Option<Verdict>>`).
#[cfg(any(test, feature = "testing"))]
pub fn classifier(
    rule: impl Fn(&Observed<'_>) -> Option<Verdict> + Send + Sync + 'static,
) -> Classifier {
    Arc::new(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_defaults() {
        for (kind, status, want) in [
            (SpanKind::Server, 200, Verdict::NotError),
            (SpanKind::Server, 404, Verdict::NotError),
            (SpanKind::Server, 499, Verdict::NotError),
            (SpanKind::Server, 500, Verdict::Error),
            (SpanKind::Server, 600, Verdict::Error),
            (SpanKind::Server, 42, Verdict::Error),
            (SpanKind::Client, 302, Verdict::NotError),
            (SpanKind::Client, 400, Verdict::Error),
            (SpanKind::Client, 503, Verdict::Error),
        ] {
            assert_eq!(
                default_verdict(&kind, &Observed::Http { status }),
                want,
                "{kind:?} {status}"
            );
        }
    }

    #[test]
    fn grpc_defaults() {
        for code in 0..=16 {
            let server = default_verdict(&SpanKind::Server, &Observed::Grpc { code });
            let client = default_verdict(&SpanKind::Client, &Observed::Grpc { code });
            assert_eq!(
                server == Verdict::Error,
                GRPC_SERVER_ERROR_CODES.contains(&code)
            );
            assert_eq!(client == Verdict::Error, code != 0);
        }
        assert_eq!(
            default_verdict(&SpanKind::Server, &Observed::Grpc { code: 99 }),
            Verdict::Error
        );
    }

    #[test]
    fn db_defaults() {
        let ok = Observed::Db {
            status_code: None,
            error_type: None,
        };
        let failed = Observed::Db {
            status_code: Some("23505"),
            error_type: Some("23505"),
        };
        assert_eq!(default_verdict(&SpanKind::Client, &ok), Verdict::NotError);
        assert_eq!(default_verdict(&SpanKind::Client, &failed), Verdict::Error);
    }
}
