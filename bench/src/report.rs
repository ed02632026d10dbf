//! Markdown output (pasted as is into BENCHMARKS.md).

use crate::measure::{Comparison, Variant};
use crate::memory::Phase;
use crate::micro::Micro;
use crate::ops::Plan;

/// Machine, load and settings.
pub fn header(plan: &Plan, quick: bool) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("# otel-bench");
    println!();
    println!("- CPU: {model}, {cpus} CPUs available");
    println!("- load average at start: {}", load.trim());
    println!(
        "- rounds: {} interleaved (rotating order), ops/round: {}{}",
        plan.rounds,
        plan.ops
            .map_or("per-operation defaults".to_owned(), |n| n.to_string()),
        if quick {
            " (quick: defaults x0.25)"
        } else {
            ""
        }
    );
}

/// CPU microbenchmarks.
pub fn micro(results: &[Micro]) {
    println!("\n## CPU microbenchmarks (median ns per iteration)\n");
    println!("| what | ns |");
    println!("|---|---:|");
    for m in results {
        println!("| {} | {:.0} |", m.name, m.ns);
    }
    floor_ratios(results);
}

/// Each adapter's added CPU over the bare-SDK floor of the same work (same run), then the
/// in-process server layers beside the Rust alternatives.
fn floor_ratios(results: &[Micro]) {
    use crate::floor::{
        FLOOR_DB_SAMPLED, FLOOR_DB_UNSAMPLED, FLOOR_GRPC_SAMPLED, FLOOR_GRPC_UNSAMPLED,
        FLOOR_HTTP_SAMPLED, FLOOR_HTTP_UNSAMPLED,
    };
    use crate::layers as l;
    let ns = |name: &str| results.iter().find(|m| m.name == name).map(|m| m.ns);
    const MONGO_EVENTS: &str = "Mongo: building the synthetic events alone (baseline)";
    const REDIS_RAW: &str = "Redis SET over a null connection: raw";
    // (row, what is subtracted, measured row, subtracted row (None: nothing), floor row)
    use crate::ops::sql::{
        SQLITE_COMMENTER, SQLITE_NO_POOL_METRICS, SQLITE_RAW, SQLITE_RAW_NONPERSISTENT,
        SQLITE_SQLX_OTEL, SQLITE_TRACED, SQLITE_UNSAMPLED,
    };
    let rows: [(&str, &str, &str, Option<&str>, &str); 15] = [
        (
            "core recorder, sampled",
            "-",
            "recorder start+end, sampled (DB span, metric)",
            None,
            FLOOR_DB_SAMPLED,
        ),
        (
            "core recorder, unsampled",
            "-",
            "recorder start+end, unsampled parent",
            None,
            FLOOR_DB_UNSAMPLED,
        ),
        (
            "Mongo handler events, sampled",
            "the synthetic events alone",
            "Mongo handler started+succeeded+checked-in events, sampled",
            Some(MONGO_EVENTS),
            FLOOR_DB_SAMPLED,
        ),
        (
            "Mongo handler events, unsampled",
            "the synthetic events alone",
            "Mongo handler started+succeeded+checked-in events, unsampled",
            Some(MONGO_EVENTS),
            FLOOR_DB_UNSAMPLED,
        ),
        (
            "Redis SET (null connection), sampled",
            "raw SET",
            "Redis SET over a null connection: traced, sampled (incl. redaction)",
            Some(REDIS_RAW),
            FLOOR_DB_SAMPLED,
        ),
        (
            "Redis SET (null connection), unsampled",
            "raw SET",
            "Redis SET over a null connection: traced, unsampled",
            Some(REDIS_RAW),
            FLOOR_DB_UNSAMPLED,
        ),
        (
            "otel-sqlx TracedPool (in-memory SQLite SELECT), sampled",
            "raw pool",
            SQLITE_TRACED,
            Some(SQLITE_RAW),
            FLOOR_DB_SAMPLED,
        ),
        (
            "otel-sqlx TracedPool (in-memory SQLite SELECT), sampled, pool metrics off",
            "raw pool",
            SQLITE_NO_POOL_METRICS,
            Some(SQLITE_RAW),
            FLOOR_DB_SAMPLED,
        ),
        (
            "otel-sqlx TracedPool (in-memory SQLite SELECT), sampled + sqlcommenter",
            "raw pool, .persistent(false)",
            SQLITE_COMMENTER,
            Some(SQLITE_RAW_NONPERSISTENT),
            FLOOR_DB_SAMPLED,
        ),
        (
            "otel-sqlx TracedPool (in-memory SQLite SELECT), unsampled",
            "raw pool",
            SQLITE_UNSAMPLED,
            Some(SQLITE_RAW),
            FLOOR_DB_UNSAMPLED,
        ),
        (
            "alternative: sqlx-otel 0.5 (in-memory SQLite SELECT)",
            "raw pool",
            SQLITE_SQLX_OTEL,
            Some(SQLITE_RAW),
            FLOOR_DB_SAMPLED,
        ),
        (
            "HTTP layer pair (in-process), sampled",
            "raw call",
            l::HTTP_PAIR_SAMPLED,
            Some(l::HTTP_RAW),
            FLOOR_HTTP_SAMPLED,
        ),
        (
            "HTTP layer pair (in-process), unsampled",
            "raw call",
            l::HTTP_PAIR_UNSAMPLED,
            Some(l::HTTP_RAW),
            FLOOR_HTTP_UNSAMPLED,
        ),
        (
            "gRPC layer pair (in-process), sampled",
            "raw call",
            l::GRPC_PAIR_SAMPLED,
            Some(l::GRPC_RAW),
            FLOOR_GRPC_SAMPLED,
        ),
        (
            "gRPC layer pair (in-process), unsampled",
            "raw call",
            l::GRPC_PAIR_UNSAMPLED,
            Some(l::GRPC_RAW),
            FLOOR_GRPC_UNSAMPLED,
        ),
    ];
    println!("\n### Added CPU over the SDK floor (same run)\n");
    println!("| adapter | minus | added ns | floor ns | added / floor |");
    println!("|---|---|---:|---:|---:|");
    for (name, minus, total, base, floor) in rows {
        let base = base.map_or(Some(0.0), ns);
        if let (Some(total), Some(base), Some(floor)) = (ns(total), base, ns(floor)) {
            let added = total - base;
            println!(
                "| {name} | {minus} | {added:.0} | {floor:.0} | {:.2} |",
                added / floor
            );
        }
    }
    let pairs = [
        (
            "HTTP",
            l::HTTP_PAIR_TRACING,
            l::HTTP_RAW,
            l::HTTP_PAIR_SAMPLED,
        ),
        (
            "gRPC",
            l::GRPC_PAIR_TRACING,
            l::GRPC_RAW,
            l::GRPC_PAIR_SAMPLED,
        ),
    ];
    let servers = [
        l::HTTP_SERVER_OURS,
        l::HTTP_SERVER_TRACING,
        l::HTTP_SERVER_TOWER,
        l::HTTP_SERVER_AXUM_TRACING,
    ];
    println!(
        "\n### In-process layers beside the alternatives (added ns over the raw call, same run)\n"
    );
    println!("| layer(s) | added ns | / otel-rpc |");
    println!("|---|---:|---:|");
    for (proto, other, raw, ours) in pairs {
        if let (Some(o), Some(r), Some(us)) = (ns(other), ns(raw), ns(ours)) {
            println!(
                "| {proto} pair: tracing route (client + server, no metric) | {:.0} | {:.2} |",
                o - r,
                (o - r) / (us - r)
            );
        }
    }
    if let (Some(raw), Some(ours)) = (ns(l::HTTP_SERVER_RAW), ns(l::HTTP_SERVER_OURS)) {
        for name in servers {
            if let Some(v) = ns(name) {
                println!(
                    "| {} | {:.0} | {:.2} |",
                    name.trim_start_matches("HTTP in-process, traceparent sent: "),
                    v - raw,
                    (v - raw) / (ours - raw)
                );
            }
        }
    }
}

/// Loopback comparisons.
pub fn comparisons(cmps: &[Comparison]) {
    for c in cmps {
        println!(
            "\n## {} ({} ops/round, raw CPU {:.0} ns/op)\n",
            c.name,
            c.ops,
            c.raw_cpu_ns()
        );
        println!(
            "| variant | raw ops/s | instr. ops/s | ratio (median) | ratio IQR | added wall ns/op | added CPU ns/op |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let variants = [
            (Variant::Sampled, "(a) sampled, batch -> no-op, metrics"),
            (Variant::Unsampled, "(b) unsampled parent"),
            (Variant::Tracing, "(c) tracing + tracing-opentelemetry"),
        ]
        .into_iter()
        .chain(
            c.alternatives
                .iter()
                .enumerate()
                .map(|(i, label)| (Variant::Alt(i), label.as_str())),
        );
        for (v, label) in variants {
            let r = c.row(v);
            println!(
                "| {label} | {:.0} | {:.0} | {:.3} | {:.3}-{:.3} | {:.0} | {:.0} |",
                r.raw_ops,
                r.ops,
                r.ratio,
                r.ratio_iqr.0,
                r.ratio_iqr.1,
                r.added_wall_ns,
                r.added_cpu_ns
            );
        }
    }
}

/// Adapter state after the loopback runs.
pub fn state(lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    println!("\n## Adapter state after the loopback runs\n");
    for l in lines {
        println!("- {l}");
    }
}

/// Memory phases.
pub fn memory(phases: &[Phase]) {
    println!("\n## Memory (RSS KiB after the first half of the operations -> after all of them)\n");
    println!("| phase | RSS half | RSS end | growth KiB | state |");
    println!("|---|---:|---:|---:|---|");
    for p in phases {
        println!(
            "| {} | {} | {} | {} | {} |",
            p.name,
            p.before,
            p.after,
            p.after as i64 - p.before as i64,
            p.state
        );
    }
}
