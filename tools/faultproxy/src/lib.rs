//! A small fault-injecting TCP proxy for tests and benchmarks: it sits between the
//! gateway and one real node on 127.0.0.1 and, depending on its mode,
//!
//! - `Pass`: forwards bytes both ways;
//! - `Latency(d)`: forwards, delaying every chunk from the gateway by `d`
//!   (each request on a keep-alive connection arrives `d` late);
//! - `Reset`: accepts connections and resets them at once (and cuts the
//!   connections it was forwarding);
//! - `BlackHole`: accepts connections, reads and never answers;
//! - `Status503`: answers every HTTP request itself with a 503 ES error body
//!   (keep-alive), counting the requests.
//!
//! The mode can change at any time; open connections see the change at their next chunk.
//! The upstream crate's fault tests use it as a library; `bench/` runs the
//! `sg-faultproxy` binary (one process a node) for the slow-node benchmark.

use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Latency(Duration),
    Reset,
    BlackHole,
    Status503,
}

#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    /// Requests answered with 503 in `Status503` mode.
    pub answered_503: AtomicU64,
    pub resets: AtomicU64,
}

pub struct FaultProxy {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    pub counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const BODY_503: &str = r#"{"error":{"root_cause":[{"type":"fault_proxy_exception","reason":"injected 503"}],"type":"fault_proxy_exception","reason":"injected 503"},"status":503}"#;

impl FaultProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `target`.
    pub async fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fault proxy");
        FaultProxy::with_listener(listener, target, Mode::Pass)
    }

    /// Serves `listener`, forwarding to `target`, starting in `mode`.
    pub fn with_listener(listener: TcpListener, target: SocketAddr, mode: Mode) -> FaultProxy {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let mode = Arc::new(Mutex::new(mode));
        let counters = Arc::new(Counters::default());
        let (m, c) = (mode.clone(), counters.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let _ = sock.set_nodelay(true);
                c.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(handle(sock, target, m.clone(), c.clone()));
            }
        });
        FaultProxy {
            addr,
            mode,
            counters,
            task,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock() = mode;
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock()
    }

    pub fn answered_503(&self) -> u64 {
        self.counters.answered_503.load(Ordering::Relaxed)
    }
}

async fn handle(
    client: TcpStream,
    target: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    counters: Arc<Counters>,
) {
    let current = *mode.lock();
    match current {
        Mode::Reset => {
            counters.resets.fetch_add(1, Ordering::Relaxed);
            let _ = client.set_zero_linger();
            drop(client);
        }
        Mode::BlackHole => black_hole(client).await,
        Mode::Status503 => answer_503(client, &mode, &counters).await,
        Mode::Pass | Mode::Latency(_) => {
            let Ok(upstream) = TcpStream::connect(target).await else {
                let _ = client.set_zero_linger();
                return;
            };
            let _ = upstream.set_nodelay(true);
            pipe(client, upstream, mode, counters).await;
        }
    }
}

async fn black_hole(mut client: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = client.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}

async fn pipe(
    client: TcpStream,
    upstream: TcpStream,
    mode: Arc<Mutex<Mode>>,
    counters: Arc<Counters>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    // The reader stamps each chunk with the time it arrived; the writer holds it until
    // that time + the injected latency. Every byte is late by exactly `d`, however the
    // request was split into reads, and reading never waits on the delay.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Instant, Vec<u8>)>(64);
    let read_up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let m = *mode.lock();
            match m {
                Mode::Pass | Mode::Latency(_) => {}
                Mode::Reset => {
                    counters.resets.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Mode::BlackHole => {
                    // swallow this and everything after
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                    return;
                }
                // a connection opened before the switch: close it, the next one gets 503s
                Mode::Status503 => return,
            }
            let due = match m {
                Mode::Latency(d) => Instant::now() + d,
                _ => Instant::now(),
            };
            if tx.send((due, buf[..n].to_vec())).await.is_err() {
                return;
            }
        }
    };
    let write_up = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if uw.write_all(&chunk).await.is_err() {
                return;
            }
        }
    };
    // the reader ending (client closed, reset) ends the upstream side once the
    // chunks already read are written
    let up = async {
        tokio::join!(read_up, write_up);
    };
    let down = async {
        let _ = tokio::io::copy(&mut ur, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
    // dropping both halves of both sockets closes them
}

/// Reads HTTP/1.1 requests (head + Content-Length body; chunked bodies are read to
/// their terminating chunk) and answers each with a 503.
async fn answer_503(mut client: TcpStream, mode: &Arc<Mutex<Mode>>, counters: &Counters) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut tmp = vec![0u8; 16 * 1024];
    loop {
        // the head
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            match client.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let content_length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let chunked = head
            .lines()
            .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
        let is_head = head.starts_with("head ");
        // the body
        let body_end = if chunked {
            loop {
                if let Some(i) = find(&buf[head_end..], b"0\r\n\r\n") {
                    break head_end + i + 5;
                }
                match client.read(&mut tmp).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
            }
        } else {
            while buf.len() < head_end + content_length {
                match client.read(&mut tmp).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
            }
            head_end + content_length
        };
        buf.drain(..body_end);
        counters.answered_503.fetch_add(1, Ordering::Relaxed);
        let body = if is_head { "" } else { BODY_503 };
        let resp = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: {}\r\n\r\n{}",
            BODY_503.len(),
            body
        );
        if client.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
        if *mode.lock() != Mode::Status503 {
            return;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
