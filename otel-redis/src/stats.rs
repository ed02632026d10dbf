//! Process-wide counters of this crate's own work (read through `otel_redis::testing`).

use std::sync::atomic::{AtomicU64, Ordering};

static QUERY_TEXTS_BUILT: AtomicU64 = AtomicU64::new(0);

pub(crate) fn count_query_text() {
    QUERY_TEXTS_BUILT.fetch_add(1, Ordering::Relaxed);
}

/// How many `db.query.text` values (commands or pipelines) this process has built so far.
///
/// Query text is built only for spans that are sampled, so this stays flat while the sampler
/// drops spans: the unsampled path never reads command arguments.
///
/// ```
/// let built = otel_redis::testing::query_texts_built();
/// # let _ = built;
/// ```
#[cfg(feature = "testing")]
pub fn query_texts_built() -> u64 {
    QUERY_TEXTS_BUILT.load(Ordering::Relaxed)
}
