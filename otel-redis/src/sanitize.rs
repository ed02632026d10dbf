//! Builds `db.query.text` from a command's arguments: keys kept, every other argument `?`,
//! secret-bearing commands reduced to their name, the result capped in length.
//!
//! Only called for sampled spans (through [`otel_rpc::QueryText::Lazy`]).

use std::cell::Cell;

use otel_rpc::QueryTextMode;
use otel_rpc::text::{TRUNCATION_MARKER, truncate};

use crate::command::{Command, resolve};
use crate::commands::Keys;
use crate::stats;

/// What to record and how much of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextOptions {
    pub(crate) mode: QueryTextMode,
    pub(crate) max_len: usize,
}

/// Separator between the commands of a pipeline.
pub(crate) const PIPELINE_SEPARATOR: &str = "; ";

/// The query text of one command, `None` when nothing is to be recorded.
pub(crate) fn command_text<'a, I>(cmd: &Command<I>, opts: TextOptions) -> Option<String>
where
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let raw = raw_mode(opts.mode)?;
    stats::count_query_text();
    let mut w = Writer::new(opts.max_len);
    write_command(&mut w, cmd, raw);
    w.finish(opts.max_len)
}

/// The query text of a pipeline: its commands' texts joined with `; `.
pub(crate) fn pipeline_text<'a, P, I>(cmds: P, opts: TextOptions) -> Option<String>
where
    P: Iterator<Item = I>,
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let raw = raw_mode(opts.mode)?;
    stats::count_query_text();
    let mut w = Writer::new(opts.max_len);
    for (i, args) in cmds.enumerate() {
        if w.full() {
            break;
        }
        if i > 0 {
            w.out.push_str(PIPELINE_SEPARATOR);
        }
        write_command(&mut w, &resolve(args), raw);
    }
    w.finish(opts.max_len)
}

/// `Some(raw)` for the modes that record text.
fn raw_mode(mode: QueryTextMode) -> Option<bool> {
    match mode {
        QueryTextMode::Sanitized => Some(false),
        QueryTextMode::Raw => Some(true),
        // `Off`, and any future mode this crate does not know: record nothing.
        _ => None,
    }
}

thread_local! {
    /// The buffer texts are built in, kept per thread so that building a text allocates only
    /// the final, exactly sized string. Taken out while in use (a nested use starts empty).
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// A scratch buffer grown past this capacity is freed rather than kept for the next text.
const MAX_SCRATCH_CAPACITY: usize = 4096;

/// A bounded string builder: stops growing shortly past the cap, the final text is then cut
/// by [`truncate`].
struct Writer {
    out: String,
    limit: usize,
}

impl Writer {
    fn new(max_len: usize) -> Self {
        let limit = max_len.saturating_add(TRUNCATION_MARKER.len());
        let mut out = SCRATCH.try_with(Cell::take).unwrap_or_default();
        out.clear();
        out.reserve(limit.min(256));
        Writer { out, limit }
    }

    fn full(&self) -> bool {
        self.out.len() > self.limit
    }

    fn space(&mut self) {
        if !self.out.is_empty() {
            self.out.push(' ');
        }
    }

    fn word(&mut self, word: &str) {
        self.out.push_str(word);
    }

    /// Appends `bytes` as text (invalid UTF-8 replaced, empty shown as `""`), reading no more
    /// than fits.
    fn bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            self.out.push_str("\"\"");
            return;
        }
        let room = self.limit.saturating_add(1).saturating_sub(self.out.len());
        let bytes = &bytes[..bytes.len().min(room)];
        match std::str::from_utf8(bytes) {
            Ok(text) => self.out.push_str(text),
            Err(_) => self.out.push_str(&String::from_utf8_lossy(bytes)),
        }
    }

    /// The text, cut to `max_len`, as an exactly sized string; `None` when empty.
    fn finish(self, max_len: usize) -> Option<String> {
        let mut out = self.out;
        let text = if out.is_empty() {
            None
        } else {
            Some(String::from(truncate(&out, max_len).as_ref())).filter(|t| !t.is_empty())
        };
        if out.capacity() <= MAX_SCRATCH_CAPACITY {
            out.clear();
            // Fails only while the thread exits: the buffer is then just freed.
            let _ = SCRATCH.try_with(|scratch| scratch.set(out));
        }
        text
    }
}

fn write_command<'a, I>(w: &mut Writer, cmd: &Command<I>, raw: bool)
where
    I: Iterator<Item = &'a [u8]> + Clone,
{
    let Some(name) = &cmd.name else {
        return;
    };
    w.word(name.as_str());
    let secret = match cmd.keys {
        Keys::Secret => true,
        Keys::Hello => any_word(cmd.args.clone(), &["AUTH"]),
        Keys::Migrate => any_word(cmd.args.clone(), &["AUTH", "AUTH2"]),
        _ => false,
    };
    if secret {
        return;
    }
    let layout = if raw {
        Layout::default()
    } else {
        Layout::of(cmd.keys, cmd.args.clone())
    };
    for (i, arg) in cmd.args.clone().enumerate() {
        if w.full() {
            return;
        }
        w.space();
        let pos = i + 1;
        if raw || layout.is_structural(pos) || (layout.shows(pos) && key_shape_ok(arg)) {
            w.bytes(arg);
        } else {
            w.word("?");
        }
    }
}

fn any_word<'a>(mut args: impl Iterator<Item = &'a [u8]>, words: &[&str]) -> bool {
    args.any(|a| words.iter().any(|w| a.eq_ignore_ascii_case(w.as_bytes())))
}

/// Which argument positions (1-based, after the name word(s)) are shown: keys, plus the
/// structural `numkeys` / `STREAMS` / `KEYS` arguments. Everything else is a value.
#[derive(Debug, Default)]
struct Layout {
    /// Key window `lo..=hi`, every `step`.
    lo: usize,
    hi: usize,
    step: usize,
    /// A single key outside the window (a destination key).
    extra_key: Option<usize>,
    /// A structural argument shown as is.
    structural: Option<usize>,
}

/// Longest `numkeys` accepted (a larger count is not believed and shows no key).
const MAX_NUMKEYS_DIGITS: usize = 6;

impl Layout {
    fn of<'a>(keys: Keys, args: impl Iterator<Item = &'a [u8]> + Clone) -> Self {
        let n = args.clone().count();
        match keys {
            Keys::Range { first, last, step } => {
                let hi = if last >= 0 {
                    usize::from(last.unsigned_abs())
                } else {
                    (n + 1).saturating_sub(usize::from(last.unsigned_abs()))
                };
                Layout {
                    lo: usize::from(first),
                    hi,
                    step: usize::from(step).max(1),
                    ..Layout::default()
                }
            }
            Keys::Counted { at, dest } => {
                let at = usize::from(at);
                let extra_key = dest.then_some(1);
                // A count larger than the arguments that follow it would show values as
                // keys: not believed, like a negative or non-numeric one. No key is shown, not
                // even the destination.
                match at
                    .checked_sub(1)
                    .and_then(|i| args.clone().nth(i))
                    .and_then(parse_count)
                    .filter(|count| at.saturating_add(*count) <= n)
                {
                    Some(count) => Layout {
                        lo: at + 1,
                        hi: at + count,
                        step: 1,
                        extra_key,
                        structural: Some(at),
                    },
                    None => Layout::default(),
                }
            }
            Keys::Streams => match position_of(args, "STREAMS") {
                Some(s) => Layout {
                    lo: s + 1,
                    hi: s + (n - s) / 2,
                    step: 1,
                    structural: Some(s),
                    ..Layout::default()
                },
                None => Layout::default(),
            },
            Keys::Migrate => {
                let keyword = position_of(args, "KEYS");
                Layout {
                    lo: keyword.map_or(0, |k| k + 1),
                    hi: keyword.map_or(0, |_| n),
                    step: 1,
                    extra_key: Some(3),
                    structural: keyword,
                }
            }
            Keys::None | Keys::Hello | Keys::Secret | Keys::Container(_) => Layout::default(),
        }
    }

    fn is_structural(&self, pos: usize) -> bool {
        self.structural == Some(pos)
    }

    /// Whether `pos` holds a key (or a structural argument).
    fn shows(&self, pos: usize) -> bool {
        self.structural == Some(pos)
            || self.extra_key == Some(pos)
            || (self.lo > 0
                && pos >= self.lo
                && pos <= self.hi
                && (pos - self.lo).is_multiple_of(self.step))
    }
}

/// A key is shown only when it is shaped like a name
/// ([`name_shape_ok`](otel_rpc::name_shape_ok): 1 to 255 bytes of UTF-8, no
/// whitespace, quote, control character or `;`); any other key is recorded as `?`, like a
/// value: a key that carries spaces or quotes is more likely data than a name.
fn key_shape_ok(key: &[u8]) -> bool {
    std::str::from_utf8(key).is_ok_and(otel_rpc::name_shape_ok)
}

fn parse_count(arg: &[u8]) -> Option<usize> {
    if arg.is_empty() || arg.len() > MAX_NUMKEYS_DIGITS || !arg.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// 1-based position of the first argument equal to `word` (any case).
fn position_of<'a>(args: impl Iterator<Item = &'a [u8]>, word: &str) -> Option<usize> {
    args.enumerate()
        .find(|(_, a)| a.eq_ignore_ascii_case(word.as_bytes()))
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests;
