//! Resolving a command's recorded name and key layout from its arguments.
//!
//! Recorded names come from a closed set: the command table of [`crate::commands`], else
//! `_OTHER`. An argument the table does not know is never recorded as a name: command
//! names reach span names and metric attributes, and a word the application passes through
//! (or a hostile caller chooses) must neither leak there nor grow the number of series.

use opentelemetry::StringValue;

use otel_rpc::OTHER;

use crate::commands::{self, Keys};

/// The name of a command as recorded: `GET`, `CONFIG GET`, or `_OTHER`. Always one of
/// a closed set of static strings, so copying it never allocates; with its slot in the
/// per-command caches (`None` for a subcommand: not cached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CommandName(pub(crate) &'static str, Option<u16>);

impl CommandName {
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }

    /// The slot of this name in a per-command cache of [`commands::CACHE_SLOTS`] entries.
    pub(crate) fn slot(self) -> Option<usize> {
        self.1.map(usize::from)
    }

    pub(crate) fn value(self) -> StringValue {
        StringValue::from(self.0)
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
    let (name, keys) = match commands::lookup_position(first) {
        Some((position, spec)) => match spec.keys {
            Keys::Container(subs) => {
                let mut rest = args.clone();
                match rest
                    .next()
                    .and_then(|word| commands::lookup_sub(subs, word))
                {
                    Some(sub) => {
                        args = rest;
                        (CommandName(sub.name, None), sub.keys)
                    }
                    // An unknown subcommand stays an argument (a value): naming spans
                    // after arbitrary words would leak them and explode cardinality.
                    None => (CommandName(spec.name, slot(position)), Keys::None),
                }
            }
            keys => (CommandName(spec.name, slot(position)), keys),
        },
        None => (CommandName(OTHER, slot(commands::OTHER_SLOT)), Keys::None),
    };
    Command {
        name: Some(name),
        keys,
        args,
    }
}

/// A cache slot as stored in a [`CommandName`] (the table has fewer than `u16::MAX` entries).
fn slot(position: usize) -> Option<u16> {
    u16::try_from(position).ok()
}

/// The recorded name of the command only.
pub(crate) fn name_of<'a, I>(args: I) -> Option<CommandName>
where
    I: Iterator<Item = &'a [u8]> + Clone,
{
    resolve(args).name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(args: &[&[u8]]) -> Option<&'static str> {
        name_of(args.iter().copied()).map(CommandName::as_str)
    }

    #[test]
    fn names() {
        assert_eq!(name(&[b"get", b"k"]), Some("GET"));
        assert_eq!(name(&[b"Client", b"setname", b"x"]), Some("CLIENT SETNAME"));
        assert_eq!(name(&[b"CONFIG", b"get", b"x"]), Some("CONFIG GET"));
        assert_eq!(name(&[b"xinfo", b"stream", b"s"]), Some("XINFO STREAM"));
        assert_eq!(name(&[b"object", b"encoding"]), Some("OBJECT ENCODING"));
        assert_eq!(name(&[b"config", b"newthing"]), Some("CONFIG"));
        assert_eq!(name(&[b"config", b"p@ss w"]), Some("CONFIG"));
        assert_eq!(name(&[b"config"]), Some("CONFIG"));
        assert_eq!(name(&[]), None);
    }

    #[test]
    fn unknown_words_are_never_names() {
        for word in [
            &b"NOSUCHCOMMAND"[..],
            b"token-Secret-1",
            b"my.module.cmd",
            &[0xff, 0x00],
            &[b'A'; 33],
            b"",
        ] {
            assert_eq!(name(&[word, b"x"]), Some(OTHER), "{word:?}");
        }
    }
}
