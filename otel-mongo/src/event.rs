//! The three command events, as plain values the handler's state machine consumes.
//!
//! The driver's own event types are `#[non_exhaustive]` and cannot be built outside the
//! driver, so the handler maps them (thinly, see the `From` impls) into these, and everything
//! after that (correlation, spans, eviction) works on these types only. That also lets you
//! feed the handler from elsewhere, or test it, with [`OtelCommandHandler::on_started`](crate::OtelCommandHandler::on_started) and friends.

use std::time::Duration;

use mongodb::bson::Document;
use mongodb::event::command::{
    CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, ConnectionInfo,
};
use mongodb::options::ServerAddress;

use crate::failure::CommandFailure;

/// Identifies one command on the wire: the driver's connection id plus its request id
/// (a process-wide counter), so started and finished events pair up exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandKey {
    /// Driver-generated connection id.
    pub connection_id: u32,
    /// Driver-generated request id.
    pub request_id: i32,
}

impl CommandKey {
    /// A key from its parts.
    pub fn new(connection_id: u32, request_id: i32) -> Self {
        CommandKey {
            connection_id,
            request_id,
        }
    }
}

/// A command the driver is about to send.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StartedCommand {
    /// Correlation key.
    pub key: CommandKey,
    /// Target database (`db.namespace`).
    pub db: String,
    /// Command name, e.g. `find` (`db.operation.name`).
    pub command_name: String,
    /// The command document (the driver sends an empty one for authentication commands).
    pub command: Document,
    /// Host of the connection (`server.address`), when known.
    pub server_address: Option<String>,
    /// Port of the connection (`server.port`), when known.
    pub server_port: Option<u16>,
    /// `network.transport` of the connection: `tcp` or `unix`, when known.
    pub network_transport: Option<&'static str>,
    /// The server's id of the connection (`db.mongodb.server_connection_id`, from its
    /// `hello` reply), when it sent one.
    pub server_connection_id: Option<i64>,
}

impl StartedCommand {
    /// A started command with no server address.
    pub fn new(
        key: CommandKey,
        db: impl Into<String>,
        command_name: impl Into<String>,
        command: Document,
    ) -> Self {
        StartedCommand {
            key,
            db: db.into(),
            command_name: command_name.into(),
            command,
            server_address: None,
            server_port: None,
            network_transport: None,
            server_connection_id: None,
        }
    }

    /// Sets the server address and port, and the transport: TCP with a port, a Unix socket
    /// (the address is its path) without.
    #[must_use]
    pub fn with_server(mut self, address: impl Into<String>, port: Option<u16>) -> Self {
        self.server_address = Some(address.into());
        self.server_port = port;
        self.network_transport = Some(transport(port));
        self
    }
}

/// A command the server answered with `ok: 1` (which may still carry `writeErrors`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SucceededCommand {
    /// Correlation key.
    pub key: CommandKey,
    /// Time from sending to the parsed reply, as measured by the driver.
    pub duration: Duration,
    /// The reply document (empty for authentication commands).
    pub reply: Document,
}

impl SucceededCommand {
    /// A succeeded command.
    #[cfg(any(test, feature = "testing"))]
    pub fn new(key: CommandKey, duration: Duration, reply: Document) -> Self {
        SucceededCommand {
            key,
            duration,
            reply,
        }
    }
}

/// A command that failed: a server error reply, a network error, ...
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FailedCommand {
    /// Correlation key.
    pub key: CommandKey,
    /// Time from sending to the failure, as measured by the driver.
    pub duration: Duration,
    /// The classified failure.
    pub failure: CommandFailure,
}

impl FailedCommand {
    /// A failed command.
    #[cfg(any(test, feature = "testing"))]
    pub fn new(key: CommandKey, duration: Duration, failure: CommandFailure) -> Self {
        FailedCommand {
            key,
            duration,
            failure,
        }
    }
}

fn key_of(connection: &ConnectionInfo, request_id: i32) -> CommandKey {
    CommandKey::new(connection.id, request_id)
}

/// The port the driver uses when an address has none.
const DEFAULT_PORT: u16 = 27017;

pub(crate) fn split_address(address: ServerAddress) -> (Option<String>, Option<u16>) {
    match address {
        ServerAddress::Tcp { host, port } => (Some(host), Some(port.unwrap_or(DEFAULT_PORT))),
        // Unix sockets and future variants: the display form, no port.
        other => (Some(other.to_string()), None),
    }
}

/// `network.transport` of an address [`split_address`] split: TCP addresses have a port.
fn transport(port: Option<u16>) -> &'static str {
    if port.is_some() { "tcp" } else { "unix" }
}

/// Whether `address` is the one [`split_address`] turned into `host` and `port`.
pub(crate) fn is_server(address: &ServerAddress, host: &str, port: Option<u16>) -> bool {
    match address {
        ServerAddress::Tcp { host: h, port: p } => {
            h == host && port == Some(p.unwrap_or(DEFAULT_PORT))
        }
        other => port.is_none() && other.to_string() == host,
    }
}

impl From<CommandStartedEvent> for StartedCommand {
    fn from(ev: CommandStartedEvent) -> Self {
        let key = key_of(&ev.connection, ev.request_id);
        let (server_address, server_port) = split_address(ev.connection.address);
        StartedCommand {
            key,
            db: ev.db,
            command_name: ev.command_name,
            command: ev.command,
            server_address,
            server_port,
            network_transport: Some(transport(server_port)),
            server_connection_id: ev.connection.server_id,
        }
    }
}

impl From<CommandSucceededEvent> for SucceededCommand {
    fn from(ev: CommandSucceededEvent) -> Self {
        SucceededCommand {
            key: key_of(&ev.connection, ev.request_id),
            duration: ev.duration,
            reply: ev.reply,
        }
    }
}

impl From<CommandFailedEvent> for FailedCommand {
    fn from(ev: CommandFailedEvent) -> Self {
        FailedCommand {
            key: key_of(&ev.connection, ev.request_id),
            duration: ev.duration,
            failure: CommandFailure::from_driver_error(&ev.failure),
        }
    }
}
