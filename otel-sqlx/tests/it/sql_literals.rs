//! Property tests: a random value, written as a literal the way the session really reads it,
//! spliced into every literal position of a set of statement templates, in every dialect and
//! session mode (PostgreSQL `standard_conforming_strings` on/off, MySQL `NO_BACKSLASH_ESCAPES`
//! on/off, SQLite), never appears in the sanitized text, the summary, the collection or the
//! stored procedure, whether the tokenizer is told the session's backslash rule or not.
//!
//! Each literal hides a marker (random letters, or a long random number) inside hostile
//! filler (quotes, backslashes, comment and dollar-quote openers, `;`, newlines, any char).

use otel_sqlx::sql::{Backslashes, Dialect, SqlMode, analyze_with, sanitize_with};
use proptest::prelude::*;

/// How the server session reads the text.
#[derive(Debug, Clone, Copy)]
struct Session {
    dialect: Dialect,
    /// Backslashes escape inside plain strings.
    escapes: bool,
}

fn sessions() -> impl Strategy<Value = Session> {
    prop_oneof![
        // PostgreSQL standard_conforming_strings = on / off.
        Just(Session {
            dialect: Dialect::Postgres,
            escapes: false
        }),
        Just(Session {
            dialect: Dialect::Postgres,
            escapes: true
        }),
        // MySQL default / NO_BACKSLASH_ESCAPES.
        Just(Session {
            dialect: Dialect::MySql,
            escapes: true
        }),
        Just(Session {
            dialect: Dialect::MySql,
            escapes: false
        }),
        Just(Session {
            dialect: Dialect::Sqlite,
            escapes: false
        }),
    ]
}

/// Hostile filler around the marker.
fn filler() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![
                '\'', '"', '\\', '`', '$', '-', '/', '*', ';', '\n', ' ', '#', '[', ']', '(', ')',
                'x', 'E', 'q',
            ]),
            1 => any::<char>(),
        ],
        0..10,
    )
    .prop_map(|v| v.into_iter().collect())
}

/// A literal's form; each is valid only in some dialects (see `usable`).
#[derive(Debug, Clone, Copy)]
enum Form {
    Single,
    /// PostgreSQL `E'..'` (always escapes).
    EString,
    /// PostgreSQL `$q$..$q$`.
    Dollar,
    /// MySQL `".."` string, SQLite `".."` in a value position.
    Double,
    Number,
    Hex,
}

const FORMS: [Form; 6] = [
    Form::Single,
    Form::EString,
    Form::Dollar,
    Form::Double,
    Form::Number,
    Form::Hex,
];

fn usable(form: Form, d: Dialect) -> bool {
    match form {
        Form::EString | Form::Dollar => d == Dialect::Postgres,
        Form::Double => d != Dialect::Postgres,
        _ => true,
    }
}

/// One literal to splice in: its form, filler, marker, and choices of escape style.
#[derive(Debug, Clone)]
struct Lit {
    form: usize,
    before: String,
    after: String,
    word: String,
    number: u64,
    backslash_quote: bool,
    sign: bool,
}

fn lit() -> impl Strategy<Value = Lit> {
    (
        0..FORMS.len(),
        filler(),
        filler(),
        "[A-Z][a-z]{4}[A-Z][a-z]{4}",
        1_000_000_000u64..u64::MAX,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(form, before, after, word, number, backslash_quote, sign)| Lit {
                form,
                before,
                after,
                word,
                number,
                backslash_quote,
                sign,
            },
        )
}

/// Quotes `body` between `q`s as `s` reads it: the quote doubled (or backslash-escaped when
/// backslashes escape), backslashes doubled when they escape.
fn quote(body: &str, q: char, escapes: bool, backslash_quote: bool) -> String {
    let mut out = String::new();
    out.push(q);
    for c in body.chars() {
        if c == q {
            if escapes && backslash_quote {
                out.push('\\');
            } else {
                out.push(q);
            }
        } else if c == '\\' && escapes {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(q);
    out
}

impl Lit {
    /// The literal as SQL text for `s`, and the marker that must not survive.
    fn render(&self, s: Session) -> (String, String) {
        let mut form = FORMS[self.form];
        if !usable(form, s.dialect) {
            form = Form::Single;
        }
        let body = format!("{}{}{}", self.before, self.word, self.after);
        match form {
            Form::Single => (
                quote(&body, '\'', s.escapes, self.backslash_quote),
                self.word.clone(),
            ),
            Form::EString => (
                format!("E{}", quote(&body, '\'', true, self.backslash_quote)),
                self.word.clone(),
            ),
            Form::Dollar => (
                format!("$q${}$q$", body.replace('$', "%")),
                self.word.clone(),
            ),
            Form::Double => {
                let escapes = s.escapes && s.dialect == Dialect::MySql;
                (
                    quote(&body, '"', escapes, self.backslash_quote),
                    self.word.clone(),
                )
            }
            Form::Number => {
                let n = self.number.to_string();
                let text = if self.sign {
                    format!("-{n}")
                } else {
                    n.clone()
                };
                (text, n)
            }
            Form::Hex => (
                format!("X'{:X}'", self.number),
                format!("{:X}", self.number),
            ),
        }
    }
}

const VALUE_TEMPLATES: &[&str] = &[
    "SELECT * FROM t WHERE a = {} AND b = {}",
    "INSERT INTO t (a, b) VALUES ({}, {}), ({}, 1)",
    "UPDATE t SET a = {} WHERE id IN ({}, {})",
    "SELECT {} /* c */, -- x\n {} FROM t",
    "WITH x AS (SELECT {} AS v) SELECT v, {} FROM x",
    "DELETE FROM t WHERE a={} OR b ={};",
    "SELECT CASE WHEN a = {} THEN {} ELSE {} END FROM t",
    "SELECT * FROM t WHERE a LIKE {} AND b<>{}",
    "CALL proc({}, {})",
    "SELECT {}; SELECT {}",
    "INSERT INTO t VALUES ({}) ON CONFLICT (k) DO UPDATE SET v = {}",
    "SELECT * FROM t1 JOIN t2 ON t1.a = {} WHERE t2.b IN (SELECT c FROM t3 WHERE d = {})",
    "SELECT a FROM t WHERE (b, c) = ({},{}) ORDER BY {}",
];

/// Statements whose `{}` positions hold credentials, in any form.
const CREDENTIAL_TEMPLATES: &[&str] = &[
    "CREATE USER u PASSWORD {}",
    "ALTER USER u IDENTIFIED BY {} REPLACE {}",
    "GRANT SELECT ON t TO u IDENTIFIED BY {}",
    "CONNECT u PASSWORD {}",
    "ALTER ROLE r WITH LOGIN PASSWORD {} VALID UNTIL {}",
    "SET PASSWORD FOR u = {}",
    "CREATE USER u IDENTIFIED WITH mysql_native_password BY {}",
    "EXPORT t AS BINARY ENCRYPTION PASSWORD {}",
    "CHANGE MASTER TO MASTER_PASSWORD = {}, MASTER_HOST = {}",
    "SELECT 1; CREATE USER u PASSWORD {}",
];

fn fill(template: &str, parts: &[String]) -> String {
    let mut out = String::new();
    let mut rest = template;
    let mut i = 0;
    while let Some(at) = rest.find("{}") {
        out.push_str(&rest[..at]);
        out.push_str(&parts[i % parts.len()]);
        rest = &rest[at + 2..];
        i += 1;
    }
    out.push_str(rest);
    out
}

/// Every output for `sql` read as `s` really is and with the backslash rule unknown; the
/// first place a marker shows up, if any.
fn leak(sql: &str, s: Session, markers: &[String]) -> Option<String> {
    let actual = if s.escapes {
        Backslashes::Escape
    } else {
        Backslashes::Literal
    };
    for mode in [
        SqlMode::new(s.dialect),
        SqlMode::new(s.dialect).backslashes(actual),
    ] {
        let text = sanitize_with(sql, mode, usize::MAX);
        let a = analyze_with(sql, mode);
        let outputs = [
            Some(text),
            a.summary,
            a.collection,
            a.stored_procedure,
            a.operation,
        ];
        for out in outputs.into_iter().flatten() {
            if let Some(m) = markers.iter().find(|m| out.contains(m.as_str())) {
                return Some(format!("{mode:?}: {m:?} in {out:?}"));
            }
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn no_literal_survives_in_any_session(
        s in sessions(),
        template in 0..VALUE_TEMPLATES.len(),
        lits in prop::collection::vec(lit(), 3),
    ) {
        let rendered: Vec<(String, String)> = lits.iter().map(|l| l.render(s)).collect();
        let parts: Vec<String> = rendered.iter().map(|(t, _)| t.clone()).collect();
        let markers: Vec<String> = rendered.into_iter().map(|(_, m)| m).collect();
        let sql = fill(VALUE_TEMPLATES[template], &parts);
        let found = leak(&sql, s, &markers);
        prop_assert!(found.is_none(), "{sql:?} ({s:?}): {found:?}");
    }

    #[test]
    fn credentials_never_survive_whatever_their_form(
        s in sessions(),
        template in 0..CREDENTIAL_TEMPLATES.len(),
        lits in prop::collection::vec(lit(), 2),
        forms in prop::collection::vec(0u8..4, 2),
    ) {
        let mut parts = Vec::new();
        let mut markers = Vec::new();
        for (l, f) in lits.iter().zip(&forms) {
            let (text, marker) = match f {
                // A bare word: `PASSWORD Password1`.
                0 => (l.word.clone(), l.word.clone()),
                // A quoted identifier.
                1 => (format!("\"{}\"", l.word), l.word.clone()),
                2 => (format!("`{}`", l.word), l.word.clone()),
                // A literal of any form.
                _ => l.render(s),
            };
            parts.push(text);
            markers.push(marker);
        }
        let sql = fill(CREDENTIAL_TEMPLATES[template], &parts);
        let found = leak(&sql, s, &markers);
        prop_assert!(found.is_none(), "{sql:?} ({s:?}): {found:?}");
    }

    #[test]
    fn nothing_after_an_unterminated_quote_survives(
        s in sessions(),
        prefix in prop::sample::select(vec![
            "SELECT * FROM ", "SELECT a FROM t WHERE b = ", "INSERT INTO ", "UPDATE ",
            "SELECT * FROM t JOIN ", "CALL ",
        ]),
        quote in prop::sample::select(vec!['\'', '"', '`', '[']),
        l in lit(),
        tail in prop::sample::select(vec!["", " WHERE x = 1", ") AS y", "; SELECT 2"]),
    ) {
        // `[` quotes only in SQLite, a backtick not in PostgreSQL; elsewhere they are
        // operators (or invalid) and what follows is code.
        let quote = match quote {
            '[' if s.dialect != Dialect::Sqlite => '"',
            '`' if s.dialect == Dialect::Postgres => '"',
            q => q,
        };
        let close = if quote == '[' { ']' } else { quote };
        let body: String = format!("{}{}{}", l.before, l.word, l.after)
            .chars()
            .filter(|c| *c != close && *c != '\\')
            .collect();
        let sql = format!("{prefix}{quote}{body}{tail}");
        let found = leak(&sql, s, std::slice::from_ref(&l.word));
        prop_assert!(found.is_none(), "{sql:?} ({s:?}): {found:?}");
    }
}

#[test]
fn the_leak_check_sees_text_that_is_not_a_literal() {
    // A bare word in a value position is a column: it stays, and the check must see it.
    let s = Session {
        dialect: Dialect::Postgres,
        escapes: false,
    };
    let found = leak(
        "SELECT * FROM t WHERE a = Markerword",
        s,
        &["Markerword".to_string()],
    );
    assert!(found.is_some());
    // A table name reaches the summary.
    assert!(leak("SELECT * FROM Markertable", s, &["Markertable".to_string()]).is_some());
}
