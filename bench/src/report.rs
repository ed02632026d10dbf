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

/// Each adapter's added CPU over the bare-SDK floor of the same work (same run).
fn floor_ratios(results: &[Micro]) {
    use crate::floor::{FLOOR_DB_SAMPLED, FLOOR_DB_UNSAMPLED};
    let ns = |name: &str| results.iter().find(|m| m.name == name).map(|m| m.ns);
    // (row, what it adds over, floor)
    let rows: [(&str, &str, Option<f64>, Option<f64>, Option<f64>); 6] = [
        (
            "core recorder, sampled",
            "-",
            ns("recorder start+end, sampled (DB span, metric)"),
            Some(0.0),
            ns(FLOOR_DB_SAMPLED),
        ),
        (
            "core recorder, unsampled",
            "-",
            ns("recorder start+end, unsampled parent"),
            Some(0.0),
            ns(FLOOR_DB_UNSAMPLED),
        ),
        (
            "Mongo handler events, sampled",
            "the synthetic events alone",
            ns("Mongo handler started+succeeded+checked-in events, sampled"),
            ns("Mongo: building the synthetic events alone (baseline)"),
            ns(FLOOR_DB_SAMPLED),
        ),
        (
            "Mongo handler events, unsampled",
            "the synthetic events alone",
            ns("Mongo handler started+succeeded+checked-in events, unsampled"),
            ns("Mongo: building the synthetic events alone (baseline)"),
            ns(FLOOR_DB_UNSAMPLED),
        ),
        (
            "Redis SET (null connection), sampled",
            "raw SET",
            ns("Redis SET over a null connection: traced, sampled (incl. redaction)"),
            ns("Redis SET over a null connection: raw"),
            ns(FLOOR_DB_SAMPLED),
        ),
        (
            "Redis SET (null connection), unsampled",
            "raw SET",
            ns("Redis SET over a null connection: traced, unsampled"),
            ns("Redis SET over a null connection: raw"),
            ns(FLOOR_DB_UNSAMPLED),
        ),
    ];
    println!("\n### Added CPU over the SDK floor (same run)\n");
    println!("| adapter | minus | added ns | floor ns | added / floor |");
    println!("|---|---|---:|---:|---:|");
    for (name, minus, total, base, floor) in rows {
        if let (Some(total), Some(base), Some(floor)) = (total, base, floor) {
            let added = total - base;
            println!(
                "| {name} | {minus} | {added:.0} | {floor:.0} | {:.2} |",
                added / floor
            );
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
        for (v, label) in [
            (Variant::Sampled, "(a) sampled, batch -> no-op, metrics"),
            (Variant::Unsampled, "(b) unsampled parent"),
            (Variant::Tracing, "(c) tracing + tracing-opentelemetry"),
        ] {
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
