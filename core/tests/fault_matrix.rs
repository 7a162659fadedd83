//! The fault matrix (issue 11): {503, 500, 429 with Retry-After, dropped
//! connection, timeout after the server acted, truncated body} x {GET, PUT,
//! DELETE, POST}, each cell against its own in-process mock. For every cell:
//! the outcome (result or error kind), `may_have_been_applied`,
//! `retries_taken`, how many requests the mock saw, and how many times the
//! server applied the request (counted in its state). Expectations follow
//! /work/shared/API.md "Retries and quotas": GET/PUT/DELETE are retried on
//! 5xx/429/connection/timeout; POST only on 429 (and connect failures), never
//! after a 5xx, a timeout or a reset; `may_have_been_applied` is true when a
//! non-idempotent request may have reached the server, and stays true once an
//! earlier attempt may have acted.
//!
//! Every cell runs even when others fail; the test fails with the list of
//! cells that differ.

mod common;

use common::Env;
use parsec_teams::{ErrorKind, HttpMethod};
use serde_json::{json, Value};
use std::time::Duration;

/// The client's timeout in the "acted, then too late" row (the fault answers
/// after `LATE_MS`); the other rows use a generous one, so a loaded machine
/// cannot turn their cells into timeouts.
const TIMEOUT: Duration = Duration::from_millis(1000);
const LATE_MS: u64 = 4000;
const GENEROUS: Duration = Duration::from_secs(20);
/// The `Retry-After` of the 429 row, in seconds.
const RETRY_AFTER: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    S503,
    S500,
    S429,
    Dropped,
    TimeoutAfterActing,
    TruncatedBody,
}

const FAULTS: [Fault; 6] = [Fault::S503, Fault::S500, Fault::S429, Fault::Dropped, Fault::TimeoutAfterActing, Fault::TruncatedBody];
const METHODS: [HttpMethod; 4] = [HttpMethod::Get, HttpMethod::Put, HttpMethod::Delete, HttpMethod::Post];

impl Fault {
    /// The fault rule (without method and path).
    fn rule(self) -> Value {
        match self {
            Fault::S503 => json!({"status": 503}),
            Fault::S500 => json!({"status": 500}),
            Fault::S429 => json!({"status": 429, "retry_after": RETRY_AFTER}),
            Fault::Dropped => json!({"drop_connection": true}),
            Fault::TimeoutAfterActing => json!({"act_first": true, "delay_ms": LATE_MS}),
            Fault::TruncatedBody => json!({"truncate_body": true}),
        }
    }
}

/// One operation of each method, with the path it calls and its fault pattern.
struct Op {
    method: HttpMethod,
    path: &'static str,
    pattern: &'static str,
    body: Option<Value>,
}

fn op(method: HttpMethod) -> Op {
    match method {
        HttpMethod::Get => Op { method, path: "/v1/teams/{team_id}/groups/1", pattern: "/v1/teams/*/groups/1", body: None },
        HttpMethod::Put => Op {
            method,
            path: "/v1/teams/{team_id}/groups/1",
            pattern: "/v1/teams/*/groups/1",
            body: Some(json!({"group_name": "Matrix"})),
        },
        HttpMethod::Delete => {
            Op { method, path: "/v1/teams/{team_id}/machines/tm_020", pattern: "/v1/teams/*/machines/tm_020", body: None }
        }
        HttpMethod::Post => Op {
            method,
            path: "/v1/teams/{team_id}/groups",
            pattern: "/v1/teams/*/groups",
            body: Some(json!({"group_name": "Matrix", "allow_connections_within_group": false,
                              "show_user_assigned_managed_hosts": false, "show_personal_hosts": false})),
        },
    }
}

/// What a call ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok(u16),
    Err(ErrorKind),
}

/// Everything asserted for one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    outcome: Outcome,
    /// `None` for a result (only errors carry the flag).
    may_have_been_applied: Option<bool>,
    retries_taken: u32,
    /// Requests of this method and path in the mock's log.
    requests: usize,
    /// Times the server applied the request (its audit events of that kind).
    applied: usize,
}

/// (fault, method, outcome, may_have_been_applied, retries_taken, requests seen, times applied).
type Cell = (Fault, HttpMethod, Outcome, Option<bool>, u32, usize, usize);

use Fault::*;
use HttpMethod::{Delete, Get, Post, Put};
use Outcome::{Err as E, Ok as R};

/// The contract's answer for every cell (max_retries = 2; each fault fires
/// once): (fault, method, outcome, may_have_been_applied, retries_taken,
/// requests the mock saw, times the server applied the request).
/// - A PUT retried after the server acted is applied twice, with the same
///   result (one group renamed): idempotent by design, not a duplicate.
/// - A DELETE retried after the server acted meets 404, and must say it may
///   have been applied (by the first attempt).
#[rustfmt::skip]
const TABLE: [Cell; 24] = [
    (S503,               Get,    R(200),                        None,       1, 2, 0),
    (S503,               Put,    R(200),                        None,       1, 2, 1),
    (S503,               Delete, R(204),                        None,       1, 2, 1),
    (S503,               Post,   E(ErrorKind::Server),          Some(true), 0, 1, 0),
    (S500,               Get,    R(200),                        None,       1, 2, 0),
    (S500,               Put,    R(200),                        None,       1, 2, 1),
    (S500,               Delete, R(204),                        None,       1, 2, 1),
    (S500,               Post,   E(ErrorKind::Server),          Some(true), 0, 1, 0),
    (S429,               Get,    R(200),                        None,       1, 2, 0),
    (S429,               Put,    R(200),                        None,       1, 2, 1),
    (S429,               Delete, R(204),                        None,       1, 2, 1),
    (S429,               Post,   R(200),                        None,       1, 2, 1),
    (Dropped,            Get,    R(200),                        None,       1, 2, 0),
    (Dropped,            Put,    R(200),                        None,       1, 2, 1),
    (Dropped,            Delete, R(204),                        None,       1, 2, 1),
    (Dropped,            Post,   E(ErrorKind::Connection),      Some(true), 0, 1, 0),
    (TimeoutAfterActing, Get,    R(200),                        None,       1, 2, 0),
    (TimeoutAfterActing, Put,    R(200),                        None,       1, 2, 2),
    (TimeoutAfterActing, Delete, E(ErrorKind::NotFound),        Some(true), 1, 2, 1),
    (TimeoutAfterActing, Post,   E(ErrorKind::Timeout),         Some(true), 0, 1, 1),
    (TruncatedBody,      Get,    R(200),                        None,       1, 2, 0),
    (TruncatedBody,      Put,    R(200),                        None,       1, 2, 2),
    (TruncatedBody,      Delete, E(ErrorKind::NotFound),        Some(true), 1, 2, 1),
    (TruncatedBody,      Post,   E(ErrorKind::Connection),      Some(true), 0, 1, 1),
];

/// Audit events of the kind `method`'s operation appends (the fixture holds
/// some of each kind: compare with the count before the call).
fn applied(state: &Value, method: HttpMethod) -> usize {
    let events = state["events"].as_array().expect("events");
    let count = |name: &str| events.iter().filter(|e| e["event_name"] == name).count();
    match method {
        HttpMethod::Get => events.len() - 320,
        HttpMethod::Put => count("group.updated"),
        HttpMethod::Delete => count("machine.deleted"),
        HttpMethod::Post => count("group.created"),
    }
}

/// Checks the state is what `applied` applications leave (never a duplicate).
fn state_problems(state: &Value, method: HttpMethod, applied: usize) -> Vec<String> {
    let groups = state["groups"].as_array().expect("groups");
    let machines = state["machines"].as_array().expect("machines");
    let named = groups.iter().filter(|g| g["name"] == "Matrix").count();
    let mut out = Vec::new();
    let want_named = match method {
        HttpMethod::Get | HttpMethod::Delete => 0,
        HttpMethod::Put => usize::from(applied > 0),
        HttpMethod::Post => applied,
    };
    if named != want_named {
        out.push(format!("{named} groups named Matrix, expected {want_named}"));
    }
    let want_groups = 6 + if method == HttpMethod::Post { applied } else { 0 };
    if groups.len() != want_groups {
        out.push(format!("{} groups, expected {want_groups}", groups.len()));
    }
    let want_machines = 20 - if method == HttpMethod::Delete { applied.min(1) } else { 0 };
    if machines.len() != want_machines {
        out.push(format!("{} machines, expected {want_machines}", machines.len()));
    }
    out
}

/// Runs one cell on its own mock; returns what was seen and any extra problem.
async fn run_cell(fault: Fault, method: HttpMethod) -> (Seen, Vec<String>) {
    let env = Env::start().await;
    let op = op(method);
    let mut rule = fault.rule();
    rule["method"] = json!(method.as_str());
    rule["path"] = json!(op.pattern);
    env.fault(rule).await;
    let before = applied(&env.state().await, method);
    let timeout = if fault == Fault::TimeoutAfterActing { TIMEOUT } else { GENEROUS };
    let client = common::new_client(env.options().timeout(timeout).max_retries(2));
    let result = client.request(op.method, op.path, &[], op.body.as_ref()).await;
    let (outcome, may_have_been_applied, retries_taken) = match &result {
        Ok(r) => (Outcome::Ok(r.status), None, r.retries_taken),
        Err(e) => (Outcome::Err(e.kind()), Some(e.may_have_been_applied()), e.retries_taken()),
    };
    let needle = op.pattern.rsplit('*').next().unwrap_or("");
    let seen_requests = env.seen(method.as_str(), needle).await;
    let state = env.state().await;
    let applied = applied(&state, method) - before;
    let mut problems = state_problems(&state, method, applied);
    if let Err(e) = &result {
        problems.extend(error_problems(e));
    }
    if fault == Fault::S429 && seen_requests.len() == 2 {
        let gap = seen_requests[1]["elapsed_ms"].as_f64().unwrap_or(0.0) - seen_requests[0]["elapsed_ms"].as_f64().unwrap_or(0.0);
        if !(gap >= RETRY_AFTER as f64 * 1000.0 && gap < 10_000.0) {
            problems.push(format!("{gap:.0} ms between the 429 and the retry; Retry-After said {RETRY_AFTER} s"));
        }
    }
    (Seen { outcome, may_have_been_applied, retries_taken, requests: seen_requests.len(), applied }, problems)
}

/// An error's own consistency: its status matches its kind.
fn error_problems(e: &parsec_teams::Error) -> Vec<String> {
    let want = match e.kind() {
        ErrorKind::Server => Some(e.status().is_some_and(|s| s >= 500)),
        ErrorKind::NotFound => Some(e.status() == Some(404)),
        ErrorKind::Connection | ErrorKind::Timeout => Some(e.status().is_none()),
        _ => None,
    };
    match want {
        Some(false) => vec![format!("error {:?} with status {:?}", e.kind(), e.status())],
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    let cells: Vec<_> = TABLE
        .iter()
        .map(|&(fault, method, outcome, may_have_been_applied, retries_taken, requests, applied)| {
            let want = Seen { outcome, may_have_been_applied, retries_taken, requests, applied };
            (fault, method, want, tokio::spawn(run_cell(fault, method)))
        })
        .collect();
    let mut failures = Vec::new();
    for (fault, method, want, cell) in cells {
        let (seen, problems) = cell.await.expect("cell task");
        let cell = format!("{fault:?} x {}", method.as_str());
        if seen != want {
            failures.push(format!("{cell}: got  {seen:?}\n    want {want:?}"));
        }
        for p in problems {
            failures.push(format!("{cell}: {p}"));
        }
    }
    assert!(failures.is_empty(), "{} problems in the 24 cells:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_table_covers_every_cell_once() {
    for fault in FAULTS {
        for method in METHODS {
            assert_eq!(TABLE.iter().filter(|c| c.0 == fault && c.1 == method).count(), 1, "{fault:?} x {}", method.as_str());
        }
    }
}
