//! Starting the span of a command or a pipeline: name, attributes, lazily built query text.

use std::borrow::Cow;

use opentelemetry::{Context, StringValue};
use otel_rpc::{DbOperation, PreparedOperation, QueryText, Recording, SpanRecorder};

use crate::command::{CommandName, name_of, resolve};
use crate::sanitize;
use crate::shared::Shared;

/// `db.system.name` of every span.
pub(crate) const DB_SYSTEM: &str = "redis";

/// `db.operation.name` of a pipeline.
pub const PIPELINE_OPERATION: &str = "PIPELINE";

/// `db.operation.name` of an atomic pipeline (`MULTI` ... `EXEC`).
pub const TRANSACTION_OPERATION: &str = "MULTI";

impl Shared {
    /// Starts the span of one command, or returns `None` when the instrumentation is disabled
    /// or the filter skips it.
    pub(crate) fn start_command<'a, I>(
        &self,
        parent: &Context,
        db: i64,
        args: I,
    ) -> Option<Recording>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        let recorder = self.recorder.as_ref()?;
        let cmd = resolve(args);
        let text_options = self.text;
        let text = || sanitize::command_text(&cmd, text_options).map(StringValue::from);
        let text = QueryText::Lazy(&text);
        if let Some(prepared) = cmd.name.and_then(|name| self.prepared(recorder, db, name)) {
            let text = (self.text.mode != otel_rpc::QueryTextMode::Off).then_some(&text);
            return Some(recorder.start_prepared_db(parent, None, prepared, text));
        }
        let mut op = self.db_operation(self.namespace(db), Some(text));
        if let Some(name) = cmd.name {
            op.operation = Some(name.value());
            op.summary = Some(name.value());
        }
        let default_name = || Cow::Borrowed(cmd.name.map_or(DB_SYSTEM, CommandName::as_str));
        self.start(recorder, parent, &op, default_name)
    }

    /// The prepared operation of command `name` on database `db`: one per command of the
    /// table (a closed set) and `_OTHER`, prepared on first use. Only for the configuration's
    /// own database and when no hook is set (a hook sees every operation); `None` otherwise,
    /// and the operation takes the per-operation path.
    fn prepared(
        &self,
        recorder: &SpanRecorder,
        db: i64,
        name: CommandName,
    ) -> Option<&PreparedOperation> {
        if db != self.db || !self.hooks.is_empty() {
            return None;
        }
        let slot = self.prepared.get(name.slot()?)?;
        Some(slot.get_or_init(|| {
            let mut op = self.db_operation(Some(self.namespace.clone()), None);
            op.operation = Some(name.value());
            op.summary = Some(name.value());
            Box::new(recorder.prepare_db(&op, Some(Cow::Borrowed(name.as_str()))))
        }))
    }

    /// Starts the span of a pipeline of `batch_size` user commands, or returns `None` when
    /// the instrumentation is disabled or the filter skips it. `commands` lists the user
    /// commands (without the `MULTI` / `EXEC` an atomic pipeline adds), each as its arguments.
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
        let recorder = self.recorder.as_ref()?;
        let operation = if atomic {
            TRANSACTION_OPERATION
        } else {
            PIPELINE_OPERATION
        };
        let summary = summary(operation, commands());
        let text_options = self.text;
        let text = || sanitize::pipeline_text(commands(), text_options).map(StringValue::from);
        let mut op = self.db_operation(self.namespace(db), Some(QueryText::Lazy(&text)));
        op.operation = Some(StringValue::from(operation));
        op.summary = Some(summary.clone());
        op.batch_size = Some(i64::try_from(batch_size).unwrap_or(i64::MAX));
        self.start(recorder, parent, &op, || {
            Cow::Owned(summary.as_str().to_owned())
        })
    }

    /// The operation on `namespace`, with `text` as its query text unless the text is off.
    fn db_operation<'t>(
        &self,
        namespace: Option<StringValue>,
        text: Option<QueryText<'t>>,
    ) -> DbOperation<'t> {
        // Fields are set in place: the operation is large, and every builder call moves it.
        let mut op = DbOperation::new(DB_SYSTEM);
        op.namespace = namespace;
        if let Some(address) = &self.server_address {
            op.server_address = Some(address.clone());
            op.server_port = self.server_port;
        }
        if self.text.mode != otel_rpc::QueryTextMode::Off {
            op.query_text = text;
        }
        op
    }

    /// Applies the `filter` and `span_name` hooks and starts the span.
    fn start(
        &self,
        recorder: &SpanRecorder,
        parent: &Context,
        op: &DbOperation<'_>,
        default_name: impl FnOnce() -> Cow<'static, str>,
    ) -> Option<Recording> {
        if !self.hooks.allows(op) {
            return None;
        }
        let name = match &self.hooks.span_name {
            Some(f) => f(op),
            None => default_name(),
        };
        Some(recorder.start_db_with(parent, None, name, op, |_| {}))
    }
}

/// The summary of a pipeline: `PIPELINE` (or `MULTI`), followed by the command name when
/// every command of the batch has the same one (`PIPELINE GET`). Built from the closed set of
/// command names only, so it has at most a few hundred values, whatever the application sends.
fn summary<'a, P, I>(operation: &'static str, commands: P) -> StringValue
where
    P: Iterator<Item = I>,
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let mut common: Option<CommandName> = None;
    for args in commands {
        let Some(name) = name_of(args) else {
            continue;
        };
        match common {
            None => common = Some(name),
            Some(c) if c == name => {}
            Some(_) => return StringValue::from(operation),
        }
    }
    match common {
        Some(name) => StringValue::from(format!("{operation} {}", name.as_str())),
        None => StringValue::from(operation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_of(operation: &'static str, cmds: &[Vec<&[u8]>]) -> String {
        summary(operation, cmds.iter().map(|c| c.iter().copied()))
            .as_str()
            .to_owned()
    }

    #[test]
    fn summaries_name_the_command_only_when_all_are_the_same() {
        let same: Vec<Vec<&[u8]>> = vec![vec![b"get", b"a"], vec![b"GET", b"b"], vec![]];
        assert_eq!(summary_of(PIPELINE_OPERATION, &same), "PIPELINE GET");
        assert_eq!(summary_of(TRANSACTION_OPERATION, &same), "MULTI GET");
        let mixed: Vec<Vec<&[u8]>> = vec![vec![b"get", b"a"], vec![b"SET", b"a", b"1"]];
        assert_eq!(summary_of(PIPELINE_OPERATION, &mixed), "PIPELINE");
        assert_eq!(summary_of(TRANSACTION_OPERATION, &[]), "MULTI");
    }

    #[test]
    fn summaries_never_hold_unknown_words() {
        let names: Vec<String> = (0..50).map(|i| format!("CMD{i}")).collect();
        let cmds: Vec<Vec<&[u8]>> = names.iter().map(|n| vec![n.as_bytes()]).collect();
        assert_eq!(summary_of(PIPELINE_OPERATION, &cmds), "PIPELINE _OTHER");
        let cmds: Vec<Vec<&[u8]>> = vec![vec![b"token-Secret"], vec![b"GET", b"k"]];
        assert_eq!(summary_of(PIPELINE_OPERATION, &cmds), "PIPELINE");
    }
}
