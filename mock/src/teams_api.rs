//! The Parsec Teams API (V1): 39 operations under `/v1/teams/{team_id}`.

use crate::ksuid;
use crate::permissions::Perm;
use crate::quota;
use crate::server::{reply_to_response, App, BodyData, ReqInfo};
use crate::state::{join_url, Event, Group, GuestInvite, Machine, Member, MemberInvite, PermittedGroup, State};
use crate::validate::{has_duplicates, is_email, paginate, path_params, ApiError, ApiResult, Body, NoneOr, Opt, PathParams, Query, Reply};
use axum::extract::{RawQuery, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Extension, Router};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// How long a member invite stays valid.
pub const INVITE_TTL_DAYS: i64 = 7;

/// One request, parsed, as an operation sees it.
pub struct Call<'a> {
    /// Path parameters after the team id, in path order.
    pub params: Vec<&'a str>,
    pub query: Query,
    body: &'a BodyData,
    perms: u64,
    /// The API key's user (the actor of audit events).
    pub user_id: u64,
    pub now: OffsetDateTime,
    /// The body's long lists, checked before the state lock is taken; their
    /// error (if any) is raised where the operation reads them, so the order
    /// of the checks does not change.
    pre: ApiResult<Pre>,
}

/// What an operation's [`PreFn`] checked before the state lock.
pub enum Pre {
    None,
    Emails(Vec<String>),
    Ids(Vec<u64>),
}

/// Checks a body's long lists (linear time, no state needed) before the lock.
type PreFn = fn(&Call) -> ApiResult<Pre>;

fn pre_emails_any(c: &Call) -> ApiResult<Pre> {
    c.body()?.emails("emails", 0, usize::MAX, false).map(Pre::Emails)
}
fn pre_emails_200(c: &Call) -> ApiResult<Pre> {
    c.body()?.emails("emails", 1, 200, true).map(Pre::Emails)
}
fn user_ids(c: &Call, non_empty: bool) -> ApiResult<Pre> {
    Ok(Pre::Ids(c.body()?.req_int_list("user_ids", 1, non_empty, true)?.into_iter().map(|i| i as u64).collect()))
}
fn pre_user_ids_any(c: &Call) -> ApiResult<Pre> {
    user_ids(c, false)
}
fn pre_user_ids_non_empty(c: &Call) -> ApiResult<Pre> {
    user_ids(c, true)
}

impl<'a> Call<'a> {
    fn body(&self) -> ApiResult<Body<'a>> {
        self.body.object().map(Body::new)
    }
    fn require(&self, perm: Perm, why: &str) -> ApiResult<()> {
        if self.perms & perm.bit() == 0 {
            return Err(ApiError::forbidden(format!("Forbidden: {why} requires the \"{}\" permission", perm.name())));
        }
        Ok(())
    }
    fn int_param(&self, i: usize, name: &str) -> ApiResult<u64> {
        self.params.get(i).and_then(|s| s.parse::<u64>().ok()).ok_or_else(|| ApiError::bad(name, "must be an integer"))
    }
    fn param(&self, i: usize) -> &'a str {
        self.params.get(i).copied().unwrap_or("")
    }
    /// The `emails` checked before the lock.
    fn emails(&self) -> ApiResult<&[String]> {
        match &self.pre {
            Ok(Pre::Emails(e)) => Ok(e),
            Ok(_) => Err(ApiError::bad("emails", "is required")),
            Err(e) => Err(e.clone()),
        }
    }
    /// The `user_ids` checked before the lock.
    fn user_ids(&self) -> ApiResult<&[u64]> {
        match &self.pre {
            Ok(Pre::Ids(i)) => Ok(i),
            Ok(_) => Err(ApiError::bad("user_ids", "is required")),
            Err(e) => Err(e.clone()),
        }
    }
}

type RunFn = fn(&Call, &mut State) -> ApiResult<Reply>;

/// An operation: the permission it needs, its quota, whether it changes state.
#[derive(Clone, Copy)]
pub struct Op {
    perm: Perm,
    quota: Option<&'static str>,
    mutates: bool,
    run: RunFn,
    pre: Option<PreFn>,
}

const fn read(perm: Perm, run: RunFn) -> Op {
    Op { perm, quota: None, mutates: false, run, pre: None }
}
const fn write(perm: Perm, run: RunFn) -> Op {
    Op { perm, quota: None, mutates: true, run, pre: None }
}

/// Auth, team check, permission, the body's long lists (before the lock), then
/// quota and the operation under the state lock.
fn run(app: &App, op: Op, info: &ReqInfo, params: PathParams, query: Option<String>) -> Reply {
    let Some(key) = info.bearer.as_deref().and_then(|t| app.keys.get(t)) else {
        return ApiError::unauthorized().into();
    };
    let params = match path_params(&params) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let team = params.first().copied().unwrap_or("");
    if team != app.team_id {
        return ApiError::forbidden(format!("Forbidden: this API key does not belong to team {team}")).into();
    }
    if key.perms & op.perm.bit() == 0 {
        return ApiError::forbidden(format!("Forbidden: this API key lacks the \"{}\" permission", op.perm.name())).into();
    }
    let now = app.clock.now();
    let mut call = Call {
        params: params.get(1..).unwrap_or_default().to_vec(),
        query: Query::parse(query.as_deref()),
        body: &info.body,
        perms: key.perms,
        user_id: key.user_id,
        now,
        pre: Ok(Pre::None),
    };
    if let Some(pre) = op.pre {
        call.pre = pre(&call);
    }
    let mut st = app.state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(name) = op.quota {
        if let Err(e) = quota::check(st.quotas.entry(name.to_string()).or_default(), name, now, app.quota_window) {
            return e.into();
        }
    }
    match (op.run)(&call, &mut st) {
        Ok(reply) => {
            if op.mutates {
                st.refresh();
            }
            reply
        }
        Err(e) => e.into(),
    }
}

#[allow(clippy::type_complexity)]
fn h(
    op: Op,
) -> impl Fn(AxState<Arc<App>>, Extension<Arc<ReqInfo>>, PathParams, RawQuery) -> std::future::Ready<Response> + Clone + Send + Sync + 'static
{
    move |AxState(app), Extension(info), params, RawQuery(query)| std::future::ready(reply_to_response(run(&app, op, &info, params, query)))
}

/// The Teams API routes.
pub fn routes() -> Router<Arc<App>> {
    use Perm as P;
    const BASE: &str = "/v1/teams/:team";
    let r = |path: &str| format!("{BASE}{path}");
    Router::new()
        .route(&r("/events"), get(h(Op { quota: Some(quota::AUDIT_LOG), ..read(P::ACCESS_AUDIT_LOG, events_list) })))
        .route(&r("/groups"), get(h(read(P::VIEW_GROUPS, groups_list))).post(h(write(P::CREATE_TEAM_GROUP, groups_create))))
        .route(
            &r("/groups/:group_id"),
            get(h(read(P::VIEW_GROUPS, groups_get)))
                .put(h(write(P::UPDATE_TEAM_GROUP, groups_update)))
                .delete(h(write(P::DELETE_TEAM_GROUP, groups_delete))),
        )
        .route(
            &r("/groups/:group_id/remove-members"),
            post(h(Op { pre: Some(pre_user_ids_any), ..write(P::REMOVE_GROUP_MEMBERS, groups_remove_members) })),
        )
        .route(
            &r("/groups/:group_id/permitted-groups"),
            post(h(write(P::ADD_PERMITTED_TEAM_GROUPS, groups_add_permitted)))
                .delete(h(write(P::REMOVE_PERMITTED_TEAM_GROUPS, groups_remove_permitted))),
        )
        .route(
            &r("/groups/:group_id/permitted-groups/:permitted_group_id"),
            put(h(write(P::UPDATE_PERMITTED_TEAM_GROUP, groups_update_permitted))),
        )
        .route(
            &r("/groups/:group_id/members"),
            post(h(Op { pre: Some(pre_user_ids_non_empty), ..write(P::ADD_GROUP_MEMBERS, groups_add_members) })),
        )
        .route(
            &r("/groups/:group_id/add-members"),
            post(h(Op { pre: Some(pre_user_ids_non_empty), ..write(P::ADD_GROUP_MEMBERS, groups_assign_members) })),
        )
        .route(
            &r("/guest-access-invites"),
            get(h(read(P::VIEW_GUEST_ACCESS_LINKS, guest_list))).post(h(write(P::CREATE_GUEST_ACCESS_LINKS, guest_create))),
        )
        .route(
            &r("/guest-access-invites/:invite_id"),
            get(h(read(P::VIEW_GUEST_ACCESS_LINKS, guest_get)))
                .put(h(write(P::MANAGE_GUEST_ACCESS_LINKS, guest_update)))
                .delete(h(write(P::MANAGE_GUEST_ACCESS_LINKS, guest_cancel))),
        )
        .route(&r("/guest-access-invites/:invite_id/guest"), delete(h(write(P::TEAM_MACHINE_KICK_GUEST, guest_kick))))
        .route(&r("/guest-access-invite-credits"), get(h(read(P::VIEW_CREDIT_BALANCE, guest_credits))))
        .route(&r("/machines"), get(h(read(P::VIEW_TEAM_COMPUTERS, machines_list))))
        .route(
            &r("/machines/:machine_id"),
            get(h(read(P::VIEW_TEAM_COMPUTERS, machines_get)))
                .put(h(write(P::MANAGE_TEAM_COMPUTERS, machines_update)))
                .delete(h(write(P::DELETE_TEAM_COMPUTERS, machines_delete))),
        )
        .route(
            &r("/machines/:machine_id/assignment"),
            post(h(write(P::MANAGE_TEAM_COMPUTERS, machines_create_assignment)))
                .put(h(write(P::MANAGE_TEAM_COMPUTERS, machines_set_assignment)))
                .delete(h(write(P::MANAGE_TEAM_COMPUTERS, machines_remove_assignment))),
        )
        .route(&r("/machines/:machine_id/users/:user_id"), delete(h(write(P::TEAM_MACHINE_KICK_USER, machines_kick_user))))
        .route(&r("/app-rules"), get(h(read(P::VIEW_APP_RULES, app_rules_list))))
        .route(&r("/app-rules/:app_rule_id/assign"), post(h(write(P::MANAGE_APP_RULE_ASSIGNMENTS, app_rules_assign))))
        .route(&r("/app-rules/:app_rule_id/unassign"), post(h(write(P::MANAGE_APP_RULE_ASSIGNMENTS, app_rules_unassign))))
        .route(&r("/members"), get(h(read(P::VIEW_TEAM_MEMBERS, members_list))))
        .route(
            &r("/members/:user_id"),
            get(h(read(P::VIEW_TEAM_MEMBERS, members_get))).delete(h(write(P::REMOVE_TEAM_MEMBERS, members_remove))),
        )
        .route(
            &r("/member-invites"),
            get(h(read(P::VIEW_TEAM_INVITES, invites_list)))
                .post(h(Op {
                    quota: Some(quota::INVITES_CREATE),
                    pre: Some(pre_emails_200),
                    ..write(P::CREATE_TEAM_INVITES, invites_create)
                }))
                .put(h(Op { pre: Some(pre_emails_any), ..write(P::MANAGE_TEAM_INVITES, invites_update) }))
                .delete(h(Op { pre: Some(pre_emails_200), ..write(P::DELETE_TEAM_INVITE, invites_cancel_deprecated) })),
        )
        .route(&r("/cancel-member-invites"), post(h(Op { pre: Some(pre_emails_any), ..write(P::DELETE_TEAM_INVITES, invites_cancel) })))
        .route(
            &r("/resend-member-invites"),
            post(h(Op { quota: Some(quota::INVITES_RESEND), pre: Some(pre_emails_200), ..write(P::CREATE_TEAM_INVITES, invites_resend) })),
        )
}

// ---------------------------------------------------------------- lookups

fn find_group(st: &State, id: u64) -> ApiResult<&Group> {
    st.group(id).ok_or_else(|| ApiError::not_found("group_id", format!("no team group with id {id}")))
}
fn ensure_group(st: &State, field: &str, id: u64) -> ApiResult<()> {
    st.group(id).map(|_| ()).ok_or_else(|| ApiError::not_found(field, format!("no team group with id {id}")))
}
fn ensure_member(st: &State, field: &str, id: u64) -> ApiResult<()> {
    st.member(id).map(|_| ()).ok_or_else(|| ApiError::not_found(field, format!("no team member with user_id {id}")))
}
fn ensure_rule(st: &State, field: &str, id: &str) -> ApiResult<()> {
    st.app_rule(id).map(|_| ()).ok_or_else(|| ApiError::not_found(field, format!("no app rule with id {id:?}")))
}
fn machine_index(st: &State, id: &str) -> ApiResult<usize> {
    st.machines.iter().position(|m| m.id == id).ok_or_else(|| ApiError::not_found("machine_id", format!("no team machine with id {id:?}")))
}
fn guest_index(st: &State, id: &str) -> ApiResult<usize> {
    st.guest_invites
        .iter()
        .position(|g| g.id == id)
        .ok_or_else(|| ApiError::not_found("invite_id", format!("no guest access invite with id {id:?}")))
}
fn ensure_host(st: &State, peer_id: &str) -> ApiResult<()> {
    if st.machines.iter().any(|m| m.peer_id == peer_id) {
        Ok(())
    } else {
        Err(ApiError::not_found("host_peer_id", format!("no team machine with peer id {peer_id:?}")))
    }
}

// ---------------------------------------------------------------- audit log

fn events_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let q = &c.query;
    let limit = q.req_int("limit", 1, 1000)? as usize;
    let start_at = q.opt_time("start_at")?;
    let end_at = q.opt_time("end_at")?;
    let user_id = q.opt_int("user_id", 1, i64::MAX)?.map(|u| u as u64);
    let names: Option<HashSet<&str>> = match q.get("event_names") {
        None => None,
        Some(s) => {
            let names: Vec<&str> = s.split(',').map(str::trim).collect();
            if names.iter().any(|n| n.is_empty()) {
                return Err(ApiError::bad("event_names", "must not contain empty names"));
            }
            if has_duplicates(names.iter()) {
                return Err(ApiError::bad("event_names", "items must be unique"));
            }
            Some(names.into_iter().collect::<HashSet<&str>>())
        }
    };
    let (cursor, after) = (q.get("cursor"), q.get("after"));
    if cursor.is_some() && after.is_some() {
        return Err(ApiError::bad("cursor", "may not be supplied together with after"));
    }
    for (name, value) in [("cursor", cursor), ("after", after)] {
        if let Some(v) = value {
            if v.chars().count() != ksuid::LEN {
                return Err(ApiError::bad(name, "must be exactly 27 characters"));
            }
            if !ksuid::is_valid(v) {
                return Err(ApiError::bad(name, "must be a valid KSUID"));
            }
        }
    }
    // Events are stored oldest first; the answer is newest first.
    let end = match (cursor, after) {
        (Some(c), _) => st.events.partition_point(|e| e.id.as_str() <= c),
        (_, Some(a)) => st.events.partition_point(|e| e.id.as_str() < a),
        _ => st.events.len(),
    };
    let keep = |e: &Event| {
        start_at.none_or(|t| e.created_at >= t)
            && end_at.none_or(|t| e.created_at <= t)
            && user_id.none_or(|u| e.user_id == Some(u))
            && names.as_ref().none_or(|n| n.contains(&e.event_name.as_str()))
    };
    let mut data: Vec<&Event> = Vec::with_capacity(limit.min(1000));
    let mut next_cursor: Option<&str> = None;
    for e in st.events[..end].iter().rev().filter(|e| keep(e)) {
        if data.len() == limit {
            next_cursor = Some(&e.id);
            break;
        }
        data.push(e);
    }
    #[derive(Serialize)]
    struct EventsPage<'a> {
        data: Vec<&'a Event>,
        next_cursor: Option<&'a str>,
    }
    Ok(Reply::json(StatusCode::OK, &EventsPage { data, next_cursor }))
}

// ---------------------------------------------------------------- groups

const SHOW_FLAGS: [&str; 3] = ["show_group_assigned_managed_hosts", "show_user_assigned_managed_hosts", "show_personal_hosts"];

fn check_group_name(name: &str) -> ApiResult<()> {
    let n = name.chars().count();
    if !(2..=64).contains(&n) {
        return Err(ApiError::bad("group_name", "must be 2..64 characters"));
    }
    Ok(())
}

/// The three `show_*` flags of a group after a create (`prev` = None) or an update
/// (`prev` = the group's current `allow_connections_within_group` and flags).
fn resolve_flags(b: &Body, allow: bool, prev: Option<(bool, [bool; 3])>) -> ApiResult<[bool; 3]> {
    let mut out = [false; 3];
    for (i, name) in SHOW_FLAGS.iter().enumerate() {
        let v = b.tri_bool(name)?;
        if v == Opt::Val(true) && !allow {
            return Err(ApiError::bad(name, "may not be true unless allow_connections_within_group is true"));
        }
        out[i] = if !allow {
            false
        } else {
            match (v, prev) {
                (Opt::Val(x), _) => x,
                // Updating a group that already allowed connections: keep the value.
                (_, Some((true, p))) => p[i],
                // Created, or just switched on: group-assigned hosts default to shown.
                _ => i == 0,
            }
        };
    }
    Ok(out)
}

fn flags_of(g: &Group) -> [bool; 3] {
    [g.show_group_assigned_managed_hosts, g.show_user_assigned_managed_hosts, g.show_personal_hosts]
}

fn set_flags(g: &mut Group, f: [bool; 3]) {
    g.show_group_assigned_managed_hosts = f[0];
    g.show_user_assigned_managed_hosts = f[1];
    g.show_personal_hosts = f[2];
}

fn groups_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let (offset, limit) = c.query.page()?;
    let name = c.query.get("name").map(str::to_lowercase);
    let (page, count) =
        paginate(st.groups.iter().filter(|g| name.as_ref().none_or(|n| g.name.to_lowercase().contains(n.as_str()))), offset, limit);
    Ok(Reply::page(&page, count))
}

fn groups_create(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let b = c.body()?;
    let name = b.req_str("group_name")?;
    check_group_name(name)?;
    let allow = b.req_bool("allow_connections_within_group")?;
    // Required by the seeds on create (show_group_assigned_managed_hosts may be left out or null).
    b.req_bool("show_user_assigned_managed_hosts")?;
    b.req_bool("show_personal_hosts")?;
    let flags = resolve_flags(&b, allow, None)?;
    let id = st.next_group_id;
    st.next_group_id = st.next_group_id.saturating_add(1);
    let mut g = Group {
        id,
        name: name.to_string(),
        allow_connections_within_group: allow,
        show_group_assigned_managed_hosts: false,
        show_user_assigned_managed_hosts: false,
        show_personal_hosts: false,
        permitted_groups: vec![],
        member_count: 0,
        created_at: c.now,
    };
    set_flags(&mut g, flags);
    st.groups.push(g.clone());
    st.push_event(c.now, "group.created", Some(c.user_id), json!({ "group_id": id, "group_name": name }));
    Ok(Reply::data(&g))
}

fn groups_get(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    Ok(Reply::data(find_group(st, id)?))
}

fn groups_update(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    let b = c.body()?;
    let g = find_group(st, id)?;
    let name = b.opt_str("group_name")?;
    if let Some(n) = name {
        check_group_name(n)?;
    }
    let allow = b.tri_bool("allow_connections_within_group")?.value().unwrap_or(g.allow_connections_within_group);
    let flags = resolve_flags(&b, allow, Some((g.allow_connections_within_group, flags_of(g))))?;
    let g = st.group_mut(id).expect("checked");
    if let Some(n) = name {
        g.name = n.to_string();
    }
    g.allow_connections_within_group = allow;
    set_flags(g, flags);
    if !allow {
        // Connection permissions with the group itself need allow_connections_within_group.
        for p in g.permitted_groups.iter_mut().filter(|p| p.group_id == id) {
            p.show_group_assigned_managed_hosts = false;
            p.show_user_assigned_managed_hosts = false;
            p.show_personal_hosts = false;
        }
    }
    let g = g.clone();
    st.push_event(c.now, "group.updated", Some(c.user_id), json!({ "group_id": id }));
    Ok(Reply::data(&g))
}

fn groups_delete(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    find_group(st, id)?;
    st.groups.retain(|g| g.id != id);
    for g in st.groups.iter_mut() {
        g.permitted_groups.retain(|p| p.group_id != id);
    }
    for m in st.members.iter_mut() {
        m.group_ids.retain(|g| *g != id);
    }
    for m in st.machines.iter_mut() {
        m.team_group_ids.retain(|g| *g != id);
    }
    for i in st.member_invites.iter_mut().filter(|i| i.group_id == Some(id)) {
        i.group_id = None;
    }
    st.push_event(c.now, "group.deleted", Some(c.user_id), json!({ "group_id": id }));
    Ok(Reply::no_content())
}

/// The ids of the team's members.
fn member_set(st: &State) -> HashSet<u64> {
    st.members.iter().map(|m| m.user_id).collect()
}

/// Every id is a member (404 for the first that is not).
fn ensure_members(st: &State, field: &str, ids: &[u64]) -> ApiResult<()> {
    let known = member_set(st);
    match ids.iter().find(|u| !known.contains(u)) {
        Some(u) => Err(ApiError::not_found(field, format!("no team member with user_id {u}"))),
        None => Ok(()),
    }
}

/// `user_ids` (checked before the lock: unique, >= 1), each a member.
fn member_ids(c: &Call, st: &State) -> ApiResult<HashSet<u64>> {
    let ids = c.user_ids()?;
    ensure_members(st, "user_ids", ids)?;
    Ok(ids.iter().copied().collect())
}

fn groups_remove_members(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    c.body()?;
    find_group(st, id)?;
    let ids = member_ids(c, st)?;
    for m in st.members.iter_mut().filter(|m| ids.contains(&m.user_id)) {
        m.group_ids.retain(|g| *g != id);
    }
    st.push_event(c.now, "group.members_removed", Some(c.user_id), json!({ "group_id": id, "user_ids": c.user_ids()? }));
    Ok(Reply::no_content())
}

/// `add_members` (deprecated) replaces each member's groups with this one;
/// `assign_members` adds this group and keeps the others.
fn add_to_group(c: &Call, st: &mut State, replace: bool) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    c.body()?;
    find_group(st, id)?;
    let ids = member_ids(c, st)?;
    for m in st.members.iter_mut().filter(|m| ids.contains(&m.user_id)) {
        if replace {
            m.group_ids = vec![id];
        } else if !m.group_ids.contains(&id) {
            m.group_ids.push(id);
        }
    }
    st.push_event(c.now, "group.members_added", Some(c.user_id), json!({ "group_id": id, "user_ids": c.user_ids()?, "replace": replace }));
    Ok(Reply::no_content())
}

fn groups_add_members(c: &Call, st: &mut State) -> ApiResult<Reply> {
    add_to_group(c, st, true)
}

fn groups_assign_members(c: &Call, st: &mut State) -> ApiResult<Reply> {
    add_to_group(c, st, false)
}

/// A permitted-group entry pointing at the group itself needs its
/// `allow_connections_within_group` for any true flag.
fn check_self_flags(g: &Group, target: u64, flags: [bool; 3]) -> ApiResult<()> {
    if target == g.id && !g.allow_connections_within_group {
        if let Some(i) = flags.iter().position(|f| *f) {
            return Err(ApiError::bad(
                SHOW_FLAGS[i],
                "may not be true for the group itself unless its allow_connections_within_group is true",
            ));
        }
    }
    Ok(())
}

fn groups_add_permitted(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    let b = c.body()?;
    let g = find_group(st, id)?;
    let targets = b.req_int_list("group_ids", 1, true, true)?;
    let direction = b.direction()?;
    let mut flags = [false; 3];
    for (i, name) in SHOW_FLAGS.iter().enumerate() {
        flags[i] = b.req_bool(name)?;
    }
    for &t in &targets {
        ensure_group(st, "group_ids", t as u64)?;
        check_self_flags(g, t as u64, flags)?;
    }
    let g = st.group_mut(id).expect("checked");
    for &t in &targets {
        let entry = PermittedGroup {
            group_id: t as u64,
            direction: direction.to_string(),
            show_group_assigned_managed_hosts: flags[0],
            show_user_assigned_managed_hosts: flags[1],
            show_personal_hosts: flags[2],
        };
        match g.permitted_groups.iter_mut().find(|p| p.group_id == t as u64 && p.direction == direction) {
            Some(p) => *p = entry,
            None => g.permitted_groups.push(entry),
        }
    }
    st.push_event(
        c.now,
        "group.permitted_groups_added",
        Some(c.user_id),
        json!({ "group_id": id, "group_ids": targets, "direction": direction }),
    );
    Ok(Reply::no_content())
}

fn not_permitted(id: u64, target: u64, direction: &str) -> ApiError {
    ApiError::not_found("permitted_group_id", format!("group {target} is not an {direction} permitted group of group {id}"))
}

fn groups_remove_permitted(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    let b = c.body()?;
    let g = find_group(st, id)?;
    let targets: Vec<u64> = b.req_int_list("group_ids", 1, true, true)?.into_iter().map(|t| t as u64).collect();
    let direction = b.direction()?;
    for &t in &targets {
        ensure_group(st, "group_ids", t)?;
        if !g.permitted_groups.iter().any(|p| p.group_id == t && p.direction == direction) {
            return Err(not_permitted(id, t, direction));
        }
    }
    let g = st.group_mut(id).expect("checked");
    g.permitted_groups.retain(|p| !(p.direction == direction && targets.contains(&p.group_id)));
    st.push_event(
        c.now,
        "group.permitted_groups_removed",
        Some(c.user_id),
        json!({ "group_id": id, "group_ids": targets, "direction": direction }),
    );
    Ok(Reply::no_content())
}

fn groups_update_permitted(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let id = c.int_param(0, "group_id")?;
    let target = c.int_param(1, "permitted_group_id")?;
    let b = c.body()?;
    let g = find_group(st, id)?;
    let direction = b.direction()?;
    let mut updates = [None; 3];
    for (i, name) in SHOW_FLAGS.iter().enumerate() {
        updates[i] = b.opt_bool(name)?;
    }
    let p = g
        .permitted_groups
        .iter()
        .find(|p| p.group_id == target && p.direction == direction)
        .ok_or_else(|| not_permitted(id, target, direction))?;
    let cur = [p.show_group_assigned_managed_hosts, p.show_user_assigned_managed_hosts, p.show_personal_hosts];
    let new = [0, 1, 2].map(|i| updates[i].unwrap_or(cur[i]));
    check_self_flags(g, target, new)?;
    let g = st.group_mut(id).expect("checked");
    let p = g.permitted_groups.iter_mut().find(|p| p.group_id == target && p.direction == direction).expect("checked");
    p.show_group_assigned_managed_hosts = new[0];
    p.show_user_assigned_managed_hosts = new[1];
    p.show_personal_hosts = new[2];
    Ok(Reply::no_content())
}

// ---------------------------------------------------------------- guest access

fn check_time_zone(tz: &str) -> ApiResult<()> {
    if tz.chars().count() < 3 {
        return Err(ApiError::bad("time_zone", "must be at least 3 characters"));
    }
    Ok(())
}

fn guest_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let (offset, limit) = c.query.page()?;
    let (page, count) = paginate(st.guest_invites.iter(), offset, limit);
    Ok(Reply::page(&page, count))
}

fn guest_get(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = guest_index(st, c.param(0))?;
    Ok(Reply::data(&st.guest_invites[i]))
}

fn guest_create(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let b = c.body()?;
    let host_peer_id = b.req_str("host_peer_id")?;
    let guest_email = b.req_str("guest_email")?;
    if !is_email(guest_email) {
        return Err(ApiError::bad("guest_email", "must be a valid email"));
    }
    let event_name = b.req_str("event_name")?;
    let keyboard = b.req_bool("keyboard")?;
    let mouse = b.req_bool("mouse")?;
    let gamepad = b.req_bool("gamepad")?;
    let time_zone = b.req_str("time_zone")?;
    check_time_zone(time_zone)?;
    let starts_at = b.req_time("starts_at")?;
    let expires_at = b.req_time("expires_at")?;
    let message = b.req_str("message")?;
    b.opt_bool("send_email")?;
    if starts_at <= c.now {
        return Err(ApiError::bad("starts_at", "must be in the future"));
    }
    if expires_at <= starts_at {
        return Err(ApiError::bad("expires_at", "must be after starts_at"));
    }
    ensure_host(st, host_peer_id)?;
    let is_member = st.member_by_email(guest_email).is_some();
    if !is_member {
        if st.credits == 0 {
            return Err(ApiError::conflict("guest_email: no guest access credits left (the guest is not a team member)"));
        }
        st.credits -= 1;
    }
    let id = format!("gai_{:03}", st.next_guest_seq);
    st.next_guest_seq = st.next_guest_seq.saturating_add(1);
    let invite = GuestInvite {
        id: id.clone(),
        guest_email: guest_email.to_string(),
        host_peer_id: host_peer_id.to_string(),
        event_name: event_name.to_string(),
        keyboard,
        mouse,
        gamepad,
        time_zone: time_zone.to_string(),
        starts_at,
        expires_at,
        message: message.to_string(),
        used: false,
        guest_connected: false,
        credit_spent: !is_member,
        created_at: c.now,
    };
    st.guest_invites.push(invite.clone());
    st.push_event(
        c.now,
        "guest_access.created",
        Some(c.user_id),
        json!({ "invite_id": id, "guest_email": guest_email, "credit_spent": !is_member }),
    );
    Ok(Reply::data(&invite))
}

fn guest_update(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = guest_index(st, c.param(0))?;
    let b = c.body()?;
    let host = b.opt_str("host_peer_id")?;
    let keyboard = b.opt_bool("keyboard")?;
    let mouse = b.opt_bool("mouse")?;
    let gamepad = b.opt_bool("gamepad")?;
    let time_zone = b.opt_str("time_zone")?;
    if let Some(tz) = time_zone {
        check_time_zone(tz)?;
    }
    let starts_at = b.opt_time("starts_at")?;
    let expires_at = b.opt_time("expires_at")?;
    b.opt_bool("send_email")?;
    let cur = &st.guest_invites[i];
    if let Some(s) = starts_at {
        if s != cur.starts_at && s <= c.now {
            return Err(ApiError::bad("starts_at", "must be in the future"));
        }
    }
    if expires_at.unwrap_or(cur.expires_at) <= starts_at.unwrap_or(cur.starts_at) {
        return Err(ApiError::bad("expires_at", "must be after starts_at"));
    }
    if let Some(h) = host {
        ensure_host(st, h)?;
    }
    let g = &mut st.guest_invites[i];
    if let Some(h) = host {
        g.host_peer_id = h.to_string();
    }
    if let Some(v) = keyboard {
        g.keyboard = v;
    }
    if let Some(v) = mouse {
        g.mouse = v;
    }
    if let Some(v) = gamepad {
        g.gamepad = v;
    }
    if let Some(v) = time_zone {
        g.time_zone = v.to_string();
    }
    if let Some(v) = starts_at {
        g.starts_at = v;
    }
    if let Some(v) = expires_at {
        g.expires_at = v;
    }
    Ok(Reply::data(&st.guest_invites[i]))
}

fn guest_cancel(c: &Call, st: &mut State) -> ApiResult<Reply> {
    c.query.opt_bool("send_email")?;
    let i = guest_index(st, c.param(0))?;
    let g = st.guest_invites.remove(i);
    let refunded = !g.used && g.credit_spent;
    if refunded {
        st.credits = st.credits.saturating_add(1);
    }
    st.push_event(c.now, "guest_access.cancelled", Some(c.user_id), json!({ "invite_id": g.id, "credit_refunded": refunded }));
    Ok(Reply::no_content())
}

fn guest_kick(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = guest_index(st, c.param(0))?;
    st.guest_invites[i].guest_connected = false;
    Ok(Reply::no_content())
}

fn guest_credits(_c: &Call, st: &mut State) -> ApiResult<Reply> {
    Ok(Reply::json(StatusCode::OK, &json!({ "balance": st.credits })))
}

// ---------------------------------------------------------------- machines

const ASSIGNMENTS: [&str; 4] = ["group", "unassigned", "member", "reservation"];

fn machines_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let q = &c.query;
    let (offset, limit) = q.page()?;
    let user_id = q.opt_int("user_id", 1, i64::MAX)?.map(|u| u as u64);
    let group_id = q.opt_int("team_group_id", 1, i64::MAX)?.map(|u| u as u64);
    let name = q.get("name").map(str::to_lowercase);
    let email = q.get("email");
    if let Some(e) = email {
        if !is_email(e) {
            return Err(ApiError::bad("email", "must be a valid email"));
        }
    }
    let is_online = q.opt_bool("is_online")?;
    let is_guest_access = q.opt_bool("is_guest_access")?;
    let assignment = q.get("assignment");
    if let Some(a) = assignment {
        if !ASSIGNMENTS.contains(&a) {
            return Err(ApiError::bad("assignment", "must be one of group, unassigned, member, reservation"));
        }
    }
    let keep = |m: &&Machine| {
        user_id.none_or(|u| m.user_id == Some(u))
            && group_id.none_or(|g| m.team_group_ids.contains(&g))
            && name.as_ref().none_or(|n| m.name.to_lowercase().contains(n.as_str()))
            && email.none_or(|e| {
                m.email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e))
                    || m.reserved_email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e))
            })
            && is_online.none_or(|v| m.is_online == v)
            && is_guest_access.none_or(|v| m.is_guest_access == v)
            && assignment.none_or(|a| m.assignment == a)
    };
    let (page, count) = paginate(st.machines.iter().filter(keep), offset, limit);
    Ok(Reply::page(&page, count))
}

fn machines_get(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    Ok(Reply::data(&st.machines[i]))
}

fn machines_update(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    let b = c.body()?;
    let name = b.opt_str("name")?;
    if name.is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::bad("name", "must not be empty"));
    }
    let guest = b.opt_bool("is_guest_access")?;
    let rule = b.tri_str("team_app_rule_id")?;
    if let Opt::Val(r) = rule {
        ensure_rule(st, "team_app_rule_id", r)?;
    }
    let m = &mut st.machines[i];
    if let Some(n) = name {
        m.name = n.to_string();
    }
    if let Some(g) = guest {
        m.is_guest_access = g;
    }
    match rule {
        Opt::Val(r) => m.team_app_rule_id = Some(r.to_string()),
        // An explicit null removes the rule.
        Opt::Null => m.team_app_rule_id = None,
        Opt::Absent => {}
    }
    let id = m.id.clone();
    st.refresh();
    st.push_event(c.now, "machine.updated", Some(c.user_id), json!({ "machine_id": id }));
    Ok(Reply::data(&st.machines[i]))
}

fn machines_delete(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    let m = st.machines.remove(i);
    st.push_event(c.now, "machine.deleted", Some(c.user_id), json!({ "machine_id": m.id }));
    Ok(Reply::no_content())
}

enum Target {
    Member(u64),
    Reservation(String),
    Groups(Vec<u64>),
}

/// Validates an assignment request: at least one of member/email/groups; never a
/// member and groups at once; an email of a non-member makes a reservation.
fn assignment_target(st: &State, b: &Body, groups: Option<Vec<u64>>, group_field: &str) -> ApiResult<Target> {
    let user_id = b.opt_int("user_id", 1)?.map(|u| u as u64);
    let email = b.opt_str("email")?;
    if let Some(e) = email {
        if !is_email(e) {
            return Err(ApiError::bad("email", "must be a valid email"));
        }
    }
    let groups = groups.filter(|g| !g.is_empty());
    if user_id.is_none() && email.is_none() && groups.is_none() {
        return Err(ApiError::bad("user_id", format!("at least one of user_id, email or {group_field} is required")));
    }
    if (user_id.is_some() || email.is_some()) && groups.is_some() {
        return Err(ApiError::bad(group_field, "a team machine cannot be assigned to a member and a group at once"));
    }
    if let Some(g) = groups {
        for &id in &g {
            ensure_group(st, group_field, id)?;
        }
        return Ok(Target::Groups(g));
    }
    if let Some(u) = user_id {
        let m = st.member(u).ok_or_else(|| ApiError::not_found("user_id", format!("no team member with user_id {u}")))?;
        if let Some(e) = email {
            if !m.email.eq_ignore_ascii_case(e) {
                return Err(ApiError::bad("email", format!("does not match the email of user_id {u}")));
            }
        }
        return Ok(Target::Member(u));
    }
    let e = email.expect("checked");
    Ok(match st.member_by_email(e) {
        Some(m) => Target::Member(m.user_id),
        None => Target::Reservation(e.to_string()),
    })
}

fn assign_machine(c: &Call, st: &mut State, i: usize, target: Target) -> Reply {
    let m = &mut st.machines[i];
    m.user_id = None;
    m.team_group_ids.clear();
    m.reserved_email = None;
    let data = match target {
        Target::Member(u) => {
            m.user_id = Some(u);
            json!({ "machine_id": m.id, "user_id": u })
        }
        Target::Reservation(e) => {
            let d = json!({ "machine_id": m.id, "reserved_email": e });
            m.reserved_email = Some(e);
            d
        }
        Target::Groups(g) => {
            let d = json!({ "machine_id": m.id, "team_group_ids": g });
            m.team_group_ids = g;
            d
        }
    };
    st.refresh();
    st.push_event(c.now, "machine.assigned", Some(c.user_id), data);
    Reply::data(&st.machines[i])
}

fn machines_create_assignment(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    let b = c.body()?;
    let group = b.opt_int("team_group_id", 1)?.map(|g| vec![g as u64]);
    let target = assignment_target(st, &b, group, "team_group_id")?;
    Ok(assign_machine(c, st, i, target))
}

fn machines_set_assignment(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    let b = c.body()?;
    let groups = b.int_list("team_group_ids", 1, false, true)?.map(|g| g.into_iter().map(|x| x as u64).collect());
    let target = assignment_target(st, &b, groups, "team_group_ids")?;
    Ok(assign_machine(c, st, i, target))
}

fn machines_remove_assignment(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    let m = &mut st.machines[i];
    m.user_id = None;
    m.team_group_ids.clear();
    m.reserved_email = None;
    let id = m.id.clone();
    st.push_event(c.now, "machine.unassigned", Some(c.user_id), json!({ "machine_id": id }));
    Ok(Reply::no_content())
}

fn machines_kick_user(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = machine_index(st, c.param(0))?;
    let user_id = c.int_param(1, "user_id")?;
    ensure_member(st, "user_id", user_id)?;
    st.machines[i].connected_user_ids.retain(|u| *u != user_id);
    Ok(Reply::no_content())
}

// ---------------------------------------------------------------- app rules

fn app_rules_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let (offset, limit) = c.query.page()?;
    let (page, count) = paginate(st.app_rules.iter(), offset, limit);
    Ok(Reply::page(&page, count))
}

fn app_rule_change(c: &Call, st: &mut State, assign: bool) -> ApiResult<Reply> {
    let rule = c.param(0);
    ensure_rule(st, "app_rule_id", rule)?;
    let b = c.body()?;
    let users: Vec<u64> = b.int_list("user_ids", 1, false, false)?.unwrap_or_default().into_iter().map(|u| u as u64).collect();
    let machines: Vec<&str> = b.str_list("team_machine_ids", false, false)?.unwrap_or_default();
    if users.is_empty() && machines.is_empty() {
        return Err(ApiError::bad("user_ids", "at least one of user_ids or team_machine_ids is required"));
    }
    ensure_members(st, "user_ids", &users)?;
    let known: HashSet<&str> = st.machines.iter().map(|x| x.id.as_str()).collect();
    if let Some(m) = machines.iter().find(|m| !known.contains(*m)) {
        return Err(ApiError::not_found("team_machine_ids", format!("no team machine with id {m:?}")));
    }
    let new = if assign { Some(rule.to_string()) } else { None };
    let user_set: HashSet<u64> = users.iter().copied().collect();
    let machine_set: HashSet<&str> = machines.iter().copied().collect();
    for m in st.members.iter_mut().filter(|m| user_set.contains(&m.user_id)) {
        if assign || m.team_app_rule_id.as_deref() == Some(rule) {
            m.team_app_rule_id = new.clone();
        }
    }
    for m in st.machines.iter_mut().filter(|m| machine_set.contains(m.id.as_str())) {
        if assign || m.team_app_rule_id.as_deref() == Some(rule) {
            m.team_app_rule_id = new.clone();
        }
    }
    let name = if assign { "app_rule.assigned" } else { "app_rule.unassigned" };
    st.push_event(c.now, name, Some(c.user_id), json!({ "app_rule_id": rule, "user_ids": users, "team_machine_ids": machines }));
    Ok(Reply::no_content())
}

fn app_rules_assign(c: &Call, st: &mut State) -> ApiResult<Reply> {
    app_rule_change(c, st, true)
}

fn app_rules_unassign(c: &Call, st: &mut State) -> ApiResult<Reply> {
    app_rule_change(c, st, false)
}

// ---------------------------------------------------------------- members

fn members_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let q = &c.query;
    let (offset, limit) = q.page()?;
    let group_id = q.opt_int("group_id", 1, i64::MAX)?.map(|g| g as u64);
    let email = q.get("email").map(str::to_lowercase);
    let is_admin = q.opt_bool("is_admin")?;
    let keep = |m: &&Member| {
        group_id.none_or(|g| m.group_ids.contains(&g))
            && email.as_ref().none_or(|e| m.email.to_lowercase().contains(e.as_str()))
            && is_admin.none_or(|a| m.is_admin == a)
    };
    let (page, count) = paginate(st.members.iter().filter(keep), offset, limit);
    Ok(Reply::page(&page, count))
}

fn find_member(c: &Call, st: &State) -> ApiResult<usize> {
    let uid = c.int_param(0, "user_id")?;
    st.members
        .iter()
        .position(|m| m.user_id == uid)
        .ok_or_else(|| ApiError::not_found("user_id", format!("no team member with user_id {uid}")))
}

fn members_get(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let i = find_member(c, st)?;
    Ok(Reply::data(&st.members[i]))
}

fn members_remove(c: &Call, st: &mut State) -> ApiResult<Reply> {
    c.query.opt_bool("send_email")?;
    let i = find_member(c, st)?;
    let m = &st.members[i];
    if m.is_owner {
        return Err(ApiError::conflict("user_id: the team owner cannot be removed"));
    }
    if m.has_api_key {
        return Err(ApiError::conflict("user_id: members holding API keys cannot be removed; delete their API keys first"));
    }
    let m = st.members.remove(i);
    let mut unassigned = Vec::new();
    for machine in st.machines.iter_mut() {
        if machine.user_id == Some(m.user_id) {
            machine.user_id = None;
            unassigned.push(machine.id.clone());
        }
        machine.connected_user_ids.retain(|u| *u != m.user_id);
    }
    st.push_event(
        c.now,
        "member.removed",
        Some(c.user_id),
        json!({ "user_id": m.user_id, "email": m.email, "unassigned_machine_ids": unassigned }),
    );
    Ok(Reply::no_content())
}

// ---------------------------------------------------------------- member invites

fn is_pending(i: &MemberInvite, now: OffsetDateTime) -> bool {
    i.expires_at > now
}

fn invites_list(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let (offset, limit) = c.query.page()?;
    let now = c.now;
    let (page, count) = paginate(st.member_invites.iter().filter(|i| is_pending(i, now)), offset, limit);
    Ok(Reply::page(&page, count))
}

/// The index of each stored invite by its lowercased email (one invite per email).
fn invite_map(st: &State) -> HashMap<String, usize> {
    st.member_invites.iter().enumerate().map(|(i, inv)| (inv.email.to_ascii_lowercase(), i)).collect()
}

fn invite_page(st: &State, emails: &[String]) -> Reply {
    let map = invite_map(st);
    let touched: Vec<&MemberInvite> =
        emails.iter().filter_map(|e| map.get(&e.to_ascii_lowercase())).map(|&i| &st.member_invites[i]).collect();
    Reply::page(&touched, touched.len())
}

/// Index of the invite for each email, in order (404 for the first missing);
/// only pending ones unless `expired_too`.
fn invite_indexes(st: &State, emails: &[String], now: OffsetDateTime, expired_too: bool) -> ApiResult<Vec<usize>> {
    let map = invite_map(st);
    emails
        .iter()
        .map(|e| {
            map.get(&e.to_ascii_lowercase())
                .copied()
                .filter(|&i| expired_too || is_pending(&st.member_invites[i], now))
                .ok_or_else(|| ApiError::not_found("emails", format!("no pending invite for {e}")))
        })
        .collect()
}

/// `group_id` and `team_app_rule_id` of an invite request (absent, null or set),
/// checked for existence and for the extra app-rule permission.
fn invite_targets(c: &Call, st: &State, b: &Body) -> ApiResult<(Opt<u64>, Opt<String>)> {
    let group = match b.tri_int("group_id", 1)? {
        Opt::Val(g) => {
            ensure_group(st, "group_id", g as u64)?;
            Opt::Val(g as u64)
        }
        Opt::Null => Opt::Null,
        Opt::Absent => Opt::Absent,
    };
    let rule = match b.tri_str("team_app_rule_id")? {
        Opt::Val(r) => {
            c.require(Perm::MANAGE_APP_RULE_ASSIGNMENTS, "team_app_rule_id")?;
            ensure_rule(st, "team_app_rule_id", r)?;
            Opt::Val(r.to_string())
        }
        Opt::Null => Opt::Null,
        Opt::Absent => Opt::Absent,
    };
    Ok((group, rule))
}

fn invites_create(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let b = c.body()?;
    let emails = c.emails()?;
    let (group, rule) = invite_targets(c, st, &b)?;
    b.opt_bool("send_email")?;
    for e in emails {
        if st.member_by_email(e).is_some() {
            return Err(ApiError::conflict(format!("emails: {e} is already a team member")));
        }
    }
    let team_id = st.team_id.clone();
    for e in emails {
        let salt = st.next_join_salt;
        st.next_join_salt = st.next_join_salt.saturating_add(1);
        let invite = MemberInvite {
            email: e.clone(),
            join_url: join_url(&team_id, e, salt),
            group_id: group.value(),
            team_app_rule_id: rule.clone().value(),
            created_at: c.now,
            expires_at: c.now + Duration::days(INVITE_TTL_DAYS),
        };
        match st.member_invites.iter_mut().find(|i| i.email.eq_ignore_ascii_case(e)) {
            Some(old) => *old = invite,
            None => st.member_invites.push(invite),
        }
    }
    st.push_event(c.now, "member_invite.created", Some(c.user_id), json!({ "emails": emails }));
    Ok(invite_page(st, emails))
}

fn invites_update(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let b = c.body()?;
    let emails = c.emails()?;
    let (group, rule) = invite_targets(c, st, &b)?;
    let idx = invite_indexes(st, emails, c.now, false)?;
    for i in idx {
        let inv = &mut st.member_invites[i];
        match group {
            Opt::Val(g) => inv.group_id = Some(g),
            Opt::Null => inv.group_id = None,
            Opt::Absent => {}
        }
        match &rule {
            Opt::Val(r) => inv.team_app_rule_id = Some(r.clone()),
            Opt::Null => inv.team_app_rule_id = None,
            Opt::Absent => {}
        }
    }
    Ok(invite_page(st, emails))
}

fn cancel_invites(c: &Call, st: &mut State) -> ApiResult<Reply> {
    c.body()?;
    let emails = c.emails()?;
    invite_indexes(st, emails, c.now, false)?;
    let gone: HashSet<String> = emails.iter().map(|e| e.to_ascii_lowercase()).collect();
    st.member_invites.retain(|i| !gone.contains(&i.email.to_ascii_lowercase()));
    st.push_event(c.now, "member_invite.cancelled", Some(c.user_id), json!({ "emails": emails }));
    Ok(Reply::no_content())
}

fn invites_cancel(c: &Call, st: &mut State) -> ApiResult<Reply> {
    cancel_invites(c, st)
}

fn invites_cancel_deprecated(c: &Call, st: &mut State) -> ApiResult<Reply> {
    cancel_invites(c, st)
}

fn invites_resend(c: &Call, st: &mut State) -> ApiResult<Reply> {
    let b = c.body()?;
    let emails = c.emails()?;
    b.opt_bool("send_email")?;
    // Resending also revives an expired invite.
    let idx = invite_indexes(st, emails, c.now, true)?;
    for i in idx {
        st.member_invites[i].expires_at = c.now + Duration::days(INVITE_TTL_DAYS);
    }
    st.push_event(c.now, "member_invite.resent", Some(c.user_id), json!({ "emails": emails }));
    Ok(invite_page(st, emails))
}

/// `POST /_mock/join`: the pending invite for `email` joins the team.
pub fn join(st: &mut State, now: OffsetDateTime, email: &str) -> ApiResult<Member> {
    if st.member_by_email(email).is_some() {
        return Err(ApiError::conflict(format!("email: {email} is already a team member")));
    }
    let i = st
        .member_invites
        .iter()
        .position(|i| i.email.eq_ignore_ascii_case(email) && is_pending(i, now))
        .ok_or_else(|| ApiError::not_found("email", format!("no pending invite for {email}")))?;
    let invite = st.member_invites.remove(i);
    let user_id = st.next_user_id;
    st.next_user_id = st.next_user_id.saturating_add(1);
    let name = invite.email.split('@').next().unwrap_or("").replace(['.', '_'], " ");
    let member = Member {
        user_id,
        email: invite.email.clone(),
        name,
        is_admin: false,
        is_owner: false,
        has_api_key: false,
        group_ids: invite.group_id.filter(|g| st.group(*g).is_some()).into_iter().collect(),
        team_app_rule_id: invite.team_app_rule_id.filter(|r| st.app_rule(r).is_some()),
        created_at: now,
    };
    st.members.push(member.clone());
    let mut assigned = Vec::new();
    for m in st.machines.iter_mut().filter(|m| m.reserved_email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))) {
        m.reserved_email = None;
        m.user_id = Some(user_id);
        assigned.push(m.id.clone());
    }
    st.refresh();
    st.push_event(
        now,
        "member.joined",
        Some(user_id),
        json!({ "user_id": user_id, "email": member.email, "assigned_machine_ids": assigned }),
    );
    Ok(member)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn flags(body: serde_json::Value, allow: bool, prev: Option<(bool, [bool; 3])>) -> ApiResult<[bool; 3]> {
        let map: Map<String, serde_json::Value> = serde_json::from_value(body).unwrap();
        resolve_flags(&Body::new(&map), allow, prev)
    }

    #[test]
    fn show_flag_defaults() {
        assert_eq!(flags(json!({}), true, None).unwrap(), [true, false, false]);
        assert_eq!(flags(json!({"show_group_assigned_managed_hosts": null}), true, None).unwrap(), [true, false, false]);
        assert_eq!(flags(json!({}), false, None).unwrap(), [false, false, false]);
        assert_eq!(flags(json!({"show_personal_hosts": null}), false, None).unwrap(), [false, false, false]);
        assert!(flags(json!({"show_personal_hosts": true}), false, None).is_err());
        assert_eq!(flags(json!({}), true, Some((true, [false, true, true]))).unwrap(), [false, true, true]);
        assert_eq!(flags(json!({}), true, Some((false, [false, false, false]))).unwrap(), [true, false, false]);
        assert_eq!(flags(json!({"show_personal_hosts": true}), true, Some((true, [false, false, false]))).unwrap(), [false, false, true]);
    }
}
