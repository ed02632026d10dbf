//! The state one handler keeps per client: the commands awaiting a reply, the connection
//! pools and the configured server.
//!
//! The driver numbers connections per pool (each client has its own pools, from 1), so two
//! clients to the same server reuse the same connection ids, and only the client knows which
//! server its configuration names. So every [`install`](crate::OtelCommandHandler::install)
//! gives its client a [`ClientState`] of its own, reached from the callbacks it installs; the
//! handler's direct entry points (`handle`, `on_started`, ..., and the callbacks of
//! `event_handler()` / `cmap_event_handler()`) share one more, its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use mongodb::options::ServerAddress;

use crate::event;
use crate::in_flight::InFlight;
use crate::pool::{PoolEvents, PoolShared};

/// `server.address` and `server.port` as recorded.
pub(crate) type Server = (Arc<str>, Option<u16>);

/// One client's state.
pub(crate) struct ClientState {
    pub(crate) in_flight: InFlight,
    pub(crate) pool: Option<PoolEvents>,
    /// `server.address` / `server.port` from this client's configuration, when it names a
    /// single host; else each connection's server is recorded.
    pub(crate) configured_server: Option<Server>,
}

/// Every client state of one handler, for the counts and the sweep.
pub(crate) struct Clients {
    max_in_flight: usize,
    reply_timeout: Duration,
    pool: Option<Arc<PoolShared>>,
    /// The state of the direct entry points.
    direct: Arc<ClientState>,
    /// The installed clients' states, while their clients live.
    installed: Mutex<Vec<Weak<ClientState>>>,
    /// Commands ended as lost, over every client.
    lost: AtomicU64,
}

impl Clients {
    pub(crate) fn new(
        max_in_flight: usize,
        reply_timeout: Duration,
        pool: Option<Arc<PoolShared>>,
    ) -> Self {
        let direct = Arc::new(new_state(max_in_flight, reply_timeout, pool.as_ref(), None));
        Clients {
            max_in_flight,
            reply_timeout,
            pool,
            direct,
            installed: Mutex::new(Vec::new()),
            lost: AtomicU64::new(0),
        }
    }

    /// The state of the direct entry points.
    pub(crate) fn direct(&self) -> &Arc<ClientState> {
        &self.direct
    }

    /// A new state for a client configured with `hosts`.
    pub(crate) fn install(&self, hosts: &[ServerAddress]) -> Arc<ClientState> {
        let state = Arc::new(new_state(
            self.max_in_flight,
            self.reply_timeout,
            self.pool.as_ref(),
            configured_server(hosts),
        ));
        let mut installed = self.lock();
        installed.retain(|w| w.strong_count() > 0);
        installed.push(Arc::downgrade(&state));
        state
    }

    /// Calls `f` with every live state.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&ClientState)) {
        f(&self.direct);
        let live: Vec<Arc<ClientState>> = self.lock().iter().filter_map(Weak::upgrade).collect();
        for state in &live {
            f(state);
        }
    }

    pub(crate) fn reply_timeout(&self) -> Duration {
        self.reply_timeout
    }

    /// Counts `n` commands ended as lost.
    pub(crate) fn count_lost(&self, n: usize) {
        for _ in 0..n {
            otel_rpc::count_swallowed_error();
        }
        self.lost.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Weak<ClientState>>> {
        self.installed
            .lock()
            .unwrap_or_else(|poisoned: PoisonError<_>| {
                otel_rpc::count_swallowed_error();
                poisoned.into_inner()
            })
    }
}

fn new_state(
    max_in_flight: usize,
    reply_timeout: Duration,
    pool: Option<&Arc<PoolShared>>,
    configured_server: Option<Server>,
) -> ClientState {
    ClientState {
        in_flight: InFlight::new(max_in_flight, reply_timeout),
        pool: pool.map(|shared| PoolEvents::new(Arc::clone(shared))),
        configured_server,
    }
}

/// The address of a configuration that names a single host (a replica set seed list or an
/// SRV record resolved to several hosts has no single address: then each connection's server
/// is recorded).
fn configured_server(hosts: &[ServerAddress]) -> Option<Server> {
    match hosts {
        [one] => {
            let (host, port) = event::split_address(one.clone());
            host.map(|h| (Arc::from(h), port))
        }
        _ => None,
    }
}
