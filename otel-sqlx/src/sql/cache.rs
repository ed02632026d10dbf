//! [`QueryCache`]: analysis and sanitized text per SQL string, computed once and shared by
//! every span of that statement. Bounded in entries and in key length.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::lexer::Dialect;
use super::sanitize::sanitize;
use super::summary::analyze;

/// Default number of distinct SQL strings remembered per pool.
pub const DEFAULT_CACHE_CAPACITY: usize = 512;

/// SQL longer than this (bytes) is analysed on every call instead of cached, so the cache
/// holds at most `capacity * MAX_CACHED_SQL_LEN` bytes of keys.
pub const MAX_CACHED_SQL_LEN: usize = 4096;

/// What the adapter knows about one SQL string. Strings are `Arc<str>` so spans share them.
#[derive(Debug)]
pub struct QueryInfo {
    dialect: Dialect,
    operation: Option<Arc<str>>,
    collection: Option<Arc<str>>,
    summary: Option<Arc<str>>,
    sanitized: OnceLock<Arc<str>>,
}

impl QueryInfo {
    fn new(sql: &str, dialect: Dialect) -> Self {
        let a = analyze(sql, dialect);
        QueryInfo {
            dialect,
            operation: a.operation.map(Arc::from),
            collection: a.collection.map(Arc::from),
            summary: a.summary.map(Arc::from),
            sanitized: OnceLock::new(),
        }
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

    /// The sanitized text of `sql` (which must be the string this info was built from),
    /// computed on first use and counted in `counter`.
    pub(crate) fn sanitized(&self, sql: &str, max_len: usize, counter: &AtomicU64) -> Arc<str> {
        self.sanitized
            .get_or_init(|| {
                counter.fetch_add(1, Ordering::Relaxed);
                let text = sanitize(sql, self.dialect, max_len);
                Arc::from(otel_rpc::text::truncate(&text, max_len).as_ref())
            })
            .clone()
    }
}

/// A bounded map from SQL string to [`QueryInfo`]. When full, the oldest entry is evicted
/// (first in, first out: static queries are inserted once and hit ever after).
#[derive(Debug)]
pub struct QueryCache {
    dialect: Dialect,
    capacity: usize,
    max_text_len: usize,
    map: Mutex<Entries>,
    sanitizations: AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    by_sql: HashMap<Arc<str>, Arc<QueryInfo>>,
    order: VecDeque<Arc<str>>,
}

impl QueryCache {
    /// A cache of at most `capacity` entries whose sanitized texts are cut at `max_text_len`.
    pub fn new(dialect: Dialect, capacity: usize, max_text_len: usize) -> Self {
        QueryCache {
            dialect,
            capacity,
            max_text_len,
            map: Mutex::new(Entries::default()),
            sanitizations: AtomicU64::new(0),
        }
    }

    /// The dialect used to tokenize.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The analysis of `sql`, from the cache or computed (and cached when it fits).
    pub fn info(&self, sql: &str) -> Arc<QueryInfo> {
        let cacheable = self.capacity > 0 && sql.len() <= MAX_CACHED_SQL_LEN;
        if !cacheable {
            return Arc::new(QueryInfo::new(sql, self.dialect));
        }
        if let Ok(entries) = self.map.lock() {
            if let Some(info) = entries.by_sql.get(sql) {
                return Arc::clone(info);
            }
        } else {
            otel_rpc::health::count_swallowed_error();
        }
        let info = Arc::new(QueryInfo::new(sql, self.dialect));
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
            Err(_) => otel_rpc::health::count_swallowed_error(),
        }
        info
    }

    /// The sanitized text of `sql` for `info` (from [`info`](Self::info)), computed at most
    /// once per cached entry.
    pub fn sanitized(&self, sql: &str, info: &QueryInfo) -> Arc<str> {
        info.sanitized(sql, self.max_text_len, &self.sanitizations)
    }

    /// How many times the sanitizer ran: lets tests prove unsampled queries never sanitize.
    pub fn sanitizations(&self) -> u64 {
        self.sanitizations.load(Ordering::Relaxed)
    }

    /// Number of cached SQL strings.
    pub fn len(&self) -> usize {
        self.map.lock().map(|e| e.by_sql.len()).unwrap_or(0)
    }

    /// `true` when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
