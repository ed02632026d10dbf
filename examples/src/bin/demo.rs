//! The kratos traces demo in Rust: starts `message` (gRPC + MongoDB) and `user` (HTTP + SQL +
//! Redis) on loopback, sends a scripted series of requests through a traced client, prints
//! each trace as a waterfall (or exports over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set),
//! and exits.
//!
//! ```sh
//! cargo run -p examples --bin demo
//! ```

use examples::demo::{self, DemoConfig};
use examples::telemetry::{Destination, service_telemetry};
use examples::waterfall::WaterfallSink;

#[tokio::main]
async fn main() -> Result<(), demo::DemoError> {
    let destination = Destination::from_env();
    let sink = WaterfallSink::stdout();
    let client = service_telemetry("client", &destination, &sink)?;
    let user = service_telemetry("user", &destination, &sink)?;
    let message = service_telemetry("message", &destination, &sink)?;

    let config = DemoConfig::from_env();
    let running = demo::start(&config, &user, &message).await?;
    for line in &running.missing {
        println!("note: {line}");
    }
    println!(
        "user (HTTP) on {}, message (gRPC) on {}; SQL: {}; cache: {}; messages: {}",
        running.user_addr,
        running.message_addr,
        config.sql_url,
        if running.redis { "Redis" } else { "none" },
        if running.mongo { "MongoDB" } else { "memory" },
    );
    match destination {
        Destination::Waterfall => println!("each trace is printed below as a waterfall\n"),
        ref other => println!("exporting over OTLP ({other:?})\n"),
    }

    let base = format!("http://{}", running.user_addr);
    let results = demo::run_script(&base, &client, |r| {
        println!("<== {}: HTTP {} {}\n", r.title, r.status, r.body);
    })
    .await;
    let failed = results.iter().filter(|r| r.status == 0).count();
    running.stop().await;
    for t in [&client, &user, &message] {
        t.shutdown();
    }
    sink.flush_pending();
    if failed > 0 {
        return Err(format!("{failed} demo request(s) failed").into());
    }
    Ok(())
}
