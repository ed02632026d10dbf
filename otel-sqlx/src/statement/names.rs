//! Names taken from SQL text (tables, procedures, schema objects): unquoted, qualified with
//! `.`, and kept only when they pass the shape check.

use super::lexer::{Kind, Token};

/// Longest name kept, in bytes (the same cap as every other DB name value).
pub use otel_rpc::MAX_NAME_LEN;

/// The shape every recorded name passes (the one rule in `otel-rpc/src/untrusted.rs`): 1 to
/// [`MAX_NAME_LEN`] bytes, no whitespace, quotes, control characters or `;`. A name that
/// fails is omitted.
pub(crate) fn shape_ok(name: &str) -> bool {
    otel_rpc::name_shape_ok(name)
}

/// The name inside one identifier token: a bare word as written, a quoted identifier without
/// its quotes (doubled quotes inside make the name fail the shape check later).
pub(crate) fn part<'a>(sql: &'a str, tok: &Token) -> Option<&'a str> {
    let text = tok.text(sql);
    match tok.kind {
        Kind::Word => Some(text),
        Kind::QuotedIdent if text.len() >= 2 => text.get(1..text.len() - 1),
        _ => None,
    }
}

/// A qualified name being read (`a`, `a.b`, `"a"."b"`), bounded by [`MAX_NAME_LEN`].
#[derive(Debug, Default, Clone)]
pub(crate) struct NameBuf {
    buf: String,
    /// A `.` was read: the next identifier continues the name.
    dot: bool,
    /// Too long, or a part failed the shape check.
    bad: bool,
}

impl NameBuf {
    /// Starts a new name with its first part.
    pub(crate) fn start(&mut self, first: &str) {
        self.buf.clear();
        self.dot = false;
        self.bad = false;
        self.push(first);
    }

    fn push(&mut self, part: &str) {
        if self.bad || self.buf.len() + part.len() > MAX_NAME_LEN || !shape_ok(part) {
            self.bad = true;
            return;
        }
        self.buf.push_str(part);
    }

    /// Feeds the token after a part: `true` when it continued the name (`.` or the part
    /// after it), `false` when the name is complete (the token is for the caller).
    pub(crate) fn feed(&mut self, sql: &str, tok: &Token) -> bool {
        if self.dot {
            if let Some(p) = part(sql, tok) {
                self.dot = false;
                self.push(".");
                self.push(p);
                return true;
            }
            // `a.*` or `a.` followed by something else: the name stops at `a`.
            self.dot = false;
            return false;
        }
        if tok.kind == Kind::Punct && tok.text(sql) == "." {
            self.dot = true;
            return true;
        }
        false
    }

    /// The complete name when it passes the shape check.
    pub(crate) fn get(&self) -> Option<&str> {
        (!self.bad && shape_ok(&self.buf)).then_some(self.buf.as_str())
    }
}
