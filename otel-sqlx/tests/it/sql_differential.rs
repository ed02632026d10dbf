//! Differential test: the real servers say what they parsed as a literal, the sanitizer must
//! agree. A seeded generator builds statements (statement shapes taken from the conformance
//! vectors and the project's own tables, filled with literals of every form the dialect has,
//! plus fragments that read differently in other dialects: prefixes, comments, executable
//! comments, dollar quotes, TCL variables, backslashes), or takes a statement of the project's
//! own vector tables with each of its literals replaced by a marked one; then mutates some of
//! them character by character and plants marked tokens of every form (quoted, bare, prefixed,
//! inside comments) at random token boundaries, and runs each on PostgreSQL (`standard_conforming_strings` on and off), MariaDB
//! (default and `NO_BACKSLASH_ESCAPES`) and SQLite. Every literal carries a unique marker;
//! whenever a server returns a marker among the result values, the sanitized text (the
//! function `db.query.text` uses, with the session's backslash rule unknown as by default and
//! known) and the summary must not contain it.
//!
//! `SQL_DIFFERENTIAL_CASES` sets the cases per session (default 1,000; five sessions, so
//! 5,000 statements), `SQL_DIFFERENTIAL_SEED` the seed (printed by every run; a failure prints
//! the session, the statement and the marker).

use otel_sqlx::sql::{Backslashes, Dialect, SqlMode, analyze_with, sanitize_with};
use otel_testkit::env::{mysql_url, postgres_url, require};
use sqlx::{AssertSqlSafe, Connection, Row, ValueRef};

/// A deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A server session: dialect and how it reads backslashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    Postgres,
    PostgresEscapes,
    Maria,
    MariaNoBackslash,
    Sqlite,
}

impl Session {
    fn dialect(self) -> Dialect {
        match self {
            Session::Postgres | Session::PostgresEscapes => Dialect::Postgres,
            Session::Maria | Session::MariaNoBackslash => Dialect::MySql,
            Session::Sqlite => Dialect::Sqlite,
        }
    }

    /// The sanitizer modes that must hold: the default (rule unknown) and the session's.
    fn modes(self) -> [SqlMode; 2] {
        let known = match self {
            Session::PostgresEscapes | Session::Maria => Backslashes::Escape,
            _ => Backslashes::Literal,
        };
        let d = SqlMode::new(self.dialect());
        [d, d.backslashes(known)]
    }
}

/// A planted literal: what the text holds and what the server returns for it.
struct Marker {
    text: String,
    value: Vec<u8>,
}

/// One generated statement and its markers.
struct Case {
    sql: String,
    markers: Vec<Marker>,
}

/// The derived table the shapes select from: columns named like the prefixes other dialects
/// read as string prefixes.
const TABLE: &str = "(SELECT 1 AS e, 1 AS u, 1 AS n, 1 AS b, 1 AS a) AS t";

/// Statement shapes (`{i}` an item, `{g}` a gap, `FROM t` the derived table), after the
/// conformance vectors' and the project's tables, reduced to what every server runs.
const SHAPES: &[&str] = &[
    "SELECT {i}{g}, {i}{g}, {i}",
    "SELECT {i} AS c1,{g} {i} FROM t",
    "SELECT {i}, {i} FROM t WHERE e = 1{g}",
    "SELECT CASE WHEN 1 = 1 THEN {i} ELSE {i} END{g}, {i}",
    "SELECT COALESCE(NULL, {i}){g}, {i}",
    "SELECT {i} FROM t WHERE e IN (1, 2) OR a = {i}",
    "SELECT {i}{g} UNION ALL SELECT {i}",
    "WITH c AS (SELECT {i} AS y) SELECT y, {g}{i} FROM c",
    "SELECT (SELECT {i}), {g}{i}",
    "SELECT {i}; SELECT {g}{i}",
    "SELECT {i} -- note\n, {i}",
    "SELECT /* note */ {i}, {i} FROM t LIMIT 1",
    "SELECT {i}{g}{i}",
    "SELECT {i} {g}, {i}{g} FROM t",
];

/// Statements from the project's own vector tables (`sql_semconv_cases.rs`, the semantic
/// conventions' published cases, and `sanitizer.rs`) that run without a table: each of their
/// string and number literals is replaced by a marked one before the mutations.
const VECTORS: &[&str] = &[
    "SELECT 12, -12, +12",
    "SELECT 12.34, -12.34, +12.34, .01, -.01",
    "SELECT 12.34e56, -12.34e56, +12.34e56",
    "SELECT 12.34e-56, -12.34e-56, +12.34e-56",
    "SELECT 99+100",
    "SELECT 'hello'",
    "SELECT 'My name''s not important'",
    "SELECT 'My name is \n not important'",
    "SELECT 5 -- comment 'x'\n",
    "SELECT 'a' FROM t WHERE 2 IN (123, 456, 789)",
    "SELECT CASE WHEN 1 = 1 THEN 'a' ELSE 'b' END",
    "SELECT COALESCE(NULL, 'x', 'y')",
    "SELECT 'a' AS x UNION ALL SELECT 'b'",
    "SELECT 'a # not a comment' FROM t",
    "SELECT 'x'\n  -- trailing 'comment'\n  , 7",
];

/// Marked tokens planted at token boundaries, in every dialect's forms (a form that is not a
/// literal where it lands is an identifier, a comment or an error: only what the server
/// returns is checked).
const PLANTED: &[&str] = &[
    "'{w}'",
    "{n}",
    "-{n}",
    "{w}",
    "\"{w}\"",
    "`{w}`",
    "[{w}]",
    "e'{w}'",
    "E'\\{w}'",
    "U&'{w}'",
    "N'{w}'",
    "x'{x}'",
    "$${w}$$",
    "$m${w}$m$",
    "/*! '{w}' */",
    "/*M! '{w}' */",
    "/*!50000 '{w}' */",
    "/* '{w}' */",
    "# '{w}'\n",
    "-- '{w}'\n",
    "--'{w}'",
    "$a('{w}')",
    ":{w}",
];

/// Fragments with no marker that read differently across dialects and settings.
fn breakers(s: Session) -> (&'static [&'static str], &'static [&'static str]) {
    match s.dialect() {
        Dialect::Postgres => (
            &[
                r"E'\''",
                r"'\'",
                r"E'\\'",
                "$$'$$",
                "$q$ $$ ' $q$",
                r"U&'\0041'",
                "'--'",
                "'/*'",
                "e",
                "\"e\"",
                "e'\\''",
                "u&'x'",
                "1--1\n",
            ],
            &[
                "/* ' */",
                "/* /* ' */ ' */",
                "-- '\n",
                "/* $$ */",
                "/*! ' */",
                "#",
            ],
        ),
        Dialect::MySql => (
            &[
                r"'\''",
                r"'\\'",
                r#""\"""#,
                r"e'\'",
                r"u&'\'",
                r"u&'\''",
                r"n'\''",
                "x'27'",
                "1--1",
                "/*! '*/' */",
                "/*!50000 '*/' */",
                "/*M! '*/' */",
                "/*!5000 '*/' */",
                "`e`",
                "$$",
                "e",
            ],
            &[
                "# '\n",
                "-- '\n",
                "/* ' */",
                "/*!99999 ' */",
                "/*M!999999 ' */",
                "/*!99999 /* */ ' */",
                "/*! */",
                "/*M! */",
                "/* /* */",
            ],
        ),
        _ => (
            &[
                "$a(')", ":a(')", "@a(')", "#a(')", "$a::b", "\"'\"", r"e'\'", r"u&'\'", "x'27'",
                "[e]", "`e`", r"'\'", "$$",
            ],
            &["/* ' */", "-- '\n", "/* /* */", "/*! ' */"],
        ),
    }
}

/// Mutation characters: the ones that move token boundaries.
const HOSTILE: &[&str] = &[
    "'", "\"", "`", "\\", "$", "#", "-", "/", "*", ";", "!", "(", ")", "[", "]", ":", "@", "&",
    "\n", " ", "e", "E", "x", "M",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Generator {
    rng: Rng,
    serial: u64,
}

impl Generator {
    /// A fresh marker word and number.
    fn marker(&mut self) -> (String, String) {
        self.serial += 1;
        (
            format!("mk{}q{}", self.serial, self.rng.below(1000)),
            format!("4711{:07}", self.serial),
        )
    }

    /// `form` with a fresh marker (`{w}` a word, `{n}` a number, `{x}` the word in hex),
    /// recorded in `markers`.
    fn fill(&mut self, form: &str, markers: &mut Vec<Marker>) -> String {
        let (word, number) = self.marker();
        let (text, needle, value) = if form.contains("{n}") {
            (form.replace("{n}", &number), number.clone(), number)
        } else if form.contains("{x}") {
            let x = hex(word.as_bytes());
            (form.replace("{x}", &x), x, word)
        } else {
            (form.replace("{w}", &word), word.clone(), word)
        };
        markers.push(Marker {
            text: needle,
            value: value.into_bytes(),
        });
        text
    }

    /// A vector statement with each literal marked: a marker word opens every string's
    /// content, a marker number replaces every number.
    fn vector(&mut self, markers: &mut Vec<Marker>) -> String {
        let src = self
            .rng
            .pick(VECTORS)
            .replace("FROM t", &format!("FROM {TABLE}"));
        let b = src.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let after_word = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if c == b'\'' {
                out.push('\'');
                let mark = self.fill("{w} ", markers);
                out.push_str(&mark);
                i += 1;
            } else if !after_word
                && (c.is_ascii_digit()
                    || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'.'
                        || (matches!(b[i], b'-' | b'+') && matches!(b[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                let mark = self.fill("{n}", markers);
                out.push_str(&mark);
                continue;
            } else {
                out.push(c as char);
                i += 1;
            }
            // Copy the rest of a string verbatim (doubled quotes included).
            if c == b'\'' {
                while i < b.len() {
                    out.push(b[i] as char);
                    i += 1;
                    if b[i - 1] == b'\'' {
                        if b.get(i) == Some(&b'\'') {
                            out.push('\'');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// Plants a marked token of any dialect's form at a random token boundary of `sql`.
    fn plant(&mut self, sql: &mut String, markers: &mut Vec<Marker>) {
        let b = sql.as_bytes();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        let bounds: Vec<usize> = (0..=b.len())
            .filter(|&i| sql.is_char_boundary(i))
            .filter(|&i| i == 0 || i == b.len() || !ident(b[i - 1]) || !ident(b[i]))
            .collect();
        let at = bounds[self.rng.below(bounds.len())];
        let form = self.rng.pick(PLANTED);
        let token = self.fill(form, markers);
        let token = match self.rng.below(3) {
            0 => token,
            1 => format!(" {token} "),
            _ => format!("{token}, "),
        };
        sql.insert_str(at, &token);
    }

    /// A literal of one of the session's forms, with its marker.
    fn literal(&mut self, s: Session, markers: &mut Vec<Marker>) -> String {
        let common: &[&str] = &["'{w}'", "'{w}''q'", "{n}", "-{n}", "{n}.25"];
        let own: &[&str] = match s.dialect() {
            Dialect::Postgres => &[
                "E'{w}'",
                r"e'\\{w}'",
                "U&'{w}'",
                "$${w}$$",
                "$t${w}$t$",
                "N'{w}'",
                "'{w}'::text",
                "CAST('{w}' AS text)",
                "'a' || '{w}'",
            ],
            Dialect::MySql => &[
                "\"{w}\"",
                "N'{w}'",
                "_utf8mb4'{w}'",
                "X'{x}'",
                "0x{x}",
                "'{w}' 'q'",
                "/*! '{w}' */",
                "/*!50000 '{w}' */",
                "/*M! '{w}' */",
                "CONCAT('{w}')",
            ],
            _ => &["\"{w}\"", "X'{x}'", "'{w}' || 'q'", "CAST('{w}' AS TEXT)"],
        };
        let form = if self.rng.chance(40) {
            self.rng.pick(common)
        } else {
            self.rng.pick(own)
        };
        self.fill(form, markers)
    }

    fn item(&mut self, s: Session, markers: &mut Vec<Marker>) -> String {
        let (items, _) = breakers(s);
        let lit = self.literal(s, markers);
        match self.rng.below(10) {
            0..=5 => lit,
            6 | 7 => format!("{}, {lit}", self.rng.pick(items)),
            8 => format!("{lit}, {}", self.rng.pick(items)),
            _ => format!("{} {lit}", self.rng.pick(items)),
        }
    }

    fn gap(&mut self, s: Session) -> String {
        let (_, gaps) = breakers(s);
        if self.rng.chance(50) {
            String::new()
        } else {
            format!(" {} ", self.rng.pick(gaps))
        }
    }

    /// One statement: a shape filled in, or a free chain of items and gaps; then, for some,
    /// one to three character mutations.
    fn case(&mut self, s: Session) -> Case {
        let mut markers = Vec::new();
        let mut sql = String::new();
        if self.rng.chance(15) {
            sql = self.vector(&mut markers);
        } else if self.rng.chance(20) {
            sql.push_str("SELECT ");
            for k in 0..1 + self.rng.below(5) {
                if k > 0 {
                    sql.push_str(self.rng.pick(&[", ", ",", " ", " || ", " + "]));
                }
                let item = self.item(s, &mut markers);
                sql.push_str(&item);
                let gap = self.gap(s);
                sql.push_str(&gap);
            }
        } else {
            let shape = self.rng.pick(SHAPES);
            let mut rest = shape;
            while let Some(p) = rest.find('{') {
                sql.push_str(&rest[..p]);
                let slot = &rest[p..p + 3];
                rest = &rest[p + 3..];
                let fill = if slot == "{i}" {
                    self.item(s, &mut markers)
                } else {
                    self.gap(s)
                };
                sql.push_str(&fill);
            }
            sql.push_str(rest);
            sql = sql.replace("FROM t", &format!("FROM {TABLE}"));
        }
        if self.rng.chance(50) {
            for _ in 0..1 + self.rng.below(3) {
                self.plant(&mut sql, &mut markers);
            }
        }
        if self.rng.chance(35) {
            for _ in 0..1 + self.rng.below(3) {
                let bounds: Vec<usize> = (0..=sql.len())
                    .filter(|&i| sql.is_char_boundary(i))
                    .collect();
                let at = bounds[self.rng.below(bounds.len())];
                if self.rng.chance(80) {
                    let c = self.rng.pick(HOSTILE);
                    sql.insert_str(at, c);
                } else if at < sql.len() {
                    let next = bounds.iter().find(|&&b| b > at).copied().unwrap_or(at);
                    sql.replace_range(at..next, "");
                }
            }
        }
        Case { sql, markers }
    }
}

/// What one session's run found.
#[derive(Default)]
struct Tally {
    cases: usize,
    accepted: usize,
    literals: usize,
    /// Checks that failed (marker and sanitizer mode), all counted.
    leaking: usize,
    /// The first failures, described.
    leaks: Vec<String>,
}

impl Tally {
    /// Checks one accepted statement's result values against the sanitizer.
    fn check(&mut self, s: Session, case: &Case, values: &[Vec<u8>]) {
        self.accepted += 1;
        for m in &case.markers {
            let returned = values
                .iter()
                .any(|v| v.windows(m.value.len()).any(|w| w == m.value.as_slice()));
            if !returned {
                continue;
            }
            self.literals += 1;
            for mode in s.modes() {
                let text = sanitize_with(&case.sql, mode, usize::MAX);
                let summary = analyze_with(&case.sql, mode).summary.unwrap_or_default();
                let lower = text.to_ascii_lowercase();
                if !lower.contains(&m.text) && !summary.contains(&m.text) {
                    continue;
                }
                self.leaking += 1;
                if self.leaks.len() < 20 {
                    self.leaks.push(format!(
                        "{s:?} ({:?}, backslashes {:?}): server returned marker {:?} but \
                         db.query.text is {text:?} (summary {summary:?}) for {:?}",
                        mode.dialect(),
                        mode.backslash_rule(),
                        String::from_utf8_lossy(&m.value),
                        case.sql
                    ));
                }
            }
        }
    }
}

fn cases_per_session() -> usize {
    std::env::var("SQL_DIFFERENTIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn seed() -> u64 {
    std::env::var("SQL_DIFFERENTIAL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_0024)
}

fn generator(s: Session) -> Generator {
    Generator {
        rng: Rng(seed() ^ (s as u64).wrapping_mul(0x1234_5678_9abc)),
        serial: 0,
    }
}

fn report(s: Session, t: &Tally) {
    eprintln!(
        "differential {s:?} (SQL_DIFFERENTIAL_SEED={}): {} cases, {} accepted by the server, \
         {} literals returned, {} leaks",
        seed(),
        t.cases,
        t.accepted,
        t.literals,
        t.leaking
    );
}

/// Non-null values of every column of every row, as the server's text (or blob) bytes.
fn pg_values(rows: &[sqlx::postgres::PgRow]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for row in rows {
        for i in 0..row.len() {
            if let Ok(raw) = row.try_get_raw(i)
                && !raw.is_null()
                && let Ok(bytes) = raw.as_bytes()
            {
                out.push(bytes.to_vec());
            }
        }
    }
    out
}

/// Runs the session's generated cases on `conn`, checking what the server returned
/// (`values` reads the returned values' bytes) against the sanitized text.
async fn run_cases<DB: sqlx::Database>(
    conn: &mut DB::Connection,
    s: Session,
    values: impl Fn(&[DB::Row]) -> Vec<Vec<u8>>,
) -> Tally
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut g = generator(s);
    let mut t = Tally::default();
    for _ in 0..cases_per_session() {
        let case = g.case(s);
        t.cases += 1;
        if let Ok(rows) = sqlx::raw_sql(AssertSqlSafe(case.sql.clone()))
            .fetch_all(&mut *conn)
            .await
        {
            t.check(s, &case, &values(&rows));
        }
    }
    t
}

async fn run_postgres(s: Session) -> Tally {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to PostgreSQL");
    let setting = if s == Session::PostgresEscapes {
        "off"
    } else {
        "on"
    };
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET standard_conforming_strings = {setting}; SET escape_string_warning = off; \
         SET statement_timeout = 2000"
    )))
    .execute(&mut conn)
    .await
    .expect("session settings");
    run_cases::<sqlx::Postgres>(&mut conn, s, pg_values).await
}

fn bytes_of<R: Row>(rows: &[R]) -> Vec<Vec<u8>>
where
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let mut out = Vec::new();
    for row in rows {
        for i in 0..row.len() {
            if let Ok(Some(v)) = row.try_get_unchecked::<Option<Vec<u8>>, _>(i) {
                out.push(v);
            }
        }
    }
    out
}

async fn run_mariadb(s: Session) -> Tally {
    let url = mysql_url();
    require("MariaDB", &url);
    let mut conn = sqlx::MySqlConnection::connect(&url)
        .await
        .expect("connect to MariaDB");
    let mode = if s == Session::MariaNoBackslash {
        "NO_BACKSLASH_ESCAPES"
    } else {
        ""
    };
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET SESSION sql_mode = '{mode}', SESSION max_statement_time = 2"
    )))
    .execute(&mut conn)
    .await
    .expect("session settings");
    run_cases::<sqlx::MySql>(&mut conn, s, bytes_of).await
}

async fn run_sqlite() -> Tally {
    let s = Session::Sqlite;
    let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("open SQLite");
    run_cases::<sqlx::Sqlite>(&mut conn, s, bytes_of).await
}

fn assert_clean(runs: &[(Session, Tally)]) {
    let mut leaks = Vec::new();
    for (s, t) in runs {
        report(*s, t);
        // The generator must keep producing statements the server accepts and literals it
        // returns, or the test proves nothing.
        assert!(
            t.accepted * 10 >= t.cases && t.literals * 2 >= t.accepted,
            "{s:?}: too few accepted statements ({} of {}) or returned literals ({})",
            t.accepted,
            t.cases,
            t.literals
        );
        leaks.extend(t.leaks.iter().cloned());
    }
    assert!(
        leaks.is_empty(),
        "literals the server read survive (SQL_DIFFERENTIAL_SEED={}):\n{}",
        seed(),
        leaks.join("\n")
    );
}

#[tokio::test]
async fn postgres_literals_never_survive() {
    let on = run_postgres(Session::Postgres).await;
    let off = run_postgres(Session::PostgresEscapes).await;
    assert_clean(&[(Session::Postgres, on), (Session::PostgresEscapes, off)]);
}

#[tokio::test]
async fn mariadb_literals_never_survive() {
    let default = run_mariadb(Session::Maria).await;
    let nbe = run_mariadb(Session::MariaNoBackslash).await;
    assert_clean(&[(Session::Maria, default), (Session::MariaNoBackslash, nbe)]);
}

#[tokio::test]
async fn sqlite_literals_never_survive() {
    let t = run_sqlite().await;
    assert_clean(&[(Session::Sqlite, t)]);
}

#[test]
fn the_check_sees_a_literal_that_survives() {
    // A fake server answer for a statement whose marker the sanitizer does not see as a
    // literal: the check must report it.
    let case = Case {
        sql: "SELECT mk1q1".into(),
        markers: vec![Marker {
            text: "mk1q1".into(),
            value: b"mk1q1".to_vec(),
        }],
    };
    let mut t = Tally::default();
    t.check(Session::Postgres, &case, &[b"mk1q1".to_vec()]);
    assert_eq!(
        (t.accepted, t.literals, t.leaking, t.leaks.len()),
        (1, 1, 2, 2)
    );
}
