//! A per-thread mark "a traced executor is driving the raw connection right now", read by
//! the query-log layer so a statement sent through `TracedPool` is not recorded twice (once
//! by the traced executor, once from sqlx's own `sqlx::query` event).
//!
//! sqlx's PostgreSQL and MySQL drivers emit the event while the caller polls the statement's
//! stream or future, on the caller's thread: the traced executors poll under [`Mark`] and
//! [`quiet`]. The SQLite driver emits it on its worker thread, which no mark reaches (see the
//! README). Without the `query-log` feature the mark costs nothing.

use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(feature = "query-log")]
thread_local! {
    static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Held while a traced executor polls the raw driver.
pub(crate) struct Mark(());

impl Mark {
    pub(crate) fn enter() -> Mark {
        hold();
        Mark(())
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        release();
    }
}

fn hold() {
    #[cfg(feature = "query-log")]
    DEPTH.with(|d| d.set(d.get().saturating_add(1)));
}

fn release() {
    #[cfg(feature = "query-log")]
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
}

/// `true` while a [`Mark`] is held on this thread.
#[cfg(feature = "query-log")]
pub(crate) fn is_marked() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Releases the mark [`Quiet`]'s drop takes, after the inner future (declared before it) is
/// dropped: a statement cut short by the drop logs while marked.
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        release();
    }
}

pin_project_lite::pin_project! {
    /// A future polled, and dropped, under a [`Mark`].
    pub(crate) struct Quiet<F> {
        #[pin]
        inner: F,
        release: Release,
    }

    impl<F> PinnedDrop for Quiet<F> {
        fn drop(_this: Pin<&mut Self>) {
            hold();
        }
    }
}

/// Polls `inner` under a [`Mark`]: statements it sends are left to the traced executor.
pub(crate) fn quiet<F: Future>(inner: F) -> Quiet<F> {
    Quiet {
        inner,
        release: Release,
    }
}

impl<F: Future> Future for Quiet<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _mark = Mark::enter();
        self.project().inner.poll(cx)
    }
}
