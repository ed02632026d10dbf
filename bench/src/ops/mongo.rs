//! MongoDB (FerretDB on loopback): `find_one` by `_id` and `insert_one`, one client per
//! variant on the same server: raw; raw with no-op event handlers (what the driver's event
//! design costs by itself: it builds owned command and reply documents, and the pool events,
//! only when a handler is registered); `otel_mongo::OtelCommandHandler`; the driver's own
//! `opentelemetry` feature. [`profile`] runs one variant's loop alone for callgrind (every
//! thread counted, see `bench/callgrind.sh`).

use std::future::IntoFuture;
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::options::ClientOptions;
use tracing::Instrument;

use otel_mongo::{OtelCommandHandler, TraceOperation as _};

use super::{Plan, check, with_parent};
use crate::measure::{Comparison, Variant, compare};
use crate::pipeline::Pipeline;

/// The variants measured in the same rounds beside raw and (a)-(c) ([`Variant::Alt`], in
/// this order: see [`Setup::of`]).
const ALTERNATIVES: &[&str] = &[
    "(e) raw client + a no-op command event handler (the driver builds the event documents)",
    "(f) raw client + no-op command and CMAP (pool) event handlers",
    #[cfg(feature = "alt-mongodb")]
    "(d) mongodb 3.9 driver's own `opentelemetry` feature (OTel 0.31, own pipeline; 2 spans, no metric, no query text)",
];

/// Documents inserted before the `find_one` loop.
const SEED_DOCS: i64 = 200;

/// How a variant's client is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// No handler.
    Raw,
    /// A command event handler that does nothing.
    NoopCommand,
    /// Command and CMAP event handlers that do nothing.
    NoopHandlers,
    /// `OtelCommandHandler::install` with the defaults.
    Otel,
    /// The driver's own `opentelemetry` feature.
    #[cfg(feature = "alt-mongodb")]
    Driver,
}

impl Setup {
    /// The client a comparison variant uses ((c) wraps the raw client in a `tracing` span).
    fn of(v: Variant) -> Self {
        match v {
            Variant::Raw | Variant::Tracing => Setup::Raw,
            Variant::Sampled | Variant::Unsampled => Setup::Otel,
            Variant::Alt(0) => Setup::NoopCommand,
            Variant::Alt(1) => Setup::NoopHandlers,
            #[cfg(feature = "alt-mongodb")]
            Variant::Alt(_) => Setup::Driver,
            #[cfg(not(feature = "alt-mongodb"))]
            Variant::Alt(_) => unreachable!("no such alternative"),
        }
    }

    /// The client options of this variant.
    fn options(self, mut options: ClientOptions, handler: &OtelCommandHandler) -> ClientOptions {
        match self {
            Setup::Raw => {}
            Setup::NoopCommand => {
                options.command_event_handler = Some(EventHandler::callback(|_| {}))
            }
            Setup::NoopHandlers => {
                options.command_event_handler = Some(EventHandler::callback(|_| {}));
                options.cmap_event_handler = Some(EventHandler::callback(|_| {}));
            }
            Setup::Otel => handler.install(&mut options),
            #[cfg(feature = "alt-mongodb")]
            Setup::Driver => {
                options.tracing = Some(
                    mongodb::otel::OpentelemetryOptions::builder()
                        .enabled(true)
                        .tracer_provider(crate::alt::otel031::provider())
                        .build(),
                )
            }
        }
        options
    }

    /// A collection named `name` in `test` on a client of this variant.
    async fn collection(
        self,
        uri: &str,
        handler: &OtelCommandHandler,
        name: &str,
        tweak: impl FnOnce(&mut ClientOptions),
    ) -> mongodb::error::Result<mongodb::Collection<Document>> {
        let mut options = ClientOptions::parse(uri).await?;
        tweak(&mut options);
        let client = mongodb::Client::with_options(self.options(options, handler))?;
        Ok(client.database("test").collection(name))
    }
}

/// The handler of the `otel-mongo` variants, on the bench pipeline (defaults otherwise).
fn otel_handler(p: &Pipeline) -> OtelCommandHandler {
    OtelCommandHandler::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build()
}

/// One client per [`Setup`], on collection `name`.
struct Collections {
    raw: mongodb::Collection<Document>,
    noop_command: mongodb::Collection<Document>,
    noop_handlers: mongodb::Collection<Document>,
    traced: mongodb::Collection<Document>,
    #[cfg(feature = "alt-mongodb")]
    driver: mongodb::Collection<Document>,
}

impl Collections {
    async fn new(
        uri: &str,
        handler: &OtelCommandHandler,
        name: &str,
    ) -> mongodb::error::Result<Self> {
        let at = async |s: Setup| s.collection(uri, handler, name, |_| {}).await;
        Ok(Collections {
            raw: at(Setup::Raw).await?,
            noop_command: at(Setup::NoopCommand).await?,
            noop_handlers: at(Setup::NoopHandlers).await?,
            traced: at(Setup::Otel).await?,
            #[cfg(feature = "alt-mongodb")]
            driver: at(Setup::Driver).await?,
        })
    }

    fn get(&self, s: Setup) -> &mongodb::Collection<Document> {
        match s {
            Setup::Raw => &self.raw,
            Setup::NoopCommand => &self.noop_command,
            Setup::NoopHandlers => &self.noop_handlers,
            Setup::Otel => &self.traced,
            #[cfg(feature = "alt-mongodb")]
            Setup::Driver => &self.driver,
        }
    }

    /// Every client's collection (connection set-up and handshakes before the rounds).
    fn all(&self) -> Vec<&mongodb::Collection<Document>> {
        let mut all = vec![
            &self.raw,
            &self.noop_command,
            &self.noop_handlers,
            &self.traced,
        ];
        #[cfg(feature = "alt-mongodb")]
        all.push(&self.driver);
        all
    }
}

/// The filter of the `i`th `find_one`.
fn by_id(i: i64) -> Document {
    doc! { "_id": i % SEED_DOCS }
}

/// The `i`th inserted document.
fn inserted(i: i64) -> Document {
    doc! { "name": "inserted", "qty": i }
}

/// Drops `c` and fills it with the documents `find_one` reads.
async fn seed(c: &mongodb::Collection<Document>) -> mongodb::error::Result<()> {
    c.drop().await?;
    let docs: Vec<Document> = (0..SEED_DOCS)
        .map(|i| doc! { "_id": i, "name": format!("name-{i}"), "qty": i })
        .collect();
    c.insert_many(docs).await?;
    Ok(())
}

/// The fields route (c) records, as the adapter's span has them.
macro_rules! tracing_span {
    ($op:literal) => {
        tracing::info_span!(
            concat!($op, " bench"),
            otel.kind = "client",
            db.system.name = "mongodb",
            db.namespace = "test",
            db.collection.name = "bench",
            db.operation.name = $op,
            db.query.summary = concat!($op, " bench"),
            server.address = "127.0.0.1",
            server.port = 27017,
        )
    };
}

/// `find_one` and `insert_one` comparisons, plus the handler's in-flight count after them.
pub async fn bench(
    p: &Pipeline,
    plan: Plan,
) -> mongodb::error::Result<(Vec<Comparison>, usize, OtelCommandHandler)> {
    let uri = otel_testkit::env::mongodb_uri();
    let handler = otel_handler(p);
    let name = format!("otel_bench_{}", std::process::id());
    let c = Collections::new(&uri, &handler, &name).await?;
    seed(&c.raw).await?;
    // Connection setup and handshakes out of the measured rounds.
    for coll in c.all() {
        coll.find_one(by_id(0)).await?;
    }

    // The same loop with the command handler alone and with opt-in operation spans (one more
    // span per call, the command span under it; the driver's feature records both levels).
    let traced_ops = otel_mongo::TracedCollection::new(c.traced.clone(), &handler);
    let mut finds = Vec::with_capacity(3);
    for (label, operation_spans) in [
        ("MongoDB find_one by _id", false),
        ("MongoDB find_one by _id, operation spans", true),
    ] {
        let find = compare(
            label,
            plan.rounds,
            plan.ops(300),
            ALTERNATIVES,
            async |v, n| {
                with_parent(v, async {
                    for i in 0..n as i64 {
                        let filter = by_id(i);
                        let found = match v {
                            Variant::Sampled | Variant::Unsampled if operation_spans => {
                                traced_ops.find_one(filter).traced(&traced_ops).await
                            }
                            Variant::Tracing => {
                                let span = tracing_span!("find");
                                c.raw.find_one(filter).into_future().instrument(span).await
                            }
                            v => c.get(Setup::of(v)).find_one(filter).await,
                        };
                        std::hint::black_box(check(found));
                    }
                })
                .await
            },
        )
        .await;
        finds.push(find);
    }

    let insert = compare(
        "MongoDB insert_one",
        plan.rounds,
        plan.ops(200),
        ALTERNATIVES,
        async |v, n| {
            with_parent(v, async {
                for i in 0..n as i64 {
                    let d = inserted(i);
                    let done = match v {
                        Variant::Tracing => {
                            let span = tracing_span!("insert");
                            c.raw.insert_one(d).into_future().instrument(span).await
                        }
                        v => c.get(Setup::of(v)).insert_one(d).await,
                    };
                    std::hint::black_box(check(done));
                }
            })
            .await
        },
    )
    .await;
    let in_flight = handler.in_flight();
    c.raw.drop().await?;
    finds.push(insert);
    Ok((finds, in_flight, handler))
}

/// One variant's loop of `n` real operations on its own client, for callgrind with every
/// thread counted (the driver's tasks run on this thread's runtime; the batch span
/// processors have threads of their own): `what` is `find-VARIANT` or `insert-VARIANT`, the
/// variant one of `raw`, `noop-command`, `noop-handlers`, `otel`, `otel-unsampled`, `driver`. The server monitor's heartbeat is set to an hour, so the counts
/// do not grow with the (valgrind-slowed) run time.
pub async fn profile(p: &Pipeline, what: &str, n: usize) -> Result<(), String> {
    let (op, variant) = what
        .split_once('-')
        .ok_or_else(|| format!("unknown profile mongo-real-{what}"))?;
    let (setup, unsampled) = match variant {
        "raw" => (Setup::Raw, false),
        "noop-command" => (Setup::NoopCommand, false),
        "noop-handlers" => (Setup::NoopHandlers, false),
        "otel" => (Setup::Otel, false),
        "otel-unsampled" => (Setup::Otel, true),
        #[cfg(feature = "alt-mongodb")]
        "driver" => (Setup::Driver, false),
        _ => return Err(format!("unknown profile mongo-real-{what}")),
    };
    let uri = otel_testkit::env::mongodb_uri();
    let handler = otel_handler(p);
    let run = async {
        let c = setup
            .collection(&uri, &handler, "otel_bench_profile", |o| {
                o.heartbeat_freq = Some(Duration::from_secs(3600));
            })
            .await?;
        seed(&c).await?;
        c.find_one(by_id(0)).await?;
        let v = if unsampled {
            Variant::Unsampled
        } else {
            Variant::Raw
        };
        with_parent(v, async {
            match op {
                "find" => {
                    for i in 0..n as i64 {
                        std::hint::black_box(c.find_one(by_id(i)).await?);
                    }
                }
                _ => {
                    for i in 0..n as i64 {
                        std::hint::black_box(c.insert_one(inserted(i)).await?);
                    }
                }
            }
            Ok::<_, mongodb::error::Error>(())
        })
        .await?;
        c.drop().await
    };
    if !matches!(op, "find" | "insert") {
        return Err(format!("unknown profile mongo-real-{what}"));
    }
    run.await.map_err(|e| e.to_string())
}
