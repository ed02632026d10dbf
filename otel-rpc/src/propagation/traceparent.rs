//! The W3C `traceparent` header, checked byte by byte (no allocation, no number parsing).
//!
//! Rules (W3C Trace Context, "traceparent Header Field Values" and "Versioning"):
//! `version "-" trace-id "-" parent-id "-" trace-flags`, every field lowercase hex of exactly
//! 2, 32, 16 and 2 digits; trace-id and parent-id not all zero; version `ff` is invalid;
//! version `00` is exactly 55 characters; a higher (future) version is at least 55 characters
//! and anything after the flags must start with `-` (it is then ignored). Optional whitespace
//! (space, tab) around the value is allowed.

/// Length of a version-00 `traceparent`: `2 + 1 + 32 + 1 + 16 + 1 + 2`.
pub const TRACEPARENT_LEN: usize = 55;

/// Returns the part of `value` a propagator should parse when it is a valid `traceparent`
/// (whitespace trimmed; for a future version, the first four fields only), or `None` when
/// the value is invalid and the request must start a new trace.
///
/// ```
/// use otel_rpc::testing::valid_traceparent;
///
/// let ok = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
/// assert_eq!(valid_traceparent(ok), Some(ok));
/// assert_eq!(valid_traceparent("00-1-2-01"), None);
/// let future = "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-more";
/// assert_eq!(valid_traceparent(future), Some(&future[..55]));
/// ```
pub fn valid_traceparent(value: &str) -> Option<&str> {
    let value = super::trim_ows(value);
    let b = value.as_bytes();
    if b.len() < TRACEPARENT_LEN
        || !lower_hex(&b[0..2])
        || &b[0..2] == b"ff"
        || b[2] != b'-'
        || !nonzero_lower_hex(&b[3..35])
        || b[35] != b'-'
        || !nonzero_lower_hex(&b[36..52])
        || b[52] != b'-'
        || !lower_hex(&b[53..55])
    {
        return None;
    }
    let version_00 = &b[0..2] == b"00";
    match b.get(TRACEPARENT_LEN) {
        None => Some(value),
        Some(b'-') if !version_00 => Some(&value[..TRACEPARENT_LEN]),
        Some(_) => None,
    }
}

/// Lowercase hex digits `0-9a-f`, as a table indexed by byte.
const LOWER_HEX: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = matches!(c as u8, b'0'..=b'9' | b'a'..=b'f');
        c += 1;
    }
    table
};

fn lower_hex(digits: &[u8]) -> bool {
    digits
        .iter()
        .fold(true, |ok, &d| ok & LOWER_HEX[usize::from(d)])
}

fn nonzero_lower_hex(digits: &[u8]) -> bool {
    lower_hex(digits) && digits.iter().any(|&d| d != b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "12345678901234567890123456789012";
    const SPAN: &str = "1234567890123456";

    fn tp(version: &str, trace: &str, span: &str, flags: &str) -> String {
        format!("{version}-{trace}-{span}-{flags}")
    }

    #[test]
    fn valid_values_pass_through() {
        let v = tp("00", TRACE, SPAN, "01");
        assert_eq!(valid_traceparent(&v), Some(v.as_str()));
        let v = tp("00", TRACE, SPAN, "ff");
        assert_eq!(
            valid_traceparent(&v),
            Some(v.as_str()),
            "unknown flags are kept"
        );
        let padded = format!("\t {} \t", tp("00", TRACE, SPAN, "00"));
        assert_eq!(valid_traceparent(&padded), Some(padded.trim()));
    }

    #[test]
    fn every_field_is_checked() {
        for bad in [
            tp("00", TRACE, SPAN, "01") + "-",
            tp("00", &TRACE.to_uppercase().replace('1', "A"), SPAN, "01"),
            tp("00", TRACE, "123456789012345A", "01"),
            tp("0A", TRACE, SPAN, "01"),
            tp("00", TRACE, SPAN, "0A"),
            tp("00", TRACE, SPAN, "+1"),
            tp("+0", TRACE, SPAN, "01"),
            tp("00", &format!("+{}", &TRACE[1..]), SPAN, "01"),
            tp("ff", TRACE, SPAN, "01"),
            tp("00", TRACE, SPAN, "01").replacen('-', "_", 1),
        ] {
            assert_eq!(valid_traceparent(&bad), None, "{bad}");
        }
    }
}
