//! One keep-alive HTTP/1.1 connection of a caller's own, on hyper's client
//! connection without reqwest's pool and layers: the transport of
//! [`Caller::with_own_connection`](crate::Caller::with_own_connection), for a
//! binding that makes blocking calls one at a time on a thread's own
//! current-thread runtime.
//!
//! It keeps what the pooled transport promises (the `Transport` of `client.rs`):
//!
//! - TLS by rustls with the same roots as the pool (webpki's), HTTP/1.1 only;
//! - the call's timeout covers connecting, sending and reading the whole body;
//! - a failure to connect (DNS, TCP or TLS) is told apart from one after the
//!   request may have been written, since whether a retry is safe hangs on it;
//! - a reused connection that the server closed before the request could be
//!   written is replaced and the request written on a fresh one (as the pool
//!   does); once written, it is never sent again here;
//! - redirects are not followed (nothing here follows them);
//! - an idle connection older than `pool_idle_timeout` is closed, not reused;
//! - no proxy: where one may apply, the caller keeps the pool instead.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, HOST};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::error::{Error, Result};

/// A deadline as good as none: 30 years.
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// Why an exchange failed, in the terms the retry rules need.
#[derive(Debug)]
pub(crate) struct SendError {
    /// No connection was made: the request was surely not sent.
    pub connect: bool,
    pub timeout: bool,
    pub message: String,
}

impl SendError {
    fn connect(message: String) -> SendError {
        SendError { connect: true, timeout: false, message }
    }
    fn after_connect(e: &(dyn std::error::Error + 'static)) -> SendError {
        SendError { connect: false, timeout: false, message: crate::client::error_chain(e) }
    }
    fn timed_out(connect: bool, message: &str) -> SendError {
        SendError { connect, timeout: true, message: message.to_owned() }
    }
}

/// What a status, headers and whole body came back as.
pub(crate) type Exchanged = (u16, HeaderMap, Bytes);

/// Where the connection goes, read once from the base URL.
#[derive(Debug)]
struct Origin {
    tls: bool,
    /// The host to resolve or connect to (an IPv6 address without brackets).
    host: String,
    port: u16,
}

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

/// The connection, opened on first use and again whenever the server closed it.
pub(crate) struct Connection {
    origin: Origin,
    /// How long the base URL's `scheme://authority` is: what of a URL precedes its target.
    origin_len: usize,
    /// The default headers plus `Host` and `Accept`, as the pool sends them.
    headers: HeaderMap,
    idle_timeout: Duration,
    idle: Mutex<Option<Idle>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection to `base_url`'s origin; nothing is opened yet.
    pub(crate) fn new(base_url: &str, defaults: &HeaderMap, idle_timeout: Duration) -> Result<Connection> {
        let url = reqwest::Url::parse(base_url).map_err(|e| Error::validation("base_url", format!("{e}")).with_rule("url"))?;
        let tls = url.scheme() == "https";
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(if tls { 443 } else { 80 });
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let authority = HeaderValue::from_str(&authority).map_err(|_| Error::validation("base_url", "has a host no header can carry"))?;
        let mut headers = defaults.clone();
        // `host[:port]` as the URL writes it.
        headers.insert(HOST, authority);
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let origin_len = base_url.len() - url.path().trim_end_matches('/').len();
        Ok(Connection { origin: Origin { tls, host, port }, origin_len, headers, idle_timeout, idle: Mutex::new(None) })
    }

    /// The origin-form target (path and query) of `url`, a URL under the base
    /// URL. A `canonical` one (an operation's, every value percent-encoded by
    /// the core) is sent as it is; any other (the escape hatch's) as the URL
    /// parser writes it, as the pool would send it.
    fn target<'u>(&self, url: &'u str, canonical: bool) -> Cow<'u, str> {
        let given = url.get(self.origin_len..).unwrap_or_default();
        if canonical && given.starts_with('/') {
            return Cow::Borrowed(given);
        }
        match reqwest::Url::parse(url) {
            Ok(u) => match u.query() {
                Some(q) => Cow::Owned(format!("{}?{q}", u.path())),
                None => Cow::Owned(u.path().to_owned()),
            },
            // Refused by `exchange` as a target that cannot be sent.
            Err(_) => Cow::Borrowed(given),
        }
    }

    /// Sends one request to `url` (a URL under the base URL, `canonical` as
    /// [`Connection::target`] takes it) and reads its whole answer, all
    /// within `timeout`.
    pub(crate) async fn exchange(
        &self,
        method: reqwest::Method,
        url: &str,
        canonical: bool,
        body: Option<&Bytes>,
        timeout: Duration,
    ) -> std::result::Result<Exchanged, SendError> {
        // A timeout beyond what an Instant holds (`Duration::MAX`) is a wait without end.
        let now = Instant::now();
        let deadline = now.checked_add(timeout).unwrap_or_else(|| now + FAR);
        let mut req = hyper::Request::new(Full::new(body.cloned().unwrap_or_default()));
        *req.method_mut() = method;
        *req.uri_mut() = self
            .target(url, canonical)
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| SendError::connect(format!("the path cannot be sent: {e}")))?;
        *req.headers_mut() = self.headers.clone();
        if body.is_some() {
            req.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        loop {
            let (mut sender, reused) = match self.take_idle() {
                Some(sender) => (sender, true),
                None => match timeout_at(deadline, self.open()).await {
                    Ok(opened) => (opened?, false),
                    Err(_) => return Err(SendError::timed_out(true, "no connection within the timeout")),
                },
            };
            if reused && timeout_at(deadline, sender.ready()).await.is_ok_and(|r| r.is_err()) {
                // Closed while idle: nothing was written on it.
                continue;
            }
            let resp = match timeout_at(deadline, sender.try_send_request(req)).await {
                Err(_) => return Err(SendError::timed_out(false, "no answer within the timeout")),
                Ok(Ok(resp)) => resp,
                Ok(Err(mut e)) => match e.take_message() {
                    // Not written: a reused connection the server had closed. Again on a fresh one.
                    Some(back) if reused => {
                        req = back;
                        continue;
                    }
                    Some(_) => return Err(SendError::connect(crate::client::error_chain(e.error()))),
                    None => return Err(SendError::after_connect(e.error())),
                },
            };
            let (parts, incoming) = resp.into_parts();
            let body = match timeout_at(deadline, incoming.collect()).await {
                Err(_) => return Err(SendError::timed_out(false, "the answer's body did not end within the timeout")),
                Ok(Err(e)) => return Err(SendError::after_connect(&e)),
                Ok(Ok(collected)) => collected.to_bytes(),
            };
            if !sender.is_closed() {
                *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = Some(Idle { sender, since: Instant::now() });
            }
            return Ok((parts.status.as_u16(), parts.headers, body));
        }
    }

    /// The idle connection, if it is still open and not idle for too long.
    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        (!idle.sender.is_closed() && idle.since.elapsed() < self.idle_timeout).then_some(idle.sender)
    }

    /// Resolves, connects (TCP, then TLS for https) and starts the HTTP/1.1
    /// connection's driver on the current runtime.
    async fn open(&self) -> std::result::Result<SendRequest<Full<Bytes>>, SendError> {
        let o = &self.origin;
        let addrs: Vec<SocketAddr> = match o.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, o.port)],
            Err(_) => tokio::net::lookup_host((o.host.as_str(), o.port))
                .await
                .map_err(|e| SendError::connect(format!("dns error: {e}")))?
                .collect(),
        };
        let mut last = SendError::connect(format!("dns error: no address for {}", o.host));
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    stream.set_nodelay(true).map_err(|e| SendError::connect(format!("tcp connect error: {e}")))?;
                    return if o.tls { self.handshake_tls(stream).await } else { handshake(stream).await };
                }
                Err(e) => last = SendError::connect(format!("tcp connect error: {e}")),
            }
        }
        Err(last)
    }

    async fn handshake_tls(&self, stream: TcpStream) -> std::result::Result<SendRequest<Full<Bytes>>, SendError> {
        let name = rustls::pki_types::ServerName::try_from(self.origin.host.clone())
            .map_err(|e| SendError::connect(format!("invalid TLS server name: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(tls_config()?)
            .connect(name, stream)
            .await
            .map_err(|e| SendError::connect(format!("tls handshake error: {}", crate::client::error_chain(&e))))?;
        handshake(stream).await
    }
}

async fn handshake<S>(stream: S) -> std::result::Result<SendRequest<Full<Bytes>>, SendError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| SendError::connect(format!("http handshake error: {}", crate::client::error_chain(&e))))?;
    tokio::spawn(async move {
        // Ends when the server closes the connection or the sender is dropped.
        let _ = conn.await;
    });
    Ok(sender)
}

/// rustls with webpki's roots, as reqwest's `rustls-tls` uses; HTTP/1.1 by ALPN.
fn tls_config() -> std::result::Result<Arc<rustls::ClientConfig>, SendError> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("could not set up TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    });
    config.clone().map_err(SendError::connect)
}
