//! Wiring of the demo: both services started on loopback, and the scripted series of requests
//! the demo sends through a traced HTTP client.

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;

use opentelemetry::trace::{FutureExt as _, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use otel_rpc::{HttpClientLayer, OtelMiddleware};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::message::{self, MessageStore};
use crate::telemetry::ServiceTelemetry;
use crate::user;

/// Boxed error of the demo's set-up.
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

/// Where the demo's stores are.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// sqlx SQLite URL (`DEMO_SQL_URL`, default `sqlite::memory:`).
    pub sql_url: String,
    /// Redis URL (`REDIS_URL`, default `redis://127.0.0.1:6379/`); `None` disables the cache.
    pub redis_url: Option<String>,
    /// MongoDB URI (`MONGODB_URI`, default `mongodb://127.0.0.1:27017/`); `None` keeps messages
    /// in memory.
    pub mongo_uri: Option<String>,
    /// MongoDB database of the `messages` collection.
    pub mongo_database: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

impl DemoConfig {
    /// From the environment, with loopback defaults.
    pub fn from_env() -> Self {
        DemoConfig {
            sql_url: env_or("DEMO_SQL_URL", "sqlite::memory:"),
            redis_url: Some(env_or("REDIS_URL", "redis://127.0.0.1:6379/")),
            mongo_uri: Some(env_or("MONGODB_URI", "mongodb://127.0.0.1:27017/")),
            mongo_database: env_or("DEMO_MONGO_DATABASE", "kratos_demo"),
        }
    }
}

/// Both services, running.
#[derive(Debug)]
pub struct RunningDemo {
    /// Address of the `user` HTTP service.
    pub user_addr: SocketAddr,
    /// Address of the `message` gRPC service.
    pub message_addr: SocketAddr,
    /// One line per store that could not be reached, with the command that starts it.
    pub missing: Vec<String>,
    /// Whether messages are stored in MongoDB.
    pub mongo: bool,
    /// Whether users are cached in Redis.
    pub redis: bool,
    stops: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningDemo {
    /// Stops both services and waits for them.
    pub async fn stop(self) {
        for s in self.stops {
            let _ = s.send(());
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts `message` then `user` on loopback ports, each reporting to its own telemetry.
pub async fn start(
    config: &DemoConfig,
    user_telemetry: &ServiceTelemetry,
    message_telemetry: &ServiceTelemetry,
) -> Result<RunningDemo, DemoError> {
    let mut missing = Vec::new();
    let store = match &config.mongo_uri {
        Some(uri) => {
            match message::connect_mongo(uri, &config.mongo_database, message_telemetry).await {
                Ok(c) => MessageStore::Mongo(c),
                Err(e) => {
                    missing.push(format!(
                    "MongoDB not reachable at {uri} ({}): messages are kept in memory. Start it with `scripts/services.sh up`.",
                    first_line(&e.to_string())
                ));
                    MessageStore::Memory(Default::default())
                }
            }
        }
        None => MessageStore::Memory(Default::default()),
    };
    let mongo = matches!(store, MessageStore::Mongo(_));
    let (listener, message_addr) = message::bind_loopback().await?;
    let (stop_message, stopped) = oneshot::channel::<()>();
    let telemetry = message_telemetry.clone();
    let message_task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = message::serve(listener, store, &telemetry, shutdown).await {
            eprintln!("message service stopped: {e}");
        }
    });

    let db = user::open_database(&config.sql_url, user_telemetry).await?;
    let cache = match &config.redis_url {
        Some(url) => match user::connect_cache(url, user_telemetry).await {
            Ok(c) => Some(c),
            Err(e) => {
                missing.push(format!(
                    "Redis not reachable at {url} ({}): users are not cached. Start it with `scripts/services.sh up`.",
                    first_line(&e.to_string())
                ));
                None
            }
        },
        None => None,
    };
    let redis = cache.is_some();
    let messages = user::connect_messages(message_addr, user_telemetry).await?;
    let app = user::router(user::UserState::new(db, cache, messages), user_telemetry);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let user_addr = listener.local_addr()?;
    let (stop_user, stopped) = oneshot::channel::<()>();
    let user_task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await;
        if let Err(e) = served {
            eprintln!("user service stopped: {e}");
        }
    });
    Ok(RunningDemo {
        user_addr,
        message_addr,
        missing,
        mongo,
        redis,
        stops: vec![stop_user, stop_message],
        tasks: vec![user_task, message_task],
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect()
}

/// One scripted request and what came back.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// What the step does.
    pub title: String,
    /// HTTP status, or 0 when the request failed.
    pub status: u16,
    /// Response body.
    pub body: String,
}

/// A traced HTTP client for the demo's `client` service.
pub fn http_client(telemetry: &ServiceTelemetry) -> reqwest_middleware::ClientWithMiddleware {
    let layer = HttpClientLayer::builder()
        .tracer_provider(telemetry.tracer_provider.clone())
        .meter_provider(telemetry.meter_provider.clone())
        .service_name("client")
        .build();
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(OtelMiddleware::from(layer))
        .build()
}

/// Sends one request inside an INTERNAL root span named `title`, so the whole exchange
/// (client, both services, all stores) is one trace.
pub async fn step(
    telemetry: &ServiceTelemetry,
    title: &str,
    request: reqwest_middleware::RequestBuilder,
) -> StepResult {
    let tracer = telemetry.tracer_provider.tracer("kratos-demo");
    let span = tracer
        .span_builder(title.to_string())
        .with_kind(opentelemetry::trace::SpanKind::Internal)
        .start(&tracer);
    let cx = Context::new().with_span(span);
    let result = async {
        match request.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                (status, body)
            }
            Err(e) => (0, e.to_string()),
        }
    }
    .with_context(cx.clone())
    .await;
    cx.span()
        .set_attribute(KeyValue::new("demo.step.status", i64::from(result.0)));
    cx.span().end();
    StepResult {
        title: title.to_string(),
        status: result.0,
        body: result.1,
    }
}

/// The scripted series: create a user, read it (from the cache), post and list messages, then
/// two error paths (an unknown user, an empty message). `on_step` sees each result as soon as
/// its trace has ended.
pub async fn run_script(
    base: &str,
    telemetry: &ServiceTelemetry,
    mut on_step: impl FnMut(&StepResult),
) -> Vec<StepResult> {
    let client = http_client(telemetry);
    let mut results = Vec::new();
    let mut push = |r: StepResult, results: &mut Vec<StepResult>| {
        on_step(&r);
        results.push(r);
    };
    let email = format!("ada.{}@example.com", std::process::id());
    let created = step(
        telemetry,
        "create user",
        client
            .post(format!("{base}/users"))
            .json(&serde_json::json!({ "name": "Ada", "email": email })),
    )
    .await;
    let id = serde_json::from_str::<serde_json::Value>(&created.body)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_i64()))
        .unwrap_or(1);
    push(created, &mut results);
    let r = step(
        telemetry,
        "get user",
        client.get(format!("{base}/users/{id}")),
    )
    .await;
    push(r, &mut results);
    push(
        step(
            telemetry,
            "post message",
            client
                .post(format!("{base}/users/{id}/messages"))
                .json(&serde_json::json!({ "text": "hello from the kratos demo" })),
        )
        .await,
        &mut results,
    );
    let r = step(
        telemetry,
        "list messages",
        client.get(format!("{base}/users/{id}/messages")),
    )
    .await;
    push(r, &mut results);
    push(
        step(
            telemetry,
            "post message for an unknown user",
            client
                .post(format!("{base}/users/999999/messages"))
                .json(&serde_json::json!({ "text": "anyone there?" })),
        )
        .await,
        &mut results,
    );
    push(
        step(
            telemetry,
            "post an empty message",
            client
                .post(format!("{base}/users/{id}/messages"))
                .json(&serde_json::json!({ "text": "   " })),
        )
        .await,
        &mut results,
    );
    results
}
