//! A tonic echo service for the gRPC tests that need behaviour the main one lacks: `Say`
//! with `slow` sleeps 2 s (client timeouts); `Stream` with `panic` panics after its first
//! reply (a panic inside a server stream).

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use tonic::{Request, Response, Status};

#[allow(dead_code)]
pub mod proto {
    // Generated from tests/proto/echo.proto by scripts/gen-protos.sh.
    include!("../gen/echo.rs");
}

use proto::echo_server::Echo;
use proto::{EchoReply, EchoRequest};

/// The panic text of a panicking stream: application text, never to be exported.
pub const PANIC_TEXT: &str = "stream exploded planted-secret-51c2";

/// The service.
pub struct Service;

type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

fn reply(message: impl Into<String>) -> EchoReply {
    EchoReply {
        message: message.into(),
    }
}

#[tonic::async_trait]
impl Echo for Service {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let message = request.into_inner().message;
        if message == "slow" {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Ok(Response::new(reply(message)))
    }

    type StreamStream = ReplyStream;

    async fn stream(&self, request: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
        let panics = request.into_inner().message == "panic";
        let replies = futures_util::stream::unfold(0u32, move |i| async move {
            if i == 1 && panics {
                // After the first reply went out: the stream is under way when it panics.
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!("{PANIC_TEXT}");
            }
            (i < 2).then(|| (Ok(reply(format!("reply {i}"))), i + 1))
        });
        Ok(Response::new(Box::pin(replies)))
    }
}
