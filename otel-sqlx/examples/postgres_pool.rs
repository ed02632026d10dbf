//! A traced sqlx `PgPool`: a query, a transaction, and a unique violation classified as
//! expected.
//!
//! ```text
//! scripts/services.sh up postgres
//! cargo run -p otel-sqlx --example postgres_pool --features postgres
//! ```
//!
//! Reads `POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and prints the spans
//! it recorded. An application would hand the providers an OTLP exporter; the SDK's in-memory
//! exporter keeps this example self-contained.

#[cfg(feature = "postgres")]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    example::run().await
}

#[cfg(not(feature = "postgres"))]
fn main() {
    eprintln!(
        "this example needs the `postgres` feature: \
         cargo run -p otel-sqlx --example postgres_pool --features postgres"
    );
    std::process::exit(2);
}

#[cfg(feature = "postgres")]
mod example {
    use std::time::Duration;

    use opentelemetry::trace::{SpanId, Status};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    use otel_rpc::{Observed, Verdict};
    use otel_sqlx::{InstrumentationOptions, TracedPool};

    pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
        let url = std::env::var("POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();

        let connect = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(3)) // fail fast when it is down
            .connect(&url);
        let pool = match connect.await {
            Ok(pool) => pool,
            Err(e) => {
                eprintln!("cannot reach PostgreSQL at {url}: {e}");
                eprintln!("start the test services with: scripts/services.sh up");
                std::process::exit(1);
            }
        };

        // Wrap the pool once. A duplicate key (SQLSTATE 23505) is an answer this application
        // expects, not an error: its span keeps `db.response.status_code` and stays Unset.
        let pool = TracedPool::builder(pool)
            .tracer_provider(tracer_provider.clone())
            .disable_metrics()
            .classify(|o| match o {
                Observed::Db {
                    status_code: Some("23505"),
                    ..
                } => Some(Verdict::NotError),
                _ => None,
            })
            .build();

        // Unchanged sqlx code from here on: `&pool` and `&mut tx` are executors.
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS otel_sqlx_example (id INT PRIMARY KEY, name TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        sqlx::query("DELETE FROM otel_sqlx_example")
            .execute(&pool)
            .await?;

        let mut tx = pool.begin().await?; // span BEGIN
        sqlx::query("INSERT INTO otel_sqlx_example (id, name) VALUES ($1, $2)")
            .bind(1)
            .bind("alice")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?; // span COMMIT

        let name: String = sqlx::query_scalar("SELECT name FROM otel_sqlx_example WHERE id = $1")
            .bind(1)
            .fetch_one(&pool)
            .await?;
        println!("read back {name:?}");

        let duplicate = sqlx::query("INSERT INTO otel_sqlx_example (id, name) VALUES ($1, $2)")
            .bind(1)
            .bind("bob")
            .execute(&pool)
            .await;
        match duplicate {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23505") => {
                println!("duplicate key rejected, as expected (23505)");
            }
            other => return Err(format!("expected a unique violation, got {other:?}").into()),
        }

        sqlx::query("DROP TABLE otel_sqlx_example")
            .execute(&pool)
            .await?;
        pool.close().await;

        println!();
        print_spans(&spans.get_finished_spans()?);
        tracer_provider.shutdown()?;
        Ok(())
    }

    /// Prints each span (kind, name, status, attributes, events), children under their parent.
    fn print_spans(spans: &[SpanData]) {
        let known = |id: SpanId| spans.iter().any(|s| s.span_context.span_id() == id);
        let mut roots: Vec<&SpanData> = spans.iter().filter(|s| !known(s.parent_span_id)).collect();
        roots.sort_by_key(|s| s.start_time);
        for span in roots {
            print_tree(spans, span, 0);
        }
    }

    fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
        let pad = "  ".repeat(depth);
        println!(
            "{pad}{:?} {:?} status={}",
            span.span_kind,
            span.name,
            match &span.status {
                Status::Unset => "Unset".into(),
                Status::Ok => "Ok".into(),
                Status::Error { description } if description.is_empty() => "Error".into(),
                Status::Error { description } => format!("Error({description:?})"),
            }
        );
        for kv in &span.attributes {
            println!("{pad}    {} = {}", kv.key, kv.value);
        }
        for event in span.events.iter() {
            println!("{pad}    event {}", event.name);
        }
        let mut children: Vec<&SpanData> = spans
            .iter()
            .filter(|s| s.parent_span_id == span.span_context.span_id())
            .collect();
        children.sort_by_key(|s| s.start_time);
        for child in children {
            print_tree(spans, child, depth + 1);
        }
    }
}
