//! [`OperationDescription`]: what a custom span name function sees.

/// What kind of operation a span describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperationKind {
    /// One command.
    Command,
    /// A pipeline (`db.operation.name` `PIPELINE`).
    Pipeline,
    /// An atomic pipeline, sent as `MULTI` ... `EXEC` (`db.operation.name` `MULTI`).
    Transaction,
}

/// One traced operation, as given to a custom span name function
/// ([`TracedConnectionBuilder::span_name`](crate::TracedConnectionBuilder::span_name)).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct OperationDescription<'a> {
    /// `db.operation.name`: `GET`, `CONFIG GET`, `PIPELINE`, `MULTI` (empty for an empty
    /// command).
    pub operation: &'a str,
    /// `db.query.summary`: the command, or `PIPELINE GET SET` for a pipeline.
    pub summary: &'a str,
    /// Command, pipeline or transaction.
    pub kind: OperationKind,
    /// Number of user commands (1 for a command).
    pub batch_size: usize,
    /// `db.namespace`: the db index.
    pub namespace: &'a str,
}
