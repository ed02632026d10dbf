//! Pipelines for the Rust alternatives built on older OpenTelemetry versions, which cannot
//! report to the 0.33 providers of [`crate::pipeline`]: the mongodb driver's `opentelemetry`
//! feature (OpenTelemetry 0.31) and `sqlx-otel` (0.32). Each gets the same shape as ours: a
//! parent-based always-on sampler, a batch span processor feeding an exporter that counts and
//! drops, and (0.32) a meter provider whose periodic reader drops every collection.
//!
//! Their `Context` types are separate crates too: a 0.33 parent (our unsampled variant) is
//! invisible to them, so they are only measured sampled, as root spans.

/// Generates a span exporter that counts and drops, for one SDK version.
#[cfg(any(feature = "alt-mongodb", feature = "alt-sqlx-otel"))]
macro_rules! counting_exporter {
    ($sdk:ident) => {
        /// A span exporter that counts and drops.
        #[derive(Debug, Clone, Default)]
        pub struct NoopExporter {
            exported: std::sync::Arc<std::sync::atomic::AtomicU64>,
        }

        impl $sdk::trace::SpanExporter for NoopExporter {
            fn export(
                &self,
                batch: Vec<$sdk::trace::SpanData>,
            ) -> impl std::future::Future<Output = $sdk::error::OTelSdkResult> + Send {
                self.exported
                    .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
                std::future::ready(Ok(()))
            }
        }

        /// A tracer provider (batch -> [`NoopExporter`]) and the count of spans it exported.
        pub fn tracer_provider() -> (
            $sdk::trace::SdkTracerProvider,
            std::sync::Arc<std::sync::atomic::AtomicU64>,
        ) {
            let exporter = NoopExporter::default();
            let exported = std::sync::Arc::clone(&exporter.exported);
            let provider = $sdk::trace::SdkTracerProvider::builder()
                .with_sampler($sdk::trace::Sampler::ParentBased(Box::new(
                    $sdk::trace::Sampler::AlwaysOn,
                )))
                .with_span_processor($sdk::trace::BatchSpanProcessor::builder(exporter).build())
                .build();
            (provider, exported)
        }
    };
}

/// OpenTelemetry 0.31, for the mongodb driver's own instrumentation.
#[cfg(feature = "alt-mongodb")]
pub mod otel031 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, OnceLock};

    use opentelemetry_sdk_031 as sdk;

    counting_exporter!(sdk);

    static PIPELINE: OnceLock<(sdk::trace::SdkTracerProvider, Arc<AtomicU64>)> = OnceLock::new();

    /// The 0.31 tracer provider the driver reports to (built on first use).
    pub fn provider() -> sdk::trace::SdkTracerProvider {
        PIPELINE.get_or_init(tracer_provider).0.clone()
    }

    /// Spans the 0.31 exporter received so far.
    pub fn exported() -> u64 {
        PIPELINE.get().map_or(0, |(_, n)| n.load(Ordering::Relaxed))
    }
}

/// OpenTelemetry 0.32, for `sqlx-otel` (which reads the 0.32 global providers).
#[cfg(feature = "alt-sqlx-otel")]
pub mod otel032 {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use opentelemetry_032 as api;
    use opentelemetry_sdk_032 as sdk;
    use sdk::error::OTelSdkResult;
    use sdk::metrics::Temporality;
    use sdk::metrics::data::ResourceMetrics;
    use sdk::metrics::exporter::PushMetricExporter;

    counting_exporter!(sdk);

    /// A metric exporter that drops every collection (the aggregation still happens).
    #[derive(Debug, Clone, Copy)]
    struct NoopMetricExporter;

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

    static EXPORTED: OnceLock<Arc<AtomicU64>> = OnceLock::new();

    /// Installs the 0.32 tracer and meter providers as the 0.32 globals (once).
    pub fn install_globals() {
        EXPORTED.get_or_init(|| {
            let (provider, exported) = tracer_provider();
            api::global::set_tracer_provider(provider);
            let reader = sdk::metrics::PeriodicReader::builder(NoopMetricExporter)
                .with_interval(Duration::from_secs(10))
                .build();
            api::global::set_meter_provider(
                sdk::metrics::SdkMeterProvider::builder()
                    .with_reader(reader)
                    .build(),
            );
            exported
        });
    }

    /// Spans the 0.32 exporter received so far.
    pub fn exported() -> u64 {
        EXPORTED.get().map_or(0, |n| n.load(Ordering::Relaxed))
    }
}
