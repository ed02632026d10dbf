//! Secrets never reach spans: a password-protected redis-server started by the test,
//! explicit AUTH / HELLO AUTH / CONFIG SET requirepass / ACL SETUSER / MIGRATE AUTH, stored
//! values, in sanitized and raw modes.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_semantic_conventions::attribute;
use otel_redis::{InstrumentationOptions, QueryTextMode, TracedConnection};
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};
use redis::AsyncCommands;

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const PASSWORD: &str = "pw-Secret-1f3a9c";
const NEW_PASSWORD: &str = "pw-Rotated-7b2e4d";
const ALICE_PASSWORD: &str = "pw-Alice-5c8e1a";
const VALUES: [&str; 5] = [
    "value-Secret-01",
    "value-Secret-02",
    "value-Secret-03",
    "value-Secret-04",
    "value-Secret-05",
];

/// A redis-server child process, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        assert!(
            std::path::Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: install it with `scripts/services.sh up`"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--requirepass",
                PASSWORD,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn secrets_and_values_never_reach_spans() {
    let server = Server::start();
    let t = TestTelemetry::new();
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}/0", server.port);
    let client = redis::Client::open(url.as_str()).unwrap();
    let inner = client.get_multiplexed_async_connection().await.unwrap();
    let mut conn = TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(inner);
    let key = unique_name("otel_redis_secret");

    // Values, through every path: command, hash, pipeline, transaction, script, failing
    // command (whose server message echoes its arguments).
    let () = conn.set(&key, VALUES[0]).await.unwrap();
    let _: i64 = conn
        .hset(format!("{key}:h"), "field", VALUES[1])
        .await
        .unwrap();
    let _: () = redis::pipe()
        .set(format!("{key}:p"), VALUES[2])
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: (i64,) = redis::pipe()
        .atomic()
        .rpush(format!("{key}:l"), VALUES[3])
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: String = redis::cmd("EVAL")
        .arg("return ARGV[1]")
        .arg(0)
        .arg(VALUES[4])
        .query_async(&mut conn)
        .await
        .unwrap();
    let _ = redis::cmd("NOSUCHCOMMAND")
        .arg(VALUES[0])
        .query_async::<redis::Value>(&mut conn)
        .await
        .unwrap_err();

    // Authentication commands.
    let () = redis::cmd("AUTH")
        .arg(PASSWORD)
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg(NEW_PASSWORD)
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("AUTH")
        .arg("default")
        .arg(NEW_PASSWORD)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("HELLO")
        .arg(2)
        .arg("AUTH")
        .arg("default")
        .arg(NEW_PASSWORD)
        .query_async(&mut conn)
        .await
        .unwrap();
    let () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("alice")
        .arg("on")
        .arg(format!(">{ALICE_PASSWORD}"))
        .arg("~*")
        .arg("+@all")
        .query_async(&mut conn)
        .await
        .unwrap();
    // MIGRATE with AUTH: no key to move, the server answers NOKEY without connecting.
    let _: redis::Value = redis::cmd("MIGRATE")
        .arg("127.0.0.1")
        .arg(server.port)
        .arg("")
        .arg(0)
        .arg(1000)
        .arg("AUTH")
        .arg(NEW_PASSWORD)
        .arg("KEYS")
        .arg(format!("{key}:absent"))
        .query_async(&mut conn)
        .await
        .unwrap();
    // A wrong password: an error span, still without the password.
    let err = redis::cmd("AUTH")
        .arg(PASSWORD)
        .query_async::<()>(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("WRONGPASS"), "{err}");

    // Raw mode shows values, but authentication commands stay names only.
    let raw_inner = client.get_multiplexed_async_connection().await;
    // The client's URL still holds the old password, which the server no longer accepts.
    assert!(raw_inner.is_err());
    let raw_client = redis::Client::open(format!(
        "redis://:{NEW_PASSWORD}@127.0.0.1:{}/0",
        server.port
    ))
    .unwrap();
    let mut raw = TracedConnection::builder(&raw_client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .query_text(QueryTextMode::Raw)
        .build(raw_client.get_multiplexed_async_connection().await.unwrap());
    let () = redis::cmd("AUTH")
        .arg(NEW_PASSWORD)
        .query_async(&mut raw)
        .await
        .unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("masterauth")
        .arg(NEW_PASSWORD)
        .query_async(&mut raw)
        .await
        .unwrap();
    let _: () = redis::pipe()
        .cmd("AUTH")
        .arg(NEW_PASSWORD)
        .ignore()
        .query_async(&mut raw)
        .await
        .unwrap();

    let spans = t.spans();
    assert_eq!(spans.len(), 16, "{}", otel_testkit::describe(&spans));
    for span in &spans {
        let text = span.all_text();
        for secret in [PASSWORD, NEW_PASSWORD, ALICE_PASSWORD]
            .iter()
            .chain(VALUES.iter())
        {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    // What the authentication spans do show.
    let texts: Vec<String> = spans
        .iter()
        .filter_map(|s| s.attr(attribute::DB_QUERY_TEXT).map(|v| v.to_string()))
        .collect();
    for expected in ["AUTH", "CONFIG SET", "HELLO", "ACL SETUSER", "MIGRATE"] {
        assert!(
            texts.iter().any(|t| t == expected),
            "no {expected:?} in {texts:?}"
        );
    }
    assert_eq!(t.spans_named("AUTH").len(), 4);
    t.spans_named("AUTH")
        .iter()
        .filter(|s| s.attr(attribute::ERROR_TYPE).is_some())
        .for_each(|s| {
            s.assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGPASS");
        });
}
