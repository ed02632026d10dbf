//! [`Instrumentation`]: what every traced pool, connection and transaction of one pool shares:
//! the recorder, options, query cache and connection facts. Starts query and transaction spans.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::DurationMetric;
use otel_rpc::QueryTextMode;
use otel_rpc::pool::PoolObserver;
use otel_rpc::text::truncate;
use otel_rpc::{CommonOptions, DbHooks};
use otel_rpc::{DbOperation, Outcome, QueryText, Recording, SpanRecorder};

use crate::backend::{ConnectionInfo, TracedDatabase};
use crate::error::{CodeKind, failure};
use crate::options::TracingOptions;
use crate::statement::{Dialect, QueryCache, QueryInfo};

/// Instrumentation scope name of the spans and metrics of this crate.
pub const SCOPE: &str = "otel-sqlx";

/// Custom span attribute: rows affected by an `INSERT`/`UPDATE`/`DELETE` (the semantic
/// conventions define only `db.response.returned_rows`). Recorded when row counts are on.
pub const DB_RESPONSE_AFFECTED_ROWS: &str = "db.response.affected_rows";

/// Custom span attribute on the `ROLLBACK` span recorded when a transaction is dropped
/// without `commit` or `rollback` (sqlx then rolls it back on the connection's next use).
pub const DB_TRANSACTION_DROPPED: &str = "db.sqlx.transaction.dropped";

pub(crate) struct Instrumentation {
    pub(crate) recorder: SpanRecorder,
    pub(crate) options: TracingOptions,
    pub(crate) cache: QueryCache,
    pub(crate) hooks: DbHooks,
    /// `false`: a pass-through (`OTEL_INSTRUMENTATION_SQLX_ENABLED=false` or `.enabled(false)`).
    pub(crate) enabled: bool,
    /// The pool metrics observer, when pool metrics are on.
    pub(crate) pool: Option<PoolObserver>,
    info: ConnectionInfo,
    codes: CodeKind,
    detected: OnceLock<&'static str>,
    needs_detection: bool,
}

/// The recorder of every otel-sqlx span (pool and query-log layer alike), with the shared
/// option words copied into `options`.
pub(crate) fn build_recorder(common: &CommonOptions, options: &mut TracingOptions) -> SpanRecorder {
    options.query_text = common.query_text;
    options.max_query_text_len = common.max_query_text_len;
    options.error_text = common.error_text;
    common.build_recorder(
        SpanKind::Client,
        SCOPE,
        Some(env!("CARGO_PKG_VERSION")),
        DurationMetric::db_client(),
        Some(attribute::DB_RESPONSE_STATUS_CODE),
    )
}

impl std::fmt::Debug for Instrumentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrumentation")
            .field("system", &self.system())
            .field("namespace", &self.info.namespace)
            .field("address", &self.info.address)
            .field("port", &self.info.port)
            .field("options", &self.options)
            .finish()
    }
}

impl Instrumentation {
    pub(crate) fn new<DB: TracedDatabase>(
        recorder: SpanRecorder,
        options: TracingOptions,
        hooks: DbHooks,
        enabled: bool,
        info: ConnectionInfo,
    ) -> Self {
        Instrumentation {
            cache: QueryCache::new(
                DB::DIALECT,
                options.cache_capacity,
                options.max_query_text_len,
            ),
            recorder,
            options,
            hooks,
            enabled,
            pool: None,
            info,
            codes: match DB::DIALECT {
                Dialect::Sqlite => CodeKind::SqliteResultCode,
                _ => CodeKind::SqlState,
            },
            detected: OnceLock::new(),
            needs_detection: DB::DETECTS_SYSTEM,
        }
    }

    /// `db.system.name`: the detected one when detection ran, else the configured one.
    pub(crate) fn system(&self) -> &'static str {
        self.detected.get().copied().unwrap_or(self.info.system)
    }

    /// `true` while the server still has to be asked what it is.
    pub(crate) fn needs_detection(&self) -> bool {
        self.needs_detection && self.detected.get().is_none()
    }

    pub(crate) async fn detect<DB: TracedDatabase>(&self, conn: &mut DB::Connection) {
        if !self.needs_detection() {
            return;
        }
        if let Some(system) = crate::quiet::quiet(DB::detect_system(conn)).await {
            let _ = self.detected.set(system);
        }
    }

    fn base_operation(&self) -> DbOperation<'static> {
        let mut op = DbOperation::new(self.system());
        if let Some(ns) = &self.info.namespace {
            op = op.namespace(StringValue::from(Arc::clone(ns)));
        }
        if let Some(addr) = &self.info.address {
            op = op.server(StringValue::from(Arc::clone(addr)), self.info.port);
        }
        op
    }

    /// The connection facts (for the default pool name).
    pub(crate) fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// The operation of a statement analysed as `info` (without its query text).
    fn operation(&self, info: &QueryInfo) -> DbOperation<'static> {
        let mut op = self.base_operation();
        if self.options.parse_operation_and_collection {
            if let Some(v) = info.operation() {
                op = op.operation(StringValue::from(Arc::clone(v)));
            }
            if let Some(v) = info.collection() {
                op = op.collection(StringValue::from(Arc::clone(v)));
            }
        }
        if let Some(v) = info.summary() {
            op = op.summary(StringValue::from(Arc::clone(v)));
        }
        let statements = info.statement_count();
        if statements >= 2 {
            op = op.batch_size(i64::try_from(statements).unwrap_or(i64::MAX));
        }
        if let Some(procedure) = info.stored_procedure() {
            op = op.attribute(KeyValue::new(
                attribute::DB_STORED_PROCEDURE_NAME,
                StringValue::from(Arc::clone(procedure)),
            ));
        }
        op
    }

    /// Starts the span of one query, or `None` when the instrumentation is off or the filter
    /// excludes it.
    pub(crate) fn start_query(self: &Arc<Self>, parent: &Context, sql: &str) -> Option<QuerySpan> {
        self.start_query_at(parent, sql, None)
    }

    /// [`start_query`](Self::start_query) for a statement that started at `start` (`None`:
    /// now), e.g. one reported after the fact by sqlx's query log.
    pub(crate) fn start_query_at(
        self: &Arc<Self>,
        parent: &Context,
        sql: &str,
        start: Option<SystemTime>,
    ) -> Option<QuerySpan> {
        if !self.enabled {
            return None;
        }
        let info = self.cache.info(sql);
        let max = self.options.max_query_text_len;
        let mode = self.options.query_text;
        let text = || -> Option<StringValue> {
            match mode {
                QueryTextMode::Sanitized => {
                    Some(StringValue::from(self.cache.sanitized(sql, &info)))
                }
                QueryTextMode::Raw => Some(StringValue::from(truncate(sql, max).into_owned())),
                _ => None,
            }
        };
        let text = QueryText::Lazy(&text);
        let recording = if self.hooks.is_empty() && !self.needs_detection() {
            // What is the same for every execution of this statement, prepared once.
            let prepared = info.prepared(|| self.recorder.prepare_db(&self.operation(&info), None));
            let text = (mode != QueryTextMode::Off).then_some(&text);
            self.recorder
                .start_prepared_db(parent, start, prepared, text)
        } else {
            let op = self.operation(&info).query_text(text);
            if !self.hooks.allows(&op) {
                return None;
            }
            let name = self.hooks.name(&op);
            self.recorder
                .start_db_with(parent, start, name, &op, |_| {})
        };
        let comment = self.options.sqlcommenter.as_ref().and_then(|c| {
            use opentelemetry::trace::TraceContextExt;
            c.comment(recording.context().span().span_context())
        });
        Some(QuerySpan {
            recording: Some(recording),
            comment,
            shared: Arc::clone(self),
            returned: 0,
            affected: 0,
            answered: false,
        })
    }

    /// Starts a transaction control span (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, ...).
    /// The operation is known to the instrumentation (not parsed from text), so it is
    /// recorded as `db.operation.name`.
    pub(crate) fn start_control(&self, parent: &Context, operation: &'static str) -> Recording {
        let op = self
            .base_operation()
            .operation(operation)
            .summary(operation);
        if !self.enabled {
            return self
                .recorder
                .start_db(&parent.with_telemetry_suppressed(), &op);
        }
        self.recorder.start_db(parent, &op)
    }

    /// Ends a control span with the result of its statement.
    pub(crate) fn end_control<T>(&self, recording: Recording, result: &Result<T, sqlx::Error>) {
        match result {
            Ok(_) => recording.end(Outcome::Success),
            Err(e) => recording.end(Outcome::Failure(self.failure(e))),
        }
    }

    /// The failure recorded for `err` under this pool's error text mode.
    pub(crate) fn failure(&self, err: &sqlx::Error) -> otel_rpc::Failure<'static> {
        failure(err, self.codes, self.options.error_text)
    }
}

/// The span of one query while its results arrive.
///
/// Ends with `Success` when the result stream is exhausted, with the failure on the first
/// error. Dropped before the end: `Success` (with the rows seen so far) when the server had
/// already answered (the caller just stopped reading, e.g. `fetch(..).next()`), `Cancelled`
/// when nothing had arrived yet (a timeout or a dropped future).
pub(crate) struct QuerySpan {
    recording: Option<Recording>,
    /// The sqlcommenter comment for this (sampled) statement, taken by the executor.
    pub(crate) comment: Option<String>,
    shared: Arc<Instrumentation>,
    returned: u64,
    affected: u64,
    answered: bool,
}

impl QuerySpan {
    pub(crate) fn row(&mut self) {
        self.answered = true;
        self.returned += 1;
    }

    pub(crate) fn result(&mut self, affected: u64) {
        self.answered = true;
        self.affected += affected;
    }

    /// Sets the counts of a statement reported as a whole (sqlx's query log).
    #[cfg(feature = "query-log")]
    pub(crate) fn counted(&mut self, returned: u64, affected: u64) {
        self.answered = true;
        self.returned = returned;
        self.affected = affected;
    }

    pub(crate) fn answered(&mut self) {
        self.answered = true;
    }

    pub(crate) fn succeed(&mut self) {
        if let Some(recording) = self.recording.take() {
            if self.shared.options.record_row_counts {
                recording.set_attribute(KeyValue::new(
                    attribute::DB_RESPONSE_RETURNED_ROWS,
                    i64::try_from(self.returned).unwrap_or(i64::MAX),
                ));
                recording.set_attribute(KeyValue::new(
                    DB_RESPONSE_AFFECTED_ROWS,
                    i64::try_from(self.affected).unwrap_or(i64::MAX),
                ));
            }
            recording.end(Outcome::Success);
        }
    }

    pub(crate) fn fail(&mut self, err: &sqlx::Error) {
        if let Some(recording) = self.recording.take() {
            recording.end(Outcome::Failure(self.shared.failure(err)));
        }
    }
}

impl Drop for QuerySpan {
    fn drop(&mut self) {
        if self.answered {
            self.succeed();
        }
        // Otherwise the Recording's own Drop ends the span as Cancelled.
    }
}
