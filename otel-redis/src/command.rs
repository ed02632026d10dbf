//! Resolving a command's recorded name and key layout from its arguments.

use std::sync::Arc;

use opentelemetry::StringValue;

use crate::commands::{self, Keys};

/// Recorded for a command whose name is not a plausible command word (binary, too long).
pub const OTHER_COMMAND: &str = "_OTHER";

/// Longest unknown command name recorded as is.
const MAX_WORD_LEN: usize = 32;

/// The name of a command as recorded: `GET`, `CONFIG GET`, `JSON.SET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CommandName {
    /// From the command table (no allocation).
    Static(&'static str),
    /// Built for a command the table does not know (a module's `JSON.SET`).
    Shared(Arc<str>),
}

impl CommandName {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            CommandName::Static(s) => s,
            CommandName::Shared(s) => s,
        }
    }

    pub(crate) fn value(&self) -> StringValue {
        match self {
            CommandName::Static(s) => StringValue::from(*s),
            CommandName::Shared(s) => StringValue::from(Arc::clone(s)),
        }
    }
}

/// One command split into its recorded name, its key layout and the arguments after the name
/// word(s).
#[derive(Clone, Debug)]
pub(crate) struct Command<I> {
    /// `None` for an empty command.
    pub(crate) name: Option<CommandName>,
    pub(crate) keys: Keys,
    /// The arguments after the name word(s).
    pub(crate) args: I,
}

/// Splits `args` (the command name first) into name, key layout and remaining arguments.
pub(crate) fn resolve<'a, I>(mut args: I) -> Command<I>
where
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let Some(first) = args.next() else {
        return Command {
            name: None,
            keys: Keys::None,
            args,
        };
    };
    let (name, keys) = match commands::lookup(first) {
        Some(spec) => match spec.keys {
            Keys::Container(subs) => {
                let mut rest = args.clone();
                match rest.next() {
                    Some(word) => match commands::lookup_sub(subs, word) {
                        Some(sub) => {
                            args = rest;
                            (CommandName::Static(sub.name), sub.keys)
                        }
                        // An unknown subcommand stays an argument (a value): naming spans
                        // after arbitrary words would leak them and explode cardinality.
                        None => (CommandName::Static(spec.name), Keys::None),
                    },
                    None => (CommandName::Static(spec.name), Keys::None),
                }
            }
            keys => (CommandName::Static(spec.name), keys),
        },
        None if is_word(first) => (upper(first), Keys::None),
        None => (CommandName::Static(OTHER_COMMAND), Keys::None),
    };
    Command {
        name: Some(name),
        keys,
        args,
    }
}

/// The recorded name of the command only.
pub(crate) fn name_of<'a, I>(args: I) -> Option<CommandName>
where
    I: Iterator<Item = &'a [u8]> + Clone,
{
    resolve(args).name
}

/// A plausible command word: short, ASCII letters, digits and `_ . - | :`.
fn is_word(word: &[u8]) -> bool {
    !word.is_empty()
        && word.len() <= MAX_WORD_LEN
        && word
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'|' | b':'))
}

fn upper(word: &[u8]) -> CommandName {
    let mut s = String::with_capacity(word.len());
    s.extend(word.iter().map(|b| char::from(b.to_ascii_uppercase())));
    CommandName::Shared(Arc::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(args: &[&[u8]]) -> Option<String> {
        name_of(args.iter().copied()).map(|n| n.as_str().to_owned())
    }

    #[test]
    fn names() {
        assert_eq!(name(&[b"get", b"k"]).as_deref(), Some("GET"));
        assert_eq!(
            name(&[b"Client", b"setname", b"x"]).as_deref(),
            Some("CLIENT SETNAME")
        );
        assert_eq!(
            name(&[b"CONFIG", b"get", b"x"]).as_deref(),
            Some("CONFIG GET")
        );
        assert_eq!(
            name(&[b"xinfo", b"stream", b"s"]).as_deref(),
            Some("XINFO STREAM")
        );
        assert_eq!(name(&[b"config", b"newthing"]).as_deref(), Some("CONFIG"));
        assert_eq!(name(&[b"config", b"p@ss w"]).as_deref(), Some("CONFIG"));
        assert_eq!(name(&[b"config"]).as_deref(), Some("CONFIG"));
        assert_eq!(name(&[b"json.set", b"k"]).as_deref(), Some("JSON.SET"));
        assert_eq!(name(&[&[0xff, 0x00]]).as_deref(), Some(OTHER_COMMAND));
        assert_eq!(name(&[&[b'A'; 33]]).as_deref(), Some(OTHER_COMMAND));
        assert_eq!(name(&[]), None);
    }

    #[test]
    fn known_names_do_not_allocate() {
        assert!(matches!(
            name_of([&b"hset"[..]].into_iter()),
            Some(CommandName::Static("HSET"))
        ));
        assert!(matches!(
            name_of([&b"object"[..], b"encoding"].into_iter()),
            Some(CommandName::Static("OBJECT ENCODING"))
        ));
    }
}
