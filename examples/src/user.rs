//! The `user` service: HTTP (axum) behind the HTTP server layer. Users live in SQL through
//! `otel-sqlx`, are cached in Redis through `otel-redis` (when reachable), and their messages
//! go to the `message` service through the gRPC client layer.

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use otel_redis::TracedConnection;
use otel_rpc::HttpServerLayer;
use otel_rpc::{GrpcClientLayer, GrpcClientService};
use otel_sqlx::TracedPool;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sqlx::Sqlite;
use tonic::transport::Channel;
use tower::ServiceBuilder;

use crate::proto::messages_client::MessagesClient;
use crate::proto::{ListRequest, PostRequest};
use crate::telemetry::ServiceTelemetry;

/// Seconds a cached user stays in Redis.
pub const CACHE_TTL_SECS: u64 = 300;

/// A user as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// E-mail address (unique).
    pub email: String,
}

/// Body of `POST /users`.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewUser {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// Body of `POST /users/{id}/messages`.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewMessage {
    /// Message text.
    pub text: String,
}

/// A message as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageView {
    /// Id.
    pub id: String,
    /// Text.
    pub text: String,
    /// Creation time, ms since the Unix epoch.
    pub created_unix_ms: i64,
}

type MessageClient = MessagesClient<GrpcClientService<Channel>>;

/// Everything the handlers use.
#[derive(Clone)]
pub struct UserState {
    db: TracedPool<Sqlite>,
    cache: Option<TracedConnection<redis::aio::MultiplexedConnection>>,
    messages: MessageClient,
}

impl std::fmt::Debug for UserState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserState")
            .field("cache", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

/// Opens the SQL store (`sqlite::memory:` by default) traced with `telemetry` and creates the
/// schema (untraced: it is set-up, not a request).
pub async fn open_database(
    url: &str,
    telemetry: &ServiceTelemetry,
) -> Result<TracedPool<Sqlite>, sqlx::Error> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            email TEXT NOT NULL UNIQUE
        )",
    )
    .execute(&pool)
    .await?;
    Ok(TracedPool::builder(pool)
        .tracer_provider(telemetry.tracer_provider.clone())
        .meter_provider(telemetry.meter_provider.clone())
        .build())
}

/// Connects to Redis at `url` (2 s timeout) traced with `telemetry`.
pub async fn connect_cache(
    url: &str,
    telemetry: &ServiceTelemetry,
) -> Result<TracedConnection<redis::aio::MultiplexedConnection>, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(std::time::Duration::from_secs(2)));
    let conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    // Probe untraced, so an unreachable or misconfigured server is reported at start-up.
    let mut probe = conn.clone();
    redis::cmd("PING").query_async::<String>(&mut probe).await?;
    Ok(TracedConnection::builder(&client)
        .tracer_provider(telemetry.tracer_provider.clone())
        .meter_provider(telemetry.meter_provider.clone())
        .build(conn))
}

/// A client of the message service at `addr`, through the gRPC client layer.
pub async fn connect_messages(
    addr: SocketAddr,
    telemetry: &ServiceTelemetry,
) -> Result<MessageClient, tonic::transport::Error> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let channel = ServiceBuilder::new()
        .layer(
            GrpcClientLayer::builder()
                .tracer_provider(telemetry.tracer_provider.clone())
                .meter_provider(telemetry.meter_provider.clone())
                .server(addr.ip().to_string(), Some(addr.port()))
                .service_name("user")
                .build(),
        )
        .service(channel);
    Ok(MessagesClient::new(channel))
}

impl UserState {
    /// The state of the service.
    pub fn new(
        db: TracedPool<Sqlite>,
        cache: Option<TracedConnection<redis::aio::MultiplexedConnection>>,
        messages: MessageClient,
    ) -> Self {
        UserState {
            db,
            cache,
            messages,
        }
    }

    async fn cached(&self, id: i64) -> Option<User> {
        let mut cache = self.cache.clone()?;
        let raw: Option<String> = cache.get(cache_key(id)).await.ok()?;
        raw.and_then(|s| serde_json::from_str(&s).ok())
    }

    async fn remember(&self, user: &User) {
        if let Some(mut cache) = self.cache.clone()
            && let Ok(json) = serde_json::to_string(user)
        {
            // A cache failure must not fail the request; its span records the error.
            let _: Result<(), _> = cache.set_ex(cache_key(user.id), json, CACHE_TTL_SECS).await;
        }
    }

    async fn load(&self, id: i64) -> Result<Option<User>, ApiError> {
        if let Some(user) = self.cached(id).await {
            return Ok(Some(user));
        }
        let user: Option<User> = sqlx::query_as("SELECT id, name, email FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.db)
            .await?;
        if let Some(u) = &user {
            self.remember(u).await;
        }
        Ok(user)
    }
}

fn cache_key(id: i64) -> String {
    format!("user:{id}")
}

/// The routes, behind the HTTP server layer of `telemetry`.
pub fn router(state: UserState, telemetry: &ServiceTelemetry) -> Router {
    Router::new()
        .route("/users", post(create_user))
        .route("/users/{id}", get(get_user))
        .route(
            "/users/{id}/messages",
            post(post_message).get(list_messages),
        )
        .with_state(Arc::new(state))
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(telemetry.tracer_provider.clone())
                .meter_provider(telemetry.meter_provider.clone())
                .build(),
        )
}

/// An error answer: status + message.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error()
            && db.is_unique_violation()
        {
            return ApiError(StatusCode::CONFLICT, "email already registered".into());
        }
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("database: {e}"))
    }
}

impl From<tonic::Status> for ApiError {
    fn from(s: tonic::Status) -> Self {
        let status = match s.code() {
            tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
            tonic::Code::NotFound => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_GATEWAY,
        };
        ApiError(status, format!("message service: {}", s.message()))
    }
}

type Shared = State<Arc<UserState>>;

async fn create_user(
    State(s): Shared,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let name = new.name.trim();
    let email = new.email.trim();
    if name.is_empty() || !email.contains('@') {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "name and a valid email are required".into(),
        ));
    }
    let user: User =
        sqlx::query_as("INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email")
            .bind(name)
            .bind(email)
            .fetch_one(&s.db)
            .await?;
    s.remember(&user).await;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn get_user(State(s): Shared, Path(id): Path<i64>) -> Result<Json<User>, ApiError> {
    s.load(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no user {id}")))
}

async fn post_message(
    State(s): Shared,
    Path(id): Path<i64>,
    Json(msg): Json<NewMessage>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if s.load(id).await?.is_none() {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no user {id}")));
    }
    let reply = s
        .messages
        .clone()
        .post(PostRequest {
            user_id: id,
            text: msg.text,
        })
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": reply.id })),
    ))
}

async fn list_messages(
    State(s): Shared,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    if s.load(id).await?.is_none() {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no user {id}")));
    }
    let reply = s
        .messages
        .clone()
        .list(ListRequest {
            user_id: id,
            limit: 20,
        })
        .await?
        .into_inner();
    Ok(Json(
        reply
            .messages
            .into_iter()
            .map(|m| MessageView {
                id: m.id,
                text: m.text,
                created_unix_ms: m.created_unix_ms,
            })
            .collect(),
    ))
}
