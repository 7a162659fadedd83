//! The team-administration API (A1–A11) under `/api/v1`.

use crate::server::{reply_to_response, App, BodyData, ReqInfo};
use crate::state::{AccessRight, AdminTeam, State};
use crate::validate::{path_params, ApiError, ApiResult, PathParams, Query, Reply};
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value};
use std::sync::Arc;

/// One request as an admin operation sees it.
pub struct AdminCall<'a> {
    params: Vec<&'a str>,
    query: Query,
    body: &'a BodyData,
    /// The token's user.
    user_id: u64,
}

type AdminFn = fn(&AdminCall, &mut State) -> ApiResult<Reply>;

impl AdminCall<'_> {
    /// Path parameter `i` ("" when absent).
    fn param(&self, i: usize) -> &str {
        self.params.get(i).copied().unwrap_or("")
    }
}

fn run(app: &App, admin_only: bool, f: AdminFn, info: &ReqInfo, params: PathParams, query: Option<String>) -> Reply {
    let mut st = app.state();
    let Some(user) = info.bearer.as_deref().and_then(|t| st.admin.users.iter().find(|u| u.token == t)) else {
        return ApiError::unauthorized().into();
    };
    if admin_only && !user.is_admin {
        return ApiError::forbidden("Forbidden: administrative privileges are required").into();
    }
    let params = match path_params(&params) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let call = AdminCall { params, query: Query::parse(query.as_deref()), body: &info.body, user_id: user.id };
    f(&call, &mut st).unwrap_or_else(Reply::from)
}

#[allow(clippy::type_complexity)]
fn h(
    admin_only: bool,
    f: AdminFn,
) -> impl Fn(AxState<Arc<App>>, Extension<Arc<ReqInfo>>, PathParams, RawQuery) -> std::future::Ready<Response> + Clone + Send + Sync + 'static
{
    move |AxState(app), Extension(info), params, RawQuery(query)| {
        std::future::ready(reply_to_response(run(&app, admin_only, f, &info, params, query)))
    }
}

/// The team-administration routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/teams", get(h(false, teams_list)).post(h(true, teams_create)))
        .route("/api/v1/teams/user_owned", get(h(false, teams_owned)))
        .route("/api/v1/teams/:id", get(h(false, teams_get)).put(h(true, teams_update)).delete(h(true, teams_delete)))
        .route("/api/v1/teams/:id/users/:user_id", post(h(true, teams_add_user)).delete(h(true, teams_remove_user)))
        .route("/api/v1/teams/:id/access_rights", get(h(true, teams_access_rights)))
        .route("/api/v1/users/:id/assign_to_all_teams", post(h(true, users_assign_all)))
        .route("/api/v1/users/:id/remove_from_all_teams", delete(h(true, users_remove_all)))
}

fn team_index(st: &State, id: &str) -> ApiResult<usize> {
    st.admin.teams.iter().position(|t| t.id == id).ok_or_else(|| ApiError::not_found("id", format!("no team with id {id:?}")))
}

fn user_id(st: &State, raw: &str) -> ApiResult<u64> {
    raw.parse::<u64>()
        .ok()
        .filter(|u| st.admin.users.iter().any(|x| x.id == *u))
        .ok_or_else(|| ApiError::not_found("user_id", format!("no user with id {raw:?}")))
}

fn teams_list(_c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    Ok(Reply::json(StatusCode::OK, &st.admin.teams))
}

fn teams_owned(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let owned: Vec<&AdminTeam> = st.admin.teams.iter().filter(|t| t.owner_id == c.user_id).collect();
    Ok(Reply::json(StatusCode::OK, &owned))
}

fn teams_get(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let i = team_index(st, c.param(0))?;
    Ok(Reply::json(StatusCode::OK, &st.admin.teams[i]))
}

/// The `team` hash of a create/update body (absent or null = empty).
fn team_params<'a>(c: &AdminCall<'a>) -> ApiResult<Map<String, Value>> {
    let body = c.body.object()?;
    match body.get("team") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::unprocessable("team", "must be a Hash (JSON object)")),
    }
}

/// Validated `team[...]` fields: name, quota (null clears), quota_mail_sent.
struct TeamFields {
    name: Option<String>,
    quota: Option<Option<String>>,
    quota_mail_sent: Option<bool>,
}

fn team_fields(t: &Map<String, Value>) -> ApiResult<TeamFields> {
    let name = match t.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) => return Err(ApiError::unprocessable("team[name]", "must not be empty")),
        Some(_) => return Err(ApiError::unprocessable("team[name]", "must be a String")),
    };
    let quota = match t.get("quota") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Some(Some(s.clone())),
        Some(_) => return Err(ApiError::unprocessable("team[quota]", "must be a String of a non-negative integer (bytes)")),
    };
    let quota_mail_sent = match t.get("quota_mail_sent") {
        None => None,
        Some(Value::Null) => Some(false),
        Some(Value::String(s)) if s == "true" => Some(true),
        Some(Value::String(s)) if s == "false" => Some(false),
        Some(_) => return Err(ApiError::unprocessable("team[quota_mail_sent]", "must be the String \"true\" or \"false\"")),
    };
    Ok(TeamFields { name, quota, quota_mail_sent })
}

fn teams_create(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let t = team_params(c)?;
    let f = team_fields(&t)?;
    let name = f.name.ok_or_else(|| ApiError::unprocessable("team[name]", "is required"))?;
    let id = st.next_admin_team_id.to_string();
    st.next_admin_team_id = st.next_admin_team_id.saturating_add(1);
    let team = AdminTeam {
        id,
        name,
        quota: f.quota.flatten(),
        quota_mail_sent: f.quota_mail_sent.unwrap_or(false),
        owner_id: c.user_id,
        user_ids: vec![c.user_id],
    };
    st.admin.teams.push(team.clone());
    Ok(Reply::json(StatusCode::CREATED, &team))
}

fn teams_update(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let i = team_index(st, c.param(0))?;
    let f = team_fields(&team_params(c)?)?;
    let team = &mut st.admin.teams[i];
    if let Some(n) = f.name {
        team.name = n;
    }
    if let Some(q) = f.quota {
        team.quota = q;
    }
    if let Some(s) = f.quota_mail_sent {
        team.quota_mail_sent = s;
    }
    Ok(Reply::json(StatusCode::OK, team))
}

fn teams_delete(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let i = team_index(st, c.param(0))?;
    let team = st.admin.teams.remove(i);
    st.admin.access_rights.retain(|r| r.team_id != team.id);
    Ok(Reply::no_content())
}

fn teams_add_user(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let i = team_index(st, c.param(0))?;
    let u = user_id(st, c.param(1))?;
    let team = &mut st.admin.teams[i];
    if !team.user_ids.contains(&u) {
        team.user_ids.push(u);
    }
    Ok(Reply::json(StatusCode::OK, team))
}

fn teams_remove_user(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let i = team_index(st, c.param(0))?;
    let u = user_id(st, c.param(1))?;
    let team = &mut st.admin.teams[i];
    if !team.user_ids.contains(&u) {
        return Err(ApiError::not_found("user_id", format!("user {u} is not a member of team {:?}", team.id)));
    }
    team.user_ids.retain(|x| *x != u);
    Ok(Reply::no_content())
}

fn teams_access_rights(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let i = team_index(st, c.param(0))?;
    let kind = match c.query.get("type") {
        Some(k @ ("assets" | "projects")) => k,
        _ => return Err(ApiError::unprocessable("type", "must be \"assets\" or \"projects\"")),
    };
    let id = &st.admin.teams[i].id;
    let rights: Vec<&AccessRight> = st.admin.access_rights.iter().filter(|r| &r.team_id == id && r.kind == kind).collect();
    Ok(Reply::json(StatusCode::OK, &rights))
}

fn users_assign_all(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let u = user_id(st, c.param(0))?;
    for t in st.admin.teams.iter_mut().filter(|t| !t.user_ids.contains(&u)) {
        t.user_ids.push(u);
    }
    Ok(Reply::no_content())
}

fn users_remove_all(c: &AdminCall, st: &mut State) -> ApiResult<Reply> {
    let u = user_id(st, c.param(0))?;
    for t in st.admin.teams.iter_mut() {
        t.user_ids.retain(|x| *x != u);
    }
    Ok(Reply::no_content())
}
