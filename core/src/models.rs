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

        impl $name {
            /// The fields of this model, as the description lists them.
            pub const FIELDS: &'static [ModelField] = &[
                $(ModelField { name: field_name(stringify!($field)), ty: FieldType::of(stringify!($ty)) },)*
                $(ModelField { name: field_name(stringify!($tfield)), ty: FieldType::Timestamp },)*
            ];
        }

        #[cfg(test)]
        impl tests::Extra for $name {
            fn extra(&self) -> &Map<String, Value> {
                &self.extra
            }
        }
    };
}

/// The type of a model field, as the description and the generators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Int,
    String,
    Bool,
    /// A list of integers.
    IntList,
    /// Any JSON value, passed through undecoded.
    Json,
    /// A list of any JSON values.
    JsonList,
    /// An RFC 3339 timestamp: a timezone-aware date-time where a language has
    /// one; a value that does not parse is null (the models are tolerant).
    Timestamp,
}

impl FieldType {
    /// The field type of a model field's Rust type, as the `model!` macro writes it.
    pub const fn of(rust: &str) -> FieldType {
        match rust.as_bytes() {
            b"i64" => FieldType::Int,
            b"String" => FieldType::String,
            b"bool" => FieldType::Bool,
            b"Vec<i64>" | b"Vec < i64 >" => FieldType::IntList,
            b"Vec<Value>" | b"Vec < Value >" => FieldType::JsonList,
            b"Value" => FieldType::Json,
            _ => panic!("a model field type without a FieldType"),
        }
    }

    /// The name used in the description.
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldType::Int => "int",
            FieldType::String => "string",
            FieldType::Bool => "bool",
            FieldType::IntList => "list<int>",
            FieldType::Json => "json",
            FieldType::JsonList => "list<json>",
            FieldType::Timestamp => "timestamp",
        }
    }
}

/// One field of a result model (every field is optional: the models are tolerant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelField {
    /// The wire name.
    pub name: &'static str,
    pub ty: FieldType,
}

/// A field name without a raw-identifier prefix (`r#type` is `type`).
const fn field_name(ident: &'static str) -> &'static str {
    match ident.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(_) => ident,
        },
        _ => ident,
    }
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

/// Every result model with its fields, for the description; one entry per
/// [`crate::spec::Model`].
pub fn model_fields(model: crate::spec::Model) -> &'static [ModelField] {
    use crate::spec::Model as M;
    match model {
        M::Member => Member::FIELDS,
        M::Group => Group::FIELDS,
        M::Machine => Machine::FIELDS,
        M::GuestInvite => GuestInvite::FIELDS,
        M::MemberInvite => MemberInvite::FIELDS,
        M::AppRule => AppRule::FIELDS,
        M::Event => Event::FIELDS,
        M::Team => Team::FIELDS,
        M::AccessRight => AccessRight::FIELDS,
    }
}

/// Every model the spec names.
pub const MODELS: &[crate::spec::Model] = {
    use crate::spec::Model as M;
    &[M::Member, M::Group, M::Machine, M::GuestInvite, M::MemberInvite, M::AppRule, M::Event, M::Team, M::AccessRight]
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Model;

    /// A value of the field's type, as the server sends it.
    fn sample(ty: FieldType) -> Value {
        match ty {
            FieldType::Int => Value::from(7),
            FieldType::String => Value::from("s"),
            FieldType::Bool => Value::from(true),
            FieldType::IntList => serde_json::json!([1, 2]),
            FieldType::Json => serde_json::json!({"k": [1]}),
            FieldType::JsonList => serde_json::json!([{"k": 1}, "x"]),
            FieldType::Timestamp => Value::from("2026-01-31T09:00:00Z"),
        }
    }

    pub(super) trait Extra {
        fn extra(&self) -> &Map<String, Value>;
    }

    /// A body with every field of the table decodes with nothing left in
    /// `extra` (each is a named field of the struct) and encodes back the same.
    fn round_trip<T: serde::de::DeserializeOwned + Serialize + Extra>(model: Model) {
        let fields = model_fields(model);
        let body: Map<String, Value> = fields.iter().map(|f| (f.name.to_owned(), sample(f.ty))).collect();
        let parsed: T = serde_json::from_value(Value::Object(body.clone())).unwrap();
        assert!(parsed.extra().is_empty(), "{}: {:?}", model.name(), parsed.extra());
        let back = serde_json::to_value(&parsed).unwrap();
        assert_eq!(back.as_object().unwrap(), &body, "{}", model.name());
    }

    #[test]
    fn the_model_table_agrees_with_the_structs() {
        round_trip::<Member>(Model::Member);
        round_trip::<Group>(Model::Group);
        round_trip::<Machine>(Model::Machine);
        round_trip::<GuestInvite>(Model::GuestInvite);
        round_trip::<MemberInvite>(Model::MemberInvite);
        round_trip::<AppRule>(Model::AppRule);
        round_trip::<Event>(Model::Event);
        round_trip::<Team>(Model::Team);
        round_trip::<AccessRight>(Model::AccessRight);
        // The raw identifier is the wire name.
        assert!(AccessRight::FIELDS.iter().any(|f| f.name == "type"));
        assert_eq!(Member::FIELDS.iter().find(|f| f.name == "created_at").map(|f| f.ty), Some(FieldType::Timestamp));
    }

    #[test]
    fn a_field_in_extra_is_not_a_named_field() {
        // Guards the round trip above: a name the struct lacks lands in `extra`.
        let m: Member = serde_json::from_value(serde_json::json!({"nope": 1, "email": "a@b.co"})).unwrap();
        assert_eq!(m.extra.len(), 1);
        assert_eq!(m.email.as_deref(), Some("a@b.co"));
    }
}
