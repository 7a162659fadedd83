//! The data model, the deterministic default fixture and the mutable server state.

use crate::ksuid;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn default_time() -> OffsetDateTime {
    datetime!(2024-01-01 00:00:00 UTC)
}

/// A team member.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Member {
    pub user_id: u64,
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub is_admin: bool,
    /// The team owner cannot be removed.
    #[serde(default)]
    pub is_owner: bool,
    /// A member holding an API key cannot be removed.
    #[serde(default)]
    pub has_api_key: bool,
    #[serde(default)]
    pub group_ids: Vec<u64>,
    #[serde(default)]
    pub team_app_rule_id: Option<String>,
    #[serde(with = "time::serde::rfc3339", default = "default_time")]
    pub created_at: OffsetDateTime,
}

/// Host-visibility settings towards another group, in one direction.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PermittedGroup {
    pub group_id: u64,
    /// `incoming` or `outgoing`.
    pub direction: String,
    pub show_group_assigned_managed_hosts: bool,
    pub show_user_assigned_managed_hosts: bool,
    pub show_personal_hosts: bool,
}

/// A team group.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    pub id: u64,
    pub name: String,
    pub allow_connections_within_group: bool,
    pub show_group_assigned_managed_hosts: bool,
    pub show_user_assigned_managed_hosts: bool,
    pub show_personal_hosts: bool,
    #[serde(default)]
    pub permitted_groups: Vec<PermittedGroup>,
    /// Derived: number of members in the group.
    #[serde(default)]
    pub member_count: usize,
    #[serde(with = "time::serde::rfc3339", default = "default_time")]
    pub created_at: OffsetDateTime,
}

/// A team computer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub id: String,
    pub peer_id: String,
    pub name: String,
    #[serde(default)]
    pub user_id: Option<u64>,
    /// Derived: the assigned member's email.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub team_group_ids: Vec<u64>,
    #[serde(default)]
    pub reserved_email: Option<String>,
    /// Derived: `member`, `group`, `reservation` or `unassigned`.
    #[serde(default)]
    pub assignment: String,
    #[serde(default)]
    pub is_online: bool,
    #[serde(default)]
    pub is_guest_access: bool,
    #[serde(default)]
    pub team_app_rule_id: Option<String>,
    /// Users currently connected to this host (for kick_user).
    #[serde(default)]
    pub connected_user_ids: Vec<u64>,
    #[serde(with = "time::serde::rfc3339", default = "default_time")]
    pub created_at: OffsetDateTime,
}

/// A team app rule. `user_ids` and `team_machine_ids` are derived from the
/// members' and machines' `team_app_rule_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppRule {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub user_ids: Vec<u64>,
    #[serde(default)]
    pub team_machine_ids: Vec<String>,
}

/// A pending member invite.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberInvite {
    pub email: String,
    pub join_url: String,
    #[serde(default)]
    pub group_id: Option<u64>,
    #[serde(default)]
    pub team_app_rule_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A guest access invite.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GuestInvite {
    pub id: String,
    pub guest_email: String,
    pub host_peer_id: String,
    pub event_name: String,
    pub keyboard: bool,
    pub mouse: bool,
    pub gamepad: bool,
    pub time_zone: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(default)]
    pub message: String,
    /// Whether the guest has used the link (a used invite's credit is not refunded).
    #[serde(default)]
    pub used: bool,
    #[serde(default)]
    pub guest_connected: bool,
    /// Whether creating it spent a credit (false when the guest is a team member).
    #[serde(default)]
    pub credit_spent: bool,
    #[serde(with = "time::serde::rfc3339", default = "default_time")]
    pub created_at: OffsetDateTime,
}

/// An audit-log event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// KSUID.
    pub id: String,
    pub event_name: String,
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default)]
    pub data: Value,
}

/// A Teams API key and the permissions it holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiKeyEntry {
    pub key: String,
    pub user_id: u64,
    pub permissions: Vec<String>,
}

/// A user of the team-administration API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminUser {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    /// Bearer token of this user.
    pub token: String,
}

/// A team of the team-administration API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminTeam {
    pub id: String,
    pub name: String,
    /// Bytes, as a string of digits, or null.
    #[serde(default)]
    pub quota: Option<String>,
    #[serde(default)]
    pub quota_mail_sent: bool,
    pub owner_id: u64,
    #[serde(default)]
    pub user_ids: Vec<u64>,
}

/// An access right of a team (type `assets` or `projects`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessRight {
    pub id: u64,
    pub team_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub resource_id: u64,
    pub resource_name: String,
    pub permission: String,
}

/// The team-administration side of the fixture.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AdminData {
    pub users: Vec<AdminUser>,
    pub teams: Vec<AdminTeam>,
    pub access_rights: Vec<AccessRight>,
    /// Token of a user without admin privileges (for 403 tests); documentation only.
    pub non_admin_token: String,
}

/// The whole data set; `GET /_mock/state` has this shape (plus `quotas`).
/// Missing top-level keys in a fixture file take the default fixture's values.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Fixture {
    pub team_id: String,
    /// The key holding every permission (owned by the member with `has_api_key`).
    pub api_key: String,
    /// Extra keys with limited permissions.
    pub api_keys: Vec<ApiKeyEntry>,
    /// Team-administration token of an admin user.
    pub admin_token: String,
    pub credits: u64,
    pub members: Vec<Member>,
    pub groups: Vec<Group>,
    pub machines: Vec<Machine>,
    pub app_rules: Vec<AppRule>,
    pub member_invites: Vec<MemberInvite>,
    pub guest_invites: Vec<GuestInvite>,
    pub events: Vec<Event>,
    pub admin: AdminData,
}

impl Fixture {
    /// Reads a fixture from a JSON file (the shape of `GET /_mock/state`).
    pub fn from_file(path: impl AsRef<Path>) -> std::io::Result<Fixture> {
        let text = std::fs::read_to_string(path)?;
        Self::from_json(&text)
    }

    /// Parses a fixture from JSON text.
    pub fn from_json(text: &str) -> std::io::Result<Fixture> {
        serde_json::from_str(text).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

pub const DEFAULT_TEAM_ID: &str = "1or58Uz1O6ObcpGCN9";
pub const DEFAULT_SECRET: &str = "bW9ja3NlY3JldGtleTAwMDAwMDAwMDAwMDAw";
pub const DEFAULT_ADMIN_TOKEN: &str = "pta_admin_0001_c0ffee1234567890";
pub const DEFAULT_NON_ADMIN_TOKEN: &str = "pta_user_0003_0badc0de98765432";
/// Fixture events start here and are 6 hours apart.
pub const EVENTS_START: OffsetDateTime = datetime!(2024-01-01 00:00:00 UTC);
pub const FIXTURE_EVENT_COUNT: usize = 320;
pub const EVENT_NAMES: &[&str] = &[
    "member.joined",
    "member.removed",
    "machine.assigned",
    "machine.unassigned",
    "group.created",
    "group.updated",
    "guest_access.created",
    "guest_access.cancelled",
    "session.started",
    "session.ended",
    "member_invite.created",
];

const FIRST: [&str; 10] = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Dennis", "Barbara", "Edsger", "Donald"];
const LAST: [&str; 5] = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton"];

/// A deterministic join URL for an invite.
pub fn join_url(team_id: &str, email: &str, salt: u64) -> String {
    // FNV-1a over the email and salt: stable, looks opaque.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in email.bytes().chain(salt.to_be_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("https://parsec.app/teams/{team_id}/join/{h:016x}")
}

fn peer_id(n: u64) -> String {
    ksuid::new(1_650_000_000 + n as i64 * 86_400, ksuid::payload(10_000 + n))
}

impl Default for Fixture {
    /// The deterministic default fixture. Ids, names and events are fixed; member
    /// and guest invite times are relative to the current (real) time so that they
    /// are pending / in the future when the server starts.
    fn default() -> Self {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or(OffsetDateTime::now_utc());
        let team_id = DEFAULT_TEAM_ID.to_string();
        let t0 = datetime!(2023-06-01 09:00:00 UTC);

        let members: Vec<Member> = (1..=50u64)
            .map(|uid| {
                let i = (uid - 1) as usize;
                let (first, last) = (FIRST[i % 10], LAST[i / 10]);
                let mut group_ids = Vec::new();
                if uid <= 40 {
                    group_ids.push((uid - 1) % 5 + 1);
                }
                if uid <= 5 {
                    group_ids.push(6);
                }
                let team_app_rule_id = match uid {
                    11..=15 => Some("tar_creative".to_string()),
                    16..=18 => Some("tar_restricted".to_string()),
                    _ => None,
                };
                Member {
                    user_id: uid,
                    email: format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
                    name: format!("{first} {last}"),
                    is_admin: matches!(uid, 1 | 2 | 3 | 10 | 25),
                    is_owner: uid == 1,
                    has_api_key: uid == 2,
                    group_ids,
                    team_app_rule_id,
                    created_at: t0 + Duration::days(uid as i64),
                }
            })
            .collect();

        let g = |id: u64, name: &str, allow: bool, flags: (bool, bool, bool), permitted: Vec<PermittedGroup>| Group {
            id,
            name: name.to_string(),
            allow_connections_within_group: allow,
            show_group_assigned_managed_hosts: flags.0,
            show_user_assigned_managed_hosts: flags.1,
            show_personal_hosts: flags.2,
            permitted_groups: permitted,
            member_count: 0,
            created_at: t0 + Duration::hours(id as i64),
        };
        let pg = |group_id: u64, direction: &str, f: (bool, bool, bool)| PermittedGroup {
            group_id,
            direction: direction.to_string(),
            show_group_assigned_managed_hosts: f.0,
            show_user_assigned_managed_hosts: f.1,
            show_personal_hosts: f.2,
        };
        let groups = vec![
            g(
                1,
                "Engineering",
                true,
                (true, true, false),
                vec![pg(2, "outgoing", (true, false, false)), pg(6, "incoming", (true, true, true))],
            ),
            g(2, "Design", true, (true, false, true), vec![pg(1, "incoming", (true, false, false))]),
            g(3, "Sales", false, (false, false, false), vec![]),
            g(4, "Support", true, (false, false, false), vec![pg(4, "outgoing", (true, false, false))]),
            g(5, "Contractors", false, (false, false, false), vec![]),
            g(
                6,
                "Leadership",
                true,
                (true, true, true),
                vec![
                    pg(1, "outgoing", (true, true, true)),
                    pg(2, "outgoing", (true, false, false)),
                    pg(3, "outgoing", (true, true, false)),
                ],
            ),
        ];

        let machines: Vec<Machine> = (1..=20u64)
            .map(|n| {
                let (user_id, team_group_ids, reserved_email) = match n {
                    1..=7 => (Some(n + 2), vec![], None),
                    8 => (Some(45), vec![], None),
                    9 | 10 => (None, vec![1], None),
                    11 => (None, vec![2], None),
                    12 => (None, vec![3, 4], None),
                    13 => (None, vec![6], None),
                    14 => (None, vec![], Some("new.hire1@example.com".to_string())),
                    15 => (None, vec![], Some("new.hire2@example.com".to_string())),
                    16 => (None, vec![], Some("future.person@example.net".to_string())),
                    _ => (None, vec![], None),
                };
                let is_online = n % 2 == 1;
                let connected_user_ids = match (n, user_id) {
                    (9, _) => vec![11, 16],
                    (_, Some(u)) if is_online => vec![u],
                    _ => vec![],
                };
                let kind = match n {
                    1..=8 => "Workstation",
                    9..=13 => "Render",
                    14..=16 => "Reserved",
                    _ => "Spare",
                };
                Machine {
                    id: format!("tm_{n:03}"),
                    peer_id: peer_id(n),
                    name: format!("{kind} {n:02}"),
                    user_id,
                    email: None,
                    team_group_ids,
                    reserved_email,
                    assignment: String::new(),
                    is_online,
                    is_guest_access: n % 4 == 0,
                    team_app_rule_id: match n {
                        1..=4 => Some("tar_default".to_string()),
                        9 => Some("tar_creative".to_string()),
                        _ => None,
                    },
                    connected_user_ids,
                    created_at: t0 + Duration::days(n as i64) + Duration::hours(3),
                }
            })
            .collect();

        let rule =
            |id: &str, name: &str| AppRule { id: id.to_string(), name: name.to_string(), user_ids: vec![], team_machine_ids: vec![] };
        let app_rules =
            vec![rule("tar_default", "Default apps"), rule("tar_creative", "Creative suite"), rule("tar_restricted", "Restricted")];

        let invite = |email: &str, group_id: Option<u64>, rule: Option<&str>, age_days: i64| {
            let created_at = now - Duration::days(age_days);
            MemberInvite {
                email: email.to_string(),
                join_url: join_url(&team_id, email, 0),
                group_id,
                team_app_rule_id: rule.map(str::to_string),
                created_at,
                expires_at: created_at + Duration::days(7),
            }
        };
        let member_invites = vec![
            invite("new.hire1@example.com", Some(1), None, 1),
            invite("new.hire2@example.com", Some(2), Some("tar_creative"), 2),
            invite("contractor@example.org", Some(5), None, 3),
            invite("intern@example.com", None, None, 5),
            invite("old.invite@example.com", None, None, 10),
        ];

        let guest = |n: u64, email: &str, host: u64, start_h: i64, dur_h: i64, used: bool, connected: bool, spent: bool| GuestInvite {
            id: format!("gai_{n:03}"),
            guest_email: email.to_string(),
            host_peer_id: peer_id(host),
            event_name: format!("Review session {n}"),
            keyboard: true,
            mouse: true,
            gamepad: n % 2 == 0,
            time_zone: "America/New_York".to_string(),
            starts_at: now + Duration::hours(start_h),
            expires_at: now + Duration::hours(start_h + dur_h),
            message: format!("Welcome to review session {n}!"),
            used,
            guest_connected: connected,
            credit_spent: spent,
            created_at: now - Duration::days(3) + Duration::hours(n as i64),
        };
        let guest_invites = vec![
            guest(1, "guest.one@partner.com", 4, 24, 24, false, false, true),
            guest(2, "guest.two@partner.com", 8, -1, 6, true, true, true),
            guest(3, &members[11].email, 12, 48, 2, false, false, false),
            guest(4, "client@customer.io", 16, 72, 4, false, false, true),
            guest(5, "past.guest@partner.com", 20, -50, 2, true, false, true),
        ];

        let events = (1..=FIXTURE_EVENT_COUNT as u64)
            .map(|seq| {
                let created_at = EVENTS_START + Duration::hours(6 * seq as i64) + Duration::seconds((seq * 37 % 3600) as i64);
                let event_name = EVENT_NAMES[(seq as usize * 7) % EVENT_NAMES.len()];
                let user_id = seq * 13 % 50 + 1;
                Event {
                    id: ksuid::new(created_at.unix_timestamp(), ksuid::payload(seq)),
                    event_name: event_name.to_string(),
                    user_id: Some(user_id),
                    created_at,
                    data: json!({ "seq": seq, "target_user_id": (seq * 7) % 50 + 1 }),
                }
            })
            .collect();

        let admin_users = (1..=20u64)
            .map(|id| {
                let i = (id - 1) as usize;
                AdminUser {
                    id,
                    name: format!("{} {}", FIRST[i % 10], LAST[(i / 10) + 2]),
                    email: format!("user{id:02}@admin.example.com"),
                    is_admin: id <= 2,
                    token: match id {
                        1 => DEFAULT_ADMIN_TOKEN.to_string(),
                        3 => DEFAULT_NON_ADMIN_TOKEN.to_string(),
                        _ => format!("pta_user_{id:04}_{:016x}", id * 0x9E37_79B9),
                    },
                }
            })
            .collect();
        let team = |id: &str, name: &str, quota: Option<&str>, sent: bool, owner: u64, users: Vec<u64>| AdminTeam {
            id: id.to_string(),
            name: name.to_string(),
            quota: quota.map(str::to_string),
            quota_mail_sent: sent,
            owner_id: owner,
            user_ids: users,
        };
        let teams = vec![
            team("1", "Engineering", Some("1073741824"), false, 1, vec![1, 2, 3, 4, 5, 6]),
            team("2", "Design", None, false, 3, vec![3, 7, 8, 9]),
            team("3", "Marketing", Some("5368709120"), true, 1, vec![1, 10, 11, 12]),
            team("4", "Research", None, false, 5, (13..=20).chain([5]).collect()),
        ];
        let mut access_rights = Vec::new();
        for t in 1..=4u64 {
            for (k, kind) in ["assets", "projects"].into_iter().enumerate() {
                for r in 1..=3u64 {
                    let id = access_rights.len() as u64 + 1;
                    access_rights.push(AccessRight {
                        id,
                        team_id: t.to_string(),
                        kind: kind.to_string(),
                        resource_id: t * 100 + k as u64 * 10 + r,
                        resource_name: format!("{} {}-{}", if kind == "assets" { "Asset" } else { "Project" }, t, r),
                        permission: ["read", "write", "admin"][(r as usize - 1) % 3].to_string(),
                    });
                }
            }
        }

        Fixture {
            api_key: format!("tapi_{team_id}.{DEFAULT_SECRET}"),
            team_id,
            api_keys: vec![],
            admin_token: DEFAULT_ADMIN_TOKEN.to_string(),
            credits: 25,
            members,
            groups,
            machines,
            app_rules,
            member_invites,
            guest_invites,
            events,
            admin: AdminData { users: admin_users, teams, access_rights, non_admin_token: DEFAULT_NON_ADMIN_TOKEN.to_string() },
        }
    }
}

/// Quota bookkeeping for one quota (fixed window, then a block).
#[derive(Clone, Debug, Default, Serialize)]
pub struct QuotaState {
    /// Requests counted in the current window.
    pub count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub window_start: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub blocked_until: Option<OffsetDateTime>,
}

/// The live state: the fixture data plus quotas and id counters.
#[derive(Debug)]
pub struct State {
    data: Fixture,
    pub quotas: BTreeMap<String, QuotaState>,
    pub next_user_id: u64,
    pub next_group_id: u64,
    pub next_guest_seq: u64,
    pub next_event_seq: u64,
    pub next_admin_team_id: u64,
    pub next_join_salt: u64,
}

impl Deref for State {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.data
    }
}

impl DerefMut for State {
    fn deref_mut(&mut self) -> &mut Fixture {
        &mut self.data
    }
}

/// A secret shown by a recognisable prefix only: up to the first `.`
/// (`tapi_<team>.`), else up to the last `_` (`pta_user_0004_`), then `****`;
/// at most the first quarter (4 characters) when that would show too much.
pub fn mask(secret: &str) -> String {
    let cut = match secret.find('.') {
        Some(i) => i + 1,
        None => secret.rfind('_').map_or(0, |i| i + 1),
    };
    let prefix = if cut > 0 && secret.len() - cut >= 4 {
        &secret[..cut]
    } else {
        let n = (secret.chars().count() / 4).min(4);
        &secret[..secret.char_indices().nth(n).map_or(secret.len(), |(i, _)| i)]
    };
    format!("{prefix}****")
}

fn numeric_suffix(s: &str) -> u64 {
    let digits: String = s.chars().rev().take_while(|c| c.is_ascii_digit()).collect();
    digits.chars().rev().collect::<String>().parse().unwrap_or(0)
}

impl State {
    pub fn new(mut data: Fixture) -> State {
        data.events.sort_by(|a, b| a.id.cmp(&b.id));
        // Saturating: a fixture may hold any ids.
        let next_user_id = data.members.iter().map(|m| m.user_id).max().unwrap_or(0).saturating_add(1);
        let next_group_id = data.groups.iter().map(|g| g.id).max().unwrap_or(0).saturating_add(1);
        let next_guest_seq = data.guest_invites.iter().map(|g| numeric_suffix(&g.id)).max().unwrap_or(0).saturating_add(1);
        let next_admin_team_id = data.admin.teams.iter().map(|t| t.id.parse::<u64>().unwrap_or(0)).max().unwrap_or(0).saturating_add(1);
        let next_event_seq = 1_000_000u64.saturating_add(data.events.len() as u64);
        let mut st = State {
            data,
            quotas: BTreeMap::new(),
            next_user_id,
            next_group_id,
            next_guest_seq,
            next_event_seq,
            next_admin_team_id,
            next_join_salt: 1,
        };
        st.refresh();
        st
    }

    /// The state as JSON (`GET /_mock/state`), every key and token masked by [`mask`].
    pub fn to_json_masked(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct View<'a> {
            #[serde(flatten)]
            data: &'a Fixture,
            quotas: &'a BTreeMap<String, QuotaState>,
        }
        let Ok(mut v) = serde_json::to_value(View { data: &self.data, quotas: &self.quotas }) else {
            return b"{}".to_vec();
        };
        let mask_at = |v: &mut Value| {
            if let Some(s) = v.as_str() {
                *v = Value::String(mask(s));
            }
        };
        mask_at(&mut v["api_key"]);
        mask_at(&mut v["admin_token"]);
        mask_at(&mut v["admin"]["non_admin_token"]);
        for k in v["api_keys"].as_array_mut().into_iter().flatten() {
            mask_at(&mut k["key"]);
        }
        for u in v["admin"]["users"].as_array_mut().into_iter().flatten() {
            mask_at(&mut u["token"]);
        }
        serde_json::to_vec(&v).unwrap_or_default()
    }

    /// Recomputes every derived field: group member counts, machine assignment
    /// state and email, app rule membership.
    pub fn refresh(&mut self) {
        let d = &mut self.data;
        for g in d.groups.iter_mut() {
            g.member_count = d.members.iter().filter(|m| m.group_ids.contains(&g.id)).count();
        }
        for m in d.machines.iter_mut() {
            m.email = m.user_id.and_then(|u| d.members.iter().find(|x| x.user_id == u)).map(|x| x.email.clone());
            if m.email.is_none() {
                m.user_id = None;
            }
            m.assignment = if m.user_id.is_some() {
                "member"
            } else if m.reserved_email.is_some() {
                "reservation"
            } else if !m.team_group_ids.is_empty() {
                "group"
            } else {
                "unassigned"
            }
            .to_string();
        }
        for r in d.app_rules.iter_mut() {
            r.user_ids = d.members.iter().filter(|m| m.team_app_rule_id.as_deref() == Some(&r.id)).map(|m| m.user_id).collect();
            r.team_machine_ids = d.machines.iter().filter(|m| m.team_app_rule_id.as_deref() == Some(&r.id)).map(|m| m.id.clone()).collect();
        }
    }

    pub fn member(&self, user_id: u64) -> Option<&Member> {
        self.members.iter().find(|m| m.user_id == user_id)
    }
    pub fn member_by_email(&self, email: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.email.eq_ignore_ascii_case(email))
    }
    pub fn group(&self, id: u64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }
    pub fn group_mut(&mut self, id: u64) -> Option<&mut Group> {
        self.groups.iter_mut().find(|g| g.id == id)
    }
    pub fn app_rule(&self, id: &str) -> Option<&AppRule> {
        self.app_rules.iter().find(|r| r.id == id)
    }

    /// Appends an audit event stamped `now`.
    pub fn push_event(&mut self, now: OffsetDateTime, event_name: &str, user_id: Option<u64>, data: Value) {
        let seq = self.next_event_seq;
        self.next_event_seq = seq.saturating_add(1);
        let id = ksuid::new(now.unix_timestamp(), ksuid::payload(seq));
        let ev = Event { id, event_name: event_name.to_string(), user_id, created_at: now, data };
        let pos = self.data.events.partition_point(|e| e.id < ev.id);
        self.data.events.insert(pos, ev);
    }
}
