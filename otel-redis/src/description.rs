//! [`OperationDescription`]: what a custom span name function saw before the shared options.
#![allow(deprecated)]

/// What kind of operation a span describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[deprecated(
    note = "hooks now take `&otel_rpc::DbOperation`: a batch has `operation` `PIPELINE` or `MULTI` and `batch_size`"
)]
pub enum OperationKind {
    /// One command.
    Command,
    /// A pipeline (`db.operation.name` `PIPELINE`).
    Pipeline,
    /// An atomic pipeline, sent as `MULTI` ... `EXEC` (`db.operation.name` `MULTI`).
    Transaction,
}

/// One traced operation, as the former `span_name` hook saw it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
#[deprecated(note = "hooks now take `&otel_rpc::DbOperation` (the shared option vocabulary)")]
pub struct OperationDescription<'a> {
    /// `db.operation.name`: `GET`, `CONFIG GET`, `PIPELINE`, `MULTI` (empty for an empty
    /// command).
    pub operation: &'a str,
    /// `db.query.summary`: the command, or `PIPELINE GET` for a pipeline.
    pub summary: &'a str,
    /// Command, pipeline or transaction.
    pub kind: OperationKind,
    /// Number of user commands (1 for a command).
    pub batch_size: usize,
    /// `db.namespace`: the db index.
    pub namespace: &'a str,
}
