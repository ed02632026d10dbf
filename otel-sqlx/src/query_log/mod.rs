//! [`QueryLogLayer`]: spans from sqlx's own query log, for the statements no wrapper sees
//! (SeaORM, `sqlx::migrate!().run(..)`, `PgListener`, raw pools and connections).
//!
//! Every sqlx connection emits a `tracing` event with target `sqlx::query` when a statement
//! ends (with the connect options' `log_statements` level, `DEBUG` by default, or
//! `log_slow_statements`' for slow ones). This layer turns each into the CLIENT span
//! `TracedPool` would have recorded for the same text — same name, summary, sanitized and
//! capped `db.query.text`, batch size, stored procedure, `db.client.operation.duration` —
//! started `elapsed` before the event, under the caller's context. What the event does not
//! carry is not recorded: see the crate README ("Spans from sqlx's query log").

mod event;

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;
use otel_rpc::QueryTextMode;
use otel_rpc::{CommonOptions, DbHooks, DbInstrumentationOptions, InstrumentationOptions};
use sqlx::Connection;
use tracing::dispatcher::WeakDispatch;
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::backend::TracedDatabase;
use crate::instrumentation::Instrumentation;
use crate::options::TracingOptions;

/// A `tracing_subscriber` layer recording a span per `sqlx::query` event.
///
/// ```no_run
/// # fn demo() -> Result<(), sqlx::Error> {
/// use tracing_subscriber::prelude::*;
///
/// let options: sqlx::postgres::PgConnectOptions = "postgres://localhost/shop".parse()?;
/// tracing_subscriber::registry()
///     .with(otel_sqlx::QueryLogLayer::builder::<sqlx::Postgres>(&options).build())
///     .init();
/// # Ok(()) }
/// ```
pub struct QueryLogLayer {
    shared: Arc<Instrumentation>,
    dispatch: OnceLock<WeakDispatch>,
}

impl fmt::Debug for QueryLogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryLogLayer")
            .field("instrumentation", &self.shared)
            .finish_non_exhaustive()
    }
}

impl QueryLogLayer {
    /// A builder recording `options`' facts (`db.system.name`, `db.namespace`,
    /// `server.address`/`server.port`, as `TracedPool` takes them from its pool) on every
    /// span: the layer sees the statements of every sqlx connection in the process and cannot
    /// tell them apart, so give it the database they go to.
    pub fn builder<DB: TracedDatabase>(
        options: &<DB::Connection as Connection>::Options,
    ) -> QueryLogLayerBuilder<DB> {
        QueryLogLayerBuilder {
            common: CommonOptions::new("sqlx"),
            hooks: DbHooks::default(),
            options: TracingOptions::default(),
            info: DB::connection_info(options),
            _db: PhantomData,
        }
    }

    /// The OpenTelemetry parent of a statement logged now: the current context when it holds
    /// a span ([`otel_rpc::current_context`]), else the context `tracing-opentelemetry` keeps
    /// for the event's `tracing` span (the span the caller had entered; sqlx's SQLite worker
    /// enters the caller's span too), else none: a new trace.
    fn parent<S>(&self, event: &Event<'_>, ctx: &LayerContext<'_, S>) -> Context
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let cx = otel_rpc::current_context();
        if cx.has_active_span() {
            return cx;
        }
        let from_span = ctx.event_span(event).and_then(|span| {
            let dispatch = self.dispatch.get()?.upgrade()?;
            tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)
        });
        match from_span {
            Some(tcx) if tcx.span().span_context().is_valid() => tcx,
            _ => cx,
        }
    }
}

impl<S> Layer<S> for QueryLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        if event.metadata().target() != event::TARGET || crate::quiet::is_marked() {
            return;
        }
        let now = SystemTime::now();
        let mut statement = event::Statement::default();
        event.record(&mut statement);
        let parent = self.parent(event, &ctx);
        let start = statement.start(now);
        if let Some(mut span) = self.shared.start_query_at(&parent, statement.sql(), start) {
            span.counted(statement.rows_returned, statement.rows_affected);
            span.succeed();
        }
    }
}

/// Options of a [`QueryLogLayer`]: the shared words of [`InstrumentationOptions`] and
/// [`DbInstrumentationOptions`] (`tracer_provider`, `meter_provider`, `disable_metrics`,
/// `query_text`, `max_query_text_len`, `filter`, `span_name`, `enabled`) and the
/// statement-level methods of `TracedPoolBuilder` (`record_row_counts`,
/// `parse_operation_and_collection`, `cache_capacity`).
///
/// `QueryTextMode::Raw` is recorded as `Sanitized`: the layer sees the text of every sqlx
/// connection in the process, including ones nobody configured for raw text.
#[must_use]
pub struct QueryLogLayerBuilder<DB> {
    common: CommonOptions,
    hooks: DbHooks,
    options: TracingOptions,
    info: crate::backend::ConnectionInfo,
    _db: PhantomData<fn() -> DB>,
}

impl<DB> fmt::Debug for QueryLogLayerBuilder<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryLogLayerBuilder")
            .field("options", &self.options)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<DB> InstrumentationOptions for QueryLogLayerBuilder<DB> {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
}

impl<DB> DbInstrumentationOptions for QueryLogLayerBuilder<DB> {
    fn db_hooks(&mut self) -> &mut DbHooks {
        &mut self.hooks
    }
}

impl<DB: TracedDatabase> QueryLogLayerBuilder<DB> {
    crate::options::statement_options!();

    /// Builds the layer.
    pub fn build(mut self) -> QueryLogLayer {
        let common = &self.common;
        let recorder = crate::instrumentation::build_recorder(common, &mut self.options);
        if self.options.query_text == QueryTextMode::Raw {
            self.options.query_text = QueryTextMode::Sanitized;
        }
        self.options.pool_metrics = false;
        let shared = Instrumentation::new::<DB>(
            recorder,
            self.options,
            self.hooks,
            common.enabled,
            self.info,
        );
        QueryLogLayer {
            shared: Arc::new(shared),
            dispatch: OnceLock::new(),
        }
    }
}
