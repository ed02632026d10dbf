//! What a statement does: the low-cardinality summary (`db.query.summary`: operations and
//! targets in order of appearance, operations as written, e.g. `SELECT users orders`,
//! `INSERT orders SELECT cart`, `CREATE TABLE t`, `CALL proc`), the operation, the one table
//! it targets when there is exactly one, the stored procedure and the statement count.
//!
//! One pass over the safe token stream with a bounded state: a stack of at most
//! [`MAX_TRACKED_DEPTH`] parenthesis levels (deeper levels are counted, not analysed), at
//! most [`MAX_CTE_NAMES`] CTE names, and the summary capped at [`MAX_SUMMARY_LEN`]. Memory
//! does not grow with the statement.

use super::lexer::{Dialect, Kind, Token};
use super::mode::SqlMode;
use super::names::{NameBuf, part, shape_ok};
use super::tokens::Tokens;

/// Longest `db.query.summary` recorded, in bytes.
pub const MAX_SUMMARY_LEN: usize = 255;

/// Parenthesis levels analysed; text nested deeper adds nothing to the summary.
pub const MAX_TRACKED_DEPTH: usize = 32;

/// CTE names remembered per statement (references to them are not tables).
pub const MAX_CTE_NAMES: usize = 16;

/// The facts extracted from one SQL text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Analysis {
    /// The operation, upper-cased: `SELECT`, `INSERT`, `CREATE`, ...; for several statements
    /// `BATCH <op>` when they share one operation, else `BATCH`. (Parsed from the text: the
    /// SQL conventions say `db.operation.name` SHOULD NOT be, so it is an opt-in attribute.)
    pub operation: Option<String>,
    /// The one table a single statement touches, when there is exactly one.
    pub collection: Option<String>,
    /// `db.query.summary`: operations (as written) and targets in order; statements joined by
    /// `; `; at most [`MAX_SUMMARY_LEN`] bytes, cut between words.
    pub summary: Option<String>,
    /// Number of non-empty statements (`;`-separated): `db.operation.batch.size` when >= 2.
    pub statement_count: usize,
    /// The procedure of the first `CALL` / `EXEC`: `db.stored_procedure.name` (`EXECUTE name`
    /// runs a prepared statement in PostgreSQL and MySQL, not a procedure).
    pub stored_procedure: Option<String>,
}

/// Extracts operation, collection, summary, statement count and stored procedure from
/// `sql`, read as `dialect` with the session's settings unknown.
///
/// ```
/// use otel_sqlx::sql::{Dialect, analyze};
/// let a = analyze("SELECT * FROM users u JOIN orders o ON o.user_id = u.id", Dialect::Postgres);
/// assert_eq!(a.operation.as_deref(), Some("SELECT"));
/// assert_eq!(a.summary.as_deref(), Some("SELECT users orders"));
/// assert_eq!(a.collection, None);
/// ```
pub fn analyze(sql: &str, dialect: Dialect) -> Analysis {
    analyze_with(sql, SqlMode::new(dialect))
}

/// [`analyze`] with the session's string rules given by `mode`.
pub fn analyze_with(sql: &str, mode: SqlMode) -> Analysis {
    let mut a = Analyzer::new(sql);
    for tok in Tokens::new(sql, mode) {
        if !matches!(tok.kind, Kind::Space | Kind::Comment) {
            a.token(&tok);
        }
    }
    a.finish()
}

fn is(word: &str, w: &str) -> bool {
    word.eq_ignore_ascii_case(w)
}

fn is_any(word: &str, set: &[&str]) -> bool {
    set.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Statements recorded as their first word only (their arguments are not targets).
const OP_ONLY: &[&str] = &[
    "GRANT",
    "REVOKE",
    "SHOW",
    "SET",
    "RESET",
    "PRAGMA",
    "DESCRIBE",
    "DESC",
    "ANALYZE",
    "VACUUM",
    "CHECKPOINT",
    "LISTEN",
    "NOTIFY",
    "UNLISTEN",
    "DISCARD",
    "PREPARE",
    "DEALLOCATE",
    "DECLARE",
    "FETCH",
    "CLOSE",
    "MOVE",
    "REFRESH",
    "REINDEX",
    "CLUSTER",
    "COMMENT",
    "LOAD",
    "DO",
    "FLUSH",
    "OPTIMIZE",
    "REPAIR",
    "KILL",
    "RENAME",
    "ATTACH",
    "DETACH",
    "SAVEPOINT",
    "RELEASE",
    "HANDLER",
];

/// Transaction statements: recorded with a following `TRANSACTION` / `WORK`.
const TRANSACTION: &[&str] = &["BEGIN", "START", "COMMIT", "ROLLBACK", "END", "ABORT"];

/// Schema object kinds whose name follows (`CREATE TABLE t`, `DROP INDEX i`).
const NAMED_KINDS: &[&str] = &[
    "TABLE",
    "INDEX",
    "VIEW",
    "PROCEDURE",
    "FUNCTION",
    "TRIGGER",
    "SEQUENCE",
    "USER",
    "DATABASE",
    "SCHEMA",
    "ROLE",
    "TYPE",
    "DOMAIN",
    "EXTENSION",
];

/// Words between `CREATE` / `ALTER` / `DROP` and the object kind.
const DDL_MODIFIERS: &[&str] = &[
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNLOGGED",
    "GLOBAL",
    "LOCAL",
    "UNIQUE",
    "FULLTEXT",
    "SPATIAL",
    "VIRTUAL",
    "RECURSIVE",
];

/// Words that end a table reference list and start another clause.
const CLAUSES: &[&str] = &[
    "WHERE",
    "GROUP",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "FETCH",
    "FOR",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "MINUS",
    "WINDOW",
    "RETURNING",
    "VALUES",
    "SELECT",
    "INTO",
    "WHEN",
    "FROM",
    "SET",
    "QUALIFY",
    "CONNECT",
    "START",
];

/// Words that introduce the next table of a join.
const JOINS: &[&str] = &["JOIN", "STRAIGHT_JOIN", "APPLY"];

/// Join qualifiers (`LEFT OUTER JOIN`), skipped.
const JOIN_QUALIFIERS: &[&str] = &[
    "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Insert,
    Update,
    Delete,
    Merge,
    Truncate,
    Lock,
    Proc,
    /// `EXECUTE name`: a prepared statement (named in the summary only).
    Prepared,
    Copy,
}

impl Target {
    fn skips(self, word: &str) -> bool {
        let set: &[&str] = match self {
            Target::Insert => &[
                "IGNORE",
                "LOW_PRIORITY",
                "DELAYED",
                "HIGH_PRIORITY",
                "OR",
                "REPLACE",
                "ROLLBACK",
                "ABORT",
                "FAIL",
                "INTO",
                "INSERT",
            ],
            Target::Update => &[
                "ONLY",
                "LOW_PRIORITY",
                "IGNORE",
                "OR",
                "ROLLBACK",
                "ABORT",
                "REPLACE",
                "FAIL",
            ],
            Target::Delete => &["LOW_PRIORITY", "QUICK", "IGNORE", "FROM", "ONLY"],
            Target::Merge => &["INTO"],
            Target::Truncate => &["ONLY"],
            Target::Lock | Target::Proc | Target::Prepared | Target::Copy => &[],
        };
        is_any(word, set)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Select lists, conditions, anything that names no table by position.
    Plain,
    /// After `FROM`, `JOIN`, `,` in a FROM list, or `(` there: a table reference follows.
    ExpectTable,
    /// After a table reference: alias, join, condition or the next clause.
    AfterTable,
    /// Inside `ON ..` / `USING ..` of a join.
    InOn,
    /// After `AS` (or `INTO` in a select): one alias to skip; back to the FROM list or not.
    Alias { from_list: bool },
    /// Expecting the target of a statement.
    Target(Target),
    /// After `CREATE` / `ALTER` / `DROP`: modifiers, then the object kind.
    DdlKind,
    /// After a named object kind: `IF NOT EXISTS`, then the name.
    DdlName { table: bool },
    /// After MySQL's `DEFINER` in a `CREATE`: the user (skipped), then the object kind.
    Definer,
    /// After `EXPLAIN`: options, then the explained statement.
    Explain,
    /// After a transaction verb: an optional `TRANSACTION` / `WORK`.
    Transaction,
    /// After `USE`: the database name.
    Use,
    /// After `WITH`: a CTE name.
    CteName,
    /// After a CTE name: column list, `AS`, then the body.
    CteAfterName { as_seen: bool },
    /// After a CTE body: `,` and the next CTE, or the main statement.
    CteAfterBody,
    /// Nothing more of this statement is recorded.
    Skip,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    state: State,
    /// An operation was seen at this level: `FROM` here names tables.
    query: bool,
    /// Tables named in this level's FROM / JOIN / USING are recorded (not for the joined
    /// tables of a multi-table `UPDATE` / `DELETE` / `MERGE`).
    collect: bool,
    /// The next word starts a statement (text start, CTE body, after `EXPLAIN`).
    start: bool,
}

impl Level {
    fn new(state: State, start: bool, collect: bool) -> Self {
        Level {
            state,
            query: false,
            collect,
            start,
        }
    }
}

/// What a name being read will be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Table {
        collect: bool,
    },
    Object {
        table: bool,
    },
    Procedure,
    /// A database or prepared statement: in the summary only.
    Named,
}

/// Summary words, capped.
#[derive(Debug, Default)]
struct Summary {
    out: String,
    full: bool,
    /// The current statement has put words in.
    started: bool,
}

impl Summary {
    fn word(&mut self, w: &str) {
        if self.full || w.is_empty() {
            return;
        }
        let sep = match (self.out.is_empty(), self.started) {
            (true, _) => "",
            (false, true) => " ",
            (false, false) => "; ",
        };
        if self.out.len() + sep.len() + w.len() > MAX_SUMMARY_LEN {
            self.full = true;
            return;
        }
        self.out.push_str(sep);
        self.out.push_str(w);
        self.started = true;
    }
}

/// Words that open a block closed by `END` inside a compound body (`END IF`, `END LOOP`, ...
/// close blocks that are not counted).
const BLOCK_OPENERS: &[&str] = &["BEGIN", "CASE"];

/// Words after `END` that close an uncounted block.
const UNCOUNTED_ENDS: &[&str] = &["IF", "LOOP", "WHILE", "REPEAT", "FOR"];

/// Object kinds whose definition may hold a compound body (`BEGIN ...; ...; END`).
const BODY_KINDS: &[&str] = &["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "PACKAGE"];

/// A compound body (`CREATE TRIGGER .. BEGIN ..; END`, MariaDB `CREATE PROCEDURE .. BEGIN
/// ..; END` and `BEGIN NOT ATOMIC ..; END`, PostgreSQL `BEGIN ATOMIC ..; END`): its `;` do not
/// end the statement and its statements are not analysed.
#[derive(Debug, Default)]
struct Compound {
    /// The statement defines an object that may have a body.
    allowed: bool,
    /// Open `BEGIN` / `CASE` blocks.
    depth: usize,
    /// An `END` was read: the next token says whether it closed a counted block.
    end_pending: bool,
}

impl Compound {
    /// Feeds one significant token; true when it belongs to a body.
    fn feed(&mut self, kind: Kind, text: &str) -> bool {
        let word = kind == Kind::Word;
        if std::mem::take(&mut self.end_pending) && !(word && is_any(text, UNCOUNTED_ENDS)) {
            self.depth = self.depth.saturating_sub(1);
        }
        if !self.allowed || !word {
            return self.depth > 0;
        }
        if is_any(text, BLOCK_OPENERS) {
            self.depth += 1;
            return true;
        }
        if self.depth > 0 && is(text, "END") {
            self.end_pending = true;
            return true;
        }
        self.depth > 0
    }
}

struct Analyzer<'a> {
    sql: &'a str,
    compound: Compound,
    summary: Summary,
    levels: Vec<Level>,
    /// Levels below the tracked ones.
    untracked: usize,
    name: NameBuf,
    pending: Option<Purpose>,
    prev_dot: bool,
    prev_comma: bool,
    ctes: Vec<String>,
    // Current statement.
    started: bool,
    op: Option<String>,
    any_op: Option<String>,
    table: Option<String>,
    tables: usize,
    // Whole text.
    statements: usize,
    first_op: Option<String>,
    same_op: bool,
    first_table: Option<String>,
    first_tables: usize,
    procedure: Option<String>,
}

impl<'a> Analyzer<'a> {
    fn new(sql: &'a str) -> Self {
        Analyzer {
            sql,
            compound: Compound::default(),
            summary: Summary::default(),
            levels: vec![Level::new(State::Plain, true, true)],
            untracked: 0,
            name: NameBuf::default(),
            pending: None,
            prev_dot: false,
            prev_comma: false,
            ctes: Vec::new(),
            started: false,
            op: None,
            any_op: None,
            table: None,
            tables: 0,
            statements: 0,
            first_op: None,
            same_op: true,
            first_table: None,
            first_tables: 0,
            procedure: None,
        }
    }

    fn depth(&self) -> usize {
        self.levels.len() - 1
    }

    fn top(&mut self) -> &mut Level {
        let last = self.levels.len() - 1;
        &mut self.levels[last]
    }

    fn set(&mut self, state: State) {
        self.top().state = state;
    }

    fn token(&mut self, tok: &Token) {
        if self.pending.is_some() {
            if self.name.feed(self.sql, tok) {
                return;
            }
            self.commit_name();
        }
        let text = tok.text(self.sql);
        if self.compound.feed(tok.kind, text) {
            self.started = true;
            return;
        }
        let after_dot =
            std::mem::replace(&mut self.prev_dot, tok.kind == Kind::Punct && text == ".");
        // A word right after `,` is a list item (a column named `select`), never an operation.
        let after_comma =
            std::mem::replace(&mut self.prev_comma, tok.kind == Kind::Punct && text == ",");
        if tok.kind == Kind::Punct {
            match text {
                ";" => return self.end_statement(),
                "(" => {
                    self.started = true;
                    return self.open();
                }
                ")" => return self.close(),
                _ => {}
            }
        }
        self.started = true;
        if self.untracked > 0 {
            return;
        }
        match tok.kind {
            Kind::Word if !after_dot && (!after_comma || !is(text, "SELECT")) => {
                self.word(text, tok)
            }
            Kind::Word | Kind::QuotedIdent => self.ident(tok),
            Kind::Punct if text == "," => self.comma(),
            _ => self.other(),
        }
    }

    fn open(&mut self) {
        if self.untracked > 0 || self.levels.len() >= MAX_TRACKED_DEPTH {
            self.untracked += 1;
            return;
        }
        let parent = *self.top();
        let (child, parent_state) = match parent.state {
            State::ExpectTable => (
                Level::new(State::ExpectTable, false, parent.collect),
                State::AfterTable,
            ),
            State::CteAfterName { as_seen: true } => {
                (Level::new(State::Plain, true, true), State::CteAfterBody)
            }
            State::CteAfterName { as_seen: false } | State::Explain | State::Skip => {
                (Level::new(State::Plain, false, true), parent.state)
            }
            State::Target(_) | State::DdlKind | State::DdlName { .. } | State::Use => {
                (Level::new(State::Plain, false, true), State::Plain)
            }
            State::Alias { from_list } => (
                Level::new(State::Plain, false, true),
                if from_list {
                    State::AfterTable
                } else {
                    State::Plain
                },
            ),
            other => (Level::new(State::Plain, false, true), other),
        };
        let top = self.top();
        top.state = parent_state;
        if parent_state != State::Explain {
            top.start = false;
        }
        self.levels.push(child);
    }

    fn close(&mut self) {
        if self.untracked > 0 {
            self.untracked -= 1;
        } else if self.levels.len() > 1 {
            self.levels.pop();
        }
    }

    fn comma(&mut self) {
        match self.top().state {
            State::AfterTable | State::InOn => self.set(State::ExpectTable),
            State::Alias { from_list: true } => self.set(State::ExpectTable),
            State::CteAfterBody => self.set(State::CteName),
            State::Target(_) | State::DdlKind | State::DdlName { .. } | State::Use => {
                self.set(State::Plain)
            }
            _ => {}
        }
        self.top().start = false;
    }

    /// A literal, placeholder or operator.
    fn other(&mut self) {
        let next = match self.top().state {
            State::ExpectTable
            | State::Target(_)
            | State::DdlKind
            | State::DdlName { .. }
            | State::Use
            | State::CteName
            | State::CteAfterName { .. } => Some(State::Plain),
            State::Alias { from_list } => Some(if from_list {
                State::AfterTable
            } else {
                State::Plain
            }),
            State::Explain | State::Transaction => Some(State::Skip),
            _ => None,
        };
        if let Some(s) = next {
            self.set(s);
        }
        if self.top().state != State::Explain {
            self.top().start = false;
        }
    }

    /// A quoted identifier, or a word after `.` (never a keyword).
    fn ident(&mut self, tok: &Token) {
        match self.top().state {
            State::ExpectTable => {
                self.set(State::AfterTable);
                let collect = self.top().collect;
                self.start_name(tok, Purpose::Table { collect });
            }
            State::Target(t) => self.target_name(tok, t),
            State::DdlName { table } => {
                self.set(State::Plain);
                self.start_name(tok, Purpose::Object { table });
            }
            State::Use => {
                self.set(State::Skip);
                self.start_name(tok, Purpose::Named);
            }
            State::CteName => self.cte_name(tok),
            State::Alias { from_list } => self.set(if from_list {
                State::AfterTable
            } else {
                State::Plain
            }),
            State::DdlKind | State::CteAfterName { .. } => self.set(State::Plain),
            _ => {}
        }
        self.top().start = false;
    }

    fn word(&mut self, w: &str, tok: &Token) {
        if self.top().start {
            self.top().start = false;
            return self.start_word(w);
        }
        match self.top().state {
            State::Plain => self.plain_word(w),
            State::ExpectTable => {
                if is_any(w, &["LATERAL", "ONLY"]) {
                } else if is(w, "SELECT") {
                    self.operation(w);
                    self.set(State::Plain);
                } else if is(w, "VALUES") {
                    self.set(State::Plain);
                } else {
                    self.ident(tok);
                }
            }
            State::AfterTable => {
                if is(w, "AS") {
                    self.set(State::Alias { from_list: true });
                } else if is_any(w, JOINS) {
                    self.set(State::ExpectTable);
                } else if is_any(w, JOIN_QUALIFIERS) {
                } else if is_any(w, &["ON", "USING"]) {
                    self.set(State::InOn);
                } else if is_any(w, CLAUSES) {
                    self.set(State::Plain);
                    self.plain_word(w);
                }
                // Anything else is an alias.
            }
            State::InOn => {
                if is_any(w, JOINS) {
                    self.set(State::ExpectTable);
                } else if is_any(w, CLAUSES) {
                    self.set(State::Plain);
                    self.plain_word(w);
                }
            }
            State::Alias { from_list } => {
                if is(w, "SELECT") {
                    self.set(State::Plain);
                    self.operation(w);
                } else {
                    self.set(if from_list {
                        State::AfterTable
                    } else {
                        State::Plain
                    });
                }
            }
            State::Target(t) => {
                if t.skips(w) {
                } else if matches!(t, Target::Truncate | Target::Lock)
                    && is_any(w, &["TABLE", "TABLES"])
                {
                    self.summary.word(w);
                } else {
                    self.target_name(tok, t);
                }
            }
            State::DdlKind => {
                if self.depth() == 0 && is_any(w, BODY_KINDS) {
                    self.compound.allowed = true;
                }
                if is_any(w, DDL_MODIFIERS) {
                } else if is(w, "DEFINER") {
                    self.set(State::Definer);
                } else if is(w, "MATERIALIZED") {
                    self.summary.word(w);
                } else if is_any(w, NAMED_KINDS) {
                    self.summary.word(w);
                    self.set(State::DdlName {
                        table: is(w, "TABLE"),
                    });
                } else if keyword_shaped(w) {
                    self.summary.word(w);
                    self.set(State::Plain);
                } else {
                    self.set(State::Plain);
                }
            }
            State::DdlName { .. } => {
                if is_any(w, &["IF", "NOT", "EXISTS", "CONCURRENTLY", "ONLY"]) {
                } else if is(w, "ON") {
                    self.set(State::Plain);
                } else {
                    self.ident(tok);
                }
            }
            State::Explain => {
                if !is_any(w, &["ANALYZE", "VERBOSE", "QUERY", "PLAN"]) {
                    self.set(State::Plain);
                    self.start_word(w);
                }
            }
            State::Transaction => {
                if self.depth() == 0 && is(w, "NOT") && self.op.as_deref() == Some("BEGIN") {
                    // MariaDB `BEGIN NOT ATOMIC ..; END`: a compound statement.
                    self.compound.allowed = true;
                    self.compound.depth = 1;
                } else if is_any(w, &["TRANSACTION", "WORK", "TRAN"]) {
                    self.summary.word(w);
                }
                self.set(State::Skip);
            }
            State::Use => self.ident(tok),
            State::CteName => {
                if !is(w, "RECURSIVE") {
                    self.cte_name(tok);
                }
            }
            State::CteAfterName { .. } => {
                if is(w, "AS") {
                    self.set(State::CteAfterName { as_seen: true });
                } else if !is_any(w, &["NOT", "MATERIALIZED"]) {
                    self.set(State::Plain);
                    self.start_word(w);
                }
            }
            State::CteAfterBody => {
                self.set(State::Plain);
                self.start_word(w);
            }
            State::Definer => {
                if is_any(w, NAMED_KINDS) || is_any(w, BODY_KINDS) {
                    self.set(State::DdlKind);
                    self.word(w, tok);
                }
            }
            State::Skip => {}
        }
    }

    fn plain_word(&mut self, w: &str) {
        let level = *self.top();
        if is(w, "SELECT") {
            self.operation(w);
            self.top().collect = true;
        } else if level.query
            && (is(w, "FROM") || is_any(w, JOINS) || (is(w, "USING") && !level.collect))
        {
            self.set(State::ExpectTable);
        } else if (is(w, "INTO") && level.query) || is(w, "AS") {
            self.set(State::Alias { from_list: false });
        }
    }

    /// The first word of a statement (or of a CTE body, or after `EXPLAIN`).
    fn start_word(&mut self, w: &str) {
        let depth = self.depth();
        let target = |t| State::Target(t);
        let next = if is(w, "SELECT") {
            self.operation(w);
            State::Plain
        } else if is(w, "WITH") {
            State::CteName
        } else if is(w, "VALUES") {
            if depth == 0 {
                self.operation(w);
            }
            State::Plain
        } else if is_any(w, &["INSERT", "UPSERT", "REPLACE"]) {
            self.operation(w);
            target(Target::Insert)
        } else if is(w, "UPDATE") {
            self.operation(w);
            self.top().collect = false;
            target(Target::Update)
        } else if is(w, "DELETE") {
            self.operation(w);
            self.top().collect = false;
            target(Target::Delete)
        } else if is(w, "MERGE") {
            self.operation(w);
            self.top().collect = false;
            target(Target::Merge)
        } else if is_any(w, &["CREATE", "ALTER", "DROP"]) {
            self.operation(w);
            State::DdlKind
        } else if is(w, "TRUNCATE") {
            self.operation(w);
            target(Target::Truncate)
        } else if is(w, "LOCK") {
            self.operation(w);
            target(Target::Lock)
        } else if is_any(w, &["CALL", "EXEC"]) {
            self.operation(w);
            target(Target::Proc)
        } else if is(w, "EXECUTE") {
            self.operation(w);
            target(Target::Prepared)
        } else if is(w, "COPY") {
            self.operation(w);
            target(Target::Copy)
        } else if is(w, "USE") {
            self.operation(w);
            State::Use
        } else if is(w, "EXPLAIN") {
            self.operation(w);
            State::Explain
        } else if is_any(w, TRANSACTION) {
            self.operation(w);
            State::Transaction
        } else if is(w, "TABLE") {
            // PostgreSQL `TABLE t`: a select of the whole table.
            State::Skip
        } else if depth == 0 && (is_any(w, OP_ONLY) || keyword_shaped(w)) {
            self.operation(w);
            State::Skip
        } else {
            State::Skip
        };
        self.set(next);
    }

    fn target_name(&mut self, tok: &Token, t: Target) {
        let (purpose, next) = match t {
            Target::Proc => (Purpose::Procedure, State::Plain),
            Target::Prepared => (Purpose::Named, State::Skip),
            Target::Truncate | Target::Lock | Target::Copy => {
                (Purpose::Table { collect: true }, State::Skip)
            }
            Target::Insert | Target::Update | Target::Delete | Target::Merge => {
                (Purpose::Table { collect: true }, State::AfterTable)
            }
        };
        self.set(next);
        self.start_name(tok, purpose);
    }

    fn cte_name(&mut self, tok: &Token) {
        if let Some(name) = part(self.sql, tok)
            && shape_ok(name)
            && self.ctes.len() < MAX_CTE_NAMES
        {
            self.ctes.push(name.to_string());
        }
        self.set(State::CteAfterName { as_seen: false });
    }

    fn start_name(&mut self, tok: &Token, purpose: Purpose) {
        match part(self.sql, tok) {
            Some(p) => {
                self.name.start(p);
                self.pending = Some(purpose);
            }
            None => self.pending = None,
        }
    }

    fn commit_name(&mut self) {
        let Some(purpose) = self.pending.take() else {
            return;
        };
        let Some(name) = self.name.get() else {
            return;
        };
        match purpose {
            Purpose::Table { collect } => {
                if self.ctes.iter().any(|c| c.eq_ignore_ascii_case(name)) || !collect {
                    return;
                }
                let name = name.to_string();
                self.summary.word(&name);
                self.add_table(name);
            }
            Purpose::Object { table } => {
                let name = name.to_string();
                self.summary.word(&name);
                if table {
                    self.add_table(name);
                }
            }
            Purpose::Procedure => {
                let name = name.to_string();
                self.summary.word(&name);
                if self.procedure.is_none() {
                    self.procedure = Some(name);
                }
            }
            Purpose::Named => {
                let name = name.to_string();
                self.summary.word(&name);
            }
        }
    }

    fn add_table(&mut self, name: String) {
        match &self.table {
            None => {
                self.table = Some(name);
                self.tables = 1;
            }
            Some(t) if *t != name => self.tables = 2,
            Some(_) => {}
        }
    }

    fn operation(&mut self, w: &str) {
        self.summary.word(w);
        let depth = self.depth();
        self.top().query = true;
        if depth == 0 && self.op.is_none() {
            self.op = Some(w.to_ascii_uppercase());
        }
        if self.any_op.is_none() {
            self.any_op = Some(w.to_ascii_uppercase());
        }
    }

    fn end_statement(&mut self) {
        self.commit_name();
        if self.started {
            let op = self.op.take().or_else(|| self.any_op.take());
            if self.statements == 0 {
                self.first_op = op;
                self.first_table = self.table.take();
                self.first_tables = self.tables;
            } else if op != self.first_op {
                self.same_op = false;
            }
            self.statements += 1;
        }
        self.started = false;
        self.op = None;
        self.any_op = None;
        self.table = None;
        self.tables = 0;
        self.ctes.clear();
        self.compound = Compound::default();
        self.levels.clear();
        self.levels.push(Level::new(State::Plain, true, true));
        self.untracked = 0;
        self.pending = None;
        self.prev_dot = false;
        self.prev_comma = false;
        self.summary.started = false;
    }

    fn finish(mut self) -> Analysis {
        self.end_statement();
        let summary = (!self.summary.out.is_empty()).then_some(self.summary.out);
        let (operation, collection) = match self.statements {
            0 => (None, None),
            1 => (
                self.first_op,
                (self.first_tables == 1)
                    .then_some(self.first_table)
                    .flatten(),
            ),
            _ => (
                Some(match (self.same_op, self.first_op) {
                    (true, Some(op)) => format!("BATCH {op}"),
                    _ => "BATCH".to_string(),
                }),
                None,
            ),
        };
        Analysis {
            operation,
            collection,
            summary,
            statement_count: self.statements,
            stored_procedure: self.procedure,
        }
    }
}

/// A word that looks like a keyword (letters and `_`, at most 32 bytes): an unknown statement
/// verb is recorded only when it has this shape.
fn keyword_shaped(w: &str) -> bool {
    !w.is_empty() && w.len() <= 32 && w.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
}
