//! The driver callback: our handler first in line, then whatever handler was installed before.

use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

use crate::handler::OtelCommandHandler;

/// A synchronous callback (so events are handled inline, in the caller's task and context)
/// that feeds `handler`, then forwards to `previous`.
pub(crate) fn event_handler(
    handler: OtelCommandHandler,
    previous: Option<EventHandler<CommandEvent>>,
) -> EventHandler<CommandEvent> {
    match previous {
        None => EventHandler::callback(move |ev| handler.handle(ev)),
        Some(previous) => EventHandler::callback(move |ev: CommandEvent| {
            handler.handle(ev.clone());
            forward(&previous, ev);
        }),
    }
}

/// Delivers `ev` the way the driver would have.
fn forward(previous: &EventHandler<CommandEvent>, ev: CommandEvent) {
    match previous {
        EventHandler::Callback(cb) => cb(ev),
        EventHandler::AsyncCallback(cb) => spawn(cb(ev)),
        EventHandler::TokioMpsc(sender) => {
            let sender = sender.clone();
            spawn(async move {
                let _ = sender.send(ev).await;
            });
        }
        _ => otel_rpc::health::count_swallowed_error(),
    }
}

fn spawn(fut: impl std::future::Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(fut);
        }
        Err(_) => otel_rpc::health::count_swallowed_error(),
    }
}
