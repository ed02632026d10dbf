//! Connection pool metrics (`db.client.connection.*`) from the driver's CMAP events, against
//! FerretDB. Connections are held deterministically: a command event handler installed before
//! ours blocks the started event of the test's commands (the driver calls it inline, while the
//! operation holds its connection) until the test releases them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::command::CommandEvent;
use mongodb::options::ClientOptions;
use opentelemetry::Value;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use otel_mongo::InstrumentationOptions as _;
use otel_mongo::OtelCommandHandler;
use otel_testkit::{TestTelemetry, env};

use crate::common;

/// A meter provider whose collections the test reads, values included.
struct Metrics {
    provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

impl Metrics {
    fn new() -> Self {
        let exporter = InMemoryMetricExporter::default();
        let reader = PeriodicReader::builder(exporter.clone()).build();
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        Metrics { provider, exporter }
    }

    /// A collection made now (`None` when there was nothing to export).
    fn collect(&self) -> Option<ResourceMetrics> {
        self.exporter.reset();
        self.provider.force_flush().expect("flush");
        self.exporter.get_finished_metrics().expect("metrics").pop()
    }

    /// The value of sum or gauge `name` (the point with `db.client.connection.state` =
    /// `state` when given), or a histogram's count; every point carries the pool name.
    /// The names of the exported metrics.
    fn names(&self) -> Vec<String> {
        self.collect()
            .iter()
            .flat_map(|c| c.scope_metrics())
            .flat_map(|s| s.metrics())
            .map(|m| m.name().to_string())
            .collect()
    }

    fn value(&self, name: &str, state: Option<&str>) -> Option<f64> {
        let collected = self.collect()?;
        let metric = collected
            .scope_metrics()
            .flat_map(|s| s.metrics())
            .find(|m| m.name() == name)?;
        fn pick<T: Copy>(
            data: &MetricData<T>,
            state: Option<&str>,
            conv: fn(T) -> f64,
        ) -> Option<f64> {
            let matches = |attrs: Vec<&opentelemetry::KeyValue>| {
                assert!(
                    attrs
                        .iter()
                        .any(|kv| kv.key.as_str() == "db.client.connection.pool.name"),
                    "{attrs:?}"
                );
                let s = attrs
                    .iter()
                    .find(|kv| kv.key.as_str() == "db.client.connection.state")
                    .map(|kv| kv.value.clone());
                match state {
                    Some(want) => s == Some(Value::from(want.to_string())),
                    None => true,
                }
            };
            match data {
                MetricData::Sum(d) => d
                    .data_points()
                    .find(|p| matches(p.attributes().collect()))
                    .map(|p| conv(p.value())),
                MetricData::Gauge(d) => d
                    .data_points()
                    .find(|p| matches(p.attributes().collect()))
                    .map(|p| conv(p.value())),
                MetricData::Histogram(d) => d
                    .data_points()
                    .find(|p| matches(p.attributes().collect()))
                    .map(|p| p.count() as f64),
                MetricData::ExponentialHistogram(_) => None,
            }
        }
        match metric.data() {
            AggregatedMetrics::F64(d) => pick(d, state, |v| v),
            AggregatedMetrics::I64(d) => pick(d, state, |v| v as f64),
            AggregatedMetrics::U64(d) => pick(d, state, |v| v as f64),
        }
    }

    fn int(&self, name: &str, state: Option<&str>) -> i64 {
        self.value(name, state).unwrap_or(0.0) as i64
    }
}

/// Blocks the started events of commands on collection `held` while closed.
#[derive(Default)]
struct Gate {
    closed: Mutex<bool>,
    opened: Condvar,
    blocked: AtomicUsize,
}

impl Gate {
    fn close(&self) {
        *self.closed.lock().expect("gate") = true;
    }

    fn open(&self) {
        *self.closed.lock().expect("gate") = false;
        self.opened.notify_all();
    }

    fn pass(&self) {
        let mut closed = self.closed.lock().expect("gate");
        if *closed {
            self.blocked.fetch_add(1, Ordering::SeqCst);
            while *closed {
                closed = self.opened.wait(closed).expect("gate");
            }
        }
    }
}

#[derive(Default)]
struct PoolEventCounts {
    checkout_started: AtomicUsize,
    checked_out: AtomicUsize,
    checked_in: AtomicUsize,
}

struct Setup {
    metrics: Metrics,
    gate: Arc<Gate>,
    events: Arc<PoolEventCounts>,
    client: mongodb::Client,
    db_name: String,
}

async fn setup(max_pool_size: u32, grace: Duration) -> Setup {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let metrics = Metrics::new();
    let handler = OtelCommandHandler::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(metrics.provider.clone())
        .abandoned_checkout_after(grace)
        .build();
    let gate = Arc::new(Gate::default());
    let events = Arc::new(PoolEventCounts::default());
    let mut options = ClientOptions::parse(&uri).await.expect("uri");
    options.max_pool_size = Some(max_pool_size);
    let g = Arc::clone(&gate);
    options.command_event_handler = Some(EventHandler::callback(move |ev: CommandEvent| {
        if let CommandEvent::Started(s) = &ev
            && s.command.get_str("find").ok() == Some("held")
        {
            g.pass();
        }
    }));
    let e = Arc::clone(&events);
    options.cmap_event_handler = Some(EventHandler::callback(move |ev: CmapEvent| {
        let counter = match ev {
            CmapEvent::ConnectionCheckoutStarted(_) => &e.checkout_started,
            CmapEvent::ConnectionCheckedOut(_) => &e.checked_out,
            CmapEvent::ConnectionCheckedIn(_) => &e.checked_in,
            _ => return,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    handler.install(&mut options);
    let client = mongodb::Client::with_options(options).expect("client");
    Setup {
        metrics,
        gate,
        events,
        client,
        db_name: env::unique_name("otel_mongo_pool"),
    }
}

/// One `ping` through a client with `handler` installed, then the names of the metrics
/// `metrics` exported.
async fn ping_and_collect(
    uri: &str,
    handler: &OtelCommandHandler,
    metrics: &Metrics,
) -> Vec<String> {
    let _client = common::pinged_client(uri, handler).await;
    metrics.names()
}

/// Polls `cond` (a condition on driver events, not on time) for up to 10 s.
async fn until(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_holders_on_a_pool_of_two_show_used_pending_and_a_wait_per_checkout() {
    let s = setup(2, Duration::from_secs(10)).await;
    let db = s.client.database(&s.db_name);
    // The pool exists and is warm.
    db.run_command(doc! { "ping": 1 }).await.expect("ping");
    assert_eq!(s.metrics.int("db.client.connection.max", None), 2);
    assert_eq!(s.metrics.int("db.client.connection.idle.max", None), 2);
    assert_eq!(s.metrics.int("db.client.connection.idle.min", None), 0);

    s.gate.close();
    let mut holders = Vec::new();
    for _ in 0..5 {
        let coll = db.collection::<Document>("held");
        holders.push(tokio::spawn(async move { coll.find_one(doc! {}).await }));
    }
    let (gate, events) = (Arc::clone(&s.gate), Arc::clone(&s.events));
    until("2 holders and 3 waiters", move || {
        gate.blocked.load(Ordering::SeqCst) == 2
            && events.checkout_started.load(Ordering::SeqCst) >= 6
    })
    .await;
    let m = &s.metrics;
    assert_eq!(m.int("db.client.connection.count", Some("used")), 2);
    assert_eq!(m.int("db.client.connection.count", Some("idle")), 0);
    let pending = m.int("db.client.connection.pending_requests", None);
    assert_eq!(pending, 3, "three holders wait for a connection");

    s.gate.open();
    for h in holders {
        h.await.expect("task").expect("find");
    }
    // Check-ins are emitted by the pool's task after the operation returned.
    let events = Arc::clone(&s.events);
    until("every connection checked in", move || {
        events.checked_in.load(Ordering::SeqCst) == events.checked_out.load(Ordering::SeqCst)
    })
    .await;
    let checkouts = s.events.checked_out.load(Ordering::SeqCst);
    assert_eq!(checkouts, 6, "ping + 5 holders");
    assert_eq!(
        m.int("db.client.connection.wait_time", None),
        checkouts as i64
    );
    assert_eq!(
        m.int("db.client.connection.use_time", None),
        checkouts as i64
    );
    assert!(m.int("db.client.connection.create_time", None) >= 2);
    assert_eq!(m.int("db.client.connection.count", Some("used")), 0);
    assert_eq!(m.int("db.client.connection.count", Some("idle")), 2);
    assert_eq!(m.int("db.client.connection.pending_requests", None), 0);
    assert_eq!(m.int("db.client.connection.timeouts", None), 0);
}

/// The 3.x driver has no wait-queue timeout: a caller's own timeout drops the waiting
/// operation with no event. The next check-out served after the grace period finds it still
/// pending and counts it as a timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_abandoned_checkout_counts_as_a_timeout_and_leaves_pending() {
    let s = setup(1, Duration::from_millis(50)).await;
    let db = s.client.database(&s.db_name);
    db.run_command(doc! { "ping": 1 }).await.expect("ping");

    s.gate.close();
    let coll = db.collection::<Document>("held");
    let holder = tokio::spawn(async move { coll.find_one(doc! {}).await });
    let gate = Arc::clone(&s.gate);
    until("the holder", move || {
        gate.blocked.load(Ordering::SeqCst) == 1
    })
    .await;
    let waiter = tokio::time::timeout(
        Duration::from_millis(100),
        db.collection::<Document>("other").find_one(doc! {}),
    )
    .await;
    assert!(waiter.is_err(), "no connection for the waiter");
    let m = &s.metrics;
    assert_eq!(m.int("db.client.connection.pending_requests", None), 1);
    assert_eq!(m.int("db.client.connection.timeouts", None), 0);

    s.gate.open();
    holder.await.expect("task").expect("find");
    db.run_command(doc! { "ping": 1 })
        .await
        .expect("ping after");
    assert_eq!(m.int("db.client.connection.timeouts", None), 1);
    assert_eq!(m.int("db.client.connection.pending_requests", None), 0);
    let events = Arc::clone(&s.events);
    until("every connection checked in", move || {
        events.checked_in.load(Ordering::SeqCst) == events.checked_out.load(Ordering::SeqCst)
    })
    .await;
    assert_eq!(m.int("db.client.connection.count", Some("used")), 0);
    assert_eq!(m.int("db.client.connection.count", Some("idle")), 1);
}

/// `disable_metrics` turns the pool metrics off with the duration histogram (the same
/// provider records them when it is not called: see the tests above).
#[tokio::test]
async fn disable_metrics_records_no_pool_metrics() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let metrics = Metrics::new();
    let handler = OtelCommandHandler::builder()
        .meter_provider(metrics.provider.clone())
        .disable_metrics()
        .build();
    let names = ping_and_collect(&uri, &handler, &metrics).await;
    assert!(names.is_empty(), "{names:?}");
}

/// The meter provider given through the shared options trait (as generic setup code over any
/// `InstrumentationOptions` builder would) feeds the pool metrics too, not only the duration
/// histogram: one meter source per builder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_traits_meter_provider_feeds_the_pool_metrics() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let metrics = Metrics::new();
    let builder = OtelCommandHandler::builder()
        .tracer_provider(opentelemetry_sdk::trace::SdkTracerProvider::builder().build());
    let handler =
        otel_mongo::InstrumentationOptions::meter_provider(builder, metrics.provider.clone())
            .build();
    let names = ping_and_collect(&uri, &handler, &metrics).await;
    for name in ["db.client.operation.duration", "db.client.connection.count"] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }
}

/// One handler, two clients to one server: each client's pool has a connection 1, and their
/// counts add up under one pool name; a client shut down takes its counts out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_of_two_clients_add_up_and_leave_with_their_client() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let metrics = Metrics::new();
    let handler = OtelCommandHandler::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(metrics.provider.clone())
        .build();
    let mut clients = Vec::new();
    for _ in 0..2 {
        clients.push(common::pinged_client(&uri, &handler).await);
    }
    // The pool's task emits the check-in, maybe after the ping returned.
    until("one idle connection per client", || {
        metrics.int("db.client.connection.count", Some("idle")) == 2
    })
    .await;
    assert_eq!(metrics.int("db.client.connection.count", Some("used")), 0);
    let b = clients.pop().expect("b");
    b.shutdown().await;
    until("b's idle connection leaves the count", || {
        metrics.int("db.client.connection.count", Some("idle")) == 1
    })
    .await;
    // A's connection is still counted, and still used and checked in as before.
    clients[0]
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("ping after b shut down");
    until("a's connection idle again", || {
        metrics.int("db.client.connection.count", Some("idle")) == 1
            && metrics.int("db.client.connection.count", Some("used")) == 0
    })
    .await;
}
