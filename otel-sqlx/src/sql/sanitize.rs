//! Sanitized query text: every literal becomes `?`, comments disappear, whitespace collapses
//! to single spaces, and `IN` lists of literals or placeholders collapse to `IN (?)`.
//! Placeholders (`$1`, `?`, `:name`) and identifiers are kept.

use super::lexer::{Dialect, Kind, Lexer, Token};

/// A significant token (no whitespace, no comment) and whether a gap preceded it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sig {
    pub(crate) tok: Token,
    pub(crate) gap_before: bool,
}

/// The significant tokens of `sql`.
pub(crate) fn significant(sql: &str, dialect: Dialect) -> Vec<Sig> {
    let mut out = Vec::new();
    let mut gap = false;
    for tok in Lexer::new(sql, dialect) {
        match tok.kind {
            Kind::Space | Kind::Comment => gap = true,
            _ => {
                out.push(Sig {
                    tok,
                    gap_before: gap,
                });
                gap = false;
            }
        }
    }
    out
}

/// `true` for tokens that are values: string and number literals and `TRUE`/`FALSE`.
pub(crate) fn is_literal(sql: &str, tok: &Token) -> bool {
    match tok.kind {
        Kind::Str | Kind::Number => true,
        Kind::Word => {
            let t = tok.text(sql);
            t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false")
        }
        _ => false,
    }
}

/// Replaces every literal in `sql` by `?`, removes comments and collapses whitespace.
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
    let toks = significant(sql, dialect);
    let mut out = String::with_capacity(sql.len().min(max_len.saturating_add(8)));
    let mut i = 0;
    while i < toks.len() {
        if out.len() > max_len {
            break;
        }
        let sig = toks[i];
        if sig.gap_before && !out.is_empty() {
            out.push(' ');
        }
        let tok = sig.tok;
        if tok.kind == Kind::Word
            && tok.text(sql).eq_ignore_ascii_case("in")
            && let Some(end) = in_list_end(sql, &toks, i + 1)
        {
            out.push_str(tok.text(sql));
            if toks.get(i + 1).is_some_and(|s| s.gap_before) {
                out.push(' ');
            }
            out.push_str("(?)");
            i = end + 1;
            continue;
        }
        if is_literal(sql, &tok) {
            out.push('?');
        } else {
            out.push_str(tok.text(sql));
        }
        i += 1;
    }
    out
}

/// When `toks[open]` is `(` starting a list of literals / placeholders (optionally signed)
/// separated by commas, the index of its closing `)`.
fn in_list_end(sql: &str, toks: &[Sig], open: usize) -> Option<usize> {
    let first = toks.get(open)?;
    if first.tok.kind != Kind::Punct || first.tok.text(sql) != "(" {
        return None;
    }
    let mut i = open + 1;
    let mut expect_value = true;
    let mut values = 0;
    while let Some(sig) = toks.get(i) {
        let tok = sig.tok;
        let text = tok.text(sql);
        if expect_value {
            if tok.kind == Kind::Punct && (text == "-" || text == "+") {
                i += 1;
                continue;
            }
            let is_value = is_literal(sql, &tok)
                || tok.kind == Kind::Placeholder
                || (tok.kind == Kind::Word && text.eq_ignore_ascii_case("null"));
            if !is_value {
                return None;
            }
            values += 1;
            expect_value = false;
        } else if tok.kind == Kind::Punct && text == "," {
            expect_value = true;
        } else if tok.kind == Kind::Punct && text == ")" {
            return (values > 0).then_some(i);
        } else {
            return None;
        }
        i += 1;
    }
    None
}
