//! The driver callbacks: our handler first in line, then whatever handler was installed before.

use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::command::CommandEvent;

use std::sync::Arc;

use crate::client::ClientState;
use crate::handler::OtelCommandHandler;

/// A synchronous callback (so events are handled inline, in the caller's task and context)
/// that feeds `handler` with `client`'s state, then forwards to `previous`.
pub(crate) fn event_handler(
    handler: OtelCommandHandler,
    client: Arc<ClientState>,
    previous: Option<EventHandler<CommandEvent>>,
) -> EventHandler<CommandEvent> {
    match previous {
        None => EventHandler::callback(move |ev| handler.handle_for(&client, ev)),
        Some(previous) => EventHandler::callback(move |ev: CommandEvent| {
            handler.handle_for(&client, ev.clone());
            forward(&previous, ev);
        }),
    }
}

/// A synchronous callback for connection pool events (handled inline, in the pool's task,
/// in the order the pool emits them) that feeds `handler` with `client`'s state, then
/// forwards to `previous`.
pub(crate) fn cmap_event_handler(
    handler: OtelCommandHandler,
    client: Arc<ClientState>,
    previous: Option<EventHandler<CmapEvent>>,
) -> EventHandler<CmapEvent> {
    match previous {
        None => EventHandler::callback(move |ev| handler.handle_cmap_for(&client, &ev)),
        Some(previous) => EventHandler::callback(move |ev: CmapEvent| {
            handler.handle_cmap_for(&client, &ev);
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
