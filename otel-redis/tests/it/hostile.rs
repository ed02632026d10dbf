//! Hostile input against the real Redis: a planted secret in every field a client controls
//! (command name, subcommand, keys, values, script, error replies chosen by a script, numkeys
//! tricks), each scanned for in everything exported (span names, statuses, attributes,
//! events, every metric point) with `TestTelemetry::leaks`.

use crate::common;

use opentelemetry_semantic_conventions::attribute;
use otel_redis::{ErrorTextMode, InstrumentationOptions, TracedConnection};
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};

/// A secret with no digit nor quote, upper-case: shaped exactly like a Redis error code, so
/// only the closed set of prefixes keeps it out of `error.type`.
const CODE_SECRET: &str = "TOPSECRETCODE";

/// One hostile command: its arguments (`{S}` is replaced by the case's secret) and whether
/// Redis accepts it.
struct Case {
    what: &'static str,
    args: &'static [&'static str],
    ok: bool,
}

const CASES: &[Case] = &[
    Case {
        what: "command name",
        args: &["{S}", "x"],
        ok: false,
    },
    Case {
        what: "command name, lower case word",
        args: &["get{S}", "x"],
        ok: false,
    },
    Case {
        what: "unknown subcommand",
        args: &["CONFIG", "{S}", "x"],
        ok: false,
    },
    Case {
        what: "value",
        args: &["SET", "otel_redis_hostile_k", "{S}"],
        ok: true,
    },
    Case {
        what: "key with a space",
        args: &["GET", "session {S}"],
        ok: true,
    },
    Case {
        what: "key with a quote",
        args: &["EXISTS", "it's-{S}"],
        ok: true,
    },
    Case {
        what: "key with a newline",
        args: &["TTL", "line\n{S}"],
        ok: true,
    },
    Case {
        what: "script text",
        args: &["EVAL", "return '{S}'", "0"],
        ok: true,
    },
    Case {
        what: "script argument",
        args: &["EVAL", "return ARGV[1]", "0", "{S}"],
        ok: true,
    },
    Case {
        what: "error_reply: secret as the first word",
        args: &[
            "EVAL",
            "return redis.error_reply(ARGV[1] .. ' token rejected')",
            "0",
            "{S}",
        ],
        ok: false,
    },
    Case {
        what: "error_reply: secret as the only word",
        args: &["EVAL", "return redis.error_reply(ARGV[1])", "0", "{S}"],
        ok: false,
    },
    Case {
        what: "error_reply: ERR then the secret",
        args: &[
            "EVAL",
            "return redis.error_reply('ERR bad token ' .. ARGV[1])",
            "0",
            "{S}",
        ],
        ok: false,
    },
    Case {
        what: "error table: secret as the first word",
        args: &["EVAL", "return {err = ARGV[1] .. ' x'}", "0", "{S}"],
        ok: false,
    },
    Case {
        what: "Lua error() with the secret",
        args: &["EVAL", "error(ARGV[1])", "0", "{S}"],
        ok: false,
    },
    Case {
        what: "Lua error() in the script text",
        args: &["EVAL", "error('{S} failed')", "0"],
        ok: false,
    },
    Case {
        what: "numkeys larger than the arguments",
        args: &["EVAL", "return 1", "5", "{S}"],
        ok: false,
    },
    Case {
        what: "negative numkeys",
        args: &["EVAL", "return 1", "-1", "{S}"],
        ok: false,
    },
    Case {
        what: "non-numeric numkeys",
        args: &["EVAL", "return 1", "one", "{S}"],
        ok: false,
    },
    Case {
        what: "huge numkeys",
        args: &[
            "EVALSHA",
            "0000000000000000000000000000000000000000",
            "999999",
            "{S}",
        ],
        ok: false,
    },
    Case {
        what: "FCALL of a missing function named by the secret",
        args: &["FCALL", "{S}", "0"],
        ok: false,
    },
    Case {
        what: "WRONGTYPE with the secret as the value",
        args: &["HSET", "otel_redis_hostile_k", "f", "{S}"],
        ok: false,
    },
];

fn secret_for(i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("{CODE_SECRET}{}", char::from(b'A' + (i % 26) as u8))
    } else {
        format!("pw-Secret-{i:02}-9f3e")
    }
}

fn command(args: &[&str], secret: &str) -> redis::Cmd {
    let mut cmd = redis::Cmd::new();
    for a in args {
        cmd.arg(a.replace("{S}", secret));
    }
    cmd
}

async fn connect(
    t: &TestTelemetry,
    errors: ErrorTextMode,
) -> TracedConnection<redis::aio::MultiplexedConnection> {
    let client = common::client();
    let inner = client.get_multiplexed_async_connection().await.unwrap();
    TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .error_text(errors)
        .build(inner)
}

#[tokio::test]
async fn no_client_controlled_text_reaches_telemetry() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, ErrorTextMode::Off).await;
    hostile_cases(&t, &mut conn).await;
}

/// The same table on a Redis Cluster connection: routing, redirections and cluster errors add
/// no path for client text.
#[cfg(feature = "cluster")]
#[tokio::test]
async fn no_client_controlled_text_reaches_telemetry_on_a_cluster() {
    let t = TestTelemetry::new();
    let client = common::cluster_client();
    let inner = client
        .get_async_connection()
        .await
        .expect("connect to the cluster");
    let mut conn = TracedConnection::cluster_builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(inner);
    hostile_cases(&t, &mut conn).await;
}

/// Runs every case, a pipeline and a transaction of them on `conn`, then scans everything
/// `t` exported for the secrets.
async fn hostile_cases(t: &TestTelemetry, conn: &mut impl redis::aio::ConnectionLike) {
    let key = unique_name("otel_redis_hostile");
    let mut secrets = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let secret = secret_for(i);
        let args: Vec<String> = case
            .args
            .iter()
            .map(|a| a.replace("otel_redis_hostile_k", &key))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = command(&args, &secret)
            .query_async::<redis::Value>(conn)
            .await;
        assert_eq!(result.is_ok(), case.ok, "{}: {result:?}", case.what);
        secrets.push((case.what, secret));
    }
    // The same hostile commands inside a pipeline and a transaction.
    let pipe_secret = secret_for(100);
    let mut pipe = redis::pipe();
    let mut multi = redis::pipe();
    multi.atomic();
    for case in CASES.iter().filter(|c| c.args[0] == "EVAL") {
        pipe.add_command(command(case.args, &pipe_secret));
        multi.add_command(command(case.args, &pipe_secret));
    }
    let results: Vec<redis::RedisResult<redis::Value>> = pipe
        .ignore_errors()
        .query_async(conn)
        .await
        .expect("pipeline with ignore_errors");
    assert!(results.iter().any(|r| r.is_err()));
    assert!(multi.query_async::<redis::Value>(conn).await.is_err());
    secrets.push(("pipeline and transaction", pipe_secret));
    let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&key).query_async(conn).await;

    // Not vacuous: one span per command, with the classified failures.
    let spans = t.spans();
    assert_eq!(
        spans.len(),
        CASES.len() + 3,
        "{}",
        otel_testkit::describe(&spans)
    );
    assert!(t.series("db.client.operation.duration") > 0);
    for (what, secret) in &secrets {
        let leaks = t.leaks(secret);
        assert!(leaks.is_empty(), "{what}: {secret} leaked: {leaks:#?}");
    }
    assert!(t.leaks(CODE_SECRET).is_empty());

    // What is recorded instead.
    let other = t.spans_named("_OTHER");
    assert_eq!(other.len(), 2, "both unknown command names are `_OTHER`");
    let codes: Vec<String> = spans
        .iter()
        .filter_map(|s| s.attr(attribute::ERROR_TYPE).map(|v| v.to_string()))
        .collect();
    assert!(
        codes.iter().all(|c| c == "ERR"
            || c == "_OTHER"
            || c == "WRONGTYPE"
            || c == "NOSCRIPT"
            || c == "EXECABORT"),
        "{codes:?}"
    );
    let scripted: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "EVAL")
        .filter(|s| {
            s.attr(attribute::ERROR_TYPE)
                .is_some_and(|v| v.as_str() == "_OTHER")
        })
        .collect();
    // Redis itself prefixes a one-word error_reply with `ERR`: two replies keep the word
    // the script chose first.
    assert_eq!(
        scripted.len(),
        2,
        "two script replies chose their own first word"
    );
    for span in scripted {
        span.assert_error()
            .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "_OTHER")
            .assert_no_exception();
    }
    for span in spans
        .iter()
        .filter(|s| s.name == "EVAL" || s.name == "EVALSHA")
    {
        let text = span.attr(attribute::DB_QUERY_TEXT).map(|v| v.to_string());
        let text = text.unwrap_or_default();
        assert!(
            text.split(' ').skip(1).all(|w| w == "?" || w == "0"),
            "no key recorded from a bogus numkeys: {text}"
        );
    }
}

#[tokio::test]
async fn scrubbed_error_text_is_an_opt_in() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, ErrorTextMode::Scrubbed).await;
    let secret = "pw-Secret-77-ab12";
    let err = command(
        &[
            "EVAL",
            "return redis.error_reply('ERR token ' .. ARGV[1] .. ' rejected')",
            "0",
            "{S}",
        ],
        secret,
    )
    .query_async::<redis::Value>(&mut conn)
    .await
    .unwrap_err();
    assert!(err.to_string().contains(secret));
    let span = t.span("EVAL");
    span.assert_error()
        .assert_attr(attribute::ERROR_TYPE, "ERR")
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "ERR");
    let opentelemetry::trace::Status::Error { description } = &span.status else {
        panic!("error status expected");
    };
    // The reply's words are there, its token-shaped value is not.
    assert!(description.contains("rejected"), "{description}");
    assert!(t.leaks(secret).is_empty(), "{:?}", t.leaks(secret));
}

/// The span and metric facts of a command are prepared once per command of the table (and
/// once for `_OTHER`): distinct hostile command words all start from the one `_OTHER` entry,
/// prepared from the closed name, never from the word, so none reaches a name or a point and
/// they add one series, not one each; known commands keep theirs.
#[tokio::test]
async fn hostile_command_words_share_the_one_prepared_other() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, ErrorTextMode::Off).await;
    let secrets: Vec<String> = (0..20).map(secret_for).collect();
    for secret in &secrets {
        let _: redis::RedisResult<()> = command(&["{S}", "x"], secret).query_async(&mut conn).await;
        let _: () = command(&["SET", "otel_redis_prepared_k", "{S}"], secret)
            .query_async(&mut conn)
            .await
            .expect("SET");
    }
    let spans = t.spans();
    assert_eq!(spans.len(), 40);
    let others = spans.iter().filter(|s| s.name == "_OTHER").count();
    assert_eq!(others, 20, "every unknown word is named _OTHER");
    let points = t.histogram("db.client.operation.duration");
    let series = |op: &str| {
        points
            .iter()
            .filter(|p| p.attr(attribute::DB_OPERATION_NAME).as_deref() == Some(op))
            .map(|p| p.count)
            .collect::<Vec<_>>()
    };
    // `_OTHER` fails (unknown command): one series with its error type, 20 points.
    assert_eq!(series("_OTHER").iter().sum::<u64>(), 20);
    assert_eq!(series("_OTHER").len(), 1, "{points:?}");
    assert_eq!(series("SET"), [20]);
    for secret in &secrets {
        assert_eq!(t.leaks(secret), Vec::<String>::new(), "{secret}");
    }
}
