//! Telemetry pipelines chosen by the standard `OTEL_*` environment variables.
//!
//! * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set: spans and
//!   metrics go to that OTLP endpoint through the batch span processor, over
//!   `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `grpc`).
//! * otherwise: each finished trace is printed as a [waterfall](crate::waterfall).
//!
//! `service.name` is the demo service's own name (`user`, `message`); `OTEL_SERVICE_NAME`, when
//! set, is recorded as `service.namespace` so several demo runs can be told apart, and
//! `OTEL_RESOURCE_ATTRIBUTES` is honoured.
//!
//! [`otlp_traces_to`] builds the same OTLP span pipeline for an explicit endpoint and service
//! namespace instead, ignoring the `OTEL_*` variables (tests running in parallel each use their
//! own).

use std::sync::Arc;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::waterfall::WaterfallSink;

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// OTLP over HTTP/protobuf.
    OtlpHttp,
    /// OTLP over gRPC.
    OtlpGrpc,
    /// The terminal waterfall.
    Waterfall,
}

impl Destination {
    /// Reads the `OTEL_*` variables.
    pub fn from_env() -> Self {
        let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.trim().is_empty());
        if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            return Destination::Waterfall;
        }
        let protocol = std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_default();
        if protocol.trim() == "grpc" {
            Destination::OtlpGrpc
        } else {
            Destination::OtlpHttp
        }
    }
}

/// The providers of one service. Shut them down (or drop them) to flush.
#[derive(Debug, Clone)]
pub struct ServiceTelemetry {
    /// Tracer provider for this service's spans.
    pub tracer_provider: SdkTracerProvider,
    /// Meter provider for this service's metrics.
    pub meter_provider: SdkMeterProvider,
}

impl ServiceTelemetry {
    /// Flushes and shuts both providers down.
    pub fn shutdown(&self) {
        let _ = self.tracer_provider.force_flush();
        let _ = self.tracer_provider.shutdown();
        let _ = self.meter_provider.shutdown();
    }
}

fn resource(service: &str) -> Resource {
    let namespace = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|ns| !ns.trim().is_empty());
    resource_in(service, namespace)
}

fn resource_in(service: &str, namespace: Option<String>) -> Resource {
    let mut builder = Resource::builder().with_service_name(service.to_string());
    if let Some(ns) = namespace {
        builder = builder.with_attribute(opentelemetry::KeyValue::new(
            opentelemetry_semantic_conventions::attribute::SERVICE_NAMESPACE,
            ns,
        ));
    }
    builder.build()
}

/// Builds the span pipeline of `service` exporting over OTLP to `endpoint`, through the batch
/// span processor, with `service.namespace` = `namespace`. The `OTEL_*` variables are not read
/// (the resource still honours `OTEL_RESOURCE_ATTRIBUTES`).
///
/// `endpoint` is the collector's base URL: `http://127.0.0.1:4318` for
/// [`Destination::OtlpHttp`] (spans go to `{endpoint}/v1/traces`), `http://127.0.0.1:4317`
/// for [`Destination::OtlpGrpc`]. Metrics are not exported (Jaeger stores traces only): the
/// meter provider has no reader. [`Destination::Waterfall`] is an error.
pub fn otlp_traces_to(
    service: &str,
    destination: &Destination,
    endpoint: &str,
    namespace: &str,
) -> Result<ServiceTelemetry, Box<dyn std::error::Error + Send + Sync>> {
    use opentelemetry_otlp::WithExportConfig as _;
    let endpoint = endpoint.trim_end_matches('/');
    let spans = match destination {
        Destination::OtlpHttp => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{endpoint}/v1/traces"))
            .build()?,
        Destination::OtlpGrpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?,
        Destination::Waterfall => return Err("otlp_traces_to needs an OTLP destination".into()),
    };
    let resource = resource_in(service, Some(namespace.to_string()));
    Ok(ServiceTelemetry {
        tracer_provider: SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(spans)
            .build(),
        meter_provider: SdkMeterProvider::builder().with_resource(resource).build(),
    })
}

/// Builds the pipelines of `service` for `destination`; waterfall output goes to `sink`.
pub fn service_telemetry(
    service: &str,
    destination: &Destination,
    sink: &Arc<WaterfallSink>,
) -> Result<ServiceTelemetry, Box<dyn std::error::Error + Send + Sync>> {
    let resource = resource(service);
    let tracer = SdkTracerProvider::builder().with_resource(resource.clone());
    let meter = SdkMeterProvider::builder().with_resource(resource);
    let (tracer_provider, meter_provider) = match destination {
        Destination::Waterfall => (
            tracer.with_simple_exporter(sink.exporter(service)).build(),
            meter.build(),
        ),
        Destination::OtlpHttp => {
            let spans = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .build()?;
            let metrics = opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .build()?;
            (
                tracer.with_batch_exporter(spans).build(),
                meter.with_periodic_exporter(metrics).build(),
            )
        }
        Destination::OtlpGrpc => {
            let spans = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .build()?;
            let metrics = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .build()?;
            (
                tracer.with_batch_exporter(spans).build(),
                meter.with_periodic_exporter(metrics).build(),
            )
        }
    };
    Ok(ServiceTelemetry {
        tracer_provider,
        meter_provider,
    })
}
