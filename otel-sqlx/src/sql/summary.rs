//! What a statement does: its operation (`db.operation.name`), the table it targets when there
//! is exactly one (`db.collection.name`) and the low-cardinality summary
//! (`db.query.summary`): operations and targets in order of appearance, e.g.
//! `SELECT users orders` for a join or `INSERT orders SELECT cart`.

use super::lexer::{Dialect, Kind, Token};
use super::sanitize::{Sig, significant};

/// Longest `db.query.summary` recorded, in bytes.
pub const MAX_SUMMARY_LEN: usize = 255;

/// Operations recognised anywhere (subqueries, set operations, `INSERT .. SELECT`).
const OPS_ANYWHERE: &[&str] = &["SELECT"];

/// Operations recognised at the start of a statement, of a parenthesised subquery, or of the
/// main statement after a `WITH` list.
const OPS_START: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "REPLACE",
    "UPSERT",
    "VALUES",
    "CREATE",
    "DROP",
    "ALTER",
    "TRUNCATE",
    "CALL",
    "EXEC",
    "EXECUTE",
    "BEGIN",
    "START",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "SET",
    "SHOW",
    "EXPLAIN",
    "PRAGMA",
    "COPY",
    "GRANT",
    "REVOKE",
    "LOCK",
    "ANALYZE",
    "VACUUM",
    "DESCRIBE",
    "USE",
];

/// Words that end a table reference (so they are never taken for a table or an alias).
const RESERVED: &[&str] = &[
    "WHERE",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "HAVING",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "WINDOW",
    "FOR",
    "SET",
    "VALUES",
    "SELECT",
    "RETURNING",
    "AS",
    "LATERAL",
    "FETCH",
    "DEFAULT",
    "FROM",
    "INTO",
    "ONLY",
    "STRAIGHT_JOIN",
    "WITH",
    "PARTITION",
    "IGNORE",
    "LOW_PRIORITY",
    "DELAYED",
    "HIGH_PRIORITY",
    "QUICK",
    "ON",
    "DUPLICATE",
    "CONFLICT",
    "DO",
    "TABLESAMPLE",
    "INDEXED",
    "NOT",
    "IF",
    "EXISTS",
    "USE",
    "FORCE",
    "OVERRIDING",
    "OR",
];

/// The facts extracted from one SQL text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Analysis {
    /// `db.operation.name`: `SELECT`, `INSERT`, ...; for several statements `BATCH <op>` when
    /// they share one operation, else `BATCH`.
    pub operation: Option<String>,
    /// `db.collection.name`: set only for a single statement touching exactly one table.
    pub collection: Option<String>,
    /// `db.query.summary`: operations and targets in order; statements joined by `; `.
    pub summary: Option<String>,
}

struct Statement {
    parts: Vec<String>,
    tables: Vec<String>,
    operation: Option<String>,
}

/// Extracts operation, collection and summary from `sql`.
///
/// ```
/// use otel_sqlx::sql::{Dialect, analyze};
/// let a = analyze("SELECT * FROM users u JOIN orders o ON o.user_id = u.id", Dialect::Postgres);
/// assert_eq!(a.operation.as_deref(), Some("SELECT"));
/// assert_eq!(a.summary.as_deref(), Some("SELECT users orders"));
/// assert_eq!(a.collection, None);
/// ```
pub fn analyze(sql: &str, dialect: Dialect) -> Analysis {
    let toks = significant(sql, dialect);
    let mut statements = Vec::new();
    for chunk in toks.split(|s| is_punct(sql, &s.tok, ";")) {
        if chunk.is_empty() {
            continue;
        }
        statements.push(statement(sql, chunk));
    }
    match statements.len() {
        0 => Analysis::default(),
        1 => {
            let st = statements.remove(0);
            let collection = match st.tables.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            };
            Analysis {
                operation: st.operation,
                collection,
                summary: summary_of(&[st.parts]),
            }
        }
        _ => {
            let first = statements[0].operation.clone();
            let same = statements.iter().all(|s| s.operation == first);
            let operation = match (same, first) {
                (true, Some(op)) => format!("BATCH {op}"),
                _ => "BATCH".to_string(),
            };
            let parts: Vec<Vec<String>> = statements.into_iter().map(|s| s.parts).collect();
            Analysis {
                operation: Some(operation),
                collection: None,
                summary: summary_of(&parts),
            }
        }
    }
}

fn summary_of(statements: &[Vec<String>]) -> Option<String> {
    let mut out = String::new();
    for (n, parts) in statements.iter().enumerate() {
        if parts.is_empty() {
            continue;
        }
        let mut piece = String::new();
        if n > 0 && !out.is_empty() {
            piece.push_str("; ");
        }
        piece.push_str(&parts.join(" "));
        if out.len() + piece.len() > MAX_SUMMARY_LEN {
            // Add whole words while they fit.
            for word in piece.split(' ') {
                let extra = usize::from(!out.is_empty() && !word.is_empty()) + word.len();
                if word.is_empty() || out.len() + extra > MAX_SUMMARY_LEN {
                    break;
                }
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(word);
            }
            break;
        }
        out.push_str(&piece);
    }
    let out = out.trim_end_matches([';', ' ']).to_string();
    (!out.is_empty()).then_some(out)
}

fn is_punct(sql: &str, tok: &Token, p: &str) -> bool {
    tok.kind == Kind::Punct && tok.text(sql) == p
}

fn upper_word(sql: &str, sig: Option<&Sig>) -> Option<String> {
    let sig = sig?;
    (sig.tok.kind == Kind::Word).then(|| sig.tok.text(sql).to_ascii_uppercase())
}

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

fn statement(sql: &str, toks: &[Sig]) -> Statement {
    let mut st = Statement {
        parts: Vec::new(),
        tables: Vec::new(),
        operation: None,
    };
    let starts_with_with = upper_word(sql, toks.first()).as_deref() == Some("WITH");
    let mut first_op_any_depth: Option<String> = None;
    // Whether a query operation was seen at each parenthesis depth: a FROM inside a function
    // call such as EXTRACT(YEAR FROM ts) has none and names no table.
    let mut query_at_depth: Vec<bool> = vec![false];
    let mut i = 0;
    while i < toks.len() {
        let tok = toks[i].tok;
        let depth = query_at_depth.len() - 1;
        if is_punct(sql, &tok, "(") {
            query_at_depth.push(false);
            i += 1;
            continue;
        }
        if is_punct(sql, &tok, ")") {
            if query_at_depth.len() > 1 {
                query_at_depth.pop();
            }
            i += 1;
            continue;
        }
        if tok.kind != Kind::Word {
            i += 1;
            continue;
        }
        let word = tok.text(sql).to_ascii_uppercase();
        let prev = i.checked_sub(1).map(|p| toks[p].tok);
        let at_start = match prev {
            None => true,
            Some(p) if is_punct(sql, &p, "(") => true,
            Some(p) => starts_with_with && depth == 0 && is_punct(sql, &p, ")"),
        };
        let is_op = OPS_ANYWHERE.contains(&word.as_str())
            || (at_start && OPS_START.contains(&word.as_str()));
        if is_op {
            st.parts.push(word.clone());
            if let Some(slot) = query_at_depth.last_mut() {
                *slot = true;
            }
            if depth == 0 && st.operation.is_none() {
                st.operation = Some(word.clone());
            }
            if first_op_any_depth.is_none() {
                first_op_any_depth = Some(word.clone());
            }
            match word.as_str() {
                "UPDATE" => {
                    let j = skip_words(sql, toks, i + 1, &["ONLY", "LOW_PRIORITY", "IGNORE", "OR"]);
                    // SQLite: UPDATE OR REPLACE t
                    let j = skip_words(
                        sql,
                        toks,
                        j,
                        &["ROLLBACK", "ABORT", "REPLACE", "FAIL", "IGNORE"],
                    );
                    if let Some((name, _)) = table_at(sql, toks, j) {
                        add_table(&mut st, name);
                    }
                }
                "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => {
                    ddl_target(sql, toks, i, &word, &mut st)
                }
                _ => {}
            }
        } else if matches!(word.as_str(), "FROM" | "JOIN" | "INTO" | "STRAIGHT_JOIN")
            && query_at_depth.last().copied().unwrap_or(false)
        {
            let j = skip_words(sql, toks, i + 1, &["ONLY", "LATERAL"]);
            if let Some((name, next)) = table_at(sql, toks, j) {
                let is_function =
                    word != "INTO" && toks.get(next).is_some_and(|s| is_punct(sql, &s.tok, "("));
                if !is_function {
                    add_table(&mut st, name);
                    if word == "FROM" {
                        comma_tables(sql, toks, next, &mut st);
                    }
                }
            }
        }
        i += 1;
    }
    if st.operation.is_none() {
        st.operation = first_op_any_depth.or_else(|| {
            // Unknown statement (`LISTEN x`, `CHECKPOINT`): its first word.
            let w = upper_word(sql, toks.first())?;
            st.parts.insert(0, w.clone());
            Some(w)
        });
    }
    st
}

fn add_table(st: &mut Statement, name: String) {
    st.parts.push(name.clone());
    if !st.tables.contains(&name) {
        st.tables.push(name);
    }
}

fn skip_words(sql: &str, toks: &[Sig], mut i: usize, words: &[&str]) -> usize {
    while let Some(w) = upper_word(sql, toks.get(i)) {
        if words.contains(&w.as_str()) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A (possibly qualified, possibly quoted) table name at `i`, and the index after it.
fn table_at(sql: &str, toks: &[Sig], i: usize) -> Option<(String, usize)> {
    let mut name = ident(sql, toks.get(i)?)?;
    let mut j = i + 1;
    while toks.get(j).is_some_and(|s| is_punct(sql, &s.tok, ".")) {
        match toks.get(j + 1).and_then(|s| ident(sql, s)) {
            Some(part) => {
                name.push('.');
                name.push_str(&part);
                j += 2;
            }
            None => break,
        }
    }
    Some((name, j))
}

fn ident(sql: &str, sig: &Sig) -> Option<String> {
    let text = sig.tok.text(sql);
    match sig.tok.kind {
        Kind::Word if !is_reserved(text) => Some(text.to_string()),
        Kind::QuotedIdent if text.len() >= 2 => {
            let inner = text.get(1..text.len() - 1)?;
            (!inner.is_empty()).then(|| inner.to_string())
        }
        _ => None,
    }
}

/// After `FROM a`: optional alias, then `, b [alias]` repeated.
fn comma_tables(sql: &str, toks: &[Sig], mut i: usize, st: &mut Statement) {
    loop {
        // Optional `AS alias` or bare alias.
        if upper_word(sql, toks.get(i)).as_deref() == Some("AS") {
            i += 1;
        }
        if toks.get(i).is_some_and(|s| ident(sql, s).is_some()) {
            i += 1;
        }
        if !toks.get(i).is_some_and(|s| is_punct(sql, &s.tok, ",")) {
            return;
        }
        match table_at(sql, toks, i + 1) {
            Some((name, next)) if !toks.get(next).is_some_and(|s| is_punct(sql, &s.tok, "(")) => {
                add_table(st, name);
                i = next;
            }
            _ => return,
        }
    }
}

/// `CREATE [TEMP] TABLE [IF NOT EXISTS] t`, `DROP TABLE [IF EXISTS] t`, `ALTER TABLE [ONLY] t`,
/// `TRUNCATE [TABLE] t`.
fn ddl_target(sql: &str, toks: &[Sig], i: usize, word: &str, st: &mut Statement) {
    let j = skip_words(
        sql,
        toks,
        i + 1,
        &[
            "TEMPORARY",
            "TEMP",
            "UNLOGGED",
            "GLOBAL",
            "LOCAL",
            "OR",
            "REPLACE",
        ],
    );
    let j = match upper_word(sql, toks.get(j)).as_deref() {
        Some("TABLE") => j + 1,
        _ if word == "TRUNCATE" => j,
        _ => return,
    };
    let j = skip_words(sql, toks, j, &["IF", "NOT", "EXISTS", "ONLY"]);
    if let Some((name, _)) = table_at(sql, toks, j) {
        add_table(st, name);
    }
}
