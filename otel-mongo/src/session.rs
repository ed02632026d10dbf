//! [`TracedSession`]: a session whose transactions record a `transaction` span.

use std::future::IntoFuture;
use std::ops::{Deref, DerefMut};

use mongodb::ClientSession;
use mongodb::action::{AbortTransaction, CommitTransaction, StartTransaction};
use opentelemetry::Context;
use otel_rpc::{Outcome, Recording};

use crate::handler::OtelCommandHandler;
use crate::operation::{Operation, OperationInfo};

/// A [`ClientSession`] whose transactions are recorded as a `transaction` span (attribute
/// `db.system.name` only, as the MongoDB drivers' specification asks), with the commit or
/// abort operation span under it. Made with [`TracedSession::new`]; it dereferences
/// to the session, and `.session(&mut traced)` passes it to a driver call.
///
/// The operations of the transaction are its children when they run in
/// [`transaction_context`](Self::transaction_context) (the driver's calls take the session by
/// `&mut`, so the span cannot be found from the call itself):
///
/// ```no_run
/// # async fn run(client: mongodb::Client, handler: otel_mongo::OtelCommandHandler) -> mongodb::error::Result<()> {
/// use mongodb::bson::{Document, doc};
/// use opentelemetry::context::FutureExt as _;
/// use otel_mongo::prelude::*;
///
/// let orders = TracedCollection::new(client.database("shop").collection::<Document>("orders"), &handler);
/// let mut session = TracedSession::new(client.start_session().await?, &handler);
/// session.start_transaction().await?;
/// let txn = session.transaction_context();
/// orders.insert_one(doc! { "total": 1 }).session(&mut session).traced(&orders).with_context(txn).await?;
/// session.commit_transaction().await?; // `commitTransaction admin`, then `transaction` ends
/// # Ok(()) }
/// ```
pub struct TracedSession {
    inner: ClientSession,
    handler: OtelCommandHandler,
    transaction: Option<Recording>,
}

impl std::fmt::Debug for TracedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedSession")
            .field("transaction", &self.transaction.is_some())
            .finish_non_exhaustive()
    }
}

impl TracedSession {
    /// `session`, recorded by `handler`.
    pub fn new(session: ClientSession, handler: &OtelCommandHandler) -> Self {
        TracedSession {
            inner: session,
            handler: handler.clone(),
            transaction: None,
        }
    }

    /// Starts the `transaction` span now, under the current context (a transaction span
    /// still open, whose commit or abort was never awaited, ends as `cancelled`), and returns
    /// the driver's action: chain its options and `.await` it as usual.
    pub fn start_transaction(&mut self) -> StartTransaction<&mut ClientSession> {
        self.transaction = self.handler.start_transaction_span();
        self.inner.start_transaction()
    }

    /// The context of the open `transaction` span (the current context when there is none):
    /// run the transaction's operations in it so their spans are its children.
    pub fn transaction_context(&self) -> Context {
        match &self.transaction {
            Some(recording) => recording.context().clone(),
            None => otel_rpc::current_context(),
        }
    }

    /// Commits: a `commitTransaction admin` operation span under the `transaction` span,
    /// which ends with the commit's outcome.
    pub fn commit_transaction(
        &mut self,
    ) -> Operation<<CommitTransaction<'_> as IntoFuture>::IntoFuture> {
        self.finish("commitTransaction", |s| s.commit_transaction())
    }

    /// Aborts: an `abortTransaction admin` operation span under the `transaction` span,
    /// which ends with the abort's outcome.
    pub fn abort_transaction(
        &mut self,
    ) -> Operation<<AbortTransaction<'_> as IntoFuture>::IntoFuture> {
        self.finish("abortTransaction", |s| s.abort_transaction())
    }

    fn finish<'s, A>(
        &'s mut self,
        name: &'static str,
        action: impl FnOnce(&'s mut ClientSession) -> A,
    ) -> Operation<A::IntoFuture>
    where
        A: IntoFuture,
    {
        let transaction = self.transaction.take();
        let parent = transaction.as_ref().map(|t| t.context().clone());
        let info = OperationInfo {
            name,
            database: Some(crate::intern::database("admin")),
            collection: None,
        };
        let handler = self.handler.clone();
        Operation::new(action(&mut self.inner).into_future(), handler, info)
            .under(parent)
            .then_end(transaction)
    }

    /// The driver's session.
    pub fn inner(&self) -> &ClientSession {
        &self.inner
    }

    /// Gives the driver's session back (an open `transaction` span ends as `cancelled`).
    pub fn into_inner(mut self) -> ClientSession {
        if let Some(t) = self.transaction.take() {
            t.end(Outcome::Cancelled);
        }
        self.inner
    }
}

impl Deref for TracedSession {
    type Target = ClientSession;

    fn deref(&self) -> &ClientSession {
        &self.inner
    }
}

impl DerefMut for TracedSession {
    fn deref_mut(&mut self) -> &mut ClientSession {
        &mut self.inner
    }
}

/// `.session(&mut traced)` on the driver's calls.
impl<'a> From<&'a mut TracedSession> for &'a mut ClientSession {
    fn from(session: &'a mut TracedSession) -> Self {
        &mut session.inner
    }
}
