//! A faithful, stateful, in-memory server for the Parsec Teams API (V1) and the
//! team-administration API, with test hooks under `/_mock/`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use parsec_teams_mock::{MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::default()).await?;
//! println!("{} {} {}", server.base_url(), server.team_id(), server.api_key());
//! server.shutdown();
//! # Ok(()) }
//! ```

mod admin_api;
mod clock;
mod control;
mod ksuid;
mod permissions;
mod quota;
mod server;
mod state;
mod teams_api;
mod validate;

pub use permissions::ALL_PERMISSIONS;
pub use server::MAX_QUOTA_WINDOW;
pub use state::{
    AccessRight, AdminData, AdminTeam, AdminUser, ApiKeyEntry, AppRule, Event, Fixture, Group, GuestInvite, Machine, Member, MemberInvite,
    PermittedGroup,
};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How to start the server.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Interface to bind (default `127.0.0.1`).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Starting data; `None` = [`Fixture::default`].
    pub fixture: Option<Fixture>,
    /// Quota window, and length of the block after it is exceeded (default 300 s;
    /// more than 0 and at most [`MAX_QUOTA_WINDOW`], else `start` fails).
    pub quota_window: Duration,
    /// Extra API keys with only the named permissions (names as in [`ALL_PERMISSIONS`]).
    pub keys: Vec<(String, Vec<String>)>,
    /// How long a client may take to send a request head, idle keep-alive
    /// connections included; the connection is closed after it (default 30 s).
    pub header_read_timeout: Duration,
    /// Most connections served at once; further ones wait to be accepted (default 1024).
    pub max_connections: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            host: "127.0.0.1".to_string(),
            port: 0,
            fixture: None,
            quota_window: Duration::from_secs(300),
            keys: Vec::new(),
            header_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// A running mock server. Dropping it (or [`MockServer::shutdown`]) stops it.
pub struct MockServer {
    base_url: String,
    team_id: String,
    api_key: String,
    admin_token: String,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").field("base_url", &self.base_url).field("team_id", &self.team_id).finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts serving on the current tokio runtime; returns once listening.
    pub async fn start(config: MockConfig) -> std::io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
        let addr = listener.local_addr()?;
        // Beyond loopback, the control routes need the admin token.
        let app = Arc::new(server::App::new(&config, !addr.ip().is_loopback())?);
        let (stop, rx) = watch::channel(false);
        let initial = &app.initial;
        let host = if addr.ip().is_ipv6() { format!("[{}]", addr.ip()) } else { addr.ip().to_string() };
        let server = MockServer {
            base_url: format!("http://{host}:{}", addr.port()),
            team_id: initial.team_id.clone(),
            api_key: initial.api_key.clone(),
            admin_token: initial.admin_token.clone(),
            addr,
            stop,
            thread: None,
        };
        tokio::spawn(server::serve(listener, app, rx));
        Ok(server)
    }

    /// Starts the server on its own thread with its own 2-worker tokio runtime,
    /// for synchronous callers. Returns once listening.
    pub fn start_background(config: MockConfig) -> std::io::Result<MockServer> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("parsec-teams-mock".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                match MockServer::start(config).await {
                    Ok(server) => {
                        let mut stop = server.stop.subscribe();
                        if tx.send(Ok(server)).is_ok() {
                            // Until shutdown() / drop of the handle on the caller's side.
                            while !*stop.borrow_and_update() {
                                if stop.changed().await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        })?;
        let mut server = rx.recv().map_err(|_| std::io::Error::other("mock server thread exited"))??;
        server.thread = Some(thread);
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The fixture's team id.
    pub fn team_id(&self) -> &str {
        &self.team_id
    }
    /// The API key holding every permission.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }
    /// The team-administration token of an admin user.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Stops serving (also done on drop).
    pub fn shutdown(self) {
        drop(self)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// The server in-process, without a socket, for the fuzz targets (`fuzz/`).
/// Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use crate::server::{self, App};
    use crate::MockConfig;
    use axum::body::Body;
    use axum::http::{Request, Response};
    use std::sync::Arc;
    use tokio::sync::Notify;

    /// One mock's state and router, called request by request.
    pub struct InProcess {
        app: Arc<App>,
        router: axum::Router,
    }

    impl InProcess {
        pub fn new(config: &MockConfig) -> std::io::Result<InProcess> {
            let app = Arc::new(App::new(config, false)?);
            Ok(InProcess { router: server::router(app.clone()), app })
        }
        pub fn api_key(&self) -> &str {
            &self.app.initial.api_key
        }
        pub fn admin_token(&self) -> &str {
            &self.app.initial.admin_token
        }
        pub fn team_id(&self) -> &str {
            &self.app.team_id
        }
        /// Handles one request exactly as a connection would (faults, routing,
        /// request log); `None` when a fault drops the connection.
        pub async fn handle(&self, req: Request<Body>) -> Option<Response<Body>> {
            let kill = Arc::new(Notify::new());
            tokio::select! {
                r = server::handle(self.app.clone(), self.router.clone(), kill.clone(), req) => Some(r),
                _ = kill.notified() => None,
            }
        }
    }
}
