//! gRPC bounds a client must not be able to move, against a real tonic server and client:
//! the served-method set behind a server-wide auth interceptor (which answers before routing),
//! and the status a client span records when tonic's own client timeout fires.
#![cfg(feature = "grpc")]

use otel_rpc::InstrumentationOptions;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::testing::{MAX_LEARNED_METHODS, code_name};
use otel_rpc::{GrpcClientLayer, GrpcServerLayer};
use otel_testkit::{SpanAssert, TestTelemetry};
use tonic::service::InterceptorLayer;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tower::ServiceBuilder;

use crate::echo;

use echo::proto::echo_client::EchoClient;
use echo::proto::echo_server::EchoServer;
use echo::proto::{EchoReply, EchoRequest};

const TOKEN: &str = "Bearer let-me-in";

/// The server-wide interceptor: anything without the token is `UNAUTHENTICATED`, whatever the
/// method, before tonic's router sees the call.
#[allow(clippy::result_large_err)]
fn auth(request: Request<()>) -> Result<Request<()>, Status> {
    match request.metadata().get("authorization") {
        Some(value) if value == TOKEN => Ok(request),
        _ => Err(Status::unauthenticated("no token")),
    }
}

async fn serve(t: &TestTelemetry) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .layer(InterceptorLayer::new(auth))
            .add_service(EchoServer::new(echo::Service))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    addr
}

fn endpoint(addr: SocketAddr) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}")).expect("endpoint")
}

fn request(message: &str, token: bool) -> Request<EchoRequest> {
    let mut request = Request::new(EchoRequest {
        message: message.to_owned(),
        count: 0,
    });
    if token {
        request
            .metadata_mut()
            .insert("authorization", TOKEN.parse().expect("token"));
    }
    request
}

/// Calls `path` (any method, served or made up) with a plain tonic client.
async fn call(channel: &Channel, path: &str, token: bool) -> Result<EchoReply, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.expect("ready");
    let path = http::uri::PathAndQuery::try_from(path).expect("path");
    grpc.unary(
        request("hi", token),
        path,
        tonic_prost::ProstCodec::<EchoRequest, EchoReply>::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// The distinct `rpc.method` values of the server duration metric.
fn metric_methods(t: &TestTelemetry) -> BTreeSet<String> {
    t.histogram("rpc.server.call.duration")
        .iter()
        .filter_map(|p| p.attr(attribute::RPC_METHOD))
        .collect()
}

#[tokio::test]
async fn made_up_methods_behind_an_interceptor_do_not_fill_the_served_set() {
    let t = TestTelemetry::new();
    let addr = serve(&t).await;
    let channel = endpoint(addr).connect().await.expect("connect");
    // More made-up methods than the set holds, each answered by the interceptor.
    let poison = MAX_LEARNED_METHODS + 44;
    for i in 0..poison {
        let error = call(&channel, &format!("/poison.P{i}/M{i}"), false)
            .await
            .expect_err("the interceptor answers");
        assert_eq!(error.code(), Code::Unauthenticated);
    }
    // Made up with the token: tonic's router answers UNIMPLEMENTED.
    let error = call(&channel, "/echo.Echo/Nope", true)
        .await
        .expect_err("not routed");
    assert_eq!(error.code(), Code::Unimplemented);
    // The real method still gets its name, on span and metric.
    let reply = call(&channel, "/echo.Echo/Say", true)
        .await
        .expect("served");
    assert_eq!(reply.message, "hi");

    let spans = t.spans();
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect();
    assert_eq!(servers.len(), poison + 2, "one server span per call");
    let say: Vec<_> = servers
        .iter()
        .filter(|s| s.name == "echo.Echo/Say")
        .collect();
    assert_eq!(say.len(), 1, "the served method keeps its span name");
    say[0]
        .assert_attr(attribute::RPC_METHOD, "echo.Echo/Say")
        .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, "OK");
    let unknown = servers.iter().filter(|s| s.name == "grpc").count();
    assert_eq!(unknown, poison + 1, "made-up methods are renamed grpc");
    assert_eq!(
        metric_methods(&t),
        BTreeSet::from(["_OTHER".to_owned(), "echo.Echo/Say".to_owned()]),
        "made-up methods share one series"
    );
    // A made-up method is still _OTHER after the real one was learned.
    t.reset();
    let _ = call(&channel, "/poison.Late/M", false).await;
    let late = t.spans();
    assert_eq!(late.len(), 1);
    late[0]
        .assert_attr(attribute::RPC_METHOD, "_OTHER")
        .assert_attr(attribute::RPC_METHOD_ORIGINAL, "poison.Late/M");
    assert_eq!(late[0].name, "grpc");
    assert_eq!(metric_methods(&t).len(), 2, "no new series");
}

/// tonic's client timeout gives the application CANCELLED (`TimeoutExpired` in the error);
/// the client span and metric must say what the application saw, not UNAVAILABLE.
#[tokio::test]
async fn client_timeouts_record_the_status_the_application_sees() {
    let timeout = Duration::from_millis(100);
    // Endpoint::timeout, then Request::set_timeout on a channel without one.
    for (what, endpoint_timeout) in [("Endpoint::timeout", true), ("Request::set_timeout", false)] {
        let t = TestTelemetry::new();
        let addr = serve(&t).await;
        let layer = GrpcClientLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .build();
        let mut endpoint = endpoint(addr);
        if endpoint_timeout {
            endpoint = endpoint.timeout(timeout);
        }
        let channel = endpoint.connect().await.expect("connect");
        let per_request = !endpoint_timeout;
        let mut client =
            EchoClient::new(ServiceBuilder::new().layer(layer.clone()).service(channel));
        let mut req = request("slow", true);
        if per_request {
            req.set_timeout(timeout);
        }
        let status = client.say(req).await.expect_err("times out");
        assert!(
            matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded),
            "{what}: tonic reported {status:?}"
        );
        let seen = code_name(u32::try_from(i32::from(status.code())).expect("code"));
        let client_span = t
            .spans()
            .into_iter()
            .find(|s| s.span_kind == SpanKind::Client)
            .unwrap_or_else(|| panic!("{what}: no client span"));
        client_span
            .assert_error()
            .assert_attr(attribute::RPC_RESPONSE_STATUS_CODE, seen)
            .assert_attr(attribute::ERROR_TYPE, seen);
        let points = t.histogram("rpc.client.call.duration");
        assert_eq!(points.len(), 1, "{what}: one client series");
        assert_eq!(
            points[0]
                .attr(attribute::RPC_RESPONSE_STATUS_CODE)
                .as_deref(),
            Some(seen),
            "{what}: metric status"
        );
        assert_eq!(points[0].attr(attribute::ERROR_TYPE).as_deref(), Some(seen));
    }
}
