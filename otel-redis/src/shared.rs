//! [`Shared`]: the configuration a [`TracedConnection`](crate::TracedConnection) and its
//! clones share (built once by the builder; read by every command).

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::StringValue;
use otel_rpc::DbHooks;
use otel_rpc::{ErrorTextMode, PreparedOperation, SpanRecorder};

use crate::sanitize::TextOptions;

/// Configuration shared by a traced connection and its clones.
pub(crate) struct Shared {
    /// `None` when the instrumentation is disabled: a pass-through.
    pub(crate) recorder: Option<SpanRecorder>,
    pub(crate) server_address: Option<StringValue>,
    pub(crate) server_port: Option<u16>,
    pub(crate) db: i64,
    pub(crate) namespace: StringValue,
    /// Whether a blocking connection's `db.namespace` follows `SELECT` (not on a cluster:
    /// there a `SELECT` reaches one node); see [`crate::select`].
    #[cfg(feature = "sync")]
    pub(crate) follows_select: bool,
    pub(crate) text: TextOptions,
    pub(crate) error_text: ErrorTextMode,
    pub(crate) hooks: DbHooks,
    /// Per command of the table (and `_OTHER`), its span and metric facts on this
    /// configuration's database, checked, bounded and admitted on first use (see
    /// `Shared::prepared`).
    pub(crate) prepared: Box<[OnceLock<Box<PreparedOperation>>]>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnectionConfig")
            .field("enabled", &self.recorder.is_some())
            .field(
                "server_address",
                &self.server_address.as_ref().map(StringValue::as_str),
            )
            .field("server_port", &self.server_port)
            .field("db", &self.db)
            .field("query_text", &self.text.mode)
            .field("max_query_text_len", &self.text.max_len)
            .field("error_text", &self.error_text)
            .field("hooks", &self.hooks)
            .finish()
    }
}

impl Shared {
    /// Empty per-command caches (one slot per command of the table, one for `_OTHER`).
    pub(crate) fn command_cache() -> Box<[OnceLock<Box<PreparedOperation>>]> {
        (0..crate::commands::CACHE_SLOTS)
            .map(|_| OnceLock::new())
            .collect()
    }

    /// `db.namespace` for `db` (the connection's current database), `None` when it is
    /// unknown.
    pub(crate) fn namespace(&self, db: i64) -> Option<StringValue> {
        if db == self.db {
            Some(self.namespace.clone())
        } else {
            (db >= 0).then(|| db_namespace(db))
        }
    }
}

/// The db index as `db.namespace`: static for the 16 default databases.
pub(crate) fn db_namespace(db: i64) -> StringValue {
    const SMALL: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    ];
    usize::try_from(db)
        .ok()
        .and_then(|i| SMALL.get(i))
        .map_or_else(
            || StringValue::from(Arc::<str>::from(db.to_string())),
            |s| StringValue::from(*s),
        )
}
