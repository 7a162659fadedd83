//! `parsec-teams-mock`: serve the mock from the command line.

use parsec_teams_mock::{Fixture, MockConfig, MockServer, ALL_PERMISSIONS};
use std::io::Write;
use std::time::Duration;

const USAGE: &str = "usage: parsec-teams-mock [--host 127.0.0.1] [--port 0] [--fixture FILE] \
[--quota-window SECONDS] [--key KEY=PERMISSION,PERMISSION...]...
                         [--header-read-timeout SECONDS] [--max-connections N]

Serves the Parsec Teams API (V1) and the team-administration API from memory.
Once listening, prints one JSON line on stdout:
  {\"base_url\": ..., \"team_id\": ..., \"api_key\": ..., \"admin_token\": ...}
and serves until SIGINT or SIGTERM.

  --host HOST              interface to bind (default 127.0.0.1)
  --port PORT              port (default 0: a free port)
  --fixture FILE           starting data (JSON, the shape of GET /_mock/state)
  --quota-window SECONDS   quota window and block length (default 300)
  --key KEY=PERMS          extra API key holding only the comma-separated permissions
                           (repeatable; names as the API docs write them, e.g.
                           \"View Team Members\")
  --header-read-timeout SECONDS
                           close a connection that has not sent a whole request
                           head this long, idle keep-alive ones included (default 30)
  --max-connections N      connections served at once; more wait (default 1024)
  -h, --help               this help";

fn parse_args(args: &[String]) -> Result<Option<MockConfig>, String> {
    let mut config = MockConfig::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--flag=value` or `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| it.next().cloned()).ok_or_else(|| format!("{name} needs a value"));
        match flag {
            "-h" | "--help" => return Ok(None),
            "--host" => config.host = value("--host")?,
            "--port" => config.port = value("--port")?.parse().map_err(|_| "--port: not a port number".to_string())?,
            "--fixture" => {
                let path = value("--fixture")?;
                config.fixture = Some(Fixture::from_file(&path).map_err(|e| format!("--fixture {path}: {e}"))?);
            }
            "--quota-window" => {
                let secs: f64 = value("--quota-window")?.parse().map_err(|_| "--quota-window: not a number".to_string())?;
                let max = parsec_teams_mock::MAX_QUOTA_WINDOW.as_secs_f64();
                if !(secs > 0.0 && secs <= max) {
                    return Err(format!("--quota-window: must be > 0 and at most {max} seconds"));
                }
                config.quota_window = Duration::try_from_secs_f64(secs).map_err(|e| format!("--quota-window: {e}"))?;
            }
            "--header-read-timeout" => {
                let secs: f64 = value("--header-read-timeout")?.parse().map_err(|_| "--header-read-timeout: not a number".to_string())?;
                if !(secs > 0.0 && secs <= 86_400.0) {
                    return Err("--header-read-timeout: must be > 0 and at most 86400 seconds".into());
                }
                config.header_read_timeout = Duration::try_from_secs_f64(secs).map_err(|e| format!("--header-read-timeout: {e}"))?;
            }
            "--max-connections" => {
                config.max_connections = value("--max-connections")?
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| "--max-connections: must be a whole number >= 1".to_string())?;
            }
            "--key" => {
                let spec = value("--key")?;
                // Keys may end in `=` (base64); permission names never contain one.
                let (key, perms) = spec.rsplit_once('=').ok_or("--key: expected KEY=PERMISSION,PERMISSION...")?;
                let perms: Vec<String> = perms.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
                if let Some(bad) = perms.iter().find(|p| !ALL_PERMISSIONS.contains(&p.as_str())) {
                    return Err(format!("--key: unknown permission {bad:?}; known: {}", ALL_PERMISSIONS.join(", ")));
                }
                config.keys.push((key.to_string(), perms));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(config))
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Resolves on SIGINT or SIGTERM; the handlers are installed when this is
/// called (before the JSON line is printed, so an early SIGTERM is not fatal).
fn signal_waiter() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("parsec-teams-mock: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(async move {
        let server = match MockServer::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("parsec-teams-mock: {e}");
                std::process::exit(1);
            }
        };
        let signal = signal_waiter();
        let line = format!(
            "{{\"base_url\": {}, \"team_id\": {}, \"api_key\": {}, \"admin_token\": {}}}",
            json_str(server.base_url()),
            json_str(server.team_id()),
            json_str(server.api_key()),
            json_str(server.admin_token())
        );
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        drop(out);
        signal.await;
        server.shutdown();
    });
    rt.shutdown_timeout(Duration::from_millis(200));
}
