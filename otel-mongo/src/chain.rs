//! The driver callbacks: ours first in line, then whatever handler was installed before.

use mongodb::event::EventHandler;

/// A synchronous callback (so events are handled inline, in the caller's task and context)
/// that gives the event to `ours`, then (a copy) to `previous`: events are cloned only when
/// there is a previous handler.
pub(crate) fn chained<T>(
    ours: impl Fn(T) + Send + Sync + 'static,
    previous: Option<EventHandler<T>>,
) -> EventHandler<T>
where
    T: Clone + Send + Sync + 'static,
{
    match previous {
        None => EventHandler::callback(ours),
        Some(previous) => EventHandler::callback(move |ev: T| {
            ours(ev.clone());
            forward(&previous, ev);
        }),
    }
}

/// Delivers `ev` the way the driver would have.
fn forward<T: Send + Sync + 'static>(previous: &EventHandler<T>, ev: T) {
    match previous {
        EventHandler::Callback(cb) => cb(ev),
        EventHandler::AsyncCallback(cb) => spawn(cb(ev)),
        EventHandler::TokioMpsc(sender) => {
            let sender = sender.clone();
            spawn(async move {
                let _ = sender.send(ev).await;
            });
        }
        _ => otel_rpc::count_swallowed_error(),
    }
}

fn spawn(fut: impl std::future::Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(fut);
        }
        Err(_) => otel_rpc::count_swallowed_error(),
    }
}
