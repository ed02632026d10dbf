//! The sanitizer's table of cases, and properties over arbitrary input.

use proptest::prelude::*;

use super::*;

const SANITIZED: TextOptions = TextOptions {
    mode: QueryTextMode::Sanitized,
    max_len: 2048,
};
const RAW: TextOptions = TextOptions {
    mode: QueryTextMode::Raw,
    max_len: 2048,
};

fn text(args: &[&[u8]], opts: TextOptions) -> Option<String> {
    command_text(&resolve(args.iter().copied()), opts)
}

fn sanitized(args: &[&str]) -> String {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    text(&bytes, SANITIZED).unwrap_or_default()
}

fn raw(args: &[&str]) -> String {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    text(&bytes, RAW).unwrap_or_default()
}

#[test]
fn table() {
    let cases: &[(&[&str], &str)] = &[
        (&["SET", "key", "value"], "SET key ?"),
        (&["set", "key", "value", "EX", "10"], "SET key ? ? ?"),
        (&["GET", "key"], "GET key"),
        (&["get", "key"], "GET key"),
        (&["INCR", "counter"], "INCR counter"),
        (&["INCRBY", "counter", "5"], "INCRBY counter ?"),
        (&["DEL", "a", "b", "c"], "DEL a b c"),
        (&["HSET", "key", "field", "value"], "HSET key ? ?"),
        (&["HSET", "key", "f1", "v1", "f2", "v2"], "HSET key ? ? ? ?"),
        (&["HGET", "key", "field"], "HGET key ?"),
        (&["MGET", "k1", "k2"], "MGET k1 k2"),
        (&["MSET", "k1", "v1", "k2", "v2"], "MSET k1 ? k2 ?"),
        (&["EXPIRE", "key", "60"], "EXPIRE key ?"),
        (&["RENAME", "from", "to"], "RENAME from to"),
        (&["BLPOP", "q1", "q2", "5"], "BLPOP q1 q2 ?"),
        (
            &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
            "LMOVE src dst ? ?",
        ),
        (&["BITOP", "AND", "dest", "s1", "s2"], "BITOP ? dest s1 s2"),
        (
            &[
                "EVAL",
                "return redis.call('GET', KEYS[1])",
                "1",
                "key",
                "arg",
            ],
            "EVAL ? 1 key ?",
        ),
        (&["EVAL", "return 1", "0"], "EVAL ? 0"),
        (
            &["EVAL", "return 1", "2", "k1", "k2", "a1", "a2"],
            "EVAL ? 2 k1 k2 ? ?",
        ),
        (&["EVAL", "script", "notanumber", "k"], "EVAL ? ? ?"),
        // numkeys larger than the arguments that follow, negative or not a number: no key.
        (&["EVAL", "script", "99", "k"], "EVAL ? ? ?"),
        (&["EVAL", "script", "2", "k"], "EVAL ? ? ?"),
        (&["EVAL", "script", "-1", "k"], "EVAL ? ? ?"),
        (&["EVALSHA", "sha", "3", "k", "v"], "EVALSHA ? ? ? ?"),
        (&["FCALL", "f", "1e3", "k"], "FCALL ? ? ?"),
        (
            &["ZUNIONSTORE", "dest", "5", "a", "b"],
            "ZUNIONSTORE ? ? ? ?",
        ),
        (&["EVAL", "script", "2", "k1", "k2"], "EVAL ? 2 k1 k2"),
        // Keys not shaped like names are values.
        (&["GET", "has space"], "GET ?"),
        (&["GET", "quote'd"], "GET ?"),
        (&["DEL", "ok", "semi;colon", "tab\tkey"], "DEL ok ? ?"),
        (&["GET", ""], "GET ?"),
        (
            &[
                "EVALSHA",
                "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
                "1",
                "k",
                "v",
            ],
            "EVALSHA ? 1 k ?",
        ),
        (&["FCALL", "myfunc", "1", "k", "v"], "FCALL ? 1 k ?"),
        (
            &["ZUNIONSTORE", "dest", "2", "a", "b", "WEIGHTS", "1", "2"],
            "ZUNIONSTORE dest 2 a b ? ? ?",
        ),
        (&["ZUNION", "2", "a", "b"], "ZUNION 2 a b"),
        (&["BLMPOP", "5", "2", "a", "b", "LEFT"], "BLMPOP ? 2 a b ?"),
        (
            &["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"],
            "XREAD ? ? STREAMS s1 s2 ? ?",
        ),
        (
            &["XREADGROUP", "GROUP", "g", "c", "streams", "s1", ">"],
            "XREADGROUP ? ? ? streams s1 ?",
        ),
        (
            &["XADD", "stream", "*", "field", "value"],
            "XADD stream ? ? ?",
        ),
        (&["CLIENT", "SETNAME", "myname"], "CLIENT SETNAME ?"),
        (&["config", "get", "maxmemory"], "CONFIG GET ?"),
        (&["XINFO", "STREAM", "s"], "XINFO STREAM s"),
        (&["OBJECT", "ENCODING", "k"], "OBJECT ENCODING k"),
        (
            &["MEMORY", "USAGE", "k", "SAMPLES", "5"],
            "MEMORY USAGE k ? ?",
        ),
        (&["XGROUP", "CREATE", "s", "g", "$"], "XGROUP CREATE s ? ?"),
        (&["PING"], "PING"),
        (&["PING", "hello"], "PING ?"),
        (&["SELECT", "2"], "SELECT ?"),
        (&["KEYS", "user:*"], "KEYS ?"),
        (&["PUBLISH", "chan", "message"], "PUBLISH chan ?"),
        (
            &["MIGRATE", "host", "6379", "key", "0", "5000"],
            "MIGRATE ? ? key ? ?",
        ),
        (
            &["MIGRATE", "host", "6379", "", "0", "5000", "KEYS", "a", "b"],
            "MIGRATE ? ? ? ? ? KEYS a b",
        ),
        // Module commands of the table.
        (&["JSON.SET", "doc", "$", "{\"a\":1}"], "JSON.SET doc ? ?"),
        (&["json.mget", "a", "b", "$.x"], "JSON.MGET a b ?"),
        (&["FT.SEARCH", "idx", "@name:secret"], "FT.SEARCH ? ?"),
        (
            &["TS.MADD", "t1", "1", "2", "t2", "3", "4"],
            "TS.MADD t1 ? ? t2 ? ?",
        ),
        // Unknown commands: `_OTHER`, every argument a value.
        (&["NOSUCHCOMMAND", "a", "b"], "_OTHER ? ?"),
        (&["my.module.cmd", "a"], "_OTHER ?"),
        // An unknown subcommand is not made a name (it could be anything): a value.
        (&["CONFIG", "NEWSUB", "x"], "CONFIG ? ?"),
        // Secrets: names only.
        (&["AUTH", "password"], "AUTH"),
        (&["auth", "user", "password"], "AUTH"),
        (&["HELLO", "3", "AUTH", "user", "password"], "HELLO"),
        (
            &["hello", "3", "auth", "user", "password", "SETNAME", "n"],
            "HELLO",
        ),
        (&["HELLO", "3"], "HELLO ?"),
        (&["CONFIG", "SET", "requirepass", "password"], "CONFIG SET"),
        (&["CONFIG", "SET", "masterauth", "password"], "CONFIG SET"),
        (&["config", "set", "maxmemory", "100mb"], "CONFIG SET"),
        (
            &["ACL", "SETUSER", "alice", "on", ">password", "~*", "+@all"],
            "ACL SETUSER",
        ),
        (
            &["MIGRATE", "h", "6379", "k", "0", "5000", "AUTH", "password"],
            "MIGRATE",
        ),
        (
            &[
                "MIGRATE", "h", "6379", "", "0", "5000", "AUTH2", "user", "password", "KEYS", "a",
            ],
            "MIGRATE",
        ),
        (
            &["SENTINEL", "SET", "master", "auth-pass", "password"],
            "SENTINEL SET",
        ),
        (
            &["SENTINEL", "CONFIG", "SET", "sentinel-pass", "password"],
            "SENTINEL CONFIG",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(sanitized(args), *expected, "{args:?}");
    }
}

#[test]
fn secrets_stay_hidden_in_raw_mode() {
    assert_eq!(raw(&["AUTH", "password"]), "AUTH");
    assert_eq!(raw(&["HELLO", "3", "AUTH", "u", "password"]), "HELLO");
    assert_eq!(
        raw(&["CONFIG", "SET", "requirepass", "password"]),
        "CONFIG SET"
    );
    assert_eq!(
        raw(&["ACL", "SETUSER", "alice", ">password"]),
        "ACL SETUSER"
    );
    assert_eq!(
        raw(&["MIGRATE", "h", "1", "k", "0", "1", "AUTH", "password"]),
        "MIGRATE"
    );
    // Everything else verbatim.
    assert_eq!(raw(&["set", "key", "value"]), "SET key value");
    assert_eq!(raw(&["HELLO", "3"]), "HELLO 3");
}

#[test]
fn off_mode_records_nothing() {
    let opts = TextOptions {
        mode: QueryTextMode::Off,
        max_len: 2048,
    };
    assert_eq!(text(&[b"GET", b"k"], opts), None);
}

#[test]
fn empty_and_binary_commands() {
    assert_eq!(text(&[], SANITIZED), None);
    // Invalid UTF-8 keys are not names: shown as `?`, like values.
    assert_eq!(
        text(
            &[b"SET", &[0xff, b'k', 0xfe], &[0xff, 0x00, 0x01]],
            SANITIZED
        )
        .as_deref(),
        Some("SET ? ?")
    );
    // A binary command name is not recorded as is.
    assert_eq!(
        text(&[&[0xff, 0xfe], b"secret"], SANITIZED).as_deref(),
        Some("_OTHER ?")
    );
    assert_eq!(text(&[b"GET", b""], SANITIZED).as_deref(), Some("GET ?"));
    assert_eq!(text(&[b"GET", b""], RAW).as_deref(), Some("GET \"\""));
}

#[test]
fn long_text_is_capped() {
    let opts = TextOptions {
        mode: QueryTextMode::Sanitized,
        max_len: 64,
    };
    let key = "k".repeat(200);
    let t = text(&[b"GET", key.as_bytes()], opts).unwrap_or_default();
    assert!(t.len() <= 64, "{}", t.len());
    assert!(
        t.starts_with("GET kkk") && t.ends_with(otel_rpc::text::TRUNCATION_MARKER),
        "{t}"
    );

    let keys: Vec<String> = (0..10_000).map(|i| format!("key{i}")).collect();
    let mut args: Vec<&[u8]> = vec![b"DEL"];
    args.extend(keys.iter().map(|k| k.as_bytes()));
    let t = text(&args, opts).unwrap_or_default();
    assert!(t.len() <= 64, "{}", t.len());

    // Multi-byte keys are cut on a char boundary.
    let key = "ключ".repeat(30);
    for max in 0..40 {
        let opts = TextOptions {
            mode: QueryTextMode::Sanitized,
            max_len: max,
        };
        let t = text(&[b"GET", key.as_bytes()], opts).unwrap_or_default();
        assert!(
            t.len() <= max.max(otel_rpc::text::TRUNCATION_MARKER.len()),
            "{max}: {t}"
        );
    }
}

#[test]
fn pipelines_join_commands() {
    let cmds: Vec<Vec<&[u8]>> = vec![
        vec![b"SET", b"a", b"1"],
        vec![b"GET", b"a"],
        vec![b"AUTH", b"password"],
        vec![b"HSET", b"h", b"f", b"v"],
    ];
    let t = pipeline_text(cmds.iter().map(|c| c.iter().copied()), SANITIZED);
    assert_eq!(t.as_deref(), Some("SET a ?; GET a; AUTH; HSET h ? ?"));

    let many: Vec<Vec<&[u8]>> = (0..10_000).map(|_| vec![&b"GET"[..], b"key"]).collect();
    let opts = TextOptions {
        mode: QueryTextMode::Sanitized,
        max_len: 100,
    };
    let t = pipeline_text(many.iter().map(|c| c.iter().copied()), opts).unwrap_or_default();
    assert!(t.len() <= 100, "{}", t.len());
}

/// Commands with a key layout written out independently of the table: `true` marks a key.
fn layouts() -> Vec<(&'static str, Vec<bool>)> {
    vec![
        ("GET", vec![true]),
        ("SET", vec![true, false]),
        ("SET", vec![true, false, false, false]),
        ("HSET", vec![true, false, false, false, false]),
        ("HMGET", vec![true, false, false]),
        ("MSET", vec![true, false, true, false, true, false]),
        ("DEL", vec![true, true, true]),
        ("EXPIRE", vec![true, false]),
        ("LPUSH", vec![true, false, false]),
        ("ZADD", vec![true, false, false]),
        ("RENAME", vec![true, true]),
        ("BRPOP", vec![true, true, false]),
        ("PING", vec![false]),
        ("ECHO", vec![false]),
        ("NOT-A-COMMAND", vec![false, false, false]),
        ("CLIENT", vec![false]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never panic, never exceed the cap, and secret commands stay names.
    #[test]
    fn arbitrary_input_is_safe(
        name in prop::sample::select(vec![
            "GET", "SET", "EVAL", "EVALSHA", "XREAD", "MIGRATE", "HELLO", "AUTH", "CONFIG",
            "ACL", "ZUNIONSTORE", "BLMPOP", "MSET", "BLPOP", "OBJECT", "SENTINEL", "XYZ",
        ]),
        raw_name in prop::collection::vec(any::<u8>(), 0..8),
        use_raw_name in any::<bool>(),
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..12),
        max_len in 0usize..300,
    ) {
        let mut all: Vec<&[u8]> = vec![if use_raw_name { &raw_name[..] } else { name.as_bytes() }];
        all.extend(args.iter().map(Vec::as_slice));
        for mode in [QueryTextMode::Sanitized, QueryTextMode::Raw] {
            let opts = TextOptions { mode, max_len };
            if let Some(t) = text(&all, opts) {
                prop_assert!(t.len() <= max_len.max(otel_rpc::text::TRUNCATION_MARKER.len()));
            }
        }
        let full = text(&all, RAW).unwrap_or_default();
        if name == "AUTH" && !use_raw_name {
            prop_assert_eq!(full, "AUTH");
        }
    }

    /// Values never survive sanitization, whatever they hold; keys always do.
    #[test]
    fn values_never_survive(
        layout in prop::sample::select(layouts()),
        keys in prop::collection::vec("[a-z0-9:]{1,12}", 8),
        values in prop::collection::vec("%VAL[ -~]{0,20}", 8),
    ) {
        let (name, shape) = layout;
        let mut args: Vec<&[u8]> = vec![name.as_bytes()];
        for (i, is_key) in shape.iter().enumerate() {
            args.push(if *is_key { keys[i].as_bytes() } else { values[i].as_bytes() });
        }
        let t = text(&args, SANITIZED).unwrap_or_default();
        prop_assert!(!t.contains("%VAL"), "{} leaked a value: {}", name, t);
        let words: Vec<&str> = t.split(' ').collect();
        for (i, is_key) in shape.iter().enumerate() {
            if *is_key {
                prop_assert!(words.contains(&keys[i].as_str()), "{}: key {} missing in {}", name, keys[i], t);
            }
        }
    }

    /// A script's body and arguments never survive, only its keys.
    #[test]
    fn scripts_keep_only_keys(
        script in "%VAL[ -~]{0,40}",
        keys in prop::collection::vec("[a-z]{1,8}", 0..4),
        argv in prop::collection::vec("%VAL[ -~]{0,10}", 0..4),
        sha in any::<bool>(),
    ) {
        let n = keys.len().to_string();
        let mut args: Vec<&[u8]> = vec![if sha { b"EVALSHA" } else { b"EVAL" }, script.as_bytes(), n.as_bytes()];
        args.extend(keys.iter().map(|k| k.as_bytes()));
        args.extend(argv.iter().map(|a| a.as_bytes()));
        let t = text(&args, SANITIZED).unwrap_or_default();
        prop_assert!(!t.contains("%VAL"), "{}", t);
        let mut expected = format!("{} ? {}", if sha { "EVALSHA" } else { "EVAL" }, keys.len());
        for k in &keys {
            expected.push(' ');
            expected.push_str(k);
        }
        for _ in &argv {
            expected.push_str(" ?");
        }
        prop_assert_eq!(t, expected);
    }
}

#[test]
fn extreme_caps_do_not_overflow() {
    let opts = TextOptions {
        mode: QueryTextMode::Sanitized,
        max_len: usize::MAX,
    };
    assert_eq!(text(&[b"GET", b"k"], opts).as_deref(), Some("GET k"));
    let opts = TextOptions {
        mode: QueryTextMode::Raw,
        max_len: 0,
    };
    let t = text(&[b"GET", b"k"], opts).unwrap_or_default();
    assert!(t.len() <= otel_rpc::text::TRUNCATION_MARKER.len(), "{t}");
}
