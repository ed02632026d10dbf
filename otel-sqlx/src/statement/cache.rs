//! [`QueryCache`]: analysis and sanitized text per SQL string, computed once and shared by
//! every span of that statement. Bounded in entries and in key length.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use otel_rpc::PreparedOperation;

use super::lexer::Dialect;
use super::mode::SqlMode;
use super::sanitize::sanitize_with;
use super::summary::analyze_with;

/// Default number of distinct SQL strings remembered per pool.
pub const DEFAULT_CACHE_CAPACITY: usize = 512;

/// SQL longer than this (bytes) is analysed on every call instead of cached, so the cache
/// holds at most `capacity * MAX_CACHED_SQL_LEN` bytes of keys.
pub const MAX_CACHED_SQL_LEN: usize = 4096;

/// What the adapter knows about one SQL string. Strings are `Arc<str>` so spans share them.
#[derive(Debug)]
pub struct QueryInfo {
    mode: SqlMode,
    operation: Option<Arc<str>>,
    collection: Option<Arc<str>>,
    summary: Option<Arc<str>>,
    stored_procedure: Option<Arc<str>>,
    statement_count: usize,
    sanitized: OnceLock<Arc<str>>,
    /// The span and metric facts of this statement on its pool's recorder, checked, bounded
    /// and admitted once (see [`otel_rpc::PreparedOperation`]).
    prepared: OnceLock<PreparedOperation>,
}

impl QueryInfo {
    fn new(sql: &str, mode: SqlMode) -> Self {
        let a = analyze_with(sql, mode);
        QueryInfo {
            mode,
            operation: a.operation.map(Arc::from),
            collection: a.collection.map(Arc::from),
            summary: a.summary.map(Arc::from),
            stored_procedure: a.stored_procedure.map(Arc::from),
            statement_count: a.statement_count,
            sanitized: OnceLock::new(),
            prepared: OnceLock::new(),
        }
    }

    /// `db.stored_procedure.name`: the procedure of a `CALL` / `EXEC` / `EXECUTE`.
    pub fn stored_procedure(&self) -> Option<&Arc<str>> {
        self.stored_procedure.as_ref()
    }

    /// Number of statements in the text: `db.operation.batch.size` when it is 2 or more.
    pub fn statement_count(&self) -> usize {
        self.statement_count
    }

    /// `db.operation.name`.
    pub fn operation(&self) -> Option<&Arc<str>> {
        self.operation.as_ref()
    }

    /// `db.collection.name`.
    pub fn collection(&self) -> Option<&Arc<str>> {
        self.collection.as_ref()
    }

    /// `db.query.summary`.
    pub fn summary(&self) -> Option<&Arc<str>> {
        self.summary.as_ref()
    }

    /// The prepared operation of this statement, made by `prepare` on first use.
    pub(crate) fn prepared(
        &self,
        prepare: impl FnOnce() -> PreparedOperation,
    ) -> &PreparedOperation {
        self.prepared.get_or_init(prepare)
    }

    /// The sanitized text of `sql` (which must be the string this info was built from),
    /// computed on first use and counted in `counter`.
    pub(crate) fn sanitized(&self, sql: &str, max_len: usize, counter: &AtomicU64) -> Arc<str> {
        self.sanitized
            .get_or_init(|| {
                counter.fetch_add(1, Ordering::Relaxed);
                let text = sanitize_with(sql, self.mode, max_len);
                Arc::from(otel_rpc::text::truncate(&text, max_len).as_ref())
            })
            .clone()
    }
}

/// A bounded map from SQL string to its analysis (`QueryInfo`). When full, the oldest entry is evicted
/// (first in, first out: static queries are inserted once and hit ever after).
#[derive(Debug)]
pub struct QueryCache {
    mode: SqlMode,
    capacity: usize,
    max_text_len: usize,
    map: Mutex<Entries>,
    sanitizations: AtomicU64,
}

/// The map hashes with `foldhash` rather than SipHash: its keys are the application's own SQL
/// strings (not a remote party's), and it cannot grow past its capacity, so a chosen collision
/// costs at most that many comparisons; SipHash over a statement was ~0.3k instructions per query.
#[derive(Debug, Default)]
struct Entries {
    by_sql: HashMap<Arc<str>, Arc<QueryInfo>, foldhash::fast::RandomState>,
    order: VecDeque<Arc<str>>,
}

impl QueryCache {
    /// A cache of at most `capacity` entries whose sanitized texts are cut at `max_text_len`.
    pub fn new(dialect: Dialect, capacity: usize, max_text_len: usize) -> Self {
        QueryCache {
            mode: SqlMode::new(dialect),
            capacity,
            max_text_len,
            map: Mutex::new(Entries::default()),
            sanitizations: AtomicU64::new(0),
        }
    }

    /// The analysis of `sql`, from the cache or computed (and cached when it fits).
    pub fn info(&self, sql: &str) -> Arc<QueryInfo> {
        let cacheable = self.capacity > 0 && sql.len() <= MAX_CACHED_SQL_LEN;
        if !cacheable {
            return Arc::new(QueryInfo::new(sql, self.mode));
        }
        if let Ok(entries) = self.map.lock() {
            if let Some(info) = entries.by_sql.get(sql) {
                return Arc::clone(info);
            }
        } else {
            otel_rpc::count_swallowed_error();
        }
        let info = Arc::new(QueryInfo::new(sql, self.mode));
        match self.map.lock() {
            Ok(mut entries) => {
                if let Some(existing) = entries.by_sql.get(sql) {
                    return Arc::clone(existing);
                }
                while entries.by_sql.len() >= self.capacity {
                    match entries.order.pop_front() {
                        Some(old) => {
                            entries.by_sql.remove(&old);
                        }
                        None => break,
                    }
                }
                let key: Arc<str> = Arc::from(sql);
                entries.order.push_back(Arc::clone(&key));
                entries.by_sql.insert(key, Arc::clone(&info));
            }
            Err(_) => otel_rpc::count_swallowed_error(),
        }
        info
    }

    /// The sanitized text of `sql` for `info` (from [`info`](Self::info)), computed at most
    /// once per cached entry.
    pub fn sanitized(&self, sql: &str, info: &QueryInfo) -> Arc<str> {
        info.sanitized(sql, self.max_text_len, &self.sanitizations)
    }

    /// How many times the sanitizer ran: lets tests prove unsampled queries never sanitize.
    #[cfg(feature = "testing")]
    pub fn sanitizations(&self) -> u64 {
        self.sanitizations.load(Ordering::Relaxed)
    }

    /// Number of cached SQL strings.
    #[cfg(feature = "testing")]
    pub fn len(&self) -> usize {
        self.map.lock().map(|e| e.by_sql.len()).unwrap_or(0)
    }

    /// `true` when nothing is cached.
    #[cfg(feature = "testing")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
