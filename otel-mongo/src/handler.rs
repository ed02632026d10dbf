//! [`OtelCommandHandler`]: turns the driver's command events into client spans.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use mongodb::bson::Document;
use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::command::CommandEvent;
use mongodb::options::{ClientOptions, ServerAddress};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{DbOperation, ErrorTextMode, Failure, Outcome, QueryText, SpanRecorder};

use crate::chain;
use crate::client::{ClientState, Clients, Server};
use crate::command::{self, CommandName};
use crate::details;
use crate::event::{self, FailedCommand, StartedCommand, SucceededCommand};
use crate::failure::CommandFailure;
use crate::in_flight::{Entry, LostReason};
use crate::intern;
use crate::options::{BACKGROUND_COMMANDS, BackgroundCommands, Options, OtelCommandHandlerBuilder};
use crate::prepared::{CommandTarget, Prepared, PreparedCommands};
use crate::sanitize;
use crate::scope::OperationScope;

/// `db.system.name` of every span.
pub const DB_SYSTEM: &str = "mongodb";

/// `db.operation.name` of a command whose name is not a command name's shape (or one new
/// name too many, see the crate's README).
pub const OTHER_COMMAND: &str = otel_rpc::OTHER;

/// `error.type` of a command whose reply never came (timed out or evicted).
pub const REPLY_LOST_ERROR_TYPE: &str = "reply_lost";

/// Records one `CLIENT` span (and one `db.client.operation.duration` measurement) per MongoDB
/// command, from the driver's command monitoring events.
///
/// Cheap to clone (an `Arc`). Register it once on the client options:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> mongodb::error::Result<()> {
/// use mongodb::options::ClientOptions;
/// use otel_mongo::OtelCommandHandler;
///
/// let mut options = ClientOptions::default();
/// OtelCommandHandler::new().install(&mut options);
/// let client = mongodb::Client::with_options(options)?;
/// # let _ = client; Ok(()) }
/// ```
///
/// The parent of each span is the context current in the task that runs the operation
/// ([`otel_rpc::current_context`]): the driver calls a synchronous event callback inline, in
/// the task awaiting the operation (for `getMore`, the task iterating the cursor).
#[derive(Clone)]
pub struct OtelCommandHandler {
    inner: Arc<Inner>,
}

struct Inner {
    /// `false`: a pass-through ([`InstrumentationOptions::enabled`](otel_rpc::InstrumentationOptions::enabled)).
    enabled: bool,
    recorder: SpanRecorder,
    /// The command spans of a traced operation: no duration measurement (see
    /// [`crate::operation`]).
    in_operation: SpanRecorder,
    options: Options,
    /// The per-client state (in-flight commands, pools, configured server).
    clients: Clients,
    /// The prepared operation of each recent command target (bounded).
    prepared: PreparedCommands,
}

impl fmt::Debug for OtelCommandHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelCommandHandler")
            .field("in_flight", &self.in_flight())
            .field("lost_replies", &self.lost_replies())
            .finish_non_exhaustive()
    }
}

impl Default for OtelCommandHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl OtelCommandHandlerBuilder {
    /// Builds the handler (a pass-through when disabled, see
    /// [`InstrumentationOptions::enabled`](otel_rpc::InstrumentationOptions::enabled)).
    pub fn build(self) -> OtelCommandHandler {
        let parts = self.into_parts();
        OtelCommandHandler {
            inner: Arc::new(Inner {
                enabled: parts.enabled,
                recorder: parts.recorder,
                in_operation: parts.in_operation,
                options: parts.options,
                clients: Clients::new(
                    parts.max_in_flight,
                    parts.reply_timeout,
                    parts.pool.map(Arc::new),
                ),
                prepared: PreparedCommands::new(),
            }),
        }
    }
}

impl OtelCommandHandler {
    /// A handler with the default options, recording to the global tracer and meter providers.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to change the options; see [`OtelCommandHandlerBuilder`].
    pub fn builder() -> OtelCommandHandlerBuilder {
        OtelCommandHandlerBuilder::new()
    }

    /// Sets `options.command_event_handler` and `options.cmap_event_handler` to this handler
    /// (the pool's events feed the `db.client.connection.*` metrics, and its check-in events
    /// end abandoned commands as `cancelled`, see [`handle_cmap`](Self::handle_cmap)). A handler already set
    /// there keeps receiving every event (synchronous callbacks are called first, async ones
    /// and channels are fed from a spawned task as the driver would).
    ///
    /// One handler can be installed into any number of client options: each install gives
    /// its client a state of its own (commands awaiting a reply, connection pools,
    /// `server.address` from that client's configuration), since the driver numbers
    /// connections per pool and two clients to one server reuse the same ids. Spans, the
    /// duration metric and the pool metrics (summed per server) are
    /// shared. Install once per client options. A disabled handler (`enabled(false)`,
    /// `OTEL_INSTRUMENTATION_MONGO_ENABLED=false`) leaves the options untouched.
    pub fn install(&self, options: &mut ClientOptions) {
        if !self.inner.enabled {
            return;
        }
        let client = self.inner.clients.install(&options.hosts);
        let previous = options.command_event_handler.take();
        options.command_event_handler = Some(self.command_callback(Arc::clone(&client), previous));
        let previous = options.cmap_event_handler.take();
        options.cmap_event_handler = Some(self.cmap_callback(client, previous));
    }

    fn command_callback(
        &self,
        client: Arc<ClientState>,
        previous: Option<EventHandler<CommandEvent>>,
    ) -> EventHandler<CommandEvent> {
        let handler = self.clone();
        chain::chained(move |ev| handler.handle_for(&client, ev), previous)
    }

    fn cmap_callback(
        &self,
        client: Arc<ClientState>,
        previous: Option<EventHandler<CmapEvent>>,
    ) -> EventHandler<CmapEvent> {
        let handler = self.clone();
        chain::chained(
            move |ev: CmapEvent| handler.handle_cmap_for(&client, &ev),
            previous,
        )
    }

    /// The connection pool event handler for this handler (a synchronous callback), for
    /// composing it yourself; [`install`](Self::install) sets it. It shares its state with
    /// [`event_handler`](Self::event_handler) and the other direct entry points: use the pair
    /// on one client (for several clients, use [`install`](Self::install)).
    pub fn cmap_event_handler(&self) -> EventHandler<CmapEvent> {
        self.cmap_callback(self.direct(), None)
    }

    /// The driver event handler for this handler (a synchronous callback), for composing it
    /// yourself; [`install`](Self::install) is the one-line form (see
    /// [`cmap_event_handler`](Self::cmap_event_handler) for the state they share).
    pub fn event_handler(&self) -> EventHandler<CommandEvent> {
        self.command_callback(self.direct(), None)
    }

    /// Identifies this handler (its clones share it).
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Starts an operation span for `op` named `name` under `parent`: the recording and the
    /// error text mode; `None` when disabled or filtered out.
    pub(crate) fn start_span(
        &self,
        parent: &opentelemetry::Context,
        name: std::borrow::Cow<'static, str>,
        op: &DbOperation<'_>,
    ) -> Option<(otel_rpc::Recording, ErrorTextMode)> {
        let inner = &*self.inner;
        if !inner.enabled || !inner.options.hooks.allows(op) {
            return None;
        }
        let recording = inner.recorder.start_db_with(parent, None, name, op, |_| {});
        Some((recording, inner.options.error_text))
    }

    /// Starts a `transaction` span under the current context (`None` when disabled).
    pub(crate) fn start_transaction_span(&self) -> Option<otel_rpc::Recording> {
        let inner = &*self.inner;
        if !inner.enabled {
            return None;
        }
        Some(inner.in_operation.start(
            &otel_rpc::current_context(),
            "transaction",
            vec![KeyValue::new(
                opentelemetry_semantic_conventions::attribute::DB_SYSTEM_NAME,
                DB_SYSTEM,
            )],
        ))
    }

    fn direct(&self) -> Arc<ClientState> {
        Arc::clone(self.inner.clients.direct())
    }

    /// Handles one driver event.
    pub fn handle(&self, event: CommandEvent) {
        self.handle_for(self.inner.clients.direct(), event);
    }

    fn handle_for(&self, client: &ClientState, event: CommandEvent) {
        if !self.inner.enabled {
            return;
        }
        match event {
            CommandEvent::Started(ev) => self.started(client, ev.into()),
            CommandEvent::Succeeded(ev) => self.succeeded(client, ev.into()),
            CommandEvent::Failed(ev) => self.failed(client, ev.into()),
            _ => {}
        }
    }

    /// Handles one connection pool event: feeds the `db.client.connection.*` metrics (see
    /// the crate's README for which event moves which count), and a check-in ends the
    /// commands still in flight on that connection as `cancelled`
    /// (`error.type` [`otel_rpc::Outcome::CANCELLED_ERROR_TYPE`]): the driver emits a command's reply
    /// event in the operation's task before it lets go of the connection, and checks it in (in
    /// the pool's task) before anyone can check it out again, so a command still in flight at
    /// check-in never got a reply event: its operation future was dropped mid-flight.
    pub fn handle_cmap(&self, event: &CmapEvent) {
        self.handle_cmap_for(self.inner.clients.direct(), event);
    }

    fn handle_cmap_for(&self, client: &ClientState, event: &CmapEvent) {
        if !self.inner.enabled {
            return;
        }
        if let Some(pool) = &client.pool {
            pool.handle(event);
        }
        if let CmapEvent::ConnectionCheckedIn(ev) = event {
            checked_in(client, &ev.address, ev.connection_id);
        }
    }

    /// Connection `connection_id` to `address` went back to its pool: ends every command still
    /// in flight on it as `cancelled` (`error.type` [`otel_rpc::Outcome::CANCELLED_ERROR_TYPE`]) and
    /// returns how many.
    ///
    /// The driver emits a command's succeeded or failed event in the operation's task before
    /// it lets go of the connection, and checks it in (emitting this event) in the pool's task
    /// after that, before anyone can check it out again. So a command still in flight at
    /// check-in never got a reply event: its operation future was dropped mid-flight (e.g. by
    /// `tokio::time::timeout`). The driver then closes the connection (reason `Dropped`).
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn on_connection_checked_in(&self, address: &ServerAddress, connection_id: u32) -> usize {
        checked_in(self.inner.clients.direct(), address, connection_id)
    }

    /// A command is about to be sent: starts its span now, under the current context.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn on_started(&self, ev: StartedCommand) {
        self.started(self.inner.clients.direct(), ev);
    }

    fn started(&self, client: &ClientState, mut ev: StartedCommand) {
        let inner = &*self.inner;
        let parent = otel_rpc::current_context();
        if inner.options.background == BackgroundCommands::Skip
            && !parent.span().span_context().is_valid()
            && BACKGROUND_COMMANDS.contains(&ev.command_name.as_str())
        {
            return;
        }
        // Inside an operation of this handler: the operation records the measurement.
        let scope = parent
            .get::<OperationScope>()
            .filter(|scope| scope.owned_by(self.id()));
        let sensitive = sanitize::is_sensitive_command(&ev.command_name, &ev.command);
        if sensitive {
            // Never kept, never shown to a hook.
            ev.command = Document::new();
        }
        let start_time = SystemTime::now();
        let server = ev
            .server_address
            .as_deref()
            .map(|address| (intern::server(address), ev.server_port));
        // The configured address (semantic conventions: not the server selected for the
        // operation), else the connection's.
        let recorded = client.configured_server.as_ref().or(server.as_ref());
        if let (Some(scope), Some(server)) = (scope, recorded) {
            scope.note_server(server);
        }
        let recorder = match scope {
            Some(_) => &inner.in_operation,
            None => &inner.recorder,
        };
        let candidate = command::collection_candidate(&ev.command_name, &ev.command);
        let target = CommandTarget {
            in_operation: scope.is_some(),
            database: &ev.db,
            command_name: &ev.command_name,
            collection: candidate,
        };
        let command = |name| Command::new(&ev, name, recorded);
        // Without hooks every command of one target is recorded alike: from its prepared
        // operation (names checked and admitted once). A target is cached only when its
        // names passed their checks and its collection candidate is its collection (so a
        // name left out, or a user name in a command's first value, is never a key); every
        // other command is checked and recorded by the same rules, per command, below.
        let mut resolved_name = None;
        let prepared = if inner.options.hooks.is_empty() {
            inner.prepared.get_or_prepare(&target, recorded, || {
                let name = CommandName::resolve(&ev.command_name);
                resolved_name = Some(name);
                let command = command(name);
                command.cacheable(candidate, &ev.command).then(|| Prepared {
                    operation: recorder.prepare_db(&command.operation(), None),
                    known: name.known(),
                })
            })
        } else {
            None
        };
        let (known, command) = match &prepared {
            Some(prepared) => (prepared.known, None),
            None => {
                let name = resolved_name.unwrap_or_else(|| CommandName::resolve(&ev.command_name));
                (name.known(), Some(command(name)))
            }
        };
        let resolved = sanitize::Resolved {
            name: &ev.command_name,
            known,
            // A cached target's candidate is its checked collection.
            collection: match &command {
                Some(command) => command.collection,
                None => candidate,
            },
        };
        let text = || {
            sanitize::shared_query_text(
                &resolved,
                &ev.command,
                inner.options.query_text,
                inner.options.max_query_text_len,
            )
            .map(StringValue::from)
        };
        let mut cursor_from_command = false;
        let recording = match prepared {
            Some(prepared) => recorder.start_prepared_db_named(
                &parent,
                Some(start_time),
                &prepared.operation,
                None,
                DETAILS,
                |add| {
                    if let Some(text) = text() {
                        add(KeyValue::new(attribute::DB_QUERY_TEXT, text));
                    }
                    if let Some(n) = command::batch_size(known, &ev.command).filter(|n| *n >= 2) {
                        add(KeyValue::new(attribute::DB_OPERATION_BATCH_SIZE, n));
                    }
                    cursor_from_command = details::at_start(&ev, add);
                    if let Some(hook) = &inner.options.attributes {
                        let mut out = Vec::new();
                        hook(&ev, &mut out);
                        out.into_iter().for_each(add);
                    }
                },
            ),
            None => {
                let Some(command) = &command else { return };
                let mut op = command.operation();
                op.batch_size = command::batch_size(known, &ev.command);
                op.query_text = Some(QueryText::Lazy(&text));
                if !inner.options.hooks.allows(&op) {
                    return;
                }
                let span_name = inner.options.hooks.name(&op);
                recorder.start_db_with(&parent, Some(start_time), span_name, &op, |out| {
                    cursor_from_command = details::at_start(&ev, &mut |kv| out.push(kv));
                    if let Some(hook) = &inner.options.attributes {
                        hook(&ev, out);
                    }
                })
            }
        };
        let entry = Entry {
            recording,
            start_time,
            inserted: Instant::now(),
            server,
            cursor_from_command,
        };
        let lost = client.in_flight.insert(ev.key, entry);
        self.end_lost(lost);
    }

    /// The server answered: ends the span at start + the driver-measured duration. Write
    /// errors carried by the reply (e.g. a duplicate key) mark it as failed.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn on_succeeded(&self, ev: SucceededCommand) {
        self.succeeded(self.inner.clients.direct(), ev);
    }

    fn succeeded(&self, client: &ClientState, ev: SucceededCommand) {
        let Some(entry) = client.in_flight.remove(&ev.key) else {
            return;
        };
        if !entry.cursor_from_command
            && entry.recording.is_recording()
            && let Some(id) = details::reply_cursor_id(&ev.reply)
        {
            entry
                .recording
                .set_attribute(KeyValue::new(details::CURSOR_ID, id));
        }
        let end = entry.start_time + ev.duration;
        match CommandFailure::from_reply(&ev.reply) {
            None => entry.recording.end_at(end, Outcome::Success),
            Some(failure) => entry
                .recording
                .end_at(end, failure.outcome(self.inner.options.error_text)),
        }
    }

    /// The command failed: ends the span with the failure.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn on_failed(&self, ev: FailedCommand) {
        self.failed(self.inner.clients.direct(), ev);
    }

    fn failed(&self, client: &ClientState, ev: FailedCommand) {
        let Some(entry) = client.in_flight.remove(&ev.key) else {
            return;
        };
        let end = entry.start_time + ev.duration;
        entry
            .recording
            .end_at(end, ev.failure.outcome(self.inner.options.error_text));
    }

    /// Ends, as lost, every command (of every client) that waited longer than the reply
    /// timeout; returns how many. Also done lazily as new commands start, so calling it is
    /// optional.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut lost = Vec::new();
        self.inner
            .clients
            .for_each(|client| lost.extend(client.in_flight.sweep(now)));
        let n = lost.len();
        self.end_lost(lost);
        n
    }

    /// The prepared command operations held: (targets, server variants of them). At most
    /// 256 targets of at most 4 servers each.
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    pub fn prepared_commands(&self) -> (usize, usize) {
        self.inner.prepared.len()
    }

    /// Commands started and not yet answered, over every client.
    pub fn in_flight(&self) -> usize {
        let mut n = 0;
        self.inner
            .clients
            .for_each(|client| n += client.in_flight.len());
        n
    }

    /// Commands ended as lost so far (no reply within the timeout, or evicted because too
    /// many were in flight). Each is also counted by [`otel_rpc::swallowed_errors`].
    pub fn lost_replies(&self) -> u64 {
        self.inner.clients.lost()
    }

    fn end_lost(&self, lost: Vec<(Entry, LostReason)>) {
        if lost.is_empty() {
            return;
        }
        self.inner.clients.count_lost(lost.len());
        for (entry, reason) in lost {
            let message = match reason {
                LostReason::TimedOut => format!(
                    "no reply event within {:?}: the operation was cancelled or its connection lost",
                    self.inner.clients.reply_timeout()
                ),
                LostReason::Evicted => String::from("evicted: too many commands awaiting a reply"),
            };
            entry.recording.end(Outcome::Failure(
                Failure::new(REPLY_LOST_ERROR_TYPE).with_message(message),
            ));
        }
    }
}

/// Ends `client`'s commands still in flight on connection `connection_id` to `address`, as
/// cancelled; returns how many.
fn checked_in(client: &ClientState, address: &ServerAddress, connection_id: u32) -> usize {
    let orphans = client.in_flight.take_connection(connection_id, |server| {
        server.is_some_and(|(host, port)| event::is_server(address, host, *port))
    });
    let n = orphans.len();
    for entry in orphans {
        entry.recording.end(Outcome::Cancelled);
    }
    n
}

/// Span-only attributes a command adds at most (query text, batch size, the connection, session
/// and cursor details): the room reserved for them in its span's attribute list.
const DETAILS: usize = 8;

/// A command as recorded: its name, and its database and collection when they pass the
/// shape check.
struct Command<'a> {
    name: CommandName<'a>,
    database: Option<&'a str>,
    collection: Option<&'a str>,
    /// A string stands where the command names its collection (shaped as a name or not).
    names_collection: bool,
    server: Option<&'a Server>,
}

impl<'a> Command<'a> {
    /// `ev`'s command named `name`, recorded against `server`.
    fn new(ev: &'a StartedCommand, name: CommandName<'a>, server: Option<&'a Server>) -> Self {
        let collection_text = command::collection_text(name.known(), &ev.command);
        Command {
            name,
            database: command::name_shape_ok(&ev.db).then_some(ev.db.as_str()),
            collection: collection_text.filter(|c| command::name_shape_ok(c)),
            names_collection: collection_text.is_some(),
            server,
        }
    }

    /// Whether its prepared operation may be kept under `candidate` (see
    /// `command::collection_candidate`): a recorded command name, a database that passed its
    /// check, and a candidate that is the command's collection and passed its check (or no
    /// candidate and no collection).
    fn cacheable(&self, candidate: Option<&str>, document: &Document) -> bool {
        !matches!(self.name, CommandName::Other)
            && self.database.is_some()
            && command::collection_text(self.name.known(), document) == candidate
            && candidate.is_none_or(|_| self.collection.is_some())
    }

    /// What of the command is the same for every execution (no batch size, no query text).
    fn operation(&self) -> DbOperation<'static> {
        // Fields set in place (the builder calls would move the struct each time).
        let mut op = DbOperation::new(DB_SYSTEM);
        let database = self.database.map(intern::database);
        op.namespace = database.clone().map(Into::into);
        op.operation = Some(match self.name {
            CommandName::Known(k) => k.name.into(),
            // Recorded on the span; `_OTHER` on the metric (see `open_operation`).
            CommandName::Unlisted(n) => {
                op.open_operation = true;
                StringValue::from(n.to_owned())
            }
            // Not a command name's shape.
            CommandName::Other => OTHER_COMMAND.into(),
        });
        op.summary = self.name.recorded().map(|n| {
            let target = summary_target(
                self.names_collection,
                self.collection,
                database.as_deref(),
                n,
            );
            intern::summary(n, target).into()
        });
        op.collection = self.collection.map(|c| intern::collection(c).into());
        if let Some((address, port)) = self.server {
            op.server_address = Some(Arc::clone(address).into());
            op.server_port = *port;
        }
        op
    }
}

/// The target of `db.query.summary` (`{command} {target}`, semantic conventions): the
/// collection of a command that works on one; for a command that works on none (`ping`,
/// `listDatabases`, `commitTransaction`, `listCollections`, `aggregate: 1`, an unlisted
/// command), the database it runs against (`listDatabases admin`, as the drivers'
/// specification writes it). A collection command whose collection was left out (not a name)
/// has no target: its database would read as a database-wide operation. A target that does
/// not fit in 255 bytes with the command name is left out (never cut).
fn summary_target<'a>(
    names_collection: bool,
    collection: Option<&'a str>,
    database: Option<&'a str>,
    name: &str,
) -> Option<&'a str> {
    let target = if names_collection {
        collection
    } else {
        database
    };
    target.filter(|t| name.len() + 1 + t.len() <= otel_rpc::MAX_NAME_LEN)
}
