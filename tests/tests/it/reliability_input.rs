//! Bad input: arbitrary text, bytes and documents never make the instrumentation panic, every
//! recorded text respects its cap, huge inputs are cut in bounded time, invalid UTF-8 is
//! handled, and values marked as secret never survive sanitization.
//!
//! Property tests (proptest) over: the SQL sanitizer and analyzer (`otel_sqlx::sql`), Mongo
//! query text (`otel_mongo::sanitize::query_text`) on arbitrary BSON documents, Redis
//! commands with arbitrary byte arguments through a `TracedConnection` against the real server
//! (its redaction is not public API), and propagation header extraction (`SpanRecorder::extract`
//! on arbitrary maps, `HeaderExtractor` on arbitrary header bytes, and raw HTTP requests with
//! arbitrary header bytes sent to a traced axum server).

use crate::reliability_common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use mongodb::bson::{Binary, Bson, Document, spec::BinarySubtype};
use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::QueryTextMode;
use otel_rpc::SpanRecorder;
use otel_rpc::testing::HeaderExtractor;
use otel_rpc::text::{DEFAULT_MAX_QUERY_TEXT_LEN, truncate};
use otel_sqlx::sql::{
    Backslashes, Dialect, MAX_NAME_LEN, MAX_SUMMARY_LEN, SqlMode, analyze, analyze_with, sanitize,
    sanitize_with,
};
use otel_testkit::{SpanAssert, TestTelemetry};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reliability_common as common;

const CAP: usize = DEFAULT_MAX_QUERY_TEXT_LEN;
/// Marks values that must never reach a span.
const MARK: &str = "S3CRETVAL";
const TEN_MB: usize = 10 * 1024 * 1024;
/// Debug builds on a shared 2-core machine: generous, still far below a hang.
const HUGE_INPUT_BUDGET: Duration = Duration::from_secs(2);

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

const DIALECTS: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

/// SQL-looking text: keywords, identifiers, quotes of every kind, comments, dollar quotes,
/// placeholders, unbalanced brackets.
fn sqlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("SELECT ".to_string()),
        Just("INSERT INTO t VALUES ".to_string()),
        Just("FROM users ".to_string()),
        Just("WHERE a = ".to_string()),
        Just(" IN (".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("`".to_string()),
        Just("$$".to_string()),
        Just("$tag$".to_string()),
        Just("E'\\'".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("#".to_string()),
        Just("\n".to_string()),
        Just(";".to_string()),
        Just("$1".to_string()),
        Just("?".to_string()),
        Just(":name".to_string()),
        Just("0x1F".to_string()),
        Just("1e9".to_string()),
        Just("[".to_string()),
        "\\PC{0,8}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

fn check_sql(sql: &str) {
    for dialect in DIALECTS {
        let sanitized = sanitize(sql, dialect, CAP);
        let capped = truncate(&sanitized, CAP);
        assert!(capped.len() <= CAP, "{} > {CAP}", capped.len());
        let a = analyze(sql, dialect);
        if let Some(summary) = &a.summary {
            assert!(
                summary.len() <= MAX_SUMMARY_LEN,
                "summary {} bytes",
                summary.len()
            );
        }
        // Every session mode, and names always pass the shape check.
        for backslashes in [
            Backslashes::Unknown,
            Backslashes::Escape,
            Backslashes::Literal,
        ] {
            let mode = SqlMode::new(dialect).backslashes(backslashes);
            let out = sanitize_with(sql, mode, CAP);
            assert!(truncate(&out, CAP).len() <= CAP);
            let a = analyze_with(sql, mode);
            assert!(
                a.summary
                    .as_ref()
                    .is_none_or(|s| s.len() <= MAX_SUMMARY_LEN)
            );
            for name in [&a.collection, &a.stored_procedure].into_iter().flatten() {
                assert!(
                    name.len() <= MAX_NAME_LEN
                        && !name.chars().any(|c| c.is_whitespace()
                            || c.is_control()
                            || matches!(c, '\'' | '"' | '`' | ';')),
                    "{mode:?}: name {name:?}"
                );
            }
        }
    }
}

#[test]
fn sql_sanitizer_and_analyzer_never_panic_and_respect_the_cap() {
    let mut cases = 0;
    let mut r = runner(512);
    r.run(&any::<String>(), |s| {
        check_sql(&s);
        Ok(())
    })
    .expect("arbitrary strings");
    cases += 512;
    r.run(&sqlish(), |s| {
        check_sql(&s);
        Ok(())
    })
    .expect("SQL-looking strings");
    cases += 512;
    r.run(&prop::collection::vec(any::<u8>(), 0..512), |bytes| {
        check_sql(&String::from_utf8_lossy(&bytes));
        Ok(())
    })
    .expect("arbitrary bytes, lossily decoded");
    cases += 512;
    eprintln!("sql sanitizer: {cases} cases x 3 dialects");
}

#[test]
fn sql_string_literals_never_survive_sanitization() {
    let strategy = ("[a-zA-Z0-9 _.,;:!@#%^&*()-]{0,40}", 0usize..3);
    runner(512)
        .run(&strategy, |(payload, shape)| {
            let secret = format!("{MARK}{payload}");
            let sql = match shape {
                0 => format!("SELECT * FROM users WHERE password = '{secret}'"),
                1 => format!("INSERT INTO t (a, b) VALUES (1, '{secret}')"),
                _ => format!("UPDATE t SET note = '{secret}' WHERE id IN (1, 2, '{secret}')"),
            };
            for dialect in DIALECTS {
                let out = sanitize(&sql, dialect, CAP);
                prop_assert!(!out.contains(MARK), "{dialect:?}: {out}");
            }
            Ok(())
        })
        .expect("literals are replaced");
}

#[test]
fn a_ten_megabyte_sql_statement_is_sanitized_and_cut_in_bounded_time() {
    let mut sql = String::with_capacity(TEN_MB + 64);
    sql.push_str("INSERT INTO blobs (data) VALUES ('");
    while sql.len() < TEN_MB {
        sql.push_str("0123456789abcdef");
    }
    sql.push_str("'), (1, 2, 3)");
    for dialect in DIALECTS {
        let start = Instant::now();
        let out = sanitize(&sql, dialect, CAP);
        let out = truncate(&out, CAP).into_owned();
        let a = analyze(&sql, dialect);
        let took = start.elapsed();
        eprintln!(
            "10 MB SQL ({dialect:?}): sanitize + analyze in {took:?}, text {} bytes",
            out.len()
        );
        assert!(took < HUGE_INPUT_BUDGET, "{dialect:?} took {took:?}");
        assert!(out.len() <= CAP);
        assert!(!out.contains("0123456789abcdef"));
        assert_eq!(a.operation.as_deref(), Some("INSERT"));
    }
}

#[tokio::test]
async fn a_ten_megabyte_query_through_the_traced_sqlite_pool_records_a_capped_text() {
    let t = TestTelemetry::new();
    let pool = common::sqlite(&t).await;
    let blob = "x".repeat(TEN_MB);
    let sql = format!("SELECT length('{blob}')");
    let start = Instant::now();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&pool)
        .await
        .expect("query");
    let took = start.elapsed();
    assert_eq!(n, TEN_MB as i64);
    let span = t.span("SELECT");
    let text = span
        .attr(attribute::DB_QUERY_TEXT)
        .expect("query text")
        .to_string();
    assert_eq!(text, "SELECT length(?)");
    eprintln!("10 MB SQL through TracedPool<Sqlite>: {took:?} (query included)");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

// ---------------------------------------------------------------- Mongo

/// Arbitrary BSON values: every scalar kind, nested documents and arrays; string values carry
/// the secret mark.
fn bson_value() -> impl Strategy<Value = Bson> {
    let leaf = prop_oneof![
        any::<String>().prop_map(|s| Bson::String(format!("{MARK}{s}"))),
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<f64>().prop_map(Bson::Double),
        any::<bool>().prop_map(Bson::Boolean),
        Just(Bson::Null),
        prop::collection::vec(any::<u8>(), 0..32).prop_map(|bytes| Bson::Binary(Binary {
            subtype: BinarySubtype::Generic,
            bytes,
        })),
        any::<i64>().prop_map(|ms| Bson::DateTime(mongodb::bson::DateTime::from_millis(ms))),
    ];
    leaf.prop_recursive(5, 200, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Bson::Array),
            prop::collection::vec(("[a-z$._]{0,8}", inner), 0..8)
                .prop_map(|fields| { Bson::Document(fields.into_iter().collect::<Document>()) }),
        ]
    })
}

fn command() -> impl Strategy<Value = (String, Document)> {
    let name = prop_oneof![
        Just("find".to_string()),
        Just("insert".to_string()),
        Just("update".to_string()),
        Just("aggregate".to_string()),
        Just("getMore".to_string()),
        Just("saslStart".to_string()),
        Just("hello".to_string()),
        "\\PC{0,12}",
    ];
    (
        name,
        prop::collection::vec(("[a-z$._]{0,8}", bson_value()), 0..8),
    )
        .prop_map(|(name, fields)| {
            let mut doc = Document::new();
            doc.insert(name.clone(), "coll");
            for (k, v) in fields {
                if k != name {
                    doc.insert(k, v);
                }
            }
            (name, doc)
        })
}

#[test]
fn mongo_query_text_never_panics_respects_the_cap_and_drops_every_value() {
    let caps = [0usize, 1, 16, 256, CAP];
    runner(512)
        .run(
            &(command(), prop::sample::select(caps.to_vec())),
            |((name, doc), cap)| {
                for mode in [
                    QueryTextMode::Sanitized,
                    QueryTextMode::Raw,
                    QueryTextMode::Off,
                ] {
                    let text = otel_mongo::sanitize::query_text(&name, &doc, mode, cap);
                    if let Some(text) = &text {
                        // `otel_rpc::text::truncate` keeps its 3-byte marker even under smaller caps.
                        let limit = cap.max(otel_rpc::text::TRUNCATION_MARKER.len());
                        prop_assert!(
                            text.len() <= limit,
                            "{mode:?} cap {cap}: {} bytes",
                            text.len()
                        );
                        if mode == QueryTextMode::Sanitized {
                            prop_assert!(!text.contains(MARK), "leaked: {text}");
                        }
                    }
                    if mode == QueryTextMode::Off {
                        prop_assert!(text.is_none());
                    }
                }
                Ok(())
            },
        )
        .expect("mongo query text");
}

/// Commands whose first value is not a collection, and value-shaped names in collection
/// positions: the marked value never reaches the sanitized text, whatever the random rest.
#[test]
fn mongo_values_in_name_positions_never_reach_the_text() {
    let name = prop_oneof![
        Just("eval"),
        Just("usersInfo"),
        Just("dropUser"),
        Just("grantRolesToUser"),
        Just("renameCollection"),
        Just("aggregate"),
        Just("find"),
        Just("getMore"),
    ];
    // Values of collection commands get a character that fails the name shape check.
    let value = (
        "\\PC{0,24}",
        prop::sample::select(vec![" ", "'", "\"", ";", "\t", "`"]),
    );
    runner(512)
        .run(
            &(name, value, "\\PC{0,12}"),
            |(name, (rest, bad), command)| {
                let planted = format!("{MARK}{bad}{rest}");
                let mut doc = Document::new();
                doc.insert(name, planted.as_str());
                doc.insert("collection", planted.as_str());
                let text =
                    otel_mongo::sanitize::query_text(name, &doc, QueryTextMode::Sanitized, CAP)
                        .expect("text");
                prop_assert!(!text.contains(MARK), "{name}: {text}");
                // An unlisted command's name is recorded when it is an identifier (a key the
                // application sent); one that is not is client text too.
                let mut unknown = Document::new();
                unknown.insert(format!("{MARK}{bad}{command}"), 1);
                let text = otel_mongo::sanitize::query_text(
                    &format!("{MARK}{bad}{command}"),
                    &unknown,
                    QueryTextMode::Sanitized,
                    CAP,
                )
                .expect("text");
                prop_assert!(!text.contains(MARK), "{text}");
                Ok(())
            },
        )
        .expect("mongo names");
}

#[test]
fn a_ten_megabyte_mongo_document_is_rendered_in_bounded_time() {
    let mut docs = Vec::new();
    let mut size = 0;
    while size < TEN_MB {
        let value = "v".repeat(1024);
        size += value.len();
        docs.push(Bson::Document(
            mongodb::bson::doc! { "k": value, "n": { "deep": [1, 2, 3] } },
        ));
    }
    let cmd = mongodb::bson::doc! { "insert": "big", "documents": docs.clone(), "other": docs };
    for mode in [QueryTextMode::Sanitized, QueryTextMode::Raw] {
        let start = Instant::now();
        let text = otel_mongo::sanitize::query_text("insert", &cmd, mode, CAP).expect("text");
        let took = start.elapsed();
        eprintln!(
            "10 MB Mongo command ({mode:?}): rendered in {took:?}, text {} bytes",
            text.len()
        );
        assert!(took < HUGE_INPUT_BUDGET, "{mode:?} took {took:?}");
        assert!(text.len() <= CAP);
    }
}

// ---------------------------------------------------------------- Redis

/// A command whose values (never keys) carry the secret mark, with arbitrary bytes around it.
fn redis_command(prefix: String) -> impl Strategy<Value = Vec<Vec<u8>>> {
    let value = prop::collection::vec(any::<u8>(), 0..64).prop_map(|mut v| {
        v.splice(0..0, MARK.bytes());
        v
    });
    let key = prop::collection::vec(any::<u8>(), 0..16).prop_map(move |v| {
        let mut k = prefix.clone().into_bytes();
        k.extend(v.into_iter().filter(|b| !MARK.as_bytes().contains(b)));
        k
    });
    let name = |n: &str| Just(n.as_bytes().to_vec());
    prop_oneof![
        (key.clone(), value.clone()).prop_map(|(k, v)| vec![b"SET".to_vec(), k, v]),
        (key.clone(), value.clone(), value.clone()).prop_map(|(k, f, v)| vec![
            b"HSET".to_vec(),
            k,
            f,
            v
        ]),
        (key.clone(), value.clone(), key.clone(), value.clone()).prop_map(|(k1, v1, k2, v2)| vec![
            b"MSET".to_vec(),
            k1,
            v1,
            k2,
            v2
        ]),
        (key.clone(), prop::collection::vec(value.clone(), 1..5)).prop_map(|(k, vs)| {
            let mut c = vec![b"RPUSH".to_vec(), k];
            c.extend(vs);
            c
        }),
        value.clone().prop_map(|v| vec![b"AUTH".to_vec(), v]),
        value
            .clone()
            .prop_map(|v| vec![b"AUTH".to_vec(), b"someone".to_vec(), v]),
        value.clone().prop_map(|v| vec![
            b"HELLO".to_vec(),
            b"3".to_vec(),
            b"AUTH".to_vec(),
            b"someone".to_vec(),
            v
        ]),
        value.clone().prop_map(|v| vec![b"ECHO".to_vec(), v]),
        (value.clone(), key.clone()).prop_map(|(script, k)| vec![
            b"EVAL".to_vec(),
            script,
            b"1".to_vec(),
            k
        ]),
        // Unknown commands with a binary name: every argument is a value.
        (
            prop::collection::vec(any::<u8>(), 0..40),
            prop::collection::vec(value, 0..4)
        )
            .prop_map(|(n, vs)| {
                let mut name = b"XUNKNOWN".to_vec();
                name.extend(n);
                let mut c = vec![name];
                c.extend(vs);
                c
            }),
        name("PING").prop_map(|n| vec![n]),
    ]
}

#[test]
fn redis_commands_with_arbitrary_byte_arguments_are_traced_without_values() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = TestTelemetry::new();
    let mut conn = rt.block_on(common::redis(&t));
    let prefix = otel_testkit::env::unique_name("input");
    // A 10 MB value: capped text, bounded time.
    let key = format!("{prefix}:big");
    let big = vec![b'v'; TEN_MB];
    t.reset();
    let start = Instant::now();
    let () = rt
        .block_on(redis::cmd("SET").arg(&key).arg(&big).query_async(&mut conn))
        .expect("SET 10 MB");
    let took = start.elapsed();
    let span = t.span("SET");
    span.assert_attr(attribute::DB_QUERY_TEXT, format!("SET {key} ?"));
    let _: redis::RedisResult<i64> =
        rt.block_on(redis::cmd("DEL").arg(&key).query_async(&mut conn));
    let cases = std::cell::Cell::new(0usize);
    let reconnects = std::cell::Cell::new(0usize);
    let conn = std::cell::RefCell::new(conn);
    runner(128)
        .run(&redis_command(prefix.clone()), |args| {
            t.reset();
            let mut cmd = redis::Cmd::new();
            for a in &args {
                cmd.arg(a.as_slice());
            }
            let mut c = conn.borrow().clone();
            // Server error replies (unknown command, WRONGPASS, Lua compile errors) are
            // expected; panics are not.
            let result = rt.block_on(cmd.query_async::<redis::Value>(&mut c));
            let spans = t.spans();
            prop_assert_eq!(spans.len(), 1, "{}", otel_testkit::describe(&spans));
            let span = &spans[0];
            span.assert_kind(SpanKind::Client);
            prop_assert_eq!(common::is_error(span), result.is_err());
            if let Some(text) = span.attr(attribute::DB_QUERY_TEXT) {
                prop_assert!(text.to_string().len() <= CAP);
            }
            let all = span.all_text();
            prop_assert!(!all.contains(MARK), "leaked: {}", all);
            if let Err(e) = &result
                && matches!(e.kind(), redis::ErrorKind::Io | redis::ErrorKind::Parse)
            {
                // redis-rs itself cannot parse an error reply quoting invalid UTF-8 (a Lua
                // compile error quoting the script) and drops the connection: reconnect.
                reconnects.set(reconnects.get() + 1);
                *conn.borrow_mut() = rt.block_on(common::redis(&t));
            }
            cases.set(cases.get() + 1);
            Ok(())
        })
        .expect("redis commands");
    let mut conn = conn.into_inner();
    let _: redis::RedisResult<i64> = rt.block_on(
        redis::cmd("EVAL")
            .arg("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0")
            .arg(0)
            .arg(format!("{prefix}*"))
            .query_async(&mut conn),
    );
    let reconnects = reconnects.get();
    let cases = cases.get();
    eprintln!(
        "redis input: {cases} arbitrary commands ({reconnects} driver-level connection losses); SET of a 10 MB value in {took:?} (round trip included)"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

// ---------------------------------------------------------------- propagation headers

#[test]
fn extracting_arbitrary_carriers_never_panics() {
    let recorder = SpanRecorder::builder(SpanKind::Server, "reliability").build();
    let field = prop_oneof![
        Just("traceparent".to_string()),
        Just("tracestate".to_string()),
        Just("baggage".to_string()),
        "\\PC{0,12}",
    ];
    let value = prop_oneof![
        "\\PC{0,200}",
        "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}",
        "[0-9a-fA-F-]{0,60}",
        "([a-z]{1,5}=[^,;]{0,10}[,;]?){0,30}",
    ];
    runner(512)
        .run(
            &prop::collection::hash_map(field, value, 0..6),
            |map: HashMap<String, String>| {
                let cx = recorder.extract(&map);
                let sc = cx.span().span_context().clone();
                if sc.is_valid() {
                    prop_assert!(sc.is_remote());
                }
                Ok(())
            },
        )
        .expect("string maps");
    // Header values as arbitrary bytes (obs-text, invalid UTF-8), through HeaderExtractor.
    let bytes_value = prop::collection::vec(any::<u8>(), 0..200);
    runner(512)
        .run(&prop::collection::vec(bytes_value, 3), |values| {
            let mut headers = http::HeaderMap::new();
            for (name, v) in ["traceparent", "tracestate", "baggage"].iter().zip(values) {
                if let Ok(v) = http::HeaderValue::from_bytes(&v) {
                    headers.insert(*name, v);
                }
            }
            let _ = recorder.extract(&HeaderExtractor(&headers));
            Ok(())
        })
        .expect("byte headers");
    // A 1 MB baggage header is ignored quickly.
    let mut headers = http::HeaderMap::new();
    let huge = "k=".to_string() + &"v".repeat(1024 * 1024);
    headers.insert(
        "baggage",
        http::HeaderValue::from_str(&huge).expect("value"),
    );
    let start = Instant::now();
    let cx = recorder.extract(&HeaderExtractor(&headers));
    assert!(start.elapsed() < Duration::from_millis(500));
    assert_eq!(opentelemetry::baggage::BaggageExt::baggage(&cx).len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_http_requests_with_arbitrary_header_bytes_are_served_and_traced() {
    let t = TestTelemetry::new();
    let addr = common::http_server(&t).await;
    // Header-legal bytes (visible ASCII, space, tab, obs-text 0x80-0xFF: invalid UTF-8), and
    // now and then an illegal control byte.
    let byte = prop_oneof![
        20 => 0x20u8..=0x7e,
        10 => 0x80u8..=0xff,
        1 => Just(b'\t'),
    ];
    let strategy = (
        prop::collection::vec(prop::collection::vec(byte, 0..120), 3),
        prop::option::weighted(0.15, 0u8..0x20),
    )
        .prop_map(|(mut values, control)| {
            if let Some(c) = control {
                values[0].push(c);
            }
            values
        });
    let statuses = tokio::task::spawn_blocking(move || {
        let statuses = std::cell::RefCell::new(Vec::new());
        runner(96)
            .run(&strategy, |values| {
                let mut req =
                    b"GET /items/7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_vec();
                for (name, v) in ["traceparent", "tracestate", "baggage"].iter().zip(values) {
                    req.extend_from_slice(name.as_bytes());
                    req.extend_from_slice(b": ");
                    // Line breaks would end the header; everything else goes through as is.
                    req.extend(v.into_iter().filter(|b| *b != b'\r' && *b != b'\n'));
                    req.extend_from_slice(b"\r\n");
                }
                req.extend_from_slice(b"\r\n");
                let mut stream = std::net::TcpStream::connect(addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .expect("timeout");
                stream.write_all(&req).expect("write");
                let mut response = Vec::new();
                let _ = stream.read_to_end(&mut response);
                let head = String::from_utf8_lossy(&response);
                let status: u16 = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                prop_assert!(status == 200 || status == 400, "status {status}: {head}");
                statuses.borrow_mut().push(status);
                Ok(())
            })
            .expect("raw requests");
        statuses.into_inner()
    })
    .await
    .expect("blocking task");
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        served > statuses.len() / 2,
        "most requests carry legal header bytes: {statuses:?}"
    );
    let spans = common::wait_for_spans(&t, Duration::from_secs(2), |s| s.len() >= served).await;
    assert_eq!(spans.len(), served, "one server span per served request");
    for s in &spans {
        assert_eq!(s.name, "GET /items/{id}");
        s.assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200);
    }
    eprintln!(
        "raw HTTP: {} requests with arbitrary header bytes, {served} served and traced, {} rejected by the HTTP parser",
        statuses.len(),
        statuses.len() - served
    );
    // Still serving.
    let client = common::http_client(&t);
    let (status, _) = common::http_get(&client, &format!("http://{addr}/items/1"), &[])
        .await
        .expect("response");
    assert_eq!(status, 200);
}
