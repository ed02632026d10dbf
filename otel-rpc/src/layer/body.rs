//! [`TracedBody`]: a response body that ends its span when the body has been fully sent (or
//! read), fails, panics, or is dropped early.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::rules::Rules;
use crate::outcome::{Failure, Outcome};
use crate::recording::Recording;

pin_project! {
    /// A response body carrying the request's span; the span ends when the body ends.
    ///
    /// * end of stream (or trailers): ends with the outcome decided from the response head,
    ///   or, for gRPC, from the `grpc-status` trailer;
    /// * a body error: ends as a failure of the error's type;
    /// * a panic while producing the body (a streamed HTTP body, a gRPC server stream), when
    ///   panics are caught (the default): ends as a panic, as a panic in the handler does,
    ///   then the panic resumes;
    /// * dropped before its end (the peer went away, the caller stopped reading): ends as
    ///   cancelled.
    ///
    /// While the inner body is polled, the span's context is the current context, so work done
    /// to produce the body (streams, database calls) nests under it.
    pub struct TracedBody<B, E = Decided> {
        #[pin]
        inner: B,
        pending: Option<Pending<E>>,
    }
}

/// The recording still waiting for its body to end.
struct Pending<E> {
    recording: Recording,
    end: E,
    rules: Arc<Rules>,
}

/// How a protocol decides the outcome of a call when its response body ends (as tower-http's
/// `ClassifyEos`): HTTP knows it from the response head ([`Decided`]), gRPC reads the
/// `grpc-status` trailer.
pub trait EndOfStream: Send + 'static {
    /// The body carried a data frame.
    fn on_data(&mut self) {}

    /// The outcome once the body ended, with its trailers if it had any.
    fn finish(self, recording: &mut Recording, trailers: Option<&HeaderMap>) -> Outcome<'static>;
}

/// An outcome already decided from the response head.
#[derive(Debug)]
pub struct Decided(pub(crate) Outcome<'static>);

impl EndOfStream for Decided {
    fn finish(self, _: &mut Recording, _: Option<&HeaderMap>) -> Outcome<'static> {
        self.0
    }
}

impl<B: fmt::Debug, E> fmt::Debug for TracedBody<B, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedBody")
            .field("inner", &self.inner)
            .field("traced", &self.pending.is_some())
            .finish()
    }
}

impl<B: Body, E: EndOfStream> TracedBody<B, E> {
    /// A body that carries no span.
    pub(crate) fn untraced(inner: B) -> Self {
        TracedBody {
            inner,
            pending: None,
        }
    }

    /// A body that ends `recording` when it ends. An empty body ends it at once.
    pub(crate) fn new(inner: B, recording: Recording, end: E, rules: Arc<Rules>) -> Self {
        let mut pending = Some(Pending {
            recording,
            end,
            rules,
        });
        if inner.is_end_stream() {
            finish(&mut pending, None);
        }
        TracedBody { inner, pending }
    }

    /// The wrapped body.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

fn finish<E: EndOfStream>(pending: &mut Option<Pending<E>>, trailers: Option<&HeaderMap>) {
    let Some(Pending {
        mut recording, end, ..
    }) = pending.take()
    else {
        return;
    };
    let outcome = end.finish(&mut recording, trailers);
    recording.end(outcome);
}

impl<B: Body, E: EndOfStream> Body for TracedBody<B, E> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let catch = this.pending.as_ref().is_some_and(|p| p.rules.catch_panics);
        let polled = {
            let _guard = this
                .pending
                .as_ref()
                .map(|p| p.recording.context().clone().attach());
            if catch {
                match catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll_frame(cx))) {
                    Ok(polled) => ready!(polled),
                    Err(panic) => {
                        if let Some(p) = this.pending.take() {
                            let failure = p.rules.panic(panic.as_ref());
                            p.recording.end(Outcome::Failure(failure));
                        }
                        resume_unwind(panic)
                    }
                }
            } else {
                ready!(this.inner.as_mut().poll_frame(cx))
            }
        };
        match &polled {
            Some(Ok(frame)) => {
                if let (Some(p), Some(data)) = (this.pending.as_mut(), frame.data_ref()) {
                    let bytes = bytes::Buf::remaining(data) as u64;
                    p.recording.add_response_body_bytes(bytes);
                }
                if let Some(pending) = this.pending.as_mut()
                    && frame.is_data()
                {
                    pending.end.on_data();
                }
                if let Some(trailers) = frame.trailers_ref() {
                    finish(this.pending, Some(trailers));
                } else if this.inner.is_end_stream() {
                    finish(this.pending, None);
                }
            }
            Some(Err(_)) => {
                if let Some(p) = this.pending.take() {
                    p.recording.end(Outcome::Failure(
                        Failure::new(super::rules::OTHER_ERROR).with_exception(),
                    ));
                }
            }
            None => finish(this.pending, None),
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
