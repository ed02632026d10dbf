//! A tonic server traced by `GrpcServerLayer` and a channel traced by `GrpcClientLayer`: a
//! unary call, a NOT_FOUND answer and a server stream, each one trace across the hop.
//!
//! ```text
//! cargo run -p otel-rpc --example tonic_grpc --features grpc
//! ```
//!
//! Needs no external service (the server listens on a free loopback port); the service is the
//! echo service of the layer tests (`tests/proto/echo.proto`). Prints the spans it recorded. An
//! application would hand the provider an OTLP exporter; the SDK's in-memory exporter keeps
//! this example self-contained.

use otel_rpc::InstrumentationOptions;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use opentelemetry::trace::{SpanId, Status as SpanStatus};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use otel_rpc::{GrpcClientLayer, GrpcClientService, GrpcServerLayer};
use tonic::server::NamedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};

mod proto {
    // Generated from tests/proto/echo.proto by scripts/gen-protos.sh.
    include!("../tests/gen/echo.rs");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

struct EchoService;

type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        match request.into_inner().message.as_str() {
            "not-found" => Err(Status::not_found("no such echo")),
            message => Ok(Response::new(EchoReply {
                message: message.to_owned(),
            })),
        }
    }

    type StreamStream = ReplyStream;

    async fn stream(&self, request: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
        let count = request.into_inner().count;
        let replies = futures_util::stream::iter(0..count).map(|i| {
            Ok(EchoReply {
                message: format!("reply {i}"),
            })
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();

    // The traced server: a SERVER span `echo.Echo/Say` per call, parent from the metadata.
    // `services` names what it serves, so a made-up method is recorded as `_OTHER`.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let layer = GrpcServerLayer::builder()
        .tracer_provider(tracer_provider.clone())
        .disable_metrics()
        .services([EchoServer::<EchoService>::NAME])
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                async {
                    let _ = stopped.await;
                },
            ),
    );

    // The traced client: a layered channel is a `GrpcClientService<Channel>`.
    let channel = Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let channel: GrpcClientService<Channel> = tower::ServiceBuilder::new()
        .layer(
            GrpcClientLayer::builder()
                .tracer_provider(tracer_provider.clone())
                .disable_metrics()
                .server("127.0.0.1", Some(addr.port()))
                .build(),
        )
        .service(channel);
    let mut client = EchoClient::new(channel);

    let reply = client
        .say(EchoRequest {
            message: "hello".into(),
            count: 0,
        })
        .await?;
    println!("say: {:?}", reply.into_inner().message);
    // NOT_FOUND is an error for the client span, not for the server span (it did not fail).
    let status = client
        .say(EchoRequest {
            message: "not-found".into(),
            count: 0,
        })
        .await
        .err()
        .ok_or("the echo service answers NOT_FOUND")?;
    println!("say: {:?}", status.code());
    // A server stream: both spans end when the stream ends.
    let mut replies = client
        .stream(EchoRequest {
            message: String::new(),
            count: 3,
        })
        .await?
        .into_inner();
    while let Some(reply) = replies.message().await? {
        println!("stream: {:?}", reply.message);
    }

    // Stop the server and wait until every call (and so every server span) has ended.
    drop(client);
    let _ = stop.send(());
    server.await??;

    println!();
    print_spans(&spans.get_finished_spans()?);
    tracer_provider.shutdown()?;
    Ok(())
}

/// Prints each span (kind, name, status, attributes, events), children under their parent.
fn print_spans(spans: &[SpanData]) {
    let known = |id: SpanId| spans.iter().any(|s| s.span_context.span_id() == id);
    let mut roots: Vec<&SpanData> = spans.iter().filter(|s| !known(s.parent_span_id)).collect();
    roots.sort_by_key(|s| s.start_time);
    for span in roots {
        print_tree(spans, span, 0);
    }
}

fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
    let pad = "  ".repeat(depth);
    println!(
        "{pad}{:?} {:?} status={}",
        span.span_kind,
        span.name,
        match &span.status {
            SpanStatus::Unset => "Unset".into(),
            SpanStatus::Ok => "Ok".into(),
            SpanStatus::Error { description } if description.is_empty() => "Error".into(),
            SpanStatus::Error { description } => format!("Error({description:?})"),
        }
    );
    for kv in &span.attributes {
        println!("{pad}    {} = {}", kv.key, kv.value);
    }
    for event in span.events.iter() {
        println!("{pad}    event {}", event.name);
    }
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|s| s.start_time);
    for child in children {
        print_tree(spans, child, depth + 1);
    }
}
