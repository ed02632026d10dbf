//! [`TraceFuture`]: runs the inner call inside the span's context and ends (or hands on) the
//! span when the call completes, fails or panics.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use opentelemetry::context::WithContext;
use pin_project_lite::pin_project;

use super::protocol::{Protocol, Traced};
use crate::outcome::Outcome;

pin_project! {
    /// The future of a [`TraceService`](super::TraceService): the inner call, run with the
    /// span's context as the current context.
    ///
    /// * a response: its head is classified (status code, gRPC status), the span ends or
    ///   passes to the response body;
    /// * a service error: the span ends as a failure with `error.type` `_OTHER`;
    /// * a panic (when panics are caught, the default): the span ends with `error.type`
    ///   `panic`, then the panic resumes.
    pub struct TraceFuture<F, P>
    where
        P: Protocol,
    {
        #[pin]
        inner: WithContext<F>,
        traced: Option<Traced<P::Call>>,
    }
}

impl<F, P: Protocol> TraceFuture<F, P> {
    pub(crate) fn new(inner: WithContext<F>, traced: Option<Traced<P::Call>>) -> Self {
        TraceFuture { inner, traced }
    }
}

impl<F, P: Protocol> fmt::Debug for TraceFuture<F, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceFuture")
            .field("traced", &self.traced.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, P, B, E> Future for TraceFuture<F, P>
where
    F: Future<Output = Result<Response<B>, E>>,
    P: Protocol,
    B: http_body::Body,
    E: fmt::Display + 'static,
{
    type Output = Result<Response<P::ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let catch = this.traced.as_ref().is_some_and(|t| t.rules.catch_panics);
        let result = if catch {
            match catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
                Ok(polled) => ready!(polled),
                Err(panic) => {
                    if let Some(traced) = this.traced.take() {
                        let failure = traced.rules.panic(panic.as_ref());
                        traced.recording.end(Outcome::Failure(failure));
                    }
                    resume_unwind(panic)
                }
            }
        } else {
            ready!(this.inner.as_mut().poll(cx))
        };
        Poll::Ready(match result {
            Ok(response) => {
                if let Some(traced) = this.traced.as_ref() {
                    traced
                        .rules
                        .capture
                        .response(response.headers(), &traced.recording);
                }
                Ok(P::respond(this.traced.take(), response))
            }
            Err(error) => {
                if let Some(mut traced) = this.traced.take() {
                    let error_type = P::service_error_type(&mut traced, &error);
                    let failure = traced.rules.service_error(error_type, &error);
                    traced.recording.end(Outcome::Failure(failure));
                }
                Err(error)
            }
        })
    }
}
