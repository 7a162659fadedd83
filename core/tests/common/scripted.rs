//! A tiny HTTP/1.1 server for what the mock cannot send (odd `Retry-After`
//! values, redirects, pages that never end) and a fake proxy that records
//! every connection made to it. Each connection carries one exchange.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `METHOD target`.
    pub line: String,
    /// The header lines, names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

pub struct Scripted {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    /// Answers the n-th request with the n-th of `replies` (each `(status, extra
    /// header lines, body)`); once they are used up, with the last one again.
    pub async fn start(replies: Vec<(u16, Vec<String>, String)>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            let replies = Arc::new(replies);
            let mut n = 0usize;
            loop {
                let Ok((sock, _)) = listener.accept().await else { return };
                let (status, headers, body) = replies[n.min(replies.len() - 1)].clone();
                n += 1;
                let log = log.clone();
                tokio::spawn(async move {
                    let mut sock = sock;
                    let Some((line, sent_headers, sent_body)) = read_request(&mut sock).await else { return };
                    log.lock().unwrap().push(Seen { line, headers: sent_headers, body: sent_body, at: Instant::now() });
                    let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
                    for h in headers {
                        head.push_str(&h);
                        head.push_str("\r\n");
                    }
                    head.push_str("\r\n");
                    head.push_str(&body);
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Scripted { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Reads one request (head and `content-length` body); returns its first
/// line without the version, its headers and its body.
async fn read_request(sock: &mut TcpStream) -> Option<(String, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let first = head.lines().next().unwrap_or_default();
    let headers =
        head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let body = buf.get(head_end..head_end + len).unwrap_or_default().to_vec();
    Some((first.rsplit_once(' ').map(|(l, _)| l).unwrap_or(first).to_owned(), headers, body))
}

/// A fake proxy: records the first line of every connection made to it
/// (`CONNECT host:port` or `GET http://...`) and closes it.
pub struct FakeProxy {
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl FakeProxy {
    pub async fn start() -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let log = log.clone();
                tokio::spawn(async move {
                    let line =
                        read_request(&mut sock).await.map(|(line, _, _)| line).unwrap_or_else(|| "<connection without a request>".into());
                    log.lock().unwrap().push(line);
                    let _ = sock.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                });
            }
        });
        FakeProxy { url, seen }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
