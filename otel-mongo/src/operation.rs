//! Operation spans: one `CLIENT` span per driver API call (`find shop.orders`), current around
//! the operation's future, so the command spans the handler records while it runs (every
//! attempt of a retried command) become its children, and its time covers server selection,
//! connection check-out and (de)serialization, as the MongoDB drivers' OpenTelemetry
//! specification asks.
//!
//! The driver fires command events inline, in the task polling the operation's future
//! (`tests/it/operation_spans.rs` checks the parents on FerretDB), so the span only has to be
//! the current context while that future is polled: [`Operation`] attaches it on every poll.
//! The context also carries an [`OperationScope`]: the handler sees it at each command's
//! started event, records the command span without a duration measurement (the operation
//! records one, see the crate's README) and tells the scope which server the command went
//! to (`server.address` of the operation, which is not known before server selection).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, ready};

use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{DbOperation, ErrorTextMode, Outcome, Recording};
use pin_project_lite::pin_project;

use crate::failure::CommandFailure;
use crate::handler::{DB_SYSTEM, OtelCommandHandler};
use crate::scope::OperationScope;

/// What an operation span is named from: the operation's name (a static, from the table of
/// [`TraceOperation`](crate::TraceOperation)), its database and collection as the target
/// handle holds them.
#[derive(Debug, Clone)]
pub(crate) struct OperationInfo {
    pub(crate) name: &'static str,
    pub(crate) database: Option<Arc<str>>,
    pub(crate) collection: Option<Arc<str>>,
}

impl OperationInfo {
    /// The span name of the MongoDB specification: `{operation} {db}.{collection}`, or
    /// `{operation} {db}` for an operation on no collection. Both names passed the shape check
    /// when the target was made; a name that does not fit in 255 bytes is left out.
    pub(crate) fn span_name(&self) -> String {
        let max = otel_rpc::MAX_NAME_LEN;
        let mut name = String::from(self.name);
        if let Some(db) = &self.database {
            let with_db = name.len() + 1 + db.len();
            match &self.collection {
                Some(c) if with_db + 1 + c.len() <= max => {
                    name.extend([" ", db, ".", c]);
                }
                _ if with_db <= max => name.extend([" ", db]),
                _ => {}
            }
        }
        name
    }
}

pin_project! {
    /// The future of a traced driver call: the driver's own future, polled inside the
    /// operation span's context. Made by [`TraceOperation::traced`](crate::TraceOperation::traced)
    /// (and [`TracedSession`](crate::TracedSession)'s commit and abort); `.await` it as the
    /// driver's.
    ///
    /// The span starts at the first poll, under the context current there (so a
    /// `.with_context(..)` around it, e.g. a transaction's, is its parent), and ends when the
    /// driver's future completes: an `Err` is recorded by the crate's error rules (the server
    /// code or the driver error kind, never the error's text unless
    /// [`ErrorTextMode::Scrubbed`](crate::ErrorTextMode) is on). Dropped before it completes,
    /// the span ends as `cancelled`.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Operation<F> {
        #[pin]
        inner: F,
        pending: Option<(OtelCommandHandler, OperationInfo)>,
        started: Option<Started>,
        // The parent (a transaction's commit or abort: the transaction span), else the
        // context current at the first poll.
        parent: Option<Context>,
        // A transaction span to end with this operation's outcome (commit, abort).
        then_end: Option<Recording>,
    }
}

struct Started {
    recording: Recording,
    /// The span's context plus the scope marker.
    cx: Context,
    scope: OperationScope,
    error_text: ErrorTextMode,
}

impl<F> std::fmt::Debug for Operation<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field(
                "name",
                &self.pending.as_ref().map(|(_, info)| info.span_name()),
            )
            .field("started", &self.started.is_some())
            .finish_non_exhaustive()
    }
}

impl<F> Operation<F> {
    pub(crate) fn new(inner: F, handler: OtelCommandHandler, info: OperationInfo) -> Self {
        Operation {
            inner,
            pending: Some((handler, info)),
            started: None,
            parent: None,
            then_end: None,
        }
    }

    /// Starts the span under `parent` (when given) instead of the current context.
    pub(crate) fn under(mut self, parent: Option<Context>) -> Self {
        self.parent = parent;
        self
    }

    /// Ends `recording` (a transaction span) with this operation's outcome.
    pub(crate) fn then_end(mut self, recording: Option<Recording>) -> Self {
        self.then_end = recording;
        self
    }
}

impl<F, T> Future for Operation<F>
where
    F: Future<Output = mongodb::error::Result<T>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Some((handler, info)) = this.pending.take() {
            let parent = this.parent.take().unwrap_or_else(otel_rpc::current_context);
            let op = db_operation(&info);
            *this.started = handler
                .start_span(&parent, info.span_name().into(), &op)
                .map(|(recording, error_text)| {
                    let scope = OperationScope::new(handler.id());
                    let cx = recording.context().with_value(scope.clone());
                    Started {
                        recording,
                        cx,
                        scope,
                        error_text,
                    }
                });
        }
        let result = match this.started {
            Some(started) => {
                let _current = started.cx.clone().attach();
                ready!(this.inner.poll(task))
            }
            None => ready!(this.inner.poll(task)),
        };
        if this.started.is_none() && this.then_end.is_none() {
            return Poll::Ready(result);
        }
        let failure = result.as_ref().err().map(CommandFailure::from_driver_error);
        let mut error_text = ErrorTextMode::Off;
        if let Some(started) = this.started.take() {
            let Started {
                mut recording,
                scope,
                error_text: mode,
                ..
            } = started;
            error_text = mode;
            if let Some((address, port)) = scope.server() {
                recording.set_metric_attribute(KeyValue::new(
                    attribute::SERVER_ADDRESS,
                    StringValue::from(Arc::clone(address)),
                ));
                if let Some(port) = port {
                    recording.set_metric_attribute(KeyValue::new(
                        attribute::SERVER_PORT,
                        i64::from(*port),
                    ));
                }
            }
            end(recording, failure.as_ref(), error_text);
        }
        if let Some(txn) = this.then_end.take() {
            end(txn, failure.as_ref(), error_text);
        }
        Poll::Ready(result)
    }
}

/// Ends `recording` with the failure (or success) of the operation.
fn end(recording: Recording, failure: Option<&CommandFailure>, error_text: ErrorTextMode) {
    match failure {
        None => recording.end(Outcome::Success),
        Some(failure) => recording.end(failure.outcome(error_text)),
    }
}

/// The database operation an operation span records (also what the user's filter sees).
pub(crate) fn db_operation(info: &OperationInfo) -> DbOperation<'static> {
    let mut op = DbOperation::new(DB_SYSTEM);
    op.namespace = info.database.clone().map(Into::into);
    op.collection = info.collection.clone().map(Into::into);
    op.operation = Some(info.name.into());
    let target = match &info.collection {
        Some(c) => Some(&**c),
        None => info.database.as_deref(),
    };
    let target = target.filter(|t| info.name.len() + 1 + t.len() <= otel_rpc::MAX_NAME_LEN);
    op.summary = Some(crate::intern::summary(info.name, target).into());
    op
}
