//! Checking a connection out of the pool under the pool metrics ([`Checkout`]), and running a
//! query stream on a connection the stream itself owns ([`owned_stream`]), so every execution
//! on a `TracedPool` goes through one observed acquire.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_util::future::Fuse;
use futures_util::{FutureExt, StreamExt};
use otel_rpc::pool::{ConnectionUse, PoolObserver};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};

use crate::parts::Item;

/// A pooled connection plus the guard recording its `db.client.connection.use_time` when
/// both are dropped (the connection first, so the use ends when it is back in the pool).
pub(crate) struct Checkout<DB: Database> {
    pub(crate) conn: PoolConnection<DB>,
    /// Dropped after `conn` (field order).
    _use: Option<ConnectionUse>,
}

impl<DB: Database> Checkout<DB> {
    /// `pool.acquire()`, observed: pending request while waiting, then a `wait_time` point,
    /// or a `timeouts` count on `PoolTimedOut`.
    pub(crate) async fn acquire(
        pool: &Pool<DB>,
        observer: Option<&PoolObserver>,
    ) -> Result<Self, sqlx::Error> {
        let Some(observer) = observer else {
            return pool
                .acquire()
                .await
                .map(|conn| Checkout { conn, _use: None });
        };
        let pending = observer.acquire_started();
        let acquire = Opening {
            inner: pool.acquire(),
            context: Some((Instant::now(), observer.clone())),
        };
        match acquire.await {
            Ok(conn) => Ok(Checkout {
                conn,
                _use: Some(pending.acquired()),
            }),
            Err(e) => {
                match e {
                    sqlx::Error::PoolTimedOut => pending.timed_out(),
                    _ => pending.failed(),
                }
                Err(e)
            }
        }
    }

    /// `pool.try_acquire()`, observed: a connection that was idle is checked out at once (a
    /// zero wait); `None` when none was, which is not a checkout and records nothing.
    pub(crate) fn try_acquire(pool: &Pool<DB>, observer: Option<&PoolObserver>) -> Option<Self> {
        let conn = pool.try_acquire()?;
        let use_guard = observer.map(|o| o.acquire_started().acquired());
        Some(Checkout {
            conn,
            _use: use_guard,
        })
    }

    /// Splits into the connection and its use guard (kept alongside by the caller).
    pub(crate) fn into_parts(self) -> (PoolConnection<DB>, Option<ConnectionUse>) {
        (self.conn, self._use)
    }
}

thread_local! {
    /// The checkout being polled on this thread: sqlx opens a connection inline, inside the
    /// poll of the acquire that needs it, and calls `after_connect` from there.
    static OPENING: RefCell<Option<(Instant, PoolObserver)>> = const { RefCell::new(None) };
}

pin_project_lite::pin_project! {
    /// Polls an acquire with its start time and observer visible to [`connection_opened`].
    struct Opening<F> {
        #[pin]
        inner: F,
        context: Option<(Instant, PoolObserver)>,
    }
}

impl<F: Future> Future for Opening<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let previous = OPENING.with(|o| o.replace(this.context.take()));
        let result = this.inner.poll(cx);
        *this.context = OPENING.with(|o| o.replace(previous));
        result
    }
}

/// Called from the `after_connect` hook [`crate::TracedPool::connect_lazy_with`] installs:
/// records `db.client.connection.create_time` as the time from the start of the checkout that
/// opened the connection until it was established. Connections sqlx opens on its own
/// maintenance task (`min_connections`) are not attributed to a checkout and not recorded.
pub(crate) fn connection_opened() {
    OPENING.with(|o| {
        if let Some((started, observer)) = o.borrow().as_ref() {
            observer.record_create_time(started.elapsed());
        }
    });
}

/// The slot through which the driving future hands items to the stream.
type Slot<T> = Arc<Mutex<Option<T>>>;

/// Hands `item` to the stream wrapping the future that calls it, suspending that future once.
pub(crate) struct Yielder<T> {
    slot: Slot<T>,
}

impl<T> Yielder<T> {
    /// Yields one item. Only valid inside the future given to [`owned_stream`]: it returns
    /// `Pending` once without scheduling a wake-up, which is fine because the stream returns
    /// the item at once and is polled again by its consumer.
    pub(crate) async fn send(&self, item: T) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(item);
        }
        let mut yielded = false;
        std::future::poll_fn(|_| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                Poll::Pending
            }
        })
        .await
    }
}

/// A stream driven by a future that owns its resources (here: the checked-out connection the
/// inner query stream borrows) and yields through a [`Yielder`].
pub(crate) struct OwnedStream<'a, T> {
    slot: Slot<T>,
    future: Fuse<BoxFuture<'a, ()>>,
}

/// Builds an [`OwnedStream`] from `body`.
pub(crate) fn owned_stream<'a, T, F, Fut>(body: F) -> OwnedStream<'a, T>
where
    F: FnOnce(Yielder<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'a,
    T: Send + 'a,
{
    let slot: Slot<T> = Arc::new(Mutex::new(None));
    let future = body(Yielder {
        slot: Arc::clone(&slot),
    })
    .boxed()
    .fuse();
    OwnedStream { slot, future }
}

impl<T> Stream for OwnedStream<'_, T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        use futures_core::FusedFuture;
        if self.future.is_terminated() {
            return Poll::Ready(self.slot.lock().ok().and_then(|mut s| s.take()));
        }
        let done = self.future.poll_unpin(cx).is_ready();
        let item = self.slot.lock().ok().and_then(|mut s| s.take());
        match (item, done) {
            (Some(item), _) => Poll::Ready(Some(item)),
            (None, true) => Poll::Ready(None),
            (None, false) => Poll::Pending,
        }
    }
}

/// Runs `fetch_many` of `query` on a connection checked out of `pool` inside the stream.
pub(crate) fn fetch_many_on_checkout<'e, DB, E>(
    pool: Pool<DB>,
    observer: Option<PoolObserver>,
    query: E,
) -> OwnedStream<'e, Item<DB>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    E: for<'q> sqlx::Execute<'q, DB> + Send + 'e,
{
    owned_stream(move |y| async move {
        let checkout = match Checkout::acquire(&pool, observer.as_ref()).await {
            Ok(c) => c,
            Err(e) => {
                y.send(Err(e)).await;
                return;
            }
        };
        let (mut conn, _use) = checkout.into_parts();
        {
            let mut inner = sqlx::Executor::fetch_many(&mut *conn, query);
            while let Some(item) = inner.next().await {
                let failed = item.is_err();
                y.send(item).await;
                if failed {
                    break;
                }
            }
        }
        drop(conn);
    })
}
