//! MongoDB (FerretDB on loopback): `find_one` by `_id` and `insert_one`, raw on a plain client
//! and on a client with `otel_mongo::OtelCommandHandler` installed (two clients, same server).

use std::future::IntoFuture;

use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use tracing::Instrument;

use otel_mongo::TraceOperation as _;

use super::{Plan, check, with_parent};
use crate::measure::{Comparison, Variant, compare};
use crate::pipeline::Pipeline;

/// The Rust alternatives measured in the same rounds ([`Variant::Alt`]).
#[cfg(feature = "alt-mongodb")]
const ALTERNATIVES: &[&str] = &[
    "(d) mongodb 3.9 driver's own `opentelemetry` feature (OTel 0.31, own pipeline; 2 spans, no metric, no query text)",
];
#[cfg(not(feature = "alt-mongodb"))]
const ALTERNATIVES: &[&str] = &[];

/// Documents inserted before the `find_one` loop.
const SEED_DOCS: i64 = 200;

/// `find_one` and `insert_one` comparisons, plus the handler's in-flight count after them.
pub async fn bench(
    p: &Pipeline,
    plan: Plan,
) -> mongodb::error::Result<(Vec<Comparison>, usize, otel_mongo::OtelCommandHandler)> {
    let uri = otel_testkit::env::mongodb_uri();
    let raw_client = mongodb::Client::with_options(ClientOptions::parse(&uri).await?)?;
    let mut options = ClientOptions::parse(&uri).await?;
    let handler = otel_mongo::OtelCommandHandler::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build();
    handler.install(&mut options);
    let traced_client = mongodb::Client::with_options(options)?;
    #[cfg(feature = "alt-mongodb")]
    let driver_otel_client = {
        let mut options = ClientOptions::parse(&uri).await?;
        options.tracing = Some(
            mongodb::otel::OpentelemetryOptions::builder()
                .enabled(true)
                .tracer_provider(crate::alt::otel031::provider())
                .build(),
        );
        mongodb::Client::with_options(options)?
    };

    let name = format!("otel_bench_{}", std::process::id());
    let raw = raw_client.database("test").collection::<Document>(&name);
    let traced = traced_client.database("test").collection::<Document>(&name);
    #[cfg(feature = "alt-mongodb")]
    let driver_otel = driver_otel_client
        .database("test")
        .collection::<Document>(&name);
    raw.drop().await?;
    let seed: Vec<Document> = (0..SEED_DOCS)
        .map(|i| doc! { "_id": i, "name": format!("name-{i}"), "qty": i })
        .collect();
    raw.insert_many(seed).await?;
    // Connection setup and handshakes out of the measured rounds.
    raw.find_one(doc! { "_id": 0_i64 }).await?;
    traced.find_one(doc! { "_id": 0_i64 }).await?;
    #[cfg(feature = "alt-mongodb")]
    driver_otel.find_one(doc! { "_id": 0_i64 }).await?;

    // The same loop with the command handler alone and with opt-in operation spans (one more
    // span per call, the command span under it; the driver's feature records both levels).
    let traced_ops = otel_mongo::TracedCollection::new(traced.clone(), &handler);
    let mut finds = Vec::with_capacity(2);
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
                        let filter = doc! { "_id": i % SEED_DOCS };
                        let found = match v {
                            Variant::Raw => raw.find_one(filter).await,
                            Variant::Sampled | Variant::Unsampled if operation_spans => {
                                traced_ops.find_one(filter).traced(&traced_ops).await
                            }
                            Variant::Sampled | Variant::Unsampled => traced.find_one(filter).await,
                            #[cfg(feature = "alt-mongodb")]
                            Variant::Alt(_) => driver_otel.find_one(filter).await,
                            #[cfg(not(feature = "alt-mongodb"))]
                            Variant::Alt(_) => unreachable!("no alternative configured"),
                            Variant::Tracing => {
                                let span = tracing::info_span!(
                                    "find bench",
                                    otel.kind = "client",
                                    db.system.name = "mongodb",
                                    db.namespace = "test",
                                    db.collection.name = "bench",
                                    db.operation.name = "find",
                                    db.query.summary = "find bench",
                                    server.address = "127.0.0.1",
                                    server.port = 27017,
                                );
                                raw.find_one(filter).into_future().instrument(span).await
                            }
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
                    let d = doc! { "name": "inserted", "qty": i };
                    let done = match v {
                        Variant::Raw => raw.insert_one(d).await,
                        Variant::Sampled | Variant::Unsampled => traced.insert_one(d).await,
                        #[cfg(feature = "alt-mongodb")]
                        Variant::Alt(_) => driver_otel.insert_one(d).await,
                        #[cfg(not(feature = "alt-mongodb"))]
                        Variant::Alt(_) => unreachable!("no alternative configured"),
                        Variant::Tracing => {
                            let span = tracing::info_span!(
                                "insert bench",
                                otel.kind = "client",
                                db.system.name = "mongodb",
                                db.namespace = "test",
                                db.collection.name = "bench",
                                db.operation.name = "insert",
                                db.query.summary = "insert bench",
                                server.address = "127.0.0.1",
                                server.port = 27017,
                            );
                            raw.insert_one(d).into_future().instrument(span).await
                        }
                    };
                    std::hint::black_box(check(done));
                }
            })
            .await
        },
    )
    .await;
    let in_flight = handler.in_flight();
    raw.drop().await?;
    finds.push(insert);
    Ok((finds, in_flight, handler))
}
