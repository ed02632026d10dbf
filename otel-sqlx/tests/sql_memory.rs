//! Extra heap per statement for the SQL analysis and sanitizer, measured with a counting
//! global allocator (this binary only). Bounds on bytes, not on time.
//!
//! The statement is a 2 MiB multi-row `VALUES` insert (the case: the old tokenizer
//! held a token list of the whole statement, ~31x its size). The target is at most 2x the
//! statement in extra heap for any of the entry points, and a small constant for the
//! analysis and for the capped text the instrumentation records.
//!
//! One `#[test]` only: the counters are process-wide, so measurements must not overlap.
// The allocation-counting test opts back in to `unsafe` (workspace lint policy): a global
// allocator is an unsafe trait; every call forwards to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use otel_rpc::text::{DEFAULT_MAX_QUERY_TEXT_LEN, truncate};
use otel_sqlx::sql::{Dialect, analyze, sanitize};
use otel_sqlx::testing::QueryCache;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap above the level at the call, while `f` runs (its result dropped inside).
fn peak_extra<T>(f: impl FnOnce() -> T) -> usize {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    drop(f());
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

const TWO_MIB: usize = 2 * 1024 * 1024;

/// Size of the other hostile shapes (the bounds do not depend on it).
const HALF_MIB: usize = 512 * 1024;

#[test]
fn extra_heap_per_statement_is_bounded() {
    let statements = [
        (
            "2 MiB multi-row VALUES",
            otel_testkit::sql::values_statement(TWO_MIB),
        ),
        ("512 KiB of nested parentheses", "(".repeat(HALF_MIB)),
        (
            "512 KiB IN list",
            format!(
                "SELECT * FROM t WHERE id IN ({})",
                vec!["1"; HALF_MIB / 2].join(",")
            ),
        ),
        (
            "512 KiB of ambiguous backslash strings",
            format!("SELECT {}", vec!["'a\\'"; HALF_MIB / 8].join(" || ")),
        ),
        (
            "512 KiB of CTEs",
            format!(
                "WITH {} SELECT 1",
                (0..HALF_MIB / 24)
                    .map(|i| format!("c{i} AS (SELECT 1)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    ];
    let mut report = Vec::new();
    for (n, (what, sql)) in statements.iter().enumerate() {
        let len = sql.len();
        // The statement in both backslash-ambiguous dialects, the other hostile shapes
        // in one (SQLite's lexer paths are a subset).
        let dialects: &[Dialect] = if n == 0 {
            &[Dialect::Postgres, Dialect::MySql]
        } else {
            &[Dialect::MySql]
        };
        for &dialect in dialects {
            let analysis = peak_extra(|| analyze(sql, dialect));
            let capped = peak_extra(|| {
                let t = sanitize(sql, dialect, DEFAULT_MAX_QUERY_TEXT_LEN);
                truncate(&t, DEFAULT_MAX_QUERY_TEXT_LEN).into_owned()
            });
            let full = peak_extra(|| sanitize(sql, dialect, usize::MAX));
            let cache = QueryCache::new(dialect, 8, DEFAULT_MAX_QUERY_TEXT_LEN);
            let through_cache = peak_extra(|| {
                let info = cache.info(sql);
                cache.sanitized(sql, &info)
            });
            report.push(format!(
                "{what} ({len} B, {dialect:?}): analyze {analysis} B, capped text {capped} B, \
                 full text {full} B ({:.2}x), cache path {through_cache} B",
                full as f64 / len as f64
            ));
            assert!(
                analysis <= 64 * 1024,
                "{what} {dialect:?}: analyze {analysis} B"
            );
            assert!(
                capped <= 64 * 1024,
                "{what} {dialect:?}: capped text {capped} B"
            );
            assert!(
                through_cache <= 64 * 1024,
                "{what} {dialect:?}: cache path {through_cache} B"
            );
            assert!(
                full <= 2 * len,
                "{what} {dialect:?}: full text {full} B for {len} B"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
}
