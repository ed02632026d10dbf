//! Interleaved rounds: each round runs every variant once (in a rotating order, so none always
//! runs first), timing wall clock and process CPU; the report uses medians over rounds.

use std::time::Instant;

/// What runs the operation loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The driver alone.
    Raw,
    /// The adapter, sampled: batch processor to a no-op exporter, metrics on.
    Sampled,
    /// The adapter under an unsampled parent (parent-based sampler).
    Unsampled,
    /// The driver inside `tracing::info_span!` bridged by `tracing-opentelemetry`.
    Tracing,
    /// The `n`th Rust alternative of the comparison (its label is in [`Comparison::alternatives`]),
    /// sampled like (a).
    Alt(usize),
}

impl Variant {
    /// The variants every comparison has, raw first.
    pub const ALL: [Variant; 4] = [
        Variant::Raw,
        Variant::Sampled,
        Variant::Unsampled,
        Variant::Tracing,
    ];

    fn index(self) -> usize {
        match self {
            Variant::Raw => 0,
            Variant::Sampled => 1,
            Variant::Unsampled => 2,
            Variant::Tracing => 3,
            Variant::Alt(n) => 4 + n,
        }
    }
}

/// Process CPU time (all threads: runtime, in-process servers, the batch exporter thread).
pub fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    #[allow(unsafe_code)] // the one libc call of the CPU clock
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// One round of one variant: nanoseconds per operation.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// Per-variant samples of one benchmarked operation.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Operation label.
    pub name: String,
    /// Operations per round.
    pub ops: usize,
    /// Labels of the Rust alternatives measured in the same rounds ([`Variant::Alt`]).
    pub alternatives: Vec<String>,
    samples: Vec<Vec<Sample>>,
}

/// Runs `rounds` interleaved rounds of `ops` operations per variant (the four of
/// [`Variant::ALL`], then one [`Variant::Alt`] per label in `alternatives`), plus one warm-up
/// round that is not recorded, and returns the samples.
pub async fn compare<F>(
    name: &str,
    rounds: usize,
    ops: usize,
    alternatives: &[&str],
    mut run: F,
) -> Comparison
where
    F: AsyncFnMut(Variant, usize),
{
    let variants: Vec<Variant> = Variant::ALL
        .into_iter()
        .chain((0..alternatives.len()).map(Variant::Alt))
        .collect();
    let mut cmp = Comparison {
        name: name.to_owned(),
        ops,
        alternatives: alternatives.iter().map(|&a| a.to_owned()).collect(),
        samples: vec![Vec::new(); variants.len()],
    };
    for &v in &variants {
        run(v, ops.div_ceil(4)).await;
    }
    for round in 0..rounds {
        for k in 0..variants.len() {
            let v = variants[(round + k) % variants.len()];
            let (c0, t0) = (cpu_ns(), Instant::now());
            run(v, ops).await;
            let wall = t0.elapsed().as_nanos() as f64 / ops as f64;
            let cpu = cpu_ns().saturating_sub(c0) as f64 / ops as f64;
            cmp.samples[v.index()].push(Sample { wall, cpu });
        }
    }
    cmp
}

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// The `p` quantile (nearest rank) of `values`.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let idx = ((v.len() - 1) as f64 * p).round() as usize;
    v[idx.min(v.len() - 1)]
}

/// The summary of one instrumented variant against raw.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// Median raw ops/s.
    pub raw_ops: f64,
    /// Median instrumented ops/s.
    pub ops: f64,
    /// Median over rounds of (raw time / instrumented time) = throughput ratio.
    pub ratio: f64,
    /// 25th and 75th percentile of that per-round ratio.
    pub ratio_iqr: (f64, f64),
    /// Median instrumented wall ns/op minus median raw wall ns/op.
    pub added_wall_ns: f64,
    /// Median over rounds of (instrumented CPU ns/op - raw CPU ns/op of the same round).
    pub added_cpu_ns: f64,
}

impl Comparison {
    /// Variant `v` against raw.
    pub fn row(&self, v: Variant) -> Row {
        let raw = &self.samples[Variant::Raw.index()];
        let ins = &self.samples[v.index()];
        let wall = |s: &[Sample]| median(&s.iter().map(|x| x.wall).collect::<Vec<_>>());
        let ratios: Vec<f64> = raw.iter().zip(ins).map(|(r, i)| r.wall / i.wall).collect();
        let cpu_deltas: Vec<f64> = raw.iter().zip(ins).map(|(r, i)| i.cpu - r.cpu).collect();
        let (raw_wall, ins_wall) = (wall(raw), wall(ins));
        Row {
            raw_ops: 1e9 / raw_wall,
            ops: 1e9 / ins_wall,
            ratio: median(&ratios),
            ratio_iqr: (percentile(&ratios, 0.25), percentile(&ratios, 0.75)),
            added_wall_ns: ins_wall - raw_wall,
            added_cpu_ns: median(&cpu_deltas),
        }
    }

    /// Median raw CPU ns per operation (context for the added CPU).
    pub fn raw_cpu_ns(&self) -> f64 {
        median(
            &self.samples[Variant::Raw.index()]
                .iter()
                .map(|x| x.cpu)
                .collect::<Vec<_>>(),
        )
    }
}
