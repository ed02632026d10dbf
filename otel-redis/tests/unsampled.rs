//! The unsampled fast path: under a parent the sampler drops, nothing is exported and no
//! query text is built (the only test of this binary, so the process-wide counter is ours).

#[path = "it/common/mod.rs"]
mod common;

use opentelemetry::context::FutureExt;
use opentelemetry_sdk::trace::Sampler;
use opentelemetry_semantic_conventions::attribute;
use otel_redis::testing::query_texts_built;
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};
use redis::AsyncCommands;

#[tokio::test]
async fn unsampled_parent_builds_no_query_text() {
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    let (_client, mut conn) = common::traced(&t).await;
    let key = unique_name("otel_redis_unsampled");
    let unsampled = otel_testkit::sampling::unsampled_remote_parent();

    let before = query_texts_built();
    async {
        for i in 0..20 {
            let () = conn.set(&key, i).await.unwrap();
        }
        let _: (i64, i64) = redis::pipe()
            .incr(&key, 1)
            .incr(&key, 1)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    .with_context(unsampled)
    .await;
    assert_eq!(
        query_texts_built(),
        before,
        "query text built for unsampled spans"
    );
    assert!(
        t.spans().is_empty(),
        "{}",
        otel_testkit::describe(&t.spans())
    );
    // Metrics do not depend on sampling.
    let points = t.histogram("db.client.operation.duration");
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 21);

    // Control: a sampled root builds exactly one text.
    let _: i64 = conn.del(&key).await.unwrap();
    assert_eq!(query_texts_built(), before + 1);
    t.span("DEL")
        .assert_attr(attribute::DB_QUERY_TEXT, format!("DEL {key}"));
}
