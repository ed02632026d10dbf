//! [`SqlCommenter`]: the opt-in [sqlcommenter](https://google.github.io/sqlcommenter/spec/)
//! comment carrying the trace context (and static tags) to the server, e.g.
//! `SELECT 1 /*application='shop',traceparent='00-..-..-01'*/`.
//!
//! Only sampled statements are commented, and a commented statement is sent as a
//! non-persistent (unnamed) statement so sqlx's prepared-statement cache never holds the
//! unique text; unsampled statements are sent byte for byte as written. Statements that
//! already contain a comment are left alone (the specification says not to mutate them), as
//! are prepared statements given by the caller (their text is not sent again).

use opentelemetry::trace::SpanContext;

/// What the sqlcommenter comment holds: always `traceparent` (and `tracestate` when the span
/// has one), plus the static tags added here. Keys are sorted; keys and values are
/// URL-encoded and values single-quoted, as the specification asks.
///
/// ```
/// let commenter = otel_sqlx::SqlCommenter::new()
///     .tag("application", "shop")
///     .tag("db_driver", "sqlx");
/// # let _ = commenter;
/// ```
#[derive(Debug, Clone, Default)]
pub struct SqlCommenter {
    tags: Vec<(String, String)>,
}

impl SqlCommenter {
    /// The trace context only.
    pub fn new() -> Self {
        SqlCommenter::default()
    }

    /// Adds a static tag (e.g. `application`, `db_driver`, `route`). Keep values static: they
    /// go into every sampled statement's text and the database's logs.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// The comment for a statement of the span `cx`, or `None` when the span is not sampled.
    pub(crate) fn comment(&self, cx: &SpanContext) -> Option<String> {
        if !cx.is_valid() || !cx.is_sampled() {
            return None;
        }
        let traceparent = format!(
            "00-{}-{}-{:02x}",
            cx.trace_id(),
            cx.span_id(),
            cx.trace_flags().to_u8()
        );
        let tracestate = cx.trace_state().header();
        let mut pairs: Vec<(&str, &str)> = self
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .filter(|(k, _)| *k != "traceparent" && *k != "tracestate")
            .collect();
        pairs.push(("traceparent", &traceparent));
        if !tracestate.is_empty() {
            pairs.push(("tracestate", &tracestate));
        }
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::from("/*");
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            encode(k, &mut out);
            out.push_str("='");
            encode(v, &mut out);
            out.push('\'');
        }
        out.push_str("*/");
        Some(out)
    }
}

/// Percent-encodes everything but the URL unreserved characters (so `'`, `*`, `/` never
/// appear raw and the comment cannot be closed early).
fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `sql` with `comment` appended (before a trailing `;`), or `None` when the statement
/// already holds a comment and must not be changed.
pub(crate) fn append(sql: &str, comment: &str) -> Option<String> {
    if sql.contains("/*") || sql.contains("--") {
        return None;
    }
    let body = sql.trim_end();
    let (body, tail) = match body.strip_suffix(';') {
        Some(b) => (b.trim_end(), ";"),
        None => (body, ""),
    };
    Some(format!("{body} {comment}{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    fn cx(sampled: bool, state: &str) -> SpanContext {
        SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            false,
            state.parse::<TraceState>().unwrap_or_default(),
        )
    }

    #[test]
    fn format_follows_the_specification() {
        let c = SqlCommenter::new()
            .tag("route", "/orders/{id}")
            .tag("application", "shop's");
        assert_eq!(
            c.comment(&cx(true, "congo=t61rcWkgMzE")).as_deref(),
            Some(
                "/*application='shop%27s',route='%2Forders%2F%7Bid%7D',\
                 traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',\
                 tracestate='congo%3Dt61rcWkgMzE'*/"
            )
        );
        assert_eq!(c.comment(&cx(false, "")), None);
    }

    #[test]
    fn appends_before_a_trailing_semicolon_and_keeps_user_comments() {
        assert_eq!(
            append("SELECT 1;", "/*x*/").as_deref(),
            Some("SELECT 1 /*x*/;")
        );
        assert_eq!(
            append("SELECT 1", "/*x*/").as_deref(),
            Some("SELECT 1 /*x*/")
        );
        assert_eq!(append("SELECT 1 /* mine */", "/*x*/"), None);
        assert_eq!(append("SELECT 1 -- mine", "/*x*/"), None);
    }
}
