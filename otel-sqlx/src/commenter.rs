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
/// The static tags are encoded and sorted once, when added; a sampled statement's comment is
/// then one allocation: the tags copied, the trace context written as hex.
///
/// ```
/// let commenter = otel_sqlx::SqlCommenter::new()
///     .tag("application", "shop")
///     .tag("db_driver", "sqlx");
/// # let _ = commenter;
/// ```
#[derive(Debug, Clone, Default)]
pub struct SqlCommenter {
    /// `(key, encoded "key='value'")`, sorted by key (stable: equal keys keep their order).
    tags: Vec<(String, String)>,
}

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

impl SqlCommenter {
    /// The trace context only.
    pub fn new() -> Self {
        SqlCommenter::default()
    }

    /// Adds a static tag (e.g. `application`, `db_driver`, `route`). Keep values static: they
    /// go into every sampled statement's text and the database's logs. `traceparent` and
    /// `tracestate` are written from the span and cannot be set here.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        if key == TRACEPARENT || key == TRACESTATE {
            return self;
        }
        let mut fragment = String::with_capacity(key.len() + value.len() + 3);
        encode(&key, &mut fragment);
        fragment.push_str("='");
        encode(&value, &mut fragment);
        fragment.push('\'');
        let at = self.tags.partition_point(|(k, _)| *k <= key);
        self.tags.insert(at, (key, fragment));
        self
    }

    /// The comment for a statement of the span `cx`, or `None` when the span is not sampled.
    pub(crate) fn comment(&self, cx: &SpanContext) -> Option<String> {
        if !cx.is_valid() || !cx.is_sampled() {
            return None;
        }
        let tracestate = cx.trace_state().header();
        let tags: usize = self.tags.iter().map(|(_, f)| f.len() + 1).sum();
        // "/*" + tags + "traceparent='00-{32}-{16}-{2}'" + "tracestate='..'" (encoded: x3) + "*/"
        let mut out = String::with_capacity(4 + tags + 70 + 14 + 3 * tracestate.len());
        out.push_str("/*");
        let mut rest = self.tags.iter().peekable();
        let separate = |out: &mut String| {
            if out.len() > 2 {
                out.push(',');
            }
        };
        while let Some((_, f)) = rest.next_if(|(k, _)| k.as_str() < TRACEPARENT) {
            separate(&mut out);
            out.push_str(f);
        }
        separate(&mut out);
        out.push_str("traceparent='00-");
        hex(&cx.trace_id().to_bytes(), &mut out);
        out.push('-');
        hex(&cx.span_id().to_bytes(), &mut out);
        out.push('-');
        hex(&[cx.trace_flags().to_u8()], &mut out);
        out.push('\'');
        while let Some((_, f)) = rest.next_if(|(k, _)| k.as_str() < TRACESTATE) {
            separate(&mut out);
            out.push_str(f);
        }
        if !tracestate.is_empty() {
            separate(&mut out);
            out.push_str("tracestate='");
            encode(&tracestate, &mut out);
            out.push('\'');
        }
        for (_, f) in rest {
            separate(&mut out);
            out.push_str(f);
        }
        out.push_str("*/");
        Some(out)
    }
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Lowercase hex of `bytes` (the W3C `traceparent` form).
fn hex(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 0xf)]));
    }
}

/// Percent-encodes everything but the URL unreserved characters (so `'`, `*`, `/` never
/// appear raw and the comment cannot be closed early).
fn encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0xf)]));
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
    let mut out = String::with_capacity(body.len() + 1 + comment.len() + tail.len());
    out.push_str(body);
    out.push(' ');
    out.push_str(comment);
    out.push_str(tail);
    Some(out)
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
    fn tags_sort_around_the_trace_context_and_cannot_replace_it() {
        let c = SqlCommenter::new()
            .tag("zeta", "1")
            .tag("tracestate", "forged=1")
            .tag("traceq", "2")
            .tag("traceparent", "00-forged")
            .tag("alpha", "3")
            .tag("alpha", "4");
        assert_eq!(
            c.comment(&cx(true, "")).as_deref(),
            Some(
                "/*alpha='3',alpha='4',\
                 traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',\
                 traceq='2',zeta='1'*/"
            )
        );
        assert_eq!(
            SqlCommenter::new().comment(&cx(true, "a=b")).as_deref(),
            Some(
                "/*traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',\
                 tracestate='a%3Db'*/"
            )
        );
    }

    #[test]
    fn encoding_leaves_no_comment_delimiter() {
        let mut out = String::new();
        encode("*/ '; --\u{e9}", &mut out);
        assert_eq!(out, "%2A%2F%20%27%3B%20--%C3%A9");
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
