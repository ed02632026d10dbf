//! Property tests of the untrusted-text rule: whatever the input, `scrub` never panics, stays
//! within its cap, and no planted value in a value position survives; names that fail the shape
//! check never reach telemetry.

use opentelemetry::Context;
use opentelemetry::trace::SpanKind;
use otel_rpc::{DbOperation, ErrorTextMode, Failure, Outcome, SpanRecorder};
use otel_rpc::{OTHER, closed, name_shape_ok, scrub};
use otel_testkit::TestTelemetry;
use proptest::prelude::*;

/// Message templates as servers write them; `{}` is where a value goes. In these the value
/// is delimited (quotes, `=(..)`), so it may hold anything.
const DELIMITED: &[&str] = &[
    "duplicate key value violates unique constraint \"users_email_key\"\nDETAIL: Key (email)=({}) already exists.",
    "Duplicate entry '{}' for key 'PRIMARY'",
    "You have an error in your SQL syntax; check the manual near '{}' at line 1",
    "Variable 'sql_mode' can't be set to the value of '{}'",
    "invalid input syntax for type integer: \"{}\"",
    "unknown key `{}`",
    "WRONGTYPE Operation against a key holding the wrong kind of value '{}'",
];

/// `key=value` templates: the value is one token (a bare word holding blanks cannot be told
/// from prose; that is why scrubbing is an opt-in).
const KEY_VALUE: &[&str] = &[
    "token={} rejected",
    "connect failed: password={}",
    "auth = {}, retry",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scrub_never_panics_and_respects_the_cap(text in any::<String>(), max in 0usize..600) {
        let out = scrub(&text, max);
        prop_assert!(out.len() <= max);
        prop_assert!(!out.chars().any(|c| c.is_control()));
    }

    /// Any value (quotes, apostrophes, backslashes, blanks, parentheses included) spliced into a
    /// delimited position of a server message never survives scrubbing.
    #[test]
    fn values_in_delimited_positions_never_survive(
        template in prop::sample::select(DELIMITED),
        secret in "[A-Za-z]{6,12}",
        noise in "[ '\"`()\\\\a-z0-9]{0,8}",
    ) {
        let planted = format!("SEKRIT{secret}");
        let value = format!("{noise}{planted}{noise}");
        let message = template.replace("{}", &value);
        let out = scrub(&message, 4096);
        prop_assert!(!out.contains(&planted), "{message:?} -> {out:?}");
    }

    /// A one-token value after `=` never survives, whatever its characters.
    #[test]
    fn key_values_never_survive(
        template in prop::sample::select(KEY_VALUE),
        secret in "[A-Za-z]{6,12}",
        noise in "['\"`()\\\\a-z0-9@/.:-]{0,8}",
    ) {
        let planted = format!("SEKRIT{secret}");
        let message = template.replace("{}", &format!("{noise}{planted}{noise}"));
        let out = scrub(&message, 4096);
        prop_assert!(!out.contains(&planted), "{message:?} -> {out:?}");
    }

    /// Digits never survive anywhere.
    #[test]
    fn numbers_never_survive(prefix in "[a-z ]{0,20}", n in any::<u64>(), suffix in "[a-z ]{0,20}") {
        let out = scrub(&format!("{prefix}{n}{suffix}"), 4096);
        prop_assert!(!out.chars().any(|c| c.is_ascii_digit()), "{out:?}");
    }

    #[test]
    fn shape_check_rejects_every_name_with_a_forbidden_char(
        left in "[a-z_]{0,10}",
        bad in prop::sample::select(vec![' ', '\t', '\n', '\'', '"', '`', ';', '\u{0}', '\u{7f}']),
        right in "[a-z_]{0,10}",
    ) {
        let name = format!("{left}{bad}{right}");
        prop_assert!(!name_shape_ok(&name));
    }

    #[test]
    fn closed_sets_give_only_members(value in any::<String>()) {
        let set = ["ERR", "WRONGTYPE", "NOSCRIPT"];
        let got = closed(&value, &set);
        prop_assert!(got == OTHER || set.contains(&got));
    }
}

/// End to end: a hostile collection name and a hostile server message reach no exported span,
/// event or metric point, in the default mode and in the scrubbed opt-in.
#[test]
fn planted_values_reach_no_telemetry() {
    let t = TestTelemetry::new();
    let rec = SpanRecorder::builder(SpanKind::Client, "untrusted-test")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .logger_provider(t.logger_provider.clone())
        .exception_signal(otel_rpc::ExceptionSignal::LogsDup)
        .status_code_attribute(
            opentelemetry_semantic_conventions::attribute::DB_RESPONSE_STATUS_CODE,
        )
        .build();
    let secret = "PLANTEDxSECRET";
    let hostile_names = [
        format!("orders WHERE token = '{secret}'"),
        format!("\"{secret}"),
        format!("t;{secret}"),
        format!("{}{secret}", "a".repeat(300)),
    ];
    for (i, name) in hostile_names.iter().enumerate() {
        let op = DbOperation::new("postgresql")
            .operation("SELECT")
            .collection(name.clone());
        let message = format!("relation \"{secret}\" does not exist near '{secret}' key={secret}");
        for mode in [ErrorTextMode::Off, ErrorTextMode::Scrubbed] {
            rec.start_db(&Context::new(), &op).end(Outcome::Failure(
                Failure::new("42P01")
                    .with_status_code("42P01")
                    .with_exception()
                    .with_untrusted_message(&message, mode),
            ));
        }
        assert!(
            t.leaks(secret).is_empty(),
            "case {i}: {:?}",
            t.leaks(secret)
        );
    }
    assert_eq!(t.spans().len(), 8);
    assert!(t.series("db.client.operation.duration") >= 1);
    assert_eq!(t.logs().len(), 8);
    // Not vacuous: the scrubbed mode did record a description.
    assert!(t.spans().iter().any(|s| matches!(&s.status,
        opentelemetry::trace::Status::Error { description } if description == "relation ? key=?")));
}
