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
use crate::{Failure, Outcome, Recording};

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
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        pending: Option<Pending>,
    }
}

/// The recording still waiting for its body to end.
struct Pending {
    recording: Recording,
    completion: Completion,
    rules: Arc<Rules>,
}

/// How the outcome of a traced body is decided.
pub(crate) enum Completion {
    /// Already decided from the response head.
    Known(Outcome<'static>),
    /// A gRPC call: decided by the `grpc-status` trailer.
    #[cfg(feature = "grpc")]
    Grpc(super::protocol::grpc::GrpcEnd),
}

impl<B: fmt::Debug> fmt::Debug for TracedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedBody")
            .field("inner", &self.inner)
            .field("traced", &self.pending.is_some())
            .finish()
    }
}

impl<B: Body> TracedBody<B> {
    /// A body that carries no span.
    pub(crate) fn untraced(inner: B) -> Self {
        TracedBody {
            inner,
            pending: None,
        }
    }

    /// A body that ends `recording` when it ends. An empty body ends it at once.
    pub(crate) fn new(
        inner: B,
        recording: Recording,
        completion: Completion,
        rules: Arc<Rules>,
    ) -> Self {
        let mut pending = Some(Pending {
            recording,
            completion,
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

fn finish(pending: &mut Option<Pending>, trailers: Option<&HeaderMap>) {
    let Some(Pending {
        recording,
        completion,
        ..
    }) = pending.take()
    else {
        return;
    };
    match completion {
        Completion::Known(outcome) => recording.end(outcome),
        #[cfg(feature = "grpc")]
        Completion::Grpc(end) => {
            let mut recording = recording;
            let outcome = end.finish(&mut recording, trailers);
            recording.end(outcome);
        }
    }
    #[cfg(not(feature = "grpc"))]
    let _ = trailers;
}

impl<B: Body> Body for TracedBody<B> {
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
                #[cfg(feature = "grpc")]
                if let Some(Pending {
                    completion: Completion::Grpc(end),
                    ..
                }) = this.pending.as_mut()
                    && frame.is_data()
                {
                    end.saw_message();
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
