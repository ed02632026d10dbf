//! Cutting captured text ([`truncate`], at most [`DEFAULT_MAX_QUERY_TEXT_LEN`] bytes of query
//! text by default). Shared by every database adapter so the rule lives once; how much query
//! text to keep is [`QueryTextMode`](crate::QueryTextMode).

use std::borrow::Cow;

/// Default cap on recorded query text, in bytes.
pub const DEFAULT_MAX_QUERY_TEXT_LEN: usize = 2048;

/// Suffix appended to text that was cut.
pub const TRUNCATION_MARKER: &str = "…";

/// Cuts `text` to at most `max` bytes on a char boundary, appending [`TRUNCATION_MARKER`]
/// when it cut (the marker counts in `max`; below the marker's length the result is empty).
///
/// ```
/// use otel_rpc::text::truncate;
/// assert_eq!(truncate("héllo", 100), "héllo");
/// assert_eq!(truncate("héllo wörld", 8), "héll…");
/// ```
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    if max < TRUNCATION_MARKER.len() {
        return Cow::Borrowed("");
    }
    let budget = max - TRUNCATION_MARKER.len();
    let mut cut = budget.min(text.len());
    while cut > 0 && !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut + TRUNCATION_MARKER.len());
    out.push_str(&text[..cut]);
    out.push_str(TRUNCATION_MARKER);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_char_boundaries() {
        for max in 0..40 {
            let s = "日本語のテキスト and ascii";
            let t = truncate(s, max);
            assert!(t.len() <= max, "{max}: {t}");
        }
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcdef", 4), "a…");
        assert_eq!(truncate("abcdef", 2), "");
        assert_eq!(truncate("abcdef", 0), "");
    }

    #[test]
    fn huge_input_is_bounded() {
        let s = "x".repeat(10 * 1024 * 1024);
        assert_eq!(truncate(&s, 2048).len(), 2048);
    }
}
