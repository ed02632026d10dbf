//! Sanitized query text: every literal becomes `?` and comments disappear; the rest is kept
//! as written (whitespace included, trimmed at both ends). `IN` lists of literals or
//! placeholders collapse to `IN (?)`. Placeholders (`$1`, `?`, `:name`) and identifiers are
//! kept. Streams over the text: no token list, the only allocation is the output.

use super::lexer::{Dialect, Kind};
use super::mode::SqlMode;
use super::tokens::{Tokens, is_literal};

/// Replaces every literal in `sql` by `?` and removes comments, reading `sql` as `dialect`
/// with the session's settings unknown (see [`sanitize_with`]).
///
/// Stops producing output once it exceeds `max_len` bytes (callers truncate afterwards), so
/// huge statements cost no more than one pass of the lexer.
///
/// ```
/// use otel_sqlx::sql::{Dialect, sanitize};
/// assert_eq!(
///     sanitize("SELECT * FROM users WHERE name = 'bob' AND id IN (1, 2, 3) -- hi", Dialect::Postgres, usize::MAX),
///     "SELECT * FROM users WHERE name = ? AND id IN (?)"
/// );
/// ```
pub fn sanitize(sql: &str, dialect: Dialect, max_len: usize) -> String {
    sanitize_with(sql, SqlMode::new(dialect), max_len)
}

/// [`sanitize`] with the session's string rules given by `mode`.
pub fn sanitize_with(sql: &str, mode: SqlMode, max_len: usize) -> String {
    let mut toks = Tokens::new(sql, mode);
    let mut out = String::with_capacity(sql.len().min(max_len.saturating_add(8)));
    // A comment was dropped since the last token: keep its neighbours apart.
    let mut dropped = false;
    while let Some(tok) = toks.next() {
        if out.len() > max_len {
            break;
        }
        match tok.kind {
            Kind::Space => {
                if !out.is_empty() {
                    out.push_str(toks.text(&tok));
                }
                dropped = false;
                continue;
            }
            Kind::Comment => {
                dropped = true;
                continue;
            }
            _ => {}
        }
        if dropped && !out.is_empty() && !out.ends_with(|c: char| c.is_whitespace()) {
            out.push(' ');
        }
        dropped = false;
        let text = toks.text(&tok);
        if tok.kind == Kind::Word && text.eq_ignore_ascii_case("in") {
            let mut probe = toks.clone();
            if let Some(gap) = in_list(&mut probe) {
                out.push_str(text);
                if gap {
                    out.push(' ');
                }
                out.push_str("(?)");
                toks = probe;
                continue;
            }
        }
        if is_literal(tok.kind, text) {
            out.push('?');
        } else {
            out.push_str(text);
        }
    }
    let end = out.trim_end().len();
    out.truncate(end);
    out
}

/// After `IN`: when the tokens form `( value [, value]* )` with values literals,
/// placeholders or `NULL`, consumes them and returns whether a gap preceded the `(`.
fn in_list(toks: &mut Tokens<'_>) -> Option<bool> {
    let mut gap = false;
    let open = loop {
        let t = toks.next()?;
        match t.kind {
            Kind::Space | Kind::Comment => gap = true,
            _ => break t,
        }
    };
    if open.kind != Kind::Punct || toks.text(&open) != "(" {
        return None;
    }
    let mut expect_value = true;
    let mut values = 0usize;
    while let Some(tok) = toks.next() {
        let text = toks.text(&tok);
        match tok.kind {
            Kind::Space | Kind::Comment => continue,
            _ if expect_value => {
                let value = tok.kind == Kind::Placeholder
                    || is_literal(tok.kind, text)
                    || (tok.kind == Kind::Word && text.eq_ignore_ascii_case("null"));
                if !value {
                    return None;
                }
                values += 1;
                expect_value = false;
            }
            Kind::Punct if text == "," => expect_value = true,
            Kind::Punct if text == ")" => return (values > 0).then_some(gap),
            _ => return None,
        }
    }
    None
}
