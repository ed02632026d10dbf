//! The one rule for untrusted text: what a server, a remote peer or an application error says.
//!
//! Server error messages, peer status messages and headers, panic payloads and the `Display`
//! text of application errors can hold any value the application handled: passwords, personal
//! data, keys. By default ([`ErrorTextMode::Off`]) none of it is recorded in any span name,
//! attribute, event, status description or metric attribute; an adapter records a
//! classification from a closed set instead ([`closed`], a protocol code) and,
//! at most, a fixed description of its own.
//!
//! The helpers here are the only place that rule is implemented; adapters call them:
//!
//! * [`scrub`]: the opt-in ([`ErrorTextMode::Scrubbed`]) rendering of a message;
//! * [`name_shape_ok`]: the shape check every name taken from a command (table, collection,
//!   key-as-name) must pass, or be omitted;
//! * [`closed`] and [`OTHER`]: a value from a closed set, anything else one fixed value;
//! * `attribute_cap`: the cap of every span attribute, applied by the recorder to every
//!   attribute of every span (a table per key, one default for the others).
//!
//! ```
//! use otel_rpc::{closed, name_shape_ok, scrub, OTHER};
//!
//! assert_eq!(scrub("duplicate key 'alice@example.com' id=42", 256), "duplicate key ? id=?");
//! assert!(name_shape_ok("orders"));
//! assert!(!name_shape_ok("orders WHERE 1=1"));
//! assert_eq!(closed("WRONGTYPE", &["ERR", "WRONGTYPE"]), "WRONGTYPE");
//! assert_eq!(closed("token-123", &["ERR", "WRONGTYPE"]), OTHER);
//! ```

use opentelemetry::{KeyValue, Value};
use opentelemetry_semantic_conventions::attribute;

use crate::text::truncate;

/// How much untrusted error text (server, peer, application) an adapter records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ErrorTextMode {
    /// No server, peer or application text is recorded anywhere (the default): failures carry
    /// a classification from a closed set and, at most, a fixed description.
    #[default]
    Off,
    /// Opt-in, **use with care**: the message becomes the span status description (and
    /// `exception.message`) after [`scrub`] and capped at 256 bytes
    /// bytes. Scrubbing removes quoted runs, numbers, digit-bearing and hex-like tokens and
    /// `key=value` values, but a value written as a bare word (`token alice rejected`) cannot
    /// be told from prose and stays: only enable it where error text is known not to carry
    /// secrets. Never used for metric attributes.
    Scrubbed,
}

/// Cap, in bytes, on a scrubbed error message.
pub const DEFAULT_MAX_ERROR_TEXT_LEN: usize = 256;

/// Cap, in bytes, on a name taken from a command or a connection (namespace, collection,
/// query summary, key-as-name).
pub const MAX_NAME_LEN: usize = 255;

/// Cap, in bytes, on the string value of a span attribute whose key is not in
/// [`attribute_cap`]'s table (an adapter's or a hook's own attribute). `db.query.text` is the
/// one exception: its cap is the adapter's `max_query_text_len`.
pub(crate) const DEFAULT_MAX_ATTRIBUTE_LEN: usize = 1024;

/// The cap table: every span attribute key that can carry a value chosen by a client, a
/// server or a peer, with its cap in bytes. The recorder applies it to every string attribute
/// of every span it starts or sets ([`cap_attribute`]), so no adapter can forget it.
const ATTRIBUTE_CAPS: &[(&str, usize)] = &[
    (attribute::URL_FULL, 2048),
    (attribute::URL_PATH, 1024),
    (attribute::URL_QUERY, 1024),
    (attribute::HTTP_ROUTE, 512),
    (attribute::USER_AGENT_ORIGINAL, 512),
    (attribute::HTTP_REQUEST_METHOD_ORIGINAL, 64),
    (attribute::SERVER_ADDRESS, 253),
    (attribute::CLIENT_ADDRESS, 64),
    (attribute::NETWORK_PEER_ADDRESS, 64),
    (attribute::SERVICE_PEER_NAME, 128),
    (attribute::RPC_METHOD, 256),
    (attribute::RPC_METHOD_ORIGINAL, 256),
    (attribute::RPC_RESPONSE_STATUS_CODE, 64),
    (attribute::ERROR_TYPE, MAX_NAME_LEN),
    (attribute::DB_NAMESPACE, MAX_NAME_LEN),
    (attribute::DB_COLLECTION_NAME, MAX_NAME_LEN),
    (attribute::DB_QUERY_SUMMARY, MAX_NAME_LEN),
    (attribute::DB_OPERATION_NAME, MAX_NAME_LEN),
    (attribute::DB_STORED_PROCEDURE_NAME, MAX_NAME_LEN),
    (attribute::DB_RESPONSE_STATUS_CODE, MAX_NAME_LEN),
    (attribute::DB_CLIENT_CONNECTION_POOL_NAME, MAX_NAME_LEN),
];

/// Values at most this long pass without a look-up (the smallest cap of the table).
const SHORTEST_CAP: usize = 64;

/// The cap, in bytes, on string values of span attribute `key`: its entry in the cap table,
/// [`DEFAULT_MAX_ATTRIBUTE_LEN`] for other keys, `None` for `db.query.text` (capped by the
/// adapter's own setting).
pub(crate) fn attribute_cap(key: &str) -> Option<usize> {
    if key == attribute::DB_QUERY_TEXT {
        return None;
    }
    Some(
        ATTRIBUTE_CAPS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(DEFAULT_MAX_ATTRIBUTE_LEN, |(_, cap)| *cap),
    )
}

/// Cuts a string attribute value to its key's [`attribute_cap`] (on a char boundary, with
/// [`crate::text::TRUNCATION_MARKER`]). Values of at most 64 bytes and non-string values are
/// left alone without a look-up.
pub(crate) fn cap_attribute(kv: &mut KeyValue) {
    let Value::String(s) = &kv.value else {
        return;
    };
    if s.as_str().len() <= SHORTEST_CAP {
        return;
    }
    if let Some(cap) = attribute_cap(kv.key.as_str())
        && let std::borrow::Cow::Owned(cut) = truncate(s.as_str(), cap)
    {
        kv.value = Value::from(cut);
    }
}

/// The fixed value recorded for anything outside a closed set (the semantic conventions'
/// `_OTHER`).
pub const OTHER: &str = "_OTHER";

/// What replaces a redacted run.
const MASK: char = '?';

/// Scrubs untrusted text for the [`ErrorTextMode::Scrubbed`] opt-in and caps it at `max`
/// bytes (with [`truncate`]).
///
/// * Quotes: everything from the first quote character (`'`, `"`, `` ` ``) to the last one is
///   one redacted run, so a quoted value that itself holds a quote, or an apostrophe in the
///   prose, cannot end the redaction early; a lone quote redacts everything after it.
/// * Every token (a run between whitespace and `,;()[]{}<>=`) holding a digit, an `@`, a `/`
///   or a `\`, and every hex-like token of 8 or more characters, becomes `?`.
/// * The value after `=` (`key=value`, `key = value`, up to the next blank, `,` or `;`) becomes
///   `?`; after `=(` everything up to
///   the last `)` does (`Key (email)=(a b@c) exists` gives `Key (email)=? exists`).
/// * Control characters are dropped (line breaks and tabs become a space).
///
/// Never panics; linear in the input.
///
/// ```
/// use otel_rpc::scrub;
/// assert_eq!(scrub("Duplicate entry 'a'b' for key 'PRIMARY'", 256), "Duplicate entry ?");
/// assert_eq!(scrub("unknown key 5f3a9c1e-77aa", 256), "unknown key ?");
/// assert_eq!(scrub("connect failed: password=hunter2 host=db", 256), "connect failed: password=? host=?");
/// assert_eq!(scrub("x".repeat(1000).as_str(), 8).len(), 8);
/// ```
pub fn scrub(text: &str, max: usize) -> String {
    let is_quote = |c: char| matches!(c, '\'' | '"' | '`');
    let (head, tail) = match (text.find(is_quote), text.rfind(is_quote)) {
        (Some(first), Some(last)) => {
            // Byte offsets of ASCII quote characters: always char boundaries.
            (&text[..first], Some(&text[last + 1..]))
        }
        _ => (text, None),
    };
    let mut out = String::with_capacity(text.len().min(max.saturating_add(4)));
    scrub_tokens(head, &mut out);
    if let Some(tail) = tail {
        out.push(MASK);
        // A lone quote (first == last) redacts everything after it.
        if text.find(is_quote) != text.rfind(is_quote) {
            scrub_tokens(tail, &mut out);
        }
    }
    if out.len() > max {
        truncate(&out, max).into_owned()
    } else {
        out
    }
}

/// Token-level scrubbing of text that holds no quote character.
fn scrub_tokens(text: &str, out: &mut String) {
    let is_sep = |c: char| c.is_whitespace() || c.is_control() || ",;()[]{}<>=".contains(c);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '=' {
            out.push('=');
            let after = &rest[1..];
            let value = after.trim_start();
            if value.len() < after.len() {
                out.push(' ');
            }
            if let Some(inner) = value.strip_prefix('(') {
                // `key=(value)` (PostgreSQL's `Key (email)=(...)`): the value may hold blanks
                // and parentheses, so the run ends at the last `)`.
                out.push(MASK);
                match inner.rfind(')') {
                    Some(close) => rest = &inner[close + 1..],
                    None => return,
                }
                continue;
            }
            // `key=value`: the value runs to the next blank, `,` or `;`, brackets included.
            let end = value
                .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
                .unwrap_or(value.len());
            if end > 0 {
                out.push(MASK);
            }
            rest = &value[end..];
            continue;
        }
        if is_sep(c) {
            push_separator(c, out);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let end = rest.find(is_sep).unwrap_or(rest.len());
        let token = &rest[..end];
        if redacted_token(token) {
            out.push(MASK);
        } else {
            out.push_str(token);
        }
        rest = &rest[end..];
    }
}

fn push_separator(c: char, out: &mut String) {
    if c.is_control() {
        if c.is_whitespace() {
            out.push(' ');
        }
    } else {
        out.push(c);
    }
}

fn redacted_token(token: &str) -> bool {
    token
        .chars()
        .any(|c| c.is_numeric() || matches!(c, '@' | '/' | '\\' | '%' | '+'))
        || (token.len() >= 8 && token.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

/// `true` when `s` has the shape of a name (table, collection, namespace, key-as-name):
/// 1 to [`MAX_NAME_LEN`] bytes, no whitespace, no quote characters (`'`, `"`, `` ` ``), no
/// control characters and no `;`. A name that fails is omitted, never recorded.
pub fn name_shape_ok(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_NAME_LEN {
        return false;
    }
    // Names are ASCII nearly always: one table lookup per byte; any other text goes through
    // the Unicode rules.
    if s.is_ascii() {
        return s.bytes().all(|b| ASCII_NAME_BYTE[usize::from(b)]);
    }
    !s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '`' | ';'))
}

/// `ASCII_NAME_BYTE[b]`: ASCII byte `b` may appear in a name (the ASCII part of the rule of
/// [`name_shape_ok`]: no whitespace, control, quote characters or `;`).
const ASCII_NAME_BYTE: [bool; 128] = {
    let mut t = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8 as char;
        t[b] = !(c.is_ascii_whitespace()
            || c.is_ascii_control()
            || matches!(c, '\'' | '"' | '`' | ';'));
        b += 1;
    }
    // (U+000B, whitespace for `char::is_whitespace` only, is a control character.)
    t
};

/// The member of `set` equal to `value`, else [`OTHER`]: the value of a metric or span
/// attribute that must come from a closed set.
pub fn closed(value: &str, set: &[&'static str]) -> &'static str {
    set.iter().copied().find(|m| *m == value).unwrap_or(OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_shape_ascii_table_agrees_with_the_unicode_rule() {
        for b in 0u8..128 {
            let c = char::from(b);
            let unicode =
                !(c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '`' | ';'));
            let name = format!("a{c}b");
            assert_eq!(name_shape_ok(&name), unicode, "byte {b:#04x}");
        }
        assert!(name_shape_ok("café_ünïcode"));
        assert!(!name_shape_ok("caf\u{2003}e"), "em space");
        assert!(!name_shape_ok("caf\u{85}e"), "next line");
    }

    #[test]
    fn scrub_table() {
        let cases = [
            ("no such table", "no such table"),
            ("value 'secret' rejected", "value ? rejected"),
            ("it's \"x\" and 'y'", "it?"),
            ("lone ' quote then secret", "lone ?"),
            ("id 12345 missing", "id ? missing"),
            ("uuid 0b9d3b3c-4a7e-11ee-be56-0242ac120002.", "uuid ?"),
            ("hash deadbeefcafe", "hash ?"),
            ("mail bob@example.com now", "mail ? now"),
            ("path /etc/passwd", "path ?"),
            ("k=v, other=value;x", "k=?, other=?;x"),
            ("token= secret rejected", "token= ? rejected"),
            ("a = b c", "a = ? c"),
            (
                "Key (email)=(a b)c@d)) already exists.",
                "Key (email)=? already exists.",
            ),
            ("Key (id)=(unclosed secret", "Key (id)=?"),
            ("line\nbreak\u{7}bell", "line breakbell"),
            ("token%20secret", "?"),
            ("(a1, b)", "(?, b)"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(scrub(input, 256), want, "input {input:?}");
        }
    }

    #[test]
    fn scrub_never_panics_and_caps() {
        let inputs = [
            "é'ü\"`".repeat(100),
            "\u{0}\u{1}".repeat(1000),
            "=".repeat(5000),
            "日本語 テキスト 123".repeat(50),
        ];
        for s in &inputs {
            for max in [0, 1, 2, 3, 4, 10, 256] {
                assert!(scrub(s, max).len() <= max, "{s:?} {max}");
            }
        }
    }

    #[test]
    fn shapes() {
        assert!(name_shape_ok("orders"));
        assert!(name_shape_ok("shop.orders_2024"));
        assert!(!name_shape_ok(""));
        assert!(!name_shape_ok(&"a".repeat(256)));
        assert!(name_shape_ok(&"a".repeat(255)));
        for bad in ["a b", "a'b", "a\"b", "a`b", "a;b", "a\nb", "a\u{0}b"] {
            assert!(!name_shape_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn attribute_caps() {
        assert_eq!(attribute_cap("url.path"), Some(1024));
        assert_eq!(attribute_cap("app.custom"), Some(DEFAULT_MAX_ATTRIBUTE_LEN));
        assert_eq!(attribute_cap("db.query.text"), None);
        assert!(ATTRIBUTE_CAPS.iter().all(|(_, cap)| *cap >= SHORTEST_CAP));
        let mut kv = KeyValue::new("user_agent.original", format!("é{}", "x".repeat(600)));
        cap_attribute(&mut kv);
        assert!(
            kv.value.as_str().len() <= 512,
            "{}",
            kv.value.as_str().len()
        );
        let mut kv = KeyValue::new("db.query.text", "x".repeat(5000));
        cap_attribute(&mut kv);
        assert_eq!(kv.value.as_str().len(), 5000);
    }

    #[test]
    fn closed_sets() {
        assert_eq!(closed("ERR", &["ERR"]), "ERR");
        assert_eq!(closed("err", &["ERR"]), OTHER);
    }
}
