//! The W3C `tracestate` header: grammar, list-member and length limits, several header lines
//! combined in order.
//!
//! Any invalid list-member (key or value grammar, a duplicated key, more than 32 members)
//! discards the whole `tracestate` (the W3C rule: a vendor that cannot parse it must not
//! propagate it); the `traceparent` is continued regardless. A valid value longer than
//! [`MAX_TRACESTATE_LEN`] is truncated as the specification suggests: members longer than 128
//! characters go first, then members from the end.

use std::borrow::Cow;

use super::MAX_PROPAGATION_HEADER_LEN;

/// Most list-members a `tracestate` may hold.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// Longest combined `tracestate` handed on (the 512 characters every vendor should propagate).
pub const MAX_TRACESTATE_LEN: usize = 512;

/// Members longer than this are the first dropped when truncating.
const LARGE_MEMBER_LEN: usize = 128;

/// The combined, validated `tracestate` of all header lines `values`, or `None` when there is
/// none or it is invalid. Borrows the header when it can be handed on as is.
pub(crate) fn combine<'a>(values: &[&'a str]) -> Option<Cow<'a, str>> {
    // No header or only empty ones (the SDK's propagator sends an empty `tracestate`): the
    // member tables are not even set up.
    if values.iter().all(|v| super::trim_ows(v).is_empty()) {
        return None;
    }
    combine_lines(values)
}

/// [`combine`] of at least one line; its own function so that the member tables are set up
/// only here.
#[inline(never)]
fn combine_lines<'a>(values: &[&'a str]) -> Option<Cow<'a, str>> {
    if values.iter().map(|v| v.len()).sum::<usize>() > MAX_PROPAGATION_HEADER_LEN {
        return None;
    }
    let mut members = [""; MAX_TRACESTATE_MEMBERS];
    let mut keys = [""; MAX_TRACESTATE_MEMBERS];
    let mut count = 0;
    let mut lines_with_members = 0;
    for value in values {
        let before = count;
        for member in split_bytes(value, b',').map(super::trim_ows) {
            if member.is_empty() {
                continue;
            }
            let eq = member.bytes().position(|c| c == b'=')?;
            let (key, val) = (&member[..eq], &member[eq + 1..]);
            if count == MAX_TRACESTATE_MEMBERS
                || !valid_key(key)
                || !valid_value(val)
                || keys[..count].contains(&key)
            {
                return None;
            }
            members[count] = member;
            keys[count] = key;
            count += 1;
        }
        if count > before {
            lines_with_members += 1;
        }
    }
    let members = &members[..count];
    if members.is_empty() {
        return None;
    }
    if lines_with_members == 1 && joined_len(members.iter().copied()) <= MAX_TRACESTATE_LEN {
        return values
            .iter()
            .find(|v| v.contains('='))
            .map(|v| Cow::Borrowed(*v));
    }
    Some(Cow::Owned(truncated(members)))
}

/// `members` joined with `,`, shortened to [`MAX_TRACESTATE_LEN`] by the specification's rule.
fn truncated(members: &[&str]) -> String {
    let mut keep = [true; MAX_TRACESTATE_MEMBERS];
    let kept_len = |keep: &[bool]| {
        joined_len(
            members
                .iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(m, _)| *m),
        )
    };
    for pass_large_only in [true, false] {
        for i in (0..members.len()).rev() {
            if kept_len(&keep) <= MAX_TRACESTATE_LEN {
                break;
            }
            if !pass_large_only || members[i].len() > LARGE_MEMBER_LEN {
                keep[i] = false;
            }
        }
    }
    let mut out = String::with_capacity(MAX_TRACESTATE_LEN);
    for (member, _) in members.iter().zip(keep).filter(|(_, k)| *k) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(member);
    }
    out
}

fn joined_len<'s>(members: impl Iterator<Item = &'s str>) -> usize {
    members
        .fold(None, |len: Option<usize>, m| {
            Some(len.map_or(0, |l| l + 1) + m.len())
        })
        .unwrap_or(0)
}

/// `key = simple-key / multi-tenant-key`:
/// `simple-key = lcalpha 0*255(keychar)`,
/// `multi-tenant-key = (lcalpha / DIGIT) 0*240(keychar) "@" lcalpha 0*13(keychar)`.
fn valid_key(key: &str) -> bool {
    match key.bytes().position(|c| c == b'@') {
        None => valid_key_part(key, 256, false),
        Some(at) => {
            valid_key_part(&key[..at], 241, true) && valid_key_part(&key[at + 1..], 14, false)
        }
    }
}

/// `s` split at every ASCII byte `sep`, by a plain byte loop (the values are short; no
/// searcher set-up per piece).
fn split_bytes(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let rest = &s.as_bytes()[start..];
        let piece_start = start;
        match rest.iter().position(|&c| c == sep) {
            Some(i) => {
                start += i + 1;
                Some(&s[piece_start..piece_start + i])
            }
            None => {
                done = true;
                Some(&s[piece_start..])
            }
        }
    })
}

fn valid_key_part(part: &str, max: usize, digit_first: bool) -> bool {
    let b = part.as_bytes();
    let first_ok = |c: &u8| c.is_ascii_lowercase() || (digit_first && c.is_ascii_digit());
    !b.is_empty()
        && b.len() <= max
        && first_ok(&b[0])
        && b[1..].iter().all(|&c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-' | b'*' | b'/')
        })
}

/// `value = 0*255(chr) nblk-chr`, `chr = %x20 / nblk-chr`, `nblk-chr = %x21-2B / %x2D-3C / %x3E-7E`.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b[b.len() - 1] != b' '
        && b.iter()
            .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_valid_header_is_borrowed() {
        assert!(matches!(
            combine(&["foo=1,bar=2"]),
            Some(Cow::Borrowed("foo=1,bar=2"))
        ));
        assert!(matches!(
            combine(&["", "foo=1"]),
            Some(Cow::Borrowed("foo=1"))
        ));
        assert_eq!(combine(&[]), None);
        assert_eq!(combine(&["", " \t"]), None, "empty lines are no tracestate");
        assert_eq!(combine(&[" ", ","]), None, "nor is an empty list");
    }

    #[test]
    fn several_headers_are_joined_in_order() {
        assert_eq!(
            combine(&["foo=1,bar=2", "rojo=1"]).as_deref(),
            Some("foo=1,bar=2,rojo=1")
        );
    }

    #[test]
    fn too_long_values_drop_large_members_then_the_last() {
        let large = format!("big={}", "x".repeat(200));
        let small: Vec<String> = (0..30)
            .map(|i| format!("k{i:02}={}", "v".repeat(16)))
            .collect();
        let mut parts = vec![large.clone()];
        parts.extend(small.iter().cloned());
        let lines: Vec<&str> = parts.iter().map(String::as_str).collect();
        let out = combine(&lines).unwrap();
        assert!(out.len() <= MAX_TRACESTATE_LEN, "{}", out.len());
        assert!(
            !out.contains("big="),
            "the member over 128 characters goes first"
        );
        assert!(out.starts_with("k00="));
        assert!(!out.contains("k29="), "then members from the end");
    }

    #[test]
    fn key_limits() {
        let ok = [
            "z".repeat(256),
            format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            "0tenant@vendor".to_string(),
        ];
        for key in ok {
            assert!(combine(&[&format!("{key}=1")]).is_some(), "{key}");
        }
        let bad = [
            "z".repeat(257),
            format!("{}@v", "t".repeat(242)),
            format!("t@{}", "v".repeat(15)),
            "0simple".to_string(),
            "t@0vendor".to_string(),
        ];
        for key in bad {
            assert_eq!(combine(&[&format!("{key}=1")]), None, "{key}");
        }
    }

    #[test]
    fn empty_and_invalid_values_are_none() {
        assert_eq!(combine(&[""]), None);
        assert_eq!(combine(&[" , "]), None);
        assert_eq!(combine(&["foo"]), None);
        assert_eq!(
            combine(&["foo=1", &"x".repeat(MAX_PROPAGATION_HEADER_LEN)]),
            None
        );
    }
}
