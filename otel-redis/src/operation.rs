//! Starting the span of a command or a pipeline: name, attributes, lazily built query text.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::{Context, StringValue};
use otel_rpc::{DbOperation, QueryText, Recording};

use crate::builder::Shared;
use crate::command::{CommandName, name_of, resolve};
use crate::description::{OperationDescription, OperationKind};
use crate::sanitize;

/// `db.system.name` of every span.
pub const DB_SYSTEM: &str = "redis";

/// `db.operation.name` of a pipeline.
pub const PIPELINE_OPERATION: &str = "PIPELINE";

/// `db.operation.name` of an atomic pipeline (`MULTI` ... `EXEC`).
pub const TRANSACTION_OPERATION: &str = "MULTI";

/// At most this many distinct command names are listed in a pipeline's summary.
pub const MAX_SUMMARY_COMMANDS: usize = 10;

impl Shared {
    /// Starts the span of one command, or returns `None` when the filter skips it.
    pub(crate) fn start_command<'a, I>(
        &self,
        parent: &Context,
        db: i64,
        args: I,
    ) -> Option<Recording>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let cmd = resolve(args);
        let operation = cmd.name.as_ref().map_or("", CommandName::as_str);
        if !self.traces(operation) {
            return None;
        }
        let text_options = self.text;
        let text = || sanitize::command_text(&cmd, text_options).map(StringValue::from);
        let namespace = self.namespace(db);
        let mut op = self.db_operation(namespace.clone(), &text);
        if let Some(name) = &cmd.name {
            op.operation = Some(name.value());
            op.summary = Some(name.value());
        }
        let span_name = match &self.span_name {
            Some(f) => f(&OperationDescription {
                operation,
                summary: operation,
                kind: OperationKind::Command,
                batch_size: 1,
                namespace: namespace.as_str(),
            }),
            None => match &cmd.name {
                Some(CommandName::Static(s)) => Cow::Borrowed(*s),
                Some(CommandName::Shared(s)) => Cow::Owned(s.to_string()),
                None => Cow::Borrowed(DB_SYSTEM),
            },
        };
        Some(self.start(parent, span_name, &op))
    }

    /// Starts the span of a pipeline of `batch_size` user commands, or returns `None` when
    /// the filter skips it. `commands` lists the user commands (without the `MULTI` / `EXEC`
    /// an atomic pipeline adds), each as its arguments.
    pub(crate) fn start_pipeline<'a, P, I>(
        &self,
        parent: &Context,
        db: i64,
        atomic: bool,
        batch_size: usize,
        commands: impl Fn() -> P,
    ) -> Option<Recording>
    where
        P: Iterator<Item = I>,
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let (operation, kind) = if atomic {
            (TRANSACTION_OPERATION, OperationKind::Transaction)
        } else {
            (PIPELINE_OPERATION, OperationKind::Pipeline)
        };
        if !self.traces(operation) {
            return None;
        }
        let summary: Arc<str> = Arc::from(summary(operation, commands()));
        let text_options = self.text;
        let text = || sanitize::pipeline_text(commands(), text_options).map(StringValue::from);
        let namespace = self.namespace(db);
        let mut op = self.db_operation(namespace.clone(), &text);
        op.operation = Some(StringValue::from(operation));
        op.summary = Some(StringValue::from(Arc::clone(&summary)));
        op.batch_size = Some(i64::try_from(batch_size).unwrap_or(i64::MAX));
        let span_name = match &self.span_name {
            Some(f) => f(&OperationDescription {
                operation,
                summary: &summary,
                kind,
                batch_size,
                namespace: namespace.as_str(),
            }),
            None => Cow::Owned(summary.to_string()),
        };
        Some(self.start(parent, span_name, &op))
    }

    fn db_operation<'t>(
        &self,
        namespace: StringValue,
        text: &'t dyn Fn() -> Option<StringValue>,
    ) -> DbOperation<'t> {
        // Fields are set in place: the operation is large, and every builder call moves it.
        let mut op = DbOperation::new(DB_SYSTEM);
        op.namespace = Some(namespace);
        if let Some(address) = &self.server_address {
            op.server_address = Some(address.clone());
            op.server_port = self.server_port;
        }
        if self.text.mode != otel_rpc::text::QueryTextMode::Off {
            op.query_text = Some(QueryText::Lazy(text));
        }
        op
    }

    fn start(&self, parent: &Context, name: Cow<'static, str>, op: &DbOperation<'_>) -> Recording {
        self.recorder.start_db_with(parent, None, name, op, |_| {})
    }
}

/// `PIPELINE GET SET`: the operation, then the distinct command names in order of first
/// appearance, at most [`MAX_SUMMARY_COMMANDS`].
fn summary<'a, P, I>(operation: &'static str, commands: P) -> String
where
    P: Iterator<Item = I>,
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let mut seen: [Option<CommandName>; MAX_SUMMARY_COMMANDS] = Default::default();
    let mut count = 0;
    let mut out = String::with_capacity(64);
    out.push_str(operation);
    for args in commands {
        if count == MAX_SUMMARY_COMMANDS {
            break;
        }
        let Some(name) = name_of(args) else {
            continue;
        };
        if seen[..count].iter().flatten().any(|s| *s == name) {
            continue;
        }
        out.push(' ');
        out.push_str(name.as_str());
        seen[count] = Some(name);
        count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_list_distinct_names_in_order() {
        let cmds: Vec<Vec<&[u8]>> = vec![
            vec![b"get", b"a"],
            vec![b"SET", b"a", b"1"],
            vec![b"GET", b"b"],
            vec![b"config", b"get", b"x"],
            vec![],
        ];
        let s = summary(PIPELINE_OPERATION, cmds.iter().map(|c| c.iter().copied()));
        assert_eq!(s, "PIPELINE GET SET CONFIG GET");
        assert_eq!(
            summary(
                TRANSACTION_OPERATION,
                std::iter::empty::<std::iter::Empty<&[u8]>>()
            ),
            "MULTI"
        );
    }

    #[test]
    fn summaries_are_bounded() {
        let names: Vec<String> = (0..50).map(|i| format!("CMD{i}")).collect();
        let cmds: Vec<Vec<&[u8]>> = names.iter().map(|n| vec![n.as_bytes()]).collect();
        let s = summary(PIPELINE_OPERATION, cmds.iter().map(|c| c.iter().copied()));
        assert_eq!(s.split(' ').count(), 1 + MAX_SUMMARY_COMMANDS);
        assert!(s.ends_with(" CMD9"), "{s}");
    }
}
