//! Test hooks under `/_mock/` (no auth on loopback; the admin token when the
//! server listens beyond it — checked in `server::handle`).

use crate::clock;
use crate::server::{fault_headers, reply_to_response, App, FaultRule, ReqInfo, MAX_FAULT_BODY, MAX_FAULT_DELAY_MS};
use crate::validate::{ApiError, ApiResult, Body, Reply};
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{json, Value};
use std::sync::Arc;

type ControlFn = fn(&App, &ReqInfo) -> ApiResult<Reply>;

fn h(f: ControlFn) -> impl Fn(AxState<Arc<App>>, Extension<Arc<ReqInfo>>) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move |AxState(app), Extension(info)| std::future::ready(reply_to_response(f(&app, &info).unwrap_or_else(Reply::from)))
}

/// The control routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/_mock/reset", post(h(reset)))
        .route("/_mock/faults", get(h(faults_list)).post(h(faults_add)).delete(h(faults_clear)))
        .route("/_mock/requests", get(h(requests_list)).delete(h(requests_clear)))
        .route("/_mock/state", get(h(state)))
        .route("/_mock/clock", get(h(clock_get)).post(h(clock_advance)))
        .route("/_mock/join", post(h(join)))
        .route("/_mock/credits", post(h(credits)))
}

fn raw_json(body: Vec<u8>) -> Reply {
    Reply { status: StatusCode::OK, body: Some(body), retry_after: None }
}

fn reset(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    app.reset();
    Ok(Reply::no_content())
}

fn faults_list(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    Ok(Reply::data(&app.faults()))
}

fn faults_add(app: &App, info: &ReqInfo) -> ApiResult<Reply> {
    let map = info.body.object()?;
    let b = Body::new(map);
    let path = b.req_str("path")?.to_string();
    let method = b.opt_str("method")?.map(str::to_ascii_uppercase);
    let times = b.opt_int("times", 1)?.unwrap_or(1) as u64;
    let status = match b.opt_int("status", 100)? {
        Some(s) if s <= 599 => Some(s as u16),
        Some(_) => return Err(ApiError::bad("status", "must be an HTTP status (100..599)")),
        None => None,
    };
    let retry_after = b.opt_int("retry_after", 0)?.map(|r| r as u64);
    let delay_ms = b.opt_int("delay_ms", 0)?.unwrap_or(0) as u64;
    if delay_ms > MAX_FAULT_DELAY_MS {
        return Err(ApiError::bad("delay_ms", format!("must be at most {MAX_FAULT_DELAY_MS}")));
    }
    let drop_connection = b.opt_bool("drop_connection")?.unwrap_or(false);
    let body = match map.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    if body.as_ref().is_some_and(|b| b.len() > MAX_FAULT_BODY) {
        return Err(ApiError::bad("body", format!("must be at most {MAX_FAULT_BODY} bytes")));
    }
    let mut rule = FaultRule::new(method, path, times, status, retry_after, delay_ms, drop_connection, body);
    rule.act_first = b.opt_bool("act_first")?.unwrap_or(false);
    rule.truncate_body = b.opt_bool("truncate_body")?.unwrap_or(false);
    rule.headers = fault_headers(map.get("headers")).map_err(|e| ApiError::bad("headers", e))?;
    app.add_fault(rule.clone()).map_err(ApiError::conflict)?;
    Ok(Reply::data(&rule))
}

fn faults_clear(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    app.clear_faults();
    Ok(Reply::no_content())
}

fn requests_list(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    Ok(raw_json(app.log_json()))
}

fn requests_clear(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    app.clear_log();
    Ok(Reply::no_content())
}

fn state(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    Ok(raw_json(app.state().to_json_masked()))
}

fn now_reply(app: &App) -> Reply {
    Reply::json(StatusCode::OK, &json!({ "now": clock::fmt(app.clock.now()) }))
}

fn clock_get(app: &App, _: &ReqInfo) -> ApiResult<Reply> {
    Ok(now_reply(app))
}

fn clock_advance(app: &App, info: &ReqInfo) -> ApiResult<Reply> {
    let map = info.body.object()?;
    let secs = match map.get("advance_seconds") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(-1.0),
        None | Some(Value::Null) => return Err(ApiError::bad("advance_seconds", "is required")),
        Some(_) => -1.0,
    };
    app.clock.advance(secs).map_err(|e| ApiError::bad("advance_seconds", e))?;
    Ok(now_reply(app))
}

fn join(app: &App, info: &ReqInfo) -> ApiResult<Reply> {
    let map = info.body.object()?;
    let email = Body::new(map).req_str("email")?;
    let now = app.clock.now();
    let member = crate::teams_api::join(&mut app.state(), now, email)?;
    Ok(Reply::data(&member))
}

fn credits(app: &App, info: &ReqInfo) -> ApiResult<Reply> {
    let map = info.body.object()?;
    let balance = Body::new(map).opt_int("balance", 0)?.ok_or_else(|| ApiError::bad("balance", "is required"))?;
    app.state().credits = balance as u64;
    Ok(Reply::json(StatusCode::OK, &json!({ "balance": balance })))
}
