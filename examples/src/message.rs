//! The `message` service: gRPC (tonic) behind the gRPC server layer, messages stored in
//! MongoDB through `otel-mongo` (or in memory when MongoDB is not reachable).

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mongodb::bson::{Document, doc, oid::ObjectId};
use mongodb::options::{ClientOptions, FindOptions};
use otel_mongo::OtelCommandHandler;
use otel_rpc::GrpcServerLayer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use crate::proto::messages_server::{Messages, MessagesServer};
use crate::proto::{ListReply, ListRequest, Message, PostReply, PostRequest};
use crate::telemetry::ServiceTelemetry;

/// Longest message text accepted.
pub const MAX_TEXT_LEN: usize = 280;
/// Most messages a `List` returns.
pub const MAX_LIST: u32 = 50;

/// Where messages live.
pub enum MessageStore {
    /// A MongoDB collection (traced by the handler installed on its client).
    Mongo(mongodb::Collection<Document>),
    /// Process memory, when MongoDB is not reachable.
    Memory(Mutex<Vec<Message>>),
}

impl std::fmt::Debug for MessageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageStore::Mongo(c) => write!(f, "Mongo({})", c.namespace()),
            MessageStore::Memory(_) => f.write_str("Memory"),
        }
    }
}

/// Connects to MongoDB at `uri` with the `otel-mongo` handler of `telemetry` installed and
/// returns the `messages` collection of `database`. Fails fast (2 s) when nothing answers,
/// probing with an untraced client so the probe leaves no span.
pub async fn connect_mongo(
    uri: &str,
    database: &str,
    telemetry: &ServiceTelemetry,
) -> Result<mongodb::Collection<Document>, mongodb::error::Error> {
    let mut options = ClientOptions::parse(uri).await?;
    options.server_selection_timeout = Some(Duration::from_secs(2));
    options.connect_timeout = Some(Duration::from_secs(2));
    options.app_name = Some("kratos-demo-message".into());
    let probe = mongodb::Client::with_options(options.clone())?;
    probe
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await?;
    probe.shutdown().await;

    OtelCommandHandler::builder()
        .tracer_provider(telemetry.tracer_provider.clone())
        .meter_provider(telemetry.meter_provider.clone())
        .build()
        .install(&mut options);
    let client = mongodb::Client::with_options(options)?;
    Ok(client.database(database).collection("messages"))
}

/// The gRPC service implementation.
#[derive(Debug)]
pub struct MessageService {
    store: MessageStore,
}

impl MessageService {
    /// A service over `store`.
    pub fn new(store: MessageStore) -> Self {
        MessageService { store }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(format!("message store: {e}"))
}

#[tonic::async_trait]
impl Messages for MessageService {
    async fn post(&self, request: Request<PostRequest>) -> Result<Response<PostReply>, Status> {
        let req = request.into_inner();
        let text = req.text.trim();
        if text.is_empty() {
            return Err(Status::invalid_argument("text must not be empty"));
        }
        if text.chars().count() > MAX_TEXT_LEN {
            return Err(Status::invalid_argument(format!(
                "text longer than {MAX_TEXT_LEN} characters"
            )));
        }
        let id = ObjectId::new();
        let created = now_ms();
        match &self.store {
            MessageStore::Mongo(c) => {
                c.insert_one(
                    doc! { "_id": id, "user_id": req.user_id, "text": text, "created": created },
                )
                .await
                .map_err(internal)?;
            }
            MessageStore::Memory(m) => m.lock().map_err(internal)?.push(Message {
                id: id.to_hex(),
                user_id: req.user_id,
                text: text.to_string(),
                created_unix_ms: created,
            }),
        }
        Ok(Response::new(PostReply { id: id.to_hex() }))
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListReply>, Status> {
        let req = request.into_inner();
        let limit = if req.limit == 0 {
            20
        } else {
            req.limit.min(MAX_LIST)
        };
        let messages = match &self.store {
            MessageStore::Mongo(c) => {
                let options = FindOptions::builder()
                    .sort(doc! { "created": -1 })
                    .limit(i64::from(limit))
                    .batch_size(10)
                    .build();
                let mut cursor = c
                    .find(doc! { "user_id": req.user_id })
                    .with_options(options)
                    .await
                    .map_err(internal)?;
                let mut out = Vec::new();
                while cursor.advance().await.map_err(internal)? {
                    let d = cursor.deserialize_current().map_err(internal)?;
                    out.push(Message {
                        id: d
                            .get_object_id("_id")
                            .map(|i| i.to_hex())
                            .unwrap_or_default(),
                        user_id: d.get_i64("user_id").unwrap_or_default(),
                        text: d.get_str("text").unwrap_or_default().to_string(),
                        created_unix_ms: d.get_i64("created").unwrap_or_default(),
                    });
                }
                out
            }
            MessageStore::Memory(m) => {
                let all = m.lock().map_err(internal)?;
                let mut mine: Vec<Message> = all
                    .iter()
                    .filter(|x| x.user_id == req.user_id)
                    .cloned()
                    .collect();
                mine.sort_by_key(|m| std::cmp::Reverse(m.created_unix_ms));
                mine.truncate(limit as usize);
                mine
            }
        };
        Ok(Response::new(ListReply { messages }))
    }
}

/// Serves the message service on `listener` behind the gRPC server layer of `telemetry`,
/// until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    store: MessageStore,
    telemetry: &ServiceTelemetry,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let layer = GrpcServerLayer::builder()
        .tracer_provider(telemetry.tracer_provider.clone())
        .meter_provider(telemetry.meter_provider.clone())
        .build();
    tonic::transport::Server::builder()
        .layer(layer)
        .add_service(MessagesServer::new(MessageService::new(store)))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}

/// Binds 127.0.0.1 on a free port.
pub async fn bind_loopback() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
