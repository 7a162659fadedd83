//! The Rust runner of the conformance scenarios: the core crate reached
//! through its generic call path (`Caller::call_json` by operation name, and
//! `Paginator` for `iter`). It speaks the line protocol of
//! `tests/conformance/README.md`: one command per stdin line, one JSON answer
//! per stdout line. `--table` prints the core's operation table instead.

use std::io::{BufRead, Write};
use std::time::Duration;

use parsec_teams::pagination::Paginator;
use parsec_teams::quota::QuotaConfig;
use parsec_teams::spec::{Api, Operation, OPERATIONS};
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, Error, RequestOptions};
use serde_json::{json, Map, Value};

/// The scenario name of an operation: `members.list`, `admin.teams.list`.
fn scenario_name(op: &Operation) -> String {
    match op.api {
        Api::Teams => op.qualified_name(),
        Api::Admin => format!("admin.{}", op.qualified_name()),
    }
}

fn find(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().copied().find(|op| scenario_name(op) == name)
}

fn table() -> Value {
    Value::Array(
        OPERATIONS
            .iter()
            .map(|op| {
                json!({"name": scenario_name(op), "method": op.method.as_str(), "path": op.path,
                       "paginate": op.iter_name().is_some(), "api": if op.api == Api::Teams { "teams" } else { "admin" }})
            })
            .collect(),
    )
}

/// `{"$nest": n, "value": v}`: v inside n nested lists, built here because
/// serde_json's parser stops at 128 levels (see README.md, "Deep values").
fn expand_nest(v: Value) -> Value {
    match v {
        Value::Object(m) if m.len() == 2 && m.contains_key("$nest") && m.contains_key("value") => {
            let n = m.get("$nest").and_then(Value::as_u64).unwrap_or(0);
            let mut out = expand_nest(m.get("value").cloned().unwrap_or(Value::Null));
            for _ in 0..n {
                out = Value::Array(vec![out]);
            }
            out
        }
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, x)| (k, expand_nest(x))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(expand_nest).collect()),
        other => other,
    }
}

fn ms(v: &str) -> Option<Duration> {
    v.parse::<f64>().ok().filter(|x| *x >= 0.0).map(|x| Duration::from_secs_f64(x / 1e3))
}
fn int(v: &str) -> Option<u32> {
    v.parse::<i64>().ok().filter(|x| *x >= 0).map(|x| x as u32)
}

fn error_json(e: &Error) -> Value {
    json!({
        "class": e.kind().class_name(),
        "status": e.status(),
        "message": e.message(),
        "request_id": e.request_id(),
        "retryable": e.retryable(),
        "retries_taken": e.retries_taken(),
        "may_have_been_applied": e.may_have_been_applied(),
        "retry_after": e.retry_after(),
        "field": e.field(),
        "rule": e.rule(),
    })
}

struct Clients {
    teams: Option<Client>,
    admin: Option<AdminClient>,
}

async fn run_call(clients: &Clients, f: &[&str]) -> Value {
    // call <mode> <op> <params_json> <timeout_ms> <max_retries>
    let (mode, name, params) = (f[1], f[2], f[3]);
    let Some(op) = find(name) else { return json!({"ok": false, "protocol_error": format!("unknown operation {name}")}) };
    let args: Map<String, Value> = match serde_json::from_str(params).map(expand_nest) {
        Ok(Value::Object(m)) => m,
        _ => return json!({"ok": false, "protocol_error": "params are not a JSON object"}),
    };
    let base: Option<&Caller> = match op.api {
        Api::Teams => clients.teams.as_ref().map(Client::caller),
        Api::Admin => clients.admin.as_ref().map(AdminClient::caller),
    };
    let Some(base) = base else { return json!({"ok": false, "protocol_error": "no client for this API"}) };
    let caller = base.with_options(RequestOptions { timeout: ms(f[4]), max_retries: int(f[5]) });
    let outcome = match mode {
        "iter" => {
            let mut items = Vec::new();
            let walk = async {
                let mut pages = Paginator::new(caller, op, args)?;
                while let Some(page) = pages.next_page::<Value>().await? {
                    items.extend(page);
                }
                Ok::<(), Error>(())
            };
            walk.await.map(|()| json!({"ok": true, "result": items}))
        }
        _ => caller
            .call_json(op, args)
            .await
            .map(|r| json!({"ok": true, "result": r.data, "raw": {"status": r.status, "request_id": r.request_id}})),
    };
    outcome.unwrap_or_else(|e| json!({"ok": false, "error": error_json(&e)}))
}

fn make_client(clients: &mut Clients, f: &[&str]) -> Value {
    // client <api> <base_url> <key> <team_id> <timeout_ms> <max_retries> <max_retry_wait_ms> <quota 1/0/-1> <quota_window_ms>
    let made = if f[1] == "admin" {
        let mut o = AdminClientOptions::new().base_url(f[2]).token(f[3]);
        o.timeout = ms(f[5]);
        o.max_retries = int(f[6]);
        o.max_retry_wait = ms(f[7]);
        AdminClient::new(o).map(|c| clients.admin = Some(c))
    } else {
        let mut quota = QuotaConfig::default();
        if f[8] == "0" {
            quota.enabled = false;
        }
        if let Some(w) = ms(f[9]) {
            quota.window = w;
        }
        let mut o = ClientOptions::new().base_url(f[2]).api_key(f[3]).team_id(f[4]).quota(quota);
        o.timeout = ms(f[5]);
        o.max_retries = int(f[6]);
        o.max_retry_wait = ms(f[7]);
        Client::new(o).map(|c| clients.teams = Some(c))
    };
    match made {
        Ok(()) => json!({"ok": true}),
        Err(e) => json!({"ok": false, "error": error_json(&e)}),
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--table") {
        println!("{}", table());
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(
        out,
        "{}",
        json!({"surface": "rust", "language": "rust", "version": parsec_teams::VERSION, "class_tree": false, "raw": true, "nest": true})
    );
    let _ = out.flush();
    let mut clients = Clients { teams: None, admin: None };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let f: Vec<&str> = line.split('\t').collect();
        let answer = match f[0] {
            "client" if f.len() == 10 => make_client(&mut clients, &f),
            "call" if f.len() == 6 => rt.block_on(run_call(&clients, &f)),
            "reset" => {
                clients = Clients { teams: None, admin: None };
                json!({"ok": true})
            }
            _ => json!({"ok": false, "protocol_error": format!("bad command: {line}")}),
        };
        let _ = writeln!(out, "{answer}");
        let _ = out.flush();
    }
}
