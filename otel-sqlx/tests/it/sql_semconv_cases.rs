//! The OpenTelemetry semantic conventions' published SQL cases
//! (`docs/non-normative/database-test-cases/db-sql-test-cases.json` in
//! open-telemetry/semantic-conventions, 24 cases: query -> accepted `db.query.text` values and
//! `db.query.summary`), reproduced as a table. Every case runs through the same entry points
//! the instrumentation uses (`sanitize` with no length cap, `analyze`), in PostgreSQL reading
//! (the cases use no dialect-specific syntax), and in the two other dialects for the summary.
//!
//! Deviations are listed in `DEVIATIONS` with their reason; the test fails if a listed case
//! starts passing (so the list stays true) or an unlisted one fails.

use otel_sqlx::sql::{Dialect, analyze, sanitize};

struct Case {
    name: &'static str,
    query: &'static str,
    /// Accepted sanitized texts.
    texts: &'static [&'static str],
    summary: &'static str,
}

/// Cases whose `db.query.text` differs from every accepted value, and why.
const DEVIATIONS: &[(&str, &str)] = &[];

const CASES: &[Case] = &[
    Case {
        name: "numeric_literal_integers",
        query: "SELECT 12, -12, +12",
        texts: &["SELECT ?, ?, ?"],
        summary: "SELECT",
    },
    Case {
        name: "numeric_literal_with_decimal_point",
        query: "SELECT 12.34, -12.34, +12.34, .01, -.01",
        texts: &["SELECT ?, ?, ?, ?, ?"],
        summary: "SELECT",
    },
    Case {
        name: "numeric_literal_exponential",
        query: "SELECT 12.34e56, -12.34e56, +12.34e56",
        texts: &["SELECT ?, ?, ?"],
        summary: "SELECT",
    },
    Case {
        name: "numeric_literal_negative_exponential",
        query: "SELECT 12.34e-56, -12.34e-56, +12.34e-56",
        texts: &["SELECT ?, ?, ?"],
        summary: "SELECT",
    },
    Case {
        name: "arithmetic_on_numeric_literals",
        query: "SELECT 99+100",
        texts: &["SELECT ??"],
        summary: "SELECT",
    },
    Case {
        name: "hex_literal",
        query: "SELECT 0xDEADBEEF, 0XdeadBEEF",
        texts: &["SELECT ?, ?"],
        summary: "SELECT",
    },
    Case {
        name: "string_literal",
        query: "SELECT 'hello'",
        texts: &["SELECT ?"],
        summary: "SELECT",
    },
    Case {
        name: "string_literal_escaped_single_quote",
        query: "SELECT 'My name''s not important'",
        texts: &["SELECT ?"],
        summary: "SELECT",
    },
    Case {
        name: "string_with_embedded_newline",
        query: "SELECT 'My name is \n not important'",
        texts: &["SELECT ?"],
        summary: "SELECT",
    },
    Case {
        name: "numbers_in_identifiers",
        query: "SELECT c3po, r2d2 FROM covid19 WHERE n1h1=1234",
        texts: &["SELECT c3po, r2d2 FROM covid19 WHERE n1h1=?"],
        summary: "SELECT covid19",
    },
    Case {
        name: "periods_in_identifiers",
        query: "SELECT a FROM dbo.Table JOIN dbo.AnotherTable",
        texts: &["SELECT a FROM dbo.Table JOIN dbo.AnotherTable"],
        summary: "SELECT dbo.Table dbo.AnotherTable",
    },
    Case {
        name: "insert_into",
        query: "INSERT INTO X VALUES(1, 23456, 123.456, 99+100)",
        texts: &["INSERT INTO X VALUES(?, ?, ?, ??)"],
        summary: "INSERT X",
    },
    Case {
        name: "uuid",
        query: "SELECT { guid '01234567-89ab-cdef-0123-456789abcdef' }",
        texts: &["SELECT { guid ? }"],
        summary: "SELECT",
    },
    Case {
        name: "in_clause",
        query: "SELECT * FROM table WHERE value IN (123, 456, 'abc')",
        texts: &[
            "SELECT * FROM table WHERE value IN (?)",
            "SELECT * FROM table WHERE value IN (?, ?, ?)",
        ],
        summary: "SELECT table",
    },
    Case {
        name: "comments",
        query: "SELECT column -- end of line comment\nFROM /* block \n comment */ table",
        texts: &["SELECT column \nFROM  table"],
        summary: "SELECT table",
    },
    Case {
        name: "insert_into_select",
        query: "INSERT INTO shipping_details\n(order_id,\naddress)\nSELECT order_id,\naddress\nFROM   orders\nWHERE  order_id = 1",
        texts: &[
            "INSERT INTO shipping_details\n(order_id,\naddress)\nSELECT order_id,\naddress\nFROM   orders\nWHERE  order_id = ?",
        ],
        summary: "INSERT shipping_details SELECT orders",
    },
    Case {
        name: "select_nested_query",
        query: "SELECT order_date\nFROM   (SELECT *\nFROM   orders o\nJOIN customers c\nON o.customer_id = c.customer_id)",
        texts: &[
            "SELECT order_date\nFROM   (SELECT *\nFROM   orders o\nJOIN customers c\nON o.customer_id = c.customer_id)",
        ],
        summary: "SELECT SELECT orders customers",
    },
    Case {
        name: "select_nested_query_case_preserved",
        query: "SELEcT order_date\nFROM   (sELECT *\nFROM   orders o\nJOIN customers c\nON o.customer_id = c.customer_id)",
        texts: &[
            "SELEcT order_date\nFROM   (sELECT *\nFROM   orders o\nJOIN customers c\nON o.customer_id = c.customer_id)",
        ],
        summary: "SELEcT sELECT orders customers",
    },
    Case {
        name: "case_preserved",
        query: "SELEcT order_date\nFROM ORders",
        texts: &["SELEcT order_date\nFROM ORders"],
        summary: "SELEcT ORders",
    },
    Case {
        name: "cross_join",
        query: "SELECT * FROM Orders o CROSS JOIN OrderDetails od",
        texts: &["SELECT * FROM Orders o CROSS JOIN OrderDetails od"],
        summary: "SELECT Orders OrderDetails",
    },
    Case {
        name: "cross_join_comma_separated_syntax",
        query: "SELECT * FROM Orders o, OrderDetails od",
        texts: &["SELECT * FROM Orders o, OrderDetails od"],
        summary: "SELECT Orders OrderDetails",
    },
    Case {
        name: "create_table",
        query: "CREATE  TABLE MyTable (\n    ID NOT NULL IDENTITY(1,1) PRIMARY KEY\n)",
        texts: &["CREATE  TABLE MyTable (\n    ID NOT NULL IDENTITY(?,?) PRIMARY KEY\n)"],
        summary: "CREATE TABLE MyTable",
    },
    Case {
        name: "alter_table",
        query: "ALTER  TABLE MyTable ADD Name varchar(255)",
        texts: &["ALTER  TABLE MyTable ADD Name varchar(?)"],
        summary: "ALTER TABLE MyTable",
    },
    Case {
        name: "drop_table",
        query: "DROP  TABLE MyTable",
        texts: &["DROP  TABLE MyTable"],
        summary: "DROP TABLE MyTable",
    },
];

fn deviation(name: &str) -> Option<&'static str> {
    DEVIATIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}

#[test]
fn the_table_holds_the_24_published_cases() {
    assert_eq!(CASES.len(), 24);
}

#[test]
fn published_sql_cases_sanitized_text() {
    let mut failures = Vec::new();
    for case in CASES {
        let text = sanitize(case.query, Dialect::Postgres, usize::MAX);
        let passes = case.texts.contains(&text.as_str());
        match (passes, deviation(case.name)) {
            (true, None) | (false, Some(_)) => {}
            (true, Some(_)) => failures.push(format!(
                "{}: passes now, drop it from DEVIATIONS",
                case.name
            )),
            (false, None) => failures.push(format!(
                "{}: {:?} -> {:?}, accepted {:?}",
                case.name, case.query, text, case.texts
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn published_sql_cases_summary_in_every_dialect() {
    let mut failures = Vec::new();
    for case in CASES {
        for dialect in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            let summary = analyze(case.query, dialect).summary;
            if summary.as_deref() != Some(case.summary) {
                failures.push(format!(
                    "{} ({dialect:?}): {:?} -> {summary:?}, expected {:?}",
                    case.name, case.query, case.summary
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
