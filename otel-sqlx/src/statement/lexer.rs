//! A small SQL lexer: splits text into tokens without ever failing, so the sanitizer and the
//! summary never see a literal they cannot classify. Unterminated strings, comments and
//! dollar quotes run to the end of the input (and are then treated as one literal or comment).

/// The SQL dialect: decides which quotes are strings, which are identifiers, whether backslash
/// escapes exist, which comment forms and placeholders are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL: `"ident"`, `'str'` (no backslash escapes), `E'str'` (backslash escapes),
    /// `U&'str'`, `B'..'` / `X'..'` bit strings, `$$..$$` / `$tag$..$tag$` dollar quotes, `$1`
    /// placeholders, nested `/* */` comments.
    Postgres,
    /// MySQL and MariaDB: `` `ident` ``, `'str'` and `"str"` with backslash escapes, `#` and
    /// `-- ` line comments, `?` placeholders, executable comments (`/*! .. */`,
    /// `/*!50110 .. */`, MariaDB's `/*M! .. */`) whose content is SQL.
    MySql,
    /// SQLite: `"ident"`, `` `ident` ``, `[ident]`, `'str'`, `X'..'` blobs, `?`, `?NNN`,
    /// `:name`, `@name`, `#name`, `$name` placeholders (with TCL suffixes `::x` and `(..)`).
    Sqlite,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Spaces, tabs, newlines.
    Space,
    /// `-- ...`, `# ...` (MySQL), `/* ... */`.
    Comment,
    /// A bare word: keyword or unquoted identifier (may contain digits, `_`, `$`).
    Word,
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`).
    QuotedIdent,
    /// A string literal of any form (`'x'`, `E'x'`, `X'1F'`, `$$x$$`, MySQL `"x"`).
    Str,
    /// A numeric literal (`1`, `1.5e3`, `.5`, `0x1F`, `0b101`).
    Number,
    /// A bind placeholder (`$1`, `?`, `?1`, `:name`, `@name`, `$name`).
    Placeholder,
    /// A single punctuation or operator character.
    Punct,
}

/// One token: its kind and byte range in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Token {
    pub(crate) fn text<'a>(&self, sql: &'a str) -> &'a str {
        sql.get(self.start..self.end).unwrap_or("")
    }
}

/// Iterator over the tokens of `sql`. Cheap to copy: its whole state is a position, so a
/// copy is a look-ahead that costs nothing to throw away.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer<'a> {
    sql: &'a str,
    bytes: &'a [u8],
    pub(crate) pos: usize,
    dialect: Dialect,
    /// Whether a backslash escapes the next byte in plain `'..'` strings (and MySQL `".."`
    /// strings): MySQL by default, PostgreSQL with `standard_conforming_strings=off`.
    escapes: bool,
    /// Inside a MySQL executable comment: its `*/` is a comment token of its own.
    pub(crate) exec: bool,
    /// How an executable comment whose reading depends on the server (version or vendor) is
    /// read: as SQL (the default) or as one comment.
    pub(crate) conditional: Conditional,
    /// The last token was the opener of such an executable comment.
    pub(crate) opened_conditional: bool,
}

/// The readings of a MySQL executable comment whose fate the server decides: `/*!NNNNN` runs
/// on a server at least that version (and MariaDB skips MySQL's 5.7-9.x versions), `/*M!`
/// runs on MariaDB and is a plain comment on MySQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conditional {
    /// The content is SQL up to the `*/` token outside strings.
    Run,
    /// Skipped the way a too-new versioned comment is: up to the first `*/`, one level of
    /// `/* */` nested.
    SkipNested,
    /// A plain comment: up to the first `*/`.
    Skip,
}

impl<'a> Lexer<'a> {
    /// A lexer reading plain strings with the dialect's default backslash rule.
    #[cfg(test)]
    pub(crate) fn new(sql: &'a str, dialect: Dialect) -> Self {
        Self::with_escapes(sql, dialect, dialect == Dialect::MySql)
    }

    /// A lexer reading plain strings with (`escapes`) or without backslash escapes.
    pub(crate) fn with_escapes(sql: &'a str, dialect: Dialect, escapes: bool) -> Self {
        Lexer {
            sql,
            bytes: sql.as_bytes(),
            pos: 0,
            dialect,
            escapes,
            exec: false,
            conditional: Conditional::Run,
            opened_conditional: false,
        }
    }

    /// The same lexer at `pos` reading plain strings the other way round.
    pub(crate) fn other_reading(&self, pos: usize) -> Self {
        Lexer {
            pos,
            escapes: !self.escapes,
            ..*self
        }
    }

    /// The same lexer at `pos` reading conditional executable comments as `conditional`.
    pub(crate) fn reading_conditional(&self, pos: usize, conditional: Conditional) -> Self {
        Lexer {
            pos,
            conditional,
            ..*self
        }
    }

    /// The length of the text.
    pub(crate) fn text_len(&self) -> usize {
        self.bytes.len()
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    /// Advances to the next char boundary at or after `pos`.
    fn boundary(&self, mut pos: usize) -> usize {
        while pos < self.bytes.len() && !self.sql.is_char_boundary(pos) {
            pos += 1;
        }
        pos.min(self.bytes.len())
    }

    fn line_comment(&mut self) -> Kind {
        while let Some(b) = self.peek(0) {
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
        Kind::Comment
    }

    /// A MySQL executable comment opener at `pos`: its length (`/*!`, `/*M!`, plus a 5 or 6
    /// digit version) and whether the server decides whether it runs (MariaDB sql_lex.cc:
    /// exactly 5 digits, or 6, make a version; fewer are SQL).
    fn exec_opener(&self) -> Option<(usize, bool)> {
        let maria = self.peek(2) == Some(b'M') && self.peek(3) == Some(b'!');
        if !(maria || self.peek(2) == Some(b'!')) {
            return None;
        }
        let base = if maria { 4 } else { 3 };
        let digits = (0..6)
            .take_while(|&i| self.peek(base + i).is_some_and(|b| b.is_ascii_digit()))
            .count();
        let version = if digits >= 5 { digits } else { 0 };
        Some((base + version, maria || version > 0))
    }

    /// `/*` at `pos` in MySQL: an executable comment's opener (its content is then lexed as
    /// SQL) or a comment, as the current reading says. An opener inside an executable comment
    /// opens nothing more (MariaDB sql_lex.cc: the first `*/` outside strings ends both), but
    /// its marker is still not SQL.
    fn mysql_block_comment(&mut self) -> Kind {
        let Some((len, conditional)) = self.exec_opener() else {
            return self.block_comment();
        };
        self.opened_conditional = conditional;
        match (conditional, self.conditional) {
            (false, _) | (true, Conditional::Run) => {
                self.pos += len;
                self.exec = true;
                Kind::Comment
            }
            (true, Conditional::Skip) => self.block_comment(),
            (true, Conditional::SkipNested) => {
                self.pos += len;
                while self.pos < self.bytes.len() {
                    match (self.bytes[self.pos], self.peek(1)) {
                        (b'*', Some(b'/')) => {
                            self.pos += 2;
                            return Kind::Comment;
                        }
                        (b'/', Some(b'*')) => {
                            self.block_comment();
                        }
                        _ => self.pos += 1,
                    }
                }
                Kind::Comment
            }
        }
    }

    fn block_comment(&mut self) -> Kind {
        // Past the opening `/*`.
        self.pos += 2;
        let nested = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        while self.pos < self.bytes.len() {
            match (self.bytes[self.pos], self.peek(1)) {
                (b'*', Some(b'/')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return Kind::Comment;
                    }
                }
                (b'/', Some(b'*')) if nested => {
                    self.pos += 2;
                    depth += 1;
                }
                _ => self.pos += 1,
            }
        }
        Kind::Comment
    }

    /// A quoted run starting at `self.pos` (the opening quote). A doubled quote is an escaped
    /// quote; with `backslash`, `\x` escapes any byte. Returns whether the run was closed.
    fn quoted(&mut self, quote: u8, backslash: bool) -> bool {
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if backslash && b == b'\\' {
                self.pos += 2;
                continue;
            }
            if b == quote {
                if self.peek(1) == Some(quote) {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return true;
            }
            self.pos += 1;
        }
        self.pos = self.bytes.len();
        false
    }

    /// A quoted identifier; an unterminated one swallows the rest of the text and is then a
    /// possible literal (`Str`), never a name.
    fn quoted_ident(&mut self, quote: u8) -> Kind {
        if self.quoted(quote, false) {
            Kind::QuotedIdent
        } else {
            Kind::Str
        }
    }

    /// `$tag$...$tag$` (Postgres). Returns false (position unchanged) when the text at `pos` is
    /// not a dollar-quote opener.
    fn dollar_quote(&mut self) -> bool {
        let start = self.pos;
        let mut i = start + 1;
        while i < self.bytes.len() {
            let b = self.bytes[i];
            if b == b'$' {
                break;
            }
            if !(b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80) {
                return false;
            }
            i += 1;
        }
        if i >= self.bytes.len() {
            return false;
        }
        // A tag may not start with a digit (`$1` is a placeholder).
        if self
            .bytes
            .get(start + 1)
            .is_some_and(|b| b.is_ascii_digit())
        {
            return false;
        }
        let tag = &self.bytes[start..=i];
        let body = i + 1;
        let close = self.bytes[body..]
            .windows(tag.len())
            .position(|w| w == tag)
            .map(|p| body + p + tag.len());
        self.pos = close.unwrap_or(self.bytes.len());
        true
    }

    fn word(&mut self) {
        while let Some(b) = self.peek(0) {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// A SQLite variable (tokenize.c): `$`, `@`, `:` or `#`, identifier characters, `::`
    /// separators, and a TCL array suffix `(...)` running to `)` or whitespace. Returns false
    /// (position unchanged) when no identifier character follows.
    fn sqlite_variable(&mut self) -> bool {
        let mut i = self.pos + 1;
        let mut n = 0usize;
        while let Some(&c) = self.bytes.get(i) {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
                n += 1;
                i += 1;
            } else if c == b'(' && n > 0 {
                i += 1;
                while let Some(&c) = self.bytes.get(i) {
                    i += 1;
                    if c == b')' {
                        break;
                    }
                    if c.is_ascii_whitespace() || c == 0x0b {
                        i -= 1;
                        break;
                    }
                }
                break;
            } else if c == b':' && self.bytes.get(i + 1) == Some(&b':') {
                i += 2;
            } else {
                break;
            }
        }
        if n == 0 {
            return false;
        }
        self.pos = i;
        true
    }

    fn number(&mut self) {
        let b0 = self.peek(0);
        let b1 = self.peek(1).map(|b| b.to_ascii_lowercase());
        if b0 == Some(b'0') && matches!(b1, Some(b'x') | Some(b'b') | Some(b'o')) {
            self.pos += 2;
            while self
                .peek(0)
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                self.pos += 1;
            }
            return;
        }
        while self
            .peek(0)
            .is_some_and(|b| b.is_ascii_digit() || b == b'_')
        {
            self.pos += 1;
        }
        if self.peek(0) == Some(b'.') {
            self.pos += 1;
            while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), Some(b'e') | Some(b'E')) {
            let sign = matches!(self.peek(1), Some(b'+') | Some(b'-'));
            let digit_at = if sign { 2 } else { 1 };
            if self.peek(digit_at).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += digit_at;
                while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        // Trailing letters glued to a number (`1abc`): part of the literal, never leaked.
        while self
            .peek(0)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        {
            self.pos += 1;
        }
    }

    fn next_kind(&mut self) -> Kind {
        let b = self.bytes[self.pos];
        let next = self.peek(1);
        let d = self.dialect;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                while self
                    .peek(0)
                    .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
                {
                    self.pos += 1;
                }
                Kind::Space
            }
            b'-' if next == Some(b'-') => {
                // MySQL needs whitespace (or the end) after `--`; elsewhere `--` always comments.
                let is_comment = d != Dialect::MySql
                    || self
                        .peek(2)
                        .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control());
                if is_comment {
                    self.line_comment()
                } else {
                    self.pos += 1;
                    Kind::Punct
                }
            }
            b'#' if d == Dialect::MySql => self.line_comment(),
            b'*' if self.exec && next == Some(b'/') => {
                self.pos += 2;
                self.exec = false;
                Kind::Comment
            }
            b'/' if next == Some(b'*') => {
                if d == Dialect::MySql {
                    self.mysql_block_comment()
                } else {
                    self.block_comment()
                }
            }
            b'\'' => {
                self.quoted(b'\'', self.escapes);
                Kind::Str
            }
            b'"' => {
                if d == Dialect::MySql {
                    self.quoted(b'"', self.escapes);
                    Kind::Str
                } else {
                    self.quoted_ident(b'"')
                }
            }
            // PostgreSQL has no backtick identifiers (`` ` `` is an operator character there).
            b'`' if d != Dialect::Postgres => self.quoted_ident(b'`'),
            b'[' if d == Dialect::Sqlite => {
                match self.bytes[self.pos..].iter().position(|&c| c == b']') {
                    Some(p) => {
                        self.pos += p + 1;
                        Kind::QuotedIdent
                    }
                    None => {
                        self.pos = self.bytes.len();
                        Kind::Str
                    }
                }
            }
            // Prefixed strings. PostgreSQL only: E'..' (always escapes), U&'..' (never). In
            // MySQL and SQLite `e` is a word and `u&` a word and an operator.
            b'e' | b'E' if d == Dialect::Postgres && next == Some(b'\'') => {
                self.pos += 1;
                self.quoted(b'\'', true);
                Kind::Str
            }
            b'u' | b'U'
                if d == Dialect::Postgres && next == Some(b'&') && self.peek(2) == Some(b'\'') =>
            {
                self.pos += 2;
                self.quoted(b'\'', false);
                Kind::Str
            }
            // X'..' (hex, SQLite blob) and B'..' (bits): no escapes anywhere (MySQL accepts
            // only digits there). SQLite has no B'..'.
            b'x' | b'X' if next == Some(b'\'') => {
                self.pos += 1;
                self.quoted(b'\'', false);
                Kind::Str
            }
            b'b' | b'B' if d != Dialect::Sqlite && next == Some(b'\'') => {
                self.pos += 1;
                self.quoted(b'\'', false);
                Kind::Str
            }
            // N'..' (national): a plain string (SQLite: a word and a string, the same extent).
            b'n' | b'N' if next == Some(b'\'') => {
                self.pos += 1;
                self.quoted(b'\'', self.escapes);
                Kind::Str
            }
            b'$' if d == Dialect::Postgres && self.dollar_quote() => Kind::Str,
            b'$' | b'@' | b':' | b'#' if d == Dialect::Sqlite && self.sqlite_variable() => {
                Kind::Placeholder
            }
            b'$' if next.is_some_and(|c| c.is_ascii_digit()) => {
                self.pos += 1;
                while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                Kind::Placeholder
            }
            b'?' => {
                self.pos += 1;
                if d == Dialect::Sqlite {
                    while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                        self.pos += 1;
                    }
                }
                Kind::Placeholder
            }
            b'0'..=b'9' => {
                self.number();
                Kind::Number
            }
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => {
                self.number();
                Kind::Number
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                self.word();
                Kind::Word
            }
            _ => {
                self.pos += 1;
                Kind::Punct
            }
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        self.opened_conditional = false;
        let kind = self.next_kind();
        // Always make progress, and always stop on a char boundary.
        self.pos = self.boundary(self.pos.max(start + 1));
        Some(Token {
            kind,
            start,
            end: self.pos,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, d: Dialect) -> Vec<(Kind, &str)> {
        Lexer::new(sql, d)
            .filter(|t| t.kind != Kind::Space)
            .map(|t| (t.kind, t.text(sql)))
            .collect()
    }

    #[test]
    fn postgres_dollar_quotes_and_placeholders() {
        let sql = "SELECT $1, $$a'b$$, $x$ $$ $x$, E'\\'', 'it''s'";
        let k = kinds(sql, Dialect::Postgres);
        assert_eq!(
            k,
            vec![
                (Kind::Word, "SELECT"),
                (Kind::Placeholder, "$1"),
                (Kind::Punct, ","),
                (Kind::Str, "$$a'b$$"),
                (Kind::Punct, ","),
                (Kind::Str, "$x$ $$ $x$"),
                (Kind::Punct, ","),
                (Kind::Str, "E'\\''"),
                (Kind::Punct, ","),
                (Kind::Str, "'it''s'"),
            ]
        );
    }

    #[test]
    fn mysql_quotes_and_comments() {
        let sql = "SELECT \"a\\\"b\", `c` # x\n-- y\n/* z */ 1";
        let k = kinds(sql, Dialect::MySql);
        assert_eq!(
            k,
            vec![
                (Kind::Word, "SELECT"),
                (Kind::Str, "\"a\\\"b\""),
                (Kind::Punct, ","),
                (Kind::QuotedIdent, "`c`"),
                (Kind::Comment, "# x"),
                (Kind::Comment, "-- y"),
                (Kind::Comment, "/* z */"),
                (Kind::Number, "1"),
            ]
        );
    }

    #[test]
    fn never_stalls_on_multibyte_text() {
        let sql = "SÉLECT 'é' ü \u{1F600} $é$x$é$";
        let total: usize = Lexer::new(sql, Dialect::Postgres)
            .map(|t| t.end - t.start)
            .sum();
        assert_eq!(total, sql.len());
    }
}
