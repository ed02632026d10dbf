//! The SDK pipeline every instrumented variant reports to: a batch span processor feeding an
//! exporter that drops everything, and a meter provider with a periodic reader (every 10 s) whose
//! exporter drops: metrics are aggregated exactly as in production, just never sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
};
use tracing_subscriber::layer::SubscriberExt;

/// A span exporter that counts and drops.
#[derive(Debug, Clone, Default)]
pub struct NoopExporter {
    exported: Arc<AtomicU64>,
}

impl SpanExporter for NoopExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.exported
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(batch);
        std::future::ready(Ok(()))
    }
}

/// A metric exporter that drops every collection (the aggregation still happens).
#[derive(Debug, Clone, Copy)]
pub struct NoopMetricExporter;

impl PushMetricExporter for NoopMetricExporter {
    fn export(
        &self,
        _metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(Ok(()))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// The providers shared by every instrumented variant.
pub struct Pipeline {
    /// Batch span processor -> [`NoopExporter`], parent-based always-on sampler.
    pub tracer_provider: SdkTracerProvider,
    /// Meter provider with a periodic reader feeding [`NoopMetricExporter`].
    pub meter_provider: SdkMeterProvider,
    exported: Arc<AtomicU64>,
}

impl Pipeline {
    /// Builds the providers and installs the `tracing` -> OpenTelemetry bridge (route (c)) as
    /// the global `tracing` subscriber, on the same tracer provider.
    pub fn install() -> Self {
        let exporter = NoopExporter::default();
        let exported = Arc::clone(&exporter.exported);
        let tracer_provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .with_span_processor(BatchSpanProcessor::builder(exporter).build())
            .build();
        let reader = PeriodicReader::builder(NoopMetricExporter)
            .with_interval(Duration::from_secs(10))
            .build();
        let meter_provider = SdkMeterProvider::builder().with_reader(reader).build();
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer_provider.tracer("tracing-opentelemetry-route"));
        // As any real deployment: INFO and above. Without a level filter the trace-level spans
        // of h2, hyper and tower would all be exported too, slowing down every variant.
        let subscriber = tracing_subscriber::registry()
            .with(layer)
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("warning: a global tracing subscriber was already set");
        }
        // As a production application: the same providers and W3C TraceContext + Baggage as
        // the globals. The adapters are given the providers explicitly and resolve the global
        // propagator (their default); the floor and the alternatives read the globals.
        opentelemetry::global::set_tracer_provider(tracer_provider.clone());
        opentelemetry::global::set_meter_provider(meter_provider.clone());
        opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]));
        Pipeline {
            tracer_provider,
            meter_provider,
            exported,
        }
    }

    /// Spans the exporter received (and dropped) so far.
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }
}

/// A context whose (remote) parent span is not sampled: with the parent-based sampler every
/// span started under it is dropped, the fast path of variant (b).
pub fn unsampled_parent() -> Context {
    let sc = SpanContext::new(
        TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128),
        SpanId::from(0xb7ad6b7169203331_u64),
        TraceFlags::default(),
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(sc)
}
