//! The W3C `baggage` header: list-member grammar and size limits, several header lines
//! combined in order. Invalid or oversized members are dropped one by one; the valid ones are
//! handed on.

use std::borrow::Cow;

/// Longest combined `baggage` handed on, in bytes.
pub const MAX_BAGGAGE_LEN: usize = 8192;

/// Most list-members handed on (the OpenTelemetry baggage API then keeps at most 64).
pub const MAX_BAGGAGE_MEMBERS: usize = 180;

/// Longest list-member handed on, in bytes.
pub const MAX_BAGGAGE_MEMBER_LEN: usize = 4096;

/// The valid members of all `baggage` header lines `values`, or `None` when none is valid.
/// Borrows the header when it is a single line handed on as is. Header lines beyond
/// [`MAX_BAGGAGE_LEN`] bytes in total are not read.
pub(crate) fn clean<'a>(values: &[&'a str]) -> Option<Cow<'a, str>> {
    if let [line] = values
        && line.len() <= MAX_BAGGAGE_LEN
        && every_member_kept(line)
    {
        return Some(Cow::Borrowed(line));
    }
    let mut out = String::new();
    let (mut count, mut scanned) = (0, 0);
    for value in values {
        scanned += value.len();
        if scanned > MAX_BAGGAGE_LEN {
            break;
        }
        push_valid(&mut out, value, &mut count);
    }
    (!out.is_empty()).then_some(Cow::Owned(out))
}

/// Whether `line` (at most [`MAX_BAGGAGE_LEN`] bytes) holds only valid, non-empty members
/// within the member limits.
fn every_member_kept(line: &str) -> bool {
    let mut count = 0;
    for member in line.split(',').map(trim) {
        if member.is_empty() || member.len() > MAX_BAGGAGE_MEMBER_LEN || !valid_member(member) {
            return false;
        }
        count += 1;
    }
    count <= MAX_BAGGAGE_MEMBERS
}

/// Appends the valid members of `line` to `out` within the limits.
fn push_valid(out: &mut String, line: &str, count: &mut usize) {
    for member in line.split(',').map(trim) {
        let sep = usize::from(!out.is_empty());
        if member.len() > MAX_BAGGAGE_MEMBER_LEN
            || *count >= MAX_BAGGAGE_MEMBERS
            || out.len() + sep + member.len() > MAX_BAGGAGE_LEN
            || !valid_member(member)
        {
            continue;
        }
        if sep == 1 {
            out.push(',');
        }
        out.push_str(member);
        *count += 1;
    }
}

/// `list-member = key OWS "=" OWS value *( OWS ";" OWS property )`,
/// `property = key OWS "=" OWS value / key OWS`.
fn valid_member(member: &str) -> bool {
    let mut parts = member.split(';');
    let Some((key, value)) = parts.next().and_then(|kv| kv.split_once('=')) else {
        return false;
    };
    valid_token(trim(key))
        && valid_value(trim(value))
        && parts.all(|property| match property.split_once('=') {
            Some((k, v)) => valid_token(trim(k)) && valid_value(trim(v)),
            None => valid_token(trim(property)),
        })
}

fn trim(s: &str) -> &str {
    super::trim_ows(s)
}

/// RFC 7230 `token = 1*tchar`.
fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// `value = *baggage-octet`, `baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E`.
fn valid_value(s: &str) -> bool {
    s.bytes()
        .all(|c| (0x21..=0x7e).contains(&c) && !matches!(c, b'"' | b',' | b';' | b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_single_line_is_borrowed() {
        let line = "userId=alice, serverNode = DF%2028 ;prop;k=v,isProduction=false";
        assert!(matches!(clean(&[line]), Some(Cow::Borrowed(l)) if l == line));
    }

    #[test]
    fn invalid_members_are_dropped_one_by_one() {
        let out = clean(&["a=1,bad key=2,b=\"q\",c=3;,d=4", "e=5"]);
        assert_eq!(out.as_deref(), Some("a=1,d=4,e=5"));
        assert_eq!(clean(&["=1,,  "]), None);
    }

    #[test]
    fn limits_hold() {
        let many: Vec<String> = (0..200).map(|i| format!("k{i}=v")).collect();
        let line = many.join(",");
        let out = clean(&[&line]).unwrap();
        assert_eq!(out.split(',').count(), MAX_BAGGAGE_MEMBERS);

        let big = format!("big={}", "x".repeat(MAX_BAGGAGE_MEMBER_LEN));
        assert_eq!(clean(&[&format!("a=1,{big}")]).as_deref(), Some("a=1"));

        let member = format!("h={}", "x".repeat(3000));
        let line = format!("{member},{member}");
        let out = clean(&[&line, &member]).unwrap();
        assert_eq!(
            out.split(',').count(),
            2,
            "the line past 8192 bytes in total is not read"
        );
        assert_eq!(
            clean(&[&format!("{line},{member}")]),
            None,
            "a line over 8192 bytes is not read"
        );
    }
}
