//! The safe token stream both the sanitizer and the summary read: the lexer's tokens with
//! every possible literal marked as one (`Kind::Str` / `Kind::Number`), whatever the session
//! settings:
//!
//! - **both backslash readings**: when the session's backslash rule is unknown and a string
//!   ends somewhere else under the other reading, the whole run up to the first point where
//!   the two readings agree again is one literal;
//! - **signs** written directly before a number fold into it (`-12` is one literal);
//! - **SQLite double quotes** are identifiers only where a value cannot stand (after `.`,
//!   before `.`, after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, ...): SQLite reads
//!   `"x"` as a string when no column is called `x`;
//! - **credentials**: in statements that can carry them (anything but plain DML and schema
//!   objects such as tables), everything after `PASSWORD` (and words ending in it, such as
//!   `MASTER_PASSWORD`) and after `IDENTIFIED BY` / `IDENTIFIED .. AS` up to the end of the
//!   statement is one literal whatever its form (bare word, quoted identifier, number,
//!   placeholder; `REPLACE old` included); in `CREATE` / `ALTER` `USER` / `ROLE` / `LOGIN` /
//!   `GROUP` and in `CONNECT`, everything after the object kind is.
//!
//! Unterminated quoted identifiers are literals already in the lexer. The stream holds no
//! buffer: its state is a few positions, so it can be copied to look ahead.

use super::lexer::{Conditional, Dialect, Kind, Lexer, Token};
use super::mode::SqlMode;

/// Statements whose first word says they carry no credentials (plain DML and the like):
/// a bare word after `password` there is a column.
const NO_CREDENTIALS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "WITH",
    "VALUES",
    "REPLACE",
    "UPSERT",
    "TABLE",
    "EXPLAIN",
    "TRUNCATE",
    "CALL",
    "EXEC",
    "EXECUTE",
    "LOCK",
    "SHOW",
    "USE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "START",
    "SAVEPOINT",
    "RELEASE",
    "DESCRIBE",
    "DESC",
    "PRAGMA",
    "VACUUM",
    "ANALYZE",
    "COPY",
];

/// Second words of `CREATE` / `ALTER` / `DROP` that make a schema statement (no credentials).
const SCHEMA_OBJECTS: &[&str] = &[
    "TABLE",
    "INDEX",
    "VIEW",
    "UNIQUE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "SEQUENCE",
    "TRIGGER",
    "MATERIALIZED",
    "TYPE",
    "DOMAIN",
    "EXTENSION",
    "SCHEMA",
];

/// Words after which a SQLite double-quoted token is a name, not a value.
const SQLITE_NAME_BEFORE: &[&str] = &[
    "FROM", "JOIN", "INTO", "UPDATE", "TABLE", "VIEW", "INDEX", "TRIGGER", "EXISTS", "AS",
];

/// Words after which a sign is a sign (not a binary operator) when a number follows.
const SIGN_AFTER: &[&str] = &[
    "SELECT",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "THEN",
    "ELSE",
    "WHEN",
    "IN",
    "BY",
    "LIMIT",
    "OFFSET",
    "VALUES",
    "IS",
    "LIKE",
    "BETWEEN",
    "CASE",
    "ON",
    "AS",
    "SET",
    "RETURN",
    "RETURNING",
    "HAVING",
    "DEFAULT",
    "INTERVAL",
    "ALL",
    "ANY",
    "SOME",
    "DISTINCT",
    "TOP",
    "XOR",
    "DIV",
    "MOD",
];

fn is_any(word: &str, set: &[&str]) -> bool {
    set.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn ends_with_password(word: &str) -> bool {
    const P: &str = "PASSWORD";
    word.len() >= P.len()
        && word
            .get(word.len() - P.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(P))
}

/// Where the credential rule stands in the current statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    /// Nothing pending.
    Idle,
    /// `IDENTIFIED` was read: a following `BY` / `AS` is kept, then the rest is redacted.
    Identified,
    /// Everything from the next significant token to the end of the statement is redacted.
    Rest,
}

/// The safe token stream (every token, spaces and comments included).
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'a> {
    sql: &'a str,
    lex: Lexer<'a>,
    dialect: Dialect,
    /// Whether the other backslash reading must be checked.
    dual: bool,
    /// A token read ahead (for sign folding), already resolved.
    peeked: Option<Token>,
    /// The last significant token given out.
    prev: Option<Token>,
    /// Significant tokens seen in the current statement (saturating).
    stmt_tokens: u8,
    /// Whether the current statement can carry credentials (decided on its first words).
    credentials: Option<bool>,
    /// The statement started with `CREATE` / `ALTER` / `DROP` (the object kind decides).
    schema_verb: Option<Token>,
    secret: Secret,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(sql: &'a str, mode: SqlMode) -> Self {
        let (escapes, dual) = mode.readings();
        Tokens {
            sql,
            lex: Lexer::with_escapes(sql, mode.dialect(), escapes),
            dialect: mode.dialect(),
            dual,
            peeked: None,
            prev: None,
            stmt_tokens: 0,
            credentials: None,
            schema_verb: None,
            secret: Secret::Idle,
        }
    }

    /// The text of a token.
    pub(crate) fn text(&self, tok: &Token) -> &'a str {
        tok.text(self.sql)
    }

    /// The next lexer token with the server-dependent readings resolved: a string with a
    /// backslash when the backslash rule is unknown, and a MySQL executable comment that runs
    /// or not depending on the server's version or vendor. Where the readings disagree, the
    /// whole run up to the first point where they all agree again is one literal.
    fn resolved(&mut self) -> Option<Token> {
        if let Some(t) = self.peeked.take() {
            return Some(t);
        }
        let before = self.lex;
        let start = before.pos;
        let tok = self.lex.next()?;
        let backslash = self.dual && tok.kind == Kind::Str && tok.text(self.sql).contains('\\');
        if !backslash && !self.lex.opened_conditional {
            return Some(tok);
        }
        let mut readings = [self.lex; 6];
        let mut n = 1;
        let mut skips = [tok.end; 2];
        let mut push = |lexer: Lexer<'a>, readings: &mut [Lexer<'a>; 6]| {
            readings[n] = lexer;
            n += 1;
        };
        if self.lex.opened_conditional {
            let escapes = if self.dual { 2 } else { 1 };
            for flip in 0..escapes {
                let base = if flip == 0 {
                    before
                } else {
                    before.other_reading(start)
                };
                if flip == 1 {
                    let mut run = base;
                    let _ = run.next();
                    push(run, &mut readings);
                }
                for (i, c) in [Conditional::SkipNested, Conditional::Skip]
                    .into_iter()
                    .enumerate()
                {
                    let mut skip = base.reading_conditional(start, c);
                    let first = skip.next();
                    if flip == 0 {
                        skips[i] = first.map_or(start, |t| t.end);
                    }
                    push(skip, &mut readings);
                }
            }
        } else {
            let mut other = before.other_reading(start);
            let _ = other.next();
            push(other, &mut readings);
        }
        let end = sync(&mut readings[..n]);
        if !backslash && skips.iter().all(|&s| s == end) {
            // Every reading puts the comment's end at the same `*/`: the content is SQL for
            // the server that runs it and a comment for the others; read it as SQL.
            return Some(tok);
        }
        // Continue with the primary reading from the agreed point.
        self.lex = readings[0];
        self.lex.pos = end;
        Some(Token {
            kind: Kind::Str,
            start,
            end,
        })
    }

    fn peek_resolved(&mut self) -> Option<Token> {
        if self.peeked.is_none() {
            self.peeked = self.resolved();
        }
        self.peeked
    }

    fn prev_word_is(&self, set: &[&str]) -> bool {
        self.prev
            .is_some_and(|p| p.kind == Kind::Word && is_any(p.text(self.sql), set))
    }

    /// A sign directly before a number is part of it, unless it follows an operand.
    fn sign_folds(&self) -> bool {
        match self.prev {
            None => true,
            Some(p) => match p.kind {
                Kind::Number | Kind::Str => true,
                Kind::Punct => p.text(self.sql) != ")",
                Kind::Word => is_any(p.text(self.sql), SIGN_AFTER),
                _ => false,
            },
        }
    }

    /// Whether a SQLite `"x"` token stands where only a name can.
    fn sqlite_name_position(&self, tok: &Token) -> bool {
        if self
            .prev
            .is_some_and(|p| p.kind == Kind::Punct && p.text(self.sql) == ".")
            || self.prev_word_is(SQLITE_NAME_BEFORE)
        {
            return true;
        }
        // Followed (after spaces) by `.`: a qualifier.
        self.sql
            .as_bytes()
            .get(tok.end..)
            .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()))
            == Some(&b'.')
    }

    /// The rest of the statement from `first` (up to, not including, the next `;`) as one
    /// literal.
    fn redact_rest(&mut self, first: Token) -> Token {
        let mut end = first.end;
        while let Some(t) = self.resolved() {
            match t.kind {
                Kind::Space | Kind::Comment => {}
                Kind::Punct if t.text(self.sql) == ";" => {
                    self.peeked = Some(t);
                    break;
                }
                _ => end = t.end,
            }
        }
        self.secret = Secret::Idle;
        Token {
            kind: Kind::Str,
            start: first.start,
            end,
        }
    }

    /// Tracks the statement's first words and applies the credential rule: in a statement
    /// that can carry credentials, everything after `PASSWORD` (or a word ending in it) and
    /// after `IDENTIFIED [BY|AS]` is one literal; in `CREATE` / `ALTER` `USER` / `ROLE` /
    /// `LOGIN` / `GROUP` and `CONNECT`, everything after the kind is.
    fn credentials(&mut self, tok: Token) -> Token {
        let text = tok.text(self.sql);
        if tok.kind == Kind::Punct && text == ";" {
            self.stmt_tokens = 0;
            self.credentials = None;
            self.schema_verb = None;
            self.secret = Secret::Idle;
            return tok;
        }
        match self.secret {
            Secret::Rest => return self.redact_rest(tok),
            Secret::Identified => {
                if tok.kind == Kind::Word && is_any(text, &["BY", "AS"]) {
                    self.secret = Secret::Rest;
                    return tok;
                }
                return self.redact_rest(tok);
            }
            Secret::Idle => {}
        }
        self.stmt_tokens = self.stmt_tokens.saturating_add(1);
        let is_word = tok.kind == Kind::Word;
        if self.stmt_tokens == 1 && is_word {
            if is_any(text, NO_CREDENTIALS) {
                self.credentials = Some(false);
            } else if is_any(text, &["CREATE", "ALTER", "DROP"]) {
                self.schema_verb = Some(tok);
            } else {
                self.credentials = Some(true);
                if text.eq_ignore_ascii_case("CONNECT") {
                    self.secret = Secret::Rest;
                }
            }
            return tok;
        }
        if let Some(verb) = self.schema_verb
            && self.credentials.is_none()
        {
            if is_word && is_any(text, &["OR", "REPLACE"]) {
                return tok;
            }
            let kind_is = |set: &[&str]| is_word && is_any(text, set);
            if kind_is(SCHEMA_OBJECTS) {
                self.credentials = Some(false);
                return tok;
            }
            self.credentials = Some(true);
            if kind_is(&["USER", "ROLE", "LOGIN", "GROUP"])
                && !verb.text(self.sql).eq_ignore_ascii_case("DROP")
            {
                self.secret = Secret::Rest;
                return tok;
            }
        }
        if self.credentials == Some(false) || !is_word {
            return tok;
        }
        if ends_with_password(text) {
            self.secret = Secret::Rest;
        } else if text.eq_ignore_ascii_case("IDENTIFIED") {
            self.secret = Secret::Identified;
        }
        tok
    }
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let mut tok = self.resolved()?;
        match tok.kind {
            Kind::Space | Kind::Comment => return Some(tok),
            Kind::Punct if matches!(tok.text(self.sql), "-" | "+") && self.sign_folds() => {
                if let Some(n) = self.peek_resolved()
                    && n.kind == Kind::Number
                    && n.start == tok.end
                {
                    self.peeked = None;
                    tok = Token {
                        kind: Kind::Number,
                        start: tok.start,
                        end: n.end,
                    };
                }
            }
            Kind::QuotedIdent
                if self.dialect == Dialect::Sqlite
                    && tok.text(self.sql).starts_with('"')
                    && !self.sqlite_name_position(&tok) =>
            {
                tok.kind = Kind::Str;
            }
            _ => {}
        }
        let tok = self.credentials(tok);
        self.prev = Some(tok);
        Some(tok)
    }
}

/// Advances whichever reading is behind until all stand at the same token boundary in the
/// same comment state (or at the end of the text); returns that position.
fn sync(readings: &mut [Lexer<'_>]) -> usize {
    loop {
        let first = readings[0];
        if readings
            .iter()
            .all(|l| l.pos == first.pos && l.exec == first.exec)
        {
            return first.pos;
        }
        let Some(behind) = readings.iter_mut().min_by_key(|l| (l.pos, !l.exec)) else {
            return first.pos;
        };
        if behind.next().is_none() {
            return readings.iter().map(|l| l.pos).max().unwrap_or(first.pos);
        }
        if behind.opened_conditional {
            // Another server-dependent comment inside the disputed run: its readings multiply
            // with these; the rest of the text is the literal.
            return behind.text_len();
        }
    }
}

/// `true` for tokens that are values: string and number literals and `TRUE`/`FALSE`.
pub(crate) fn is_literal(kind: Kind, text: &str) -> bool {
    match kind {
        Kind::Str | Kind::Number => true,
        Kind::Word => text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false"),
        _ => false,
    }
}
