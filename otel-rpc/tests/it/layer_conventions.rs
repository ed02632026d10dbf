//! The layers checked against `otel-rpc/src/conventions.rs`, with a sampler that captures what it
//! was given: the HTTP layers give the sampling-relevant attributes (`HTTP_SERVER.span_start`,
//! `HTTP_CLIENT.span_start`) against a real axum server; the gRPC layers (against a real tonic
//! server) give `RPC_SERVER` / `RPC_CLIENT` start attributes to the sampler and export span
//! names, span keys, metric keys and the schema URL the conventions list.
#![cfg(any(feature = "axum", feature = "grpc"))]

use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

/// What the sampler saw: kind, name and start attributes of every span it was asked about.
type Seen = Arc<Mutex<Vec<(SpanKind, String, Vec<KeyValue>)>>>;

#[derive(Debug, Clone)]
struct Capture(Seen);

impl ShouldSample for Capture {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        self.0
            .lock()
            .expect("lock")
            .push((kind.clone(), name.to_owned(), attributes.to_vec()));
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

/// The start attribute keys of the first `kind` span the sampler saw.
fn keys_seen(seen: &Seen, kind: SpanKind) -> Vec<String> {
    let seen = seen.lock().expect("lock");
    let (_, _, attributes) = seen
        .iter()
        .find(|(k, _, _)| *k == kind)
        .unwrap_or_else(|| panic!("no {kind:?} span sampled: {seen:?}"));
    attributes.iter().map(|kv| kv.key.to_string()).collect()
}

#[cfg(feature = "axum")]
mod http_layers {
    use otel_rpc::InstrumentationOptions;
    use std::sync::Arc;

    use axum::Router;
    use axum::routing::get;
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use opentelemetry::trace::SpanKind;
    use opentelemetry_sdk::trace::Sampler;
    use otel_rpc::testing::{HTTP_CLIENT, HTTP_SERVER};
    use otel_rpc::{HttpClientLayer, HttpServerLayer};
    use otel_testkit::TestTelemetry;
    use tower::{ServiceBuilder, ServiceExt};

    use super::{Capture, Seen, keys_seen};

    #[tokio::test]
    async fn span_start_attributes_reach_the_sampler() {
        let seen: Seen = Arc::default();
        // Roots go to the capturing sampler: the server span of an untraced request and the
        // client span of a request with no current span.
        let t =
            TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Capture(Arc::clone(&seen)))));
        let app = Router::new()
            .route("/users/{id}", get(|| async { "user" }))
            .layer(
                HttpServerLayer::builder()
                    .tracer_provider(t.tracer_provider.clone())
                    .build(),
            );
        let addr = crate::http_fixture::serve(app).await;
        let request = || {
            http::Request::get(format!("http://{addr}/users/7?page=2"))
                .header(http::header::USER_AGENT, "conventions-test/1.0")
                .body(Full::new(Bytes::new()))
                .expect("request")
        };
        let raw = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        raw.request(request()).await.expect("untraced request");
        let server_keys = keys_seen(&seen, SpanKind::Server);
        for attr in HTTP_SERVER.span_start {
            assert!(
                server_keys.iter().any(|k| k == attr.key),
                "server span start lacks {}: {server_keys:?}",
                attr.key
            );
        }

        let traced = ServiceBuilder::new()
            .layer(
                HttpClientLayer::builder()
                    .tracer_provider(t.tracer_provider.clone())
                    .build(),
            )
            .service(raw);
        traced.oneshot(request()).await.expect("traced request");
        let client_keys = keys_seen(&seen, SpanKind::Client);
        for attr in HTTP_CLIENT.span_start {
            assert!(
                client_keys.iter().any(|k| k == attr.key),
                "client span start lacks {}: {client_keys:?}",
                attr.key
            );
        }
    }
}

#[cfg(feature = "grpc")]
mod grpc_layers {
    use otel_rpc::InstrumentationOptions;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use opentelemetry::trace::SpanKind;
    use opentelemetry_sdk::trace::Sampler;
    use otel_rpc::testing::{Conventions, RPC_CLIENT, RPC_SERVER, RPC_STATUS_CODE, Requirement};
    use otel_rpc::{GrpcClientLayer, GrpcServerLayer};
    use otel_testkit::{ExportedSpan, TestTelemetry};
    use tonic::{Request, Response, Status};
    use tower::ServiceBuilder;

    use super::{Capture, Seen, keys_seen};

    mod proto {
        // Generated from tests/proto/echo.proto by scripts/gen-protos.sh.
        include!("../gen/echo.rs");
    }

    use proto::echo_client::EchoClient;
    use proto::echo_server::{Echo, EchoServer};
    use proto::{EchoReply, EchoRequest};

    struct EchoService;

    type ReplyStream =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<EchoReply, Status>> + Send>>;

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

        async fn stream(&self, _: Request<EchoRequest>) -> Result<Response<ReplyStream>, Status> {
            Err(Status::unimplemented("not used here"))
        }
    }

    fn say(message: &str) -> EchoRequest {
        EchoRequest {
            message: message.to_owned(),
            count: 0,
        }
    }

    fn keys<'a>(list: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        list.into_iter().map(str::to_owned).collect()
    }

    fn required(list: &[otel_rpc::testing::Attr]) -> BTreeSet<String> {
        keys(
            list.iter()
                .filter(|a| a.requirement == Requirement::Required)
                .map(|a| a.key),
        )
    }

    /// Checks what the sampler saw for the first `conv.span_kind` span: only listed start keys,
    /// every required one and `rpc.method` (its condition, a known method, holds).
    fn check_sampler(seen: &Seen, conv: &Conventions) -> BTreeSet<String> {
        let at_start = keys(
            keys_seen(seen, conv.span_kind.clone())
                .iter()
                .map(String::as_str),
        );
        let listed = keys(conv.span_start.iter().map(|a| a.key));
        assert!(
            at_start.is_subset(&listed),
            "{:?}: unlisted start keys {:?}",
            conv.domain,
            at_start.difference(&listed)
        );
        for key in required(conv.span_start)
            .iter()
            .chain([&"rpc.method".to_owned()])
        {
            assert!(
                at_start.contains(key),
                "{:?}: {key} not given at start",
                conv.domain
            );
        }
        at_start
    }

    /// Checks an exported span: kind, name (`{rpc.method}`), scope schema URL, keys within the
    /// start and detail sets, required keys and the status code present.
    fn check_span(span: &ExportedSpan, conv: &Conventions) {
        assert_eq!(span.span_kind, conv.span_kind);
        assert_eq!(span.name, "echo.Echo/Say");
        let method = span
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "rpc.method")
            .map(|kv| kv.value.to_string());
        assert_eq!(
            method.as_deref(),
            Some("echo.Echo/Say"),
            "the name is rpc.method"
        );
        assert_eq!(
            span.instrumentation_scope.schema_url(),
            Some(conv.schema_url)
        );
        let listed = keys(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
        let exported = keys(span.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(
            exported.is_subset(&listed),
            "{:?}: unlisted span keys {:?}",
            conv.domain,
            exported.difference(&listed)
        );
        for key in required(conv.span_start)
            .iter()
            .chain([&RPC_STATUS_CODE.to_owned()])
        {
            assert!(
                exported.contains(key),
                "{:?}: span lacks {key}",
                conv.domain
            );
        }
    }

    /// Checks the duration metric: keys within the default (non-opt-in) set, required keys and
    /// the status code on every series; returns the series' key sets.
    fn check_metric(t: &TestTelemetry, conv: &Conventions) -> Vec<BTreeSet<String>> {
        let allowed = keys(conv.default_metric_keys());
        let points = t.histogram(conv.metric_name);
        assert!(!points.is_empty(), "no {} points", conv.metric_name);
        points
            .iter()
            .map(|p| {
                let k = keys(p.attributes.iter().map(|kv| kv.key.as_str()));
                assert!(
                    k.is_subset(&allowed),
                    "{}: {:?}",
                    conv.metric_name,
                    k.difference(&allowed)
                );
                for key in required(conv.metric)
                    .iter()
                    .chain([&RPC_STATUS_CODE.to_owned()])
                {
                    assert!(k.contains(key), "{}: lacks {key}", conv.metric_name);
                }
                k
            })
            .collect()
    }

    #[tokio::test]
    async fn grpc_spans_and_metrics_follow_the_rpc_conventions() {
        let seen: Seen = Arc::default();
        // Roots go to the capturing sampler: the server span of an untraced call and the client
        // spans of calls made with no current span.
        let t =
            TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Capture(Arc::clone(&seen)))));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let layer = GrpcServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            // Declared methods are known at span start (otherwise learned after a first answer).
            .methods(["echo.Echo/Say"])
            .build();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .layer(layer)
                .add_service(EchoServer::new(EchoService))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await
                .expect("serve");
        });
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        EchoClient::new(channel.clone())
            .say(say("untraced"))
            .await
            .expect("untraced call");
        let server_start = check_sampler(&seen, &RPC_SERVER);

        let traced = ServiceBuilder::new()
            .layer(
                GrpcClientLayer::builder()
                    .tracer_provider(t.tracer_provider.clone())
                    .meter_provider(t.meter_provider.clone())
                    // tonic's request URIs carry no authority: the address is configured.
                    .server("127.0.0.1", Some(addr.port()))
                    .build(),
            )
            .service(channel);
        let mut client = EchoClient::new(traced);
        client.say(say("hi")).await.expect("traced call");
        let code = client.say(say("not-found")).await.expect_err("not found");
        assert_eq!(code.code(), tonic::Code::NotFound);
        let client_start = check_sampler(&seen, &RPC_CLIENT);
        assert_eq!(
            client_start,
            keys(RPC_CLIENT.span_start.iter().map(|a| a.key)),
            "the client gives every start attribute (server.* as configured)"
        );
        assert!(server_start.contains("rpc.system.name"));

        let spans = t.spans_named("echo.Echo/Say");
        let (servers, clients): (Vec<_>, Vec<_>) =
            spans.iter().partition(|s| s.span_kind == SpanKind::Server);
        assert_eq!((servers.len(), clients.len()), (3, 2), "{spans:?}");
        for span in &servers {
            check_span(span, &RPC_SERVER);
        }
        for span in &clients {
            check_span(span, &RPC_CLIENT);
        }
        let failed = clients
            .iter()
            .find(|s| {
                s.attributes
                    .iter()
                    .any(|kv| kv.key.as_str() == "error.type")
            })
            .expect("the NOT_FOUND client span has error.type");
        assert_eq!(failed.status, opentelemetry::trace::Status::error(""));

        let server_series = check_metric(&t, &RPC_SERVER);
        assert_eq!(server_series.len(), 2, "OK and NOT_FOUND");
        let client_series = check_metric(&t, &RPC_CLIENT);
        assert_eq!(client_series.len(), 2, "OK and NOT_FOUND");
        assert!(
            client_series.iter().any(|k| k.contains("error.type")),
            "the client NOT_FOUND series carries error.type"
        );
    }
}
