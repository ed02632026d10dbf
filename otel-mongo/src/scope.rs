//! [`OperationScope`]: the marker a traced operation puts in the context its driver future
//! is polled in. The handler reads it at each command's started event: a command of an
//! operation its own handler records leaves the duration measurement to the operation, and
//! tells it which server it went to.

use std::sync::{Arc, OnceLock};

use crate::client::Server;

/// See the module docs. Cheap to clone; the operation keeps one, its context another.
#[derive(Debug, Clone)]
pub(crate) struct OperationScope(Arc<ScopeState>);

#[derive(Debug)]
struct ScopeState {
    /// The id of the handler recording the operation.
    owner: usize,
    /// The server of the operation's first command.
    server: OnceLock<Server>,
}

impl OperationScope {
    /// The scope of an operation recorded by the handler with id `owner`.
    pub(crate) fn new(owner: usize) -> Self {
        OperationScope(Arc::new(ScopeState {
            owner,
            server: OnceLock::new(),
        }))
    }

    /// Whether the handler with id `handler` records this operation.
    pub(crate) fn owned_by(&self, handler: usize) -> bool {
        self.0.owner == handler
    }

    /// The server a command of the operation was sent to (the first one is kept).
    pub(crate) fn note_server(&self, server: &Server) {
        let _ = self.0.server.set(server.clone());
    }

    /// The server of the operation's first command, once one was sent.
    pub(crate) fn server(&self) -> Option<&Server> {
        self.0.server.get()
    }
}
