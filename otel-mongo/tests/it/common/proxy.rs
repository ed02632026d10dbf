//! A loopback TCP proxy in front of FerretDB that cuts one connection right after a chosen
//! command went through: the server executes it, the driver never gets the reply (an I/O
//! error on a command already sent), so a retryable read is retried on a new connection.
//! FerretDB has no `failCommand` failpoint; this is the network failure a failpoint imitates.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy; stops accepting when dropped (open connections end with their peers).
pub struct DropProxy {
    /// The proxy's port on 127.0.0.1.
    pub port: u16,
    /// Connections cut so far.
    pub cut: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for DropProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl DropProxy {
    /// `mongodb://127.0.0.1:{port}/?directConnection=true`.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }
}

/// Proxies to `upstream` (`host:port`); the first `cuts` client messages containing `marker`
/// are forwarded, then their connection is closed before any reply is relayed.
pub async fn start(upstream: String, marker: Vec<u8>, cuts: usize) -> DropProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let port = listener.local_addr().expect("proxy address").port();
    let cut = Arc::new(AtomicUsize::new(0));
    let marker = Arc::new(marker);
    let accept = {
        let cut = Arc::clone(&cut);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                tokio::spawn(relay(
                    client,
                    server,
                    Arc::clone(&marker),
                    Arc::clone(&cut),
                    cuts,
                ));
            }
        })
    };
    DropProxy { port, cut, accept }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    marker: Arc<Vec<u8>>,
    cut: Arc<AtomicUsize>,
    cuts: usize,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let replies = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        let hit = contains(chunk, &marker)
            && cut
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| {
                    (c < cuts).then_some(c + 1)
                })
                .is_ok();
        if hit {
            // No reply may reach the client: stop relaying replies first, then send the
            // command on and close both sides.
            replies.abort();
            let _ = replies.await;
            let _ = server_write.write_all(chunk).await;
            let _ = server_write.flush().await;
            return;
        }
        if server_write.write_all(chunk).await.is_err() {
            break;
        }
    }
    replies.abort();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `host:port` of the FerretDB the tests use.
pub async fn upstream() -> String {
    let uri = otel_testkit::env::mongodb_uri();
    let options = mongodb::options::ClientOptions::parse(&uri)
        .await
        .expect("parse MONGODB_URI");
    match options.hosts.first() {
        Some(mongodb::options::ServerAddress::Tcp { host, port }) => {
            format!("{host}:{}", port.unwrap_or(27017))
        }
        _ => String::from("127.0.0.1:27017"),
    }
}
