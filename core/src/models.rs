//! Result models. Response bodies are not documented, so every model is
//! tolerant: every field is optional, unknown fields are kept in `extra`, and a
//! missing or oddly typed timestamp is `None` rather than an error.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use time::serde::rfc3339;

/// Lenient RFC 3339 timestamps: parsed when they parse, `None` otherwise.
mod lenient_time {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            Some(Value::String(s)) => crate::validate::parse_time(&s),
            _ => None,
        })
    }

    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        rfc3339::option::serialize(t, s)
    }
}

macro_rules! model {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? } times { $($(#[$tdoc:meta])* $tfield:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        #[non_exhaustive]
        pub struct $name {
            $($(#[$fdoc])* #[serde(skip_serializing_if = "Option::is_none")] pub $field: Option<$ty>,)*
            $($(#[$tdoc])* #[serde(with = "lenient_time", skip_serializing_if = "Option::is_none")] pub $tfield: Option<OffsetDateTime>,)*
            /// Every field of the response this model does not name.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    };
}

model!(
    /// A team member.
    Member { user_id: i64, email: String, name: String, is_admin: bool, group_ids: Vec<i64>, team_app_rule_id: String }
    times { created_at }
);
model!(
    /// A team group.
    Group {
        id: i64,
        name: String,
        allow_connections_within_group: bool,
        show_group_assigned_managed_hosts: bool,
        show_user_assigned_managed_hosts: bool,
        show_personal_hosts: bool,
        permitted_groups: Vec<Value>,
    }
    times { created_at }
);
model!(
    /// A team computer.
    Machine {
        id: String,
        peer_id: String,
        name: String,
        user_id: i64,
        email: String,
        team_group_ids: Vec<i64>,
        reserved_email: String,
        assignment: String,
        is_online: bool,
        is_guest_access: bool,
        team_app_rule_id: String,
    }
    times { created_at }
);
model!(
    /// A guest access invite.
    GuestInvite {
        id: String,
        guest_email: String,
        host_peer_id: String,
        event_name: String,
        keyboard: bool,
        mouse: bool,
        gamepad: bool,
        time_zone: String,
        message: String,
    }
    times { starts_at, expires_at, created_at }
);
model!(
    /// A pending team member invite.
    MemberInvite { email: String, join_url: String, group_id: i64, team_app_rule_id: String }
    times { expires_at, created_at }
);
model!(
    /// A team app rule.
    AppRule { id: String, name: String }
    times { created_at }
);
model!(
    /// An audit-log event (its `id` is a KSUID).
    Event { id: String, event_name: String, user_id: i64, data: Value }
    times { created_at }
);
model!(
    /// A team of the team-administration API.
    Team { id: Value, name: String, quota: Value, quota_mail_sent: Value, owner_id: Value, user_ids: Vec<Value> }
    times { created_at }
);
model!(
    /// An access right of the team-administration API.
    AccessRight { id: Value, name: String, r#type: String }
    times {}
);

/// A page of a list operation: `data` and the total `count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de>"))]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Total number of results of the query (not only of this page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page { data: Vec::new(), count: None, extra: Map::new() }
    }
}

/// A page of audit-log events; `next_cursor` is where the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventPage {
    pub data: Vec<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The guest access credit balance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Credits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
