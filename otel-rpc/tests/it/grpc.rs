//! gRPC server and client layers against a real tonic server and client.
#![cfg(feature = "grpc")]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use opentelemetry::trace::{SpanKind, Tracer};
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{GrpcClientLayer, GrpcClientService, GrpcServerLayer};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use tower::ServiceBuilder;

mod proto {
    // Generated from tests/proto/echo.proto by scripts/gen-protos.sh.
    include!("../gen/echo.rs");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

struct EchoService {
    tracer: SdkTracer,
    last_message: Arc<Mutex<Option<SystemTime>>>,
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        // Started under the current context: must nest under the server span.
        let _lookup = self.tracer.start("lookup");
        match request.into_inner().message.as_str() {
            "not-found" => Err(Status::not_found("no such echo")),
            "internal" => Err(Status::internal("echo broke")),
            message => Ok(Response::new(EchoReply {
                message: message.to_owned(),
            })),
        }
    }

    type StreamStream = ReplyStream;

    async fn stream(&self, request: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
        let count = request.into_inner().count;
        let last_message = Arc::clone(&self.last_message);
        let replies = futures_util::stream::unfold(0u32, move |i| {
            let last_message = Arc::clone(&last_message);
            async move {
                if i == count {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                *last_message.lock().expect("lock") = Some(SystemTime::now());
                Some((
                    Ok(EchoReply {
                        message: format!("reply {i}"),
                    }),
                    i + 1,
                ))
            }
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

struct Fixture {
    t: TestTelemetry,
    addr: SocketAddr,
    last_message: Arc<Mutex<Option<SystemTime>>>,
}

async fn start() -> Fixture {
    let t = TestTelemetry::new();
    let last_message = Arc::new(Mutex::new(None));
    let service = EchoService {
        tracer: t.tracer("handler"),
        last_message: Arc::clone(&last_message),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .filter(|req| !req.uri.path().starts_with("/grpc.health"))
        // Failing calls teach the learned set nothing (see GrpcServerLayer), so the methods
        // these tests only ever fail are listed.
        .methods(["echo.Echo/Say", "echo.Echo/Stream"])
        .build();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(service))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    Fixture {
        t,
        addr,
        last_message,
    }
}

async fn client(f: &Fixture) -> EchoClient<GrpcClientService<Channel>> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", f.addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let channel = ServiceBuilder::new()
        .layer(
            GrpcClientLayer::builder()
                .tracer_provider(f.t.tracer_provider.clone())
                .meter_provider(f.t.meter_provider.clone())
                .server("127.0.0.1", Some(f.addr.port()))
                .service_name("echo-caller")
                .build(),
        )
        .service(channel);
    EchoClient::new(channel)
}

fn pair(t: &TestTelemetry, name: &str) -> (ExportedSpan, ExportedSpan) {
    let spans = t.spans_named(name);
    let of = |kind: SpanKind| {
        let found: Vec<_> = spans
            .iter()
            .filter(|s| s.span_kind == kind)
            .cloned()
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {kind:?} span {name:?} expected: {spans:?}"
        );
        found.into_iter().next().expect("one span")
    };
    (of(SpanKind::Client), of(SpanKind::Server))
}

fn request(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.to_owned(),
        count: 0,
    }
}

#[tokio::test]
async fn unary_ok() {
    let f = start().await;
    let reply = client(&f).await.say(request("hi")).await.expect("reply");
    assert_eq!(reply.into_inner().message, "hi");

    let (client_span, server) = pair(&f.t, "echo.Echo/Say");
    server
        .assert_child_of(&client_span)
        .assert_unset()
        .assert_attr(attribute::RPC_SYSTEM_NAME, "grpc")
        .assert_attr(attribute::RPC_METHOD, "echo.Echo/Say")
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "OK")
        .assert_attr(attribute::SERVICE_PEER_NAME, "echo-caller")
        .assert_no_attr(attribute::ERROR_TYPE);
    client_span
        .assert_unset()
        .assert_attr(attribute::RPC_SYSTEM_NAME, "grpc")
        .assert_attr(attribute::RPC_METHOD, "echo.Echo/Say")
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "OK")
        .assert_attr(attribute::SERVER_ADDRESS, "127.0.0.1")
        .assert_attr(attribute::SERVER_PORT, i64::from(f.addr.port()));
    f.t.span("lookup").assert_child_of(&server);

    for metric in ["rpc.server.call.duration", "rpc.client.call.duration"] {
        let points = f.t.histogram(metric);
        assert_eq!(points.len(), 1, "{metric}: {points:?}");
        assert_eq!(points[0].count, 1, "{metric}");
        assert_eq!(
            points[0].attr(attribute::RPC_METHOD).as_deref(),
            Some("echo.Echo/Say")
        );
        assert_eq!(
            points[0]
                .attr(attribute::RPC_RESPONSE_STATUS_CODE)
                .as_deref(),
            Some("OK")
        );
    }
}

#[tokio::test]
async fn not_found_is_unset_on_the_server_and_an_error_on_the_client() {
    let f = start().await;
    let status = client(&f)
        .await
        .say(request("not-found"))
        .await
        .expect_err("status");
    assert_eq!(status.code(), Code::NotFound);

    let (client_span, server) = pair(&f.t, "echo.Echo/Say");
    server
        .assert_child_of(&client_span)
        .assert_unset()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "NOT_FOUND")
        .assert_no_attr(attribute::ERROR_TYPE);
    client_span
        .assert_error()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "NOT_FOUND")
        .assert_attr(attribute::ERROR_TYPE, "NOT_FOUND");
}

#[tokio::test]
async fn internal_is_an_error_on_both_sides() {
    let f = start().await;
    let status = client(&f)
        .await
        .say(request("internal"))
        .await
        .expect_err("status");
    assert_eq!(status.code(), Code::Internal);

    let (client_span, server) = pair(&f.t, "echo.Echo/Say");
    server
        .assert_child_of(&client_span)
        .assert_error()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "INTERNAL")
        .assert_attr(attribute::ERROR_TYPE, "INTERNAL");
    client_span
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "INTERNAL");
    let points = f.t.histogram("rpc.server.call.duration");
    assert_eq!(points.len(), 1);
    assert_eq!(
        points[0].attr(attribute::ERROR_TYPE).as_deref(),
        Some("INTERNAL")
    );
}

#[tokio::test]
async fn server_stream_spans_end_after_the_last_message() {
    let f = start().await;
    let mut stream = client(&f)
        .await
        .stream(EchoRequest {
            message: String::new(),
            count: 3,
        })
        .await
        .expect("stream")
        .into_inner();
    let mut replies = Vec::new();
    while let Some(reply) = stream.next().await {
        replies.push(reply.expect("reply").message);
    }
    assert_eq!(replies, ["reply 0", "reply 1", "reply 2"]);
    drop(stream);

    let last = f.last_message.lock().expect("lock").expect("messages sent");
    let (client_span, server) = pair(&f.t, "echo.Echo/Stream");
    server
        .assert_child_of(&client_span)
        .assert_unset()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "OK");
    client_span
        .assert_unset()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "OK");
    for span in [&server, &client_span] {
        assert!(
            span.end_time >= last,
            "{:?} span ended at {:?}, before the last message at {last:?}",
            span.span_kind,
            span.end_time
        );
    }
    assert_eq!(f.t.histogram("rpc.server.call.duration")[0].count, 1);
}

#[tokio::test]
async fn garbage_metadata_starts_a_new_trace() {
    let f = start().await;
    // A client without the layer, sending garbage and oversized propagation metadata.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", f.addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut raw = EchoClient::new(channel);
    for (key, value) in [
        ("traceparent", "00-zzzz-garbage-01".to_owned()),
        (
            "traceparent",
            format!("00-{}-00f067aa0ba902b7-01", "b".repeat(10_000)),
        ),
    ] {
        f.t.reset();
        let mut req = Request::new(request("hi"));
        req.metadata_mut()
            .insert(key, value.parse().expect("metadata value"));
        raw.say(req).await.expect("served");
        let server = f.t.span("echo.Echo/Say");
        assert_eq!(server.parent_span_id, opentelemetry::trace::SpanId::INVALID);
        server.assert_no_attr(attribute::SERVICE_PEER_NAME);
    }
}

#[tokio::test]
async fn filtered_methods_get_no_span_and_no_metric_on_either_side() {
    let f = start().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", f.addr))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    // The same filter as the server's (`start`): health checks are not traced.
    let channel = ServiceBuilder::new()
        .layer(
            GrpcClientLayer::builder()
                .tracer_provider(f.t.tracer_provider.clone())
                .meter_provider(f.t.meter_provider.clone())
                .filter(|req| !req.uri.path().starts_with("/grpc.health"))
                .build(),
        )
        .service(channel);
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    // The server hosts no such services; tonic's router answers UNIMPLEMENTED from inside the
    // server layer, so both calls go through both layers.
    for path in ["/grpc.health.v1.Health/Check", "/other.Health/Check"] {
        grpc.ready().await.expect("ready");
        let status = grpc
            .unary::<EchoRequest, EchoReply, _>(
                Request::new(request("ping")),
                http::uri::PathAndQuery::from_static(path),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .expect_err("no such service");
        assert_eq!(status.code(), Code::Unimplemented, "{path}");
        if path.starts_with("/grpc.health") {
            let spans = f.t.spans();
            assert!(spans.is_empty(), "filtered call traced: {spans:?}");
            for metric in ["rpc.server.call.duration", "rpc.client.call.duration"] {
                let points = f.t.histogram(metric);
                assert!(points.is_empty(), "{metric}: {points:?}");
            }
        }
    }
    // The client names the method its code called; the server, which does not serve it,
    // records `_OTHER` and keeps the path on the span only.
    let client_span = f.t.span("other.Health/Check");
    let server = f.t.span("grpc");
    server
        .assert_child_of(&client_span)
        .assert_error()
        .assert_attr(attribute::RPC_METHOD, "_OTHER")
        .assert_attr(attribute::RPC_METHOD_ORIGINAL, "other.Health/Check")
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "UNIMPLEMENTED");
    client_span
        .assert_error()
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "UNIMPLEMENTED");

    // An ordinary method through the filtering client is still traced.
    EchoClient::new(channel)
        .say(request("hi"))
        .await
        .expect("reply");
    pair(&f.t, "echo.Echo/Say").1.assert_unset();
    assert_eq!(f.t.spans_named("lookup").len(), 1);
    for (metric, unknown) in [
        ("rpc.server.call.duration", "_OTHER"),
        ("rpc.client.call.duration", "other.Health/Check"),
    ] {
        let mut methods: Vec<_> =
            f.t.histogram(metric)
                .iter()
                .map(|p| (p.attr(attribute::RPC_METHOD), p.count))
                .collect();
        methods.sort();
        let mut expected = vec![
            (Some(unknown.to_owned()), 1),
            (Some("echo.Echo/Say".to_owned()), 1),
        ];
        expected.sort();
        assert_eq!(methods, expected, "{metric}");
    }
}
