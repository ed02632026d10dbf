//! [`TracedStream`]: a sqlx result stream that counts rows and ends its query span when the
//! stream ends, fails or is dropped; and [`TracedOptional`] for `fetch_optional`.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use either::Either;
use futures_core::Stream;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use sqlx::Database;

use crate::backend::TracedDatabase;
use crate::instrumentation::QuerySpan;
use crate::parts::Item;
use crate::quiet::{Mark, Quiet, quiet};

type Started<'e, DB> = (BoxStream<'e, Item<DB>>, Option<QuerySpan>);

pub(crate) struct TracedStream<'e, DB: Database> {
    state: State<'e, DB>,
    _db: PhantomData<fn() -> DB>,
}

enum State<'e, DB: Database> {
    /// Waiting for a preliminary step (server detection) before the span starts.
    Starting(BoxFuture<'e, Started<'e, DB>>),
    Running(BoxStream<'e, Item<DB>>, Option<QuerySpan>),
    Done,
}

impl<'e, DB: TracedDatabase> TracedStream<'e, DB> {
    pub(crate) fn running(inner: BoxStream<'e, Item<DB>>, span: Option<QuerySpan>) -> Self {
        TracedStream {
            state: State::Running(inner, span),
            _db: PhantomData,
        }
    }

    pub(crate) fn starting(fut: BoxFuture<'e, Started<'e, DB>>) -> Self {
        TracedStream {
            state: State::Starting(fut),
            _db: PhantomData,
        }
    }
}

impl<DB: TracedDatabase> Stream for TracedStream<'_, DB> {
    type Item = Item<DB>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Item<DB>>> {
        let _quiet = Mark::enter();
        loop {
            match &mut self.state {
                State::Starting(fut) => match fut.poll_unpin(cx) {
                    Poll::Ready((inner, span)) => self.state = State::Running(inner, span),
                    Poll::Pending => return Poll::Pending,
                },
                State::Running(inner, span) => {
                    return match inner.poll_next_unpin(cx) {
                        Poll::Ready(Some(item)) => {
                            if let Some(s) = span {
                                match &item {
                                    Ok(Either::Left(result)) => s.result(DB::rows_affected(result)),
                                    Ok(Either::Right(_)) => s.row(),
                                    Err(e) => {
                                        s.fail(e);
                                        *span = None;
                                    }
                                }
                            }
                            Poll::Ready(Some(item))
                        }
                        Poll::Ready(None) => {
                            if let Some(mut s) = span.take() {
                                s.succeed();
                            }
                            self.state = State::Done;
                            Poll::Ready(None)
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

impl<DB: Database> Drop for TracedStream<'_, DB> {
    fn drop(&mut self) {
        // A statement cut short (`fetch_one`, a dropped stream) logs when its stream drops.
        let _quiet = Mark::enter();
        self.state = State::Done;
    }
}

pin_project_lite::pin_project! {
    /// A `fetch_optional` future run under its span (ended with the result; a future dropped
    /// unfinished drops the span, which ends it as cancelled). A struct polled in place rather
    /// than an `async fn`: the driver's future (kilobytes) is moved once, into the box of the
    /// executor's `BoxFuture`, where an `async fn` moved it twice more on its first poll (into
    /// `Quiet`, then into the await slot): ~0.4k instructions per query.
    pub(crate) struct TracedOptional<F> {
        #[pin]
        fut: Quiet<F>,
        span: Option<QuerySpan>,
    }
}

impl<F: Future> TracedOptional<F> {
    pub(crate) fn new(span: Option<QuerySpan>, fut: F) -> Self {
        TracedOptional {
            fut: quiet(fut),
            span,
        }
    }
}

impl<F, R> Future for TracedOptional<F>
where
    F: Future<Output = Result<Option<R>, sqlx::Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(result) = this.fut.poll(cx) else {
            return Poll::Pending;
        };
        if let Some(mut s) = this.span.take() {
            match &result {
                Ok(Some(_)) => {
                    s.row();
                    s.succeed();
                }
                Ok(None) => {
                    s.answered();
                    s.succeed();
                }
                Err(e) => s.fail(e),
            }
        }
        Poll::Ready(result)
    }
}
