// The operation table: every operation of both APIs, declared once.
//
// This file is std-only on purpose: `build.rs` includes it to generate the typed
// Rust surface (parameter structs and resource methods), and the bindings'
// generators read the same table through `parsec_teams::spec::OPERATIONS`
// (or as JSON through `parsec_teams::table::table_json`, and in the SDK's
// description, `parsec_teams::describe`, printed by `parsec-teams-describe`
// into `docs/description.json`). Adding an endpoint is one `Operation` here
// plus one line in `OPERATIONS` (see CONTRIBUTING.md).
//
// Inner doc comments (`//!`) are not allowed here because of the `include!`.

/// Which of the two services an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// The Parsec for Teams API (V1), used by `Client`.
    Teams,
    /// The team-administration API, used by `AdminClient`.
    Admin,
}

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
}

impl HttpMethod {
    /// The method as it is written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// GET, PUT and DELETE may be retried after a failure; POST only where
    /// the server surely did not act.
    pub const fn is_idempotent(self) -> bool {
        !matches!(self, HttpMethod::Post)
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// A `{name}` segment of the path template.
    Path,
    /// The query string (lists are sent comma-separated).
    Query,
    /// A key of the JSON body.
    Body,
    /// A key of the admin API's `{"team": {...}}` body wrapper.
    TeamBody,
}

impl Location {
    pub const fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Body => "body",
            Location::TeamBody => "body.team",
        }
    }
}

/// The type of a parameter, with the rules the seeds attach to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// An integer, optionally bounded (inclusive).
    Int { min: Option<i64>, max: Option<i64> },
    /// A string; lengths count characters (inclusive bounds).
    Str { min_len: Option<usize>, max_len: Option<usize> },
    /// `true` or `false`.
    Bool,
    /// `true`, `false` or `null` (null is the same as leaving it out).
    NullableBool,
    /// An email address.
    Email,
    /// An RFC 3339 date-time.
    DateTime,
    /// A KSUID: exactly 27 base62 characters.
    Ksuid,
    /// One of a fixed set of strings; `rust_name` names the generated Rust enum.
    Enum { rust_name: &'static str, values: &'static [&'static str] },
    /// A list of items, with item-count bounds and an optional uniqueness rule.
    List { item: &'static Ty, min_items: usize, max_items: Option<usize>, unique: bool },
    /// A non-negative integer sent as a decimal string (the admin API's byte quotas).
    IntAsString { min: i64 },
    /// A boolean sent as the string `"true"` or `"false"` (the admin API).
    BoolAsString,
}

impl Ty {
    /// A short name of the type, for docs and generated type stubs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Ty::Int { .. } | Ty::IntAsString { .. } => "int",
            Ty::Str { .. } | Ty::Email | Ty::Ksuid => "string",
            Ty::Bool | Ty::BoolAsString => "bool",
            Ty::NullableBool => "bool?",
            Ty::DateTime => "datetime",
            Ty::Enum { .. } => "enum",
            Ty::List { .. } => "list",
        }
    }
}

/// A default the SDK fills in when the caller leaves a parameter out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Int(i64),
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The wire name (snake_case).
    pub name: &'static str,
    pub ty: Ty,
    pub location: Location,
    /// Required by the service. Parameters with a `default` are required on the
    /// wire but optional for the caller.
    pub required: bool,
    pub default: Option<DefaultValue>,
    pub doc: &'static str,
}

/// A rule that spans several parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The two parameters may not be given together.
    Exclusive(&'static str, &'static str),
    /// At least one of these parameters must be given.
    AtLeastOne(&'static [&'static str]),
    /// No parameter of the first set together with one of the second set
    /// (a machine is assigned to a member or to groups, never both).
    NotTogether(&'static [&'static str], &'static [&'static str]),
    /// The date-time must lie in the future.
    InFuture(&'static str),
    /// `later` must be strictly after `earlier` (checked when both are given).
    After { later: &'static str, earlier: &'static str },
    /// The `show_*` flags may not be `true` while `allow_connections_within_group`
    /// is `false` in the same request.
    ShowFlagsNeedConnections,
}

/// What a model is called in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    Member,
    Group,
    Machine,
    GuestInvite,
    MemberInvite,
    AppRule,
    Event,
    Team,
    AccessRight,
}

impl Model {
    pub const fn name(self) -> &'static str {
        match self {
            Model::Member => "Member",
            Model::Group => "Group",
            Model::Machine => "Machine",
            Model::GuestInvite => "GuestInvite",
            Model::MemberInvite => "MemberInvite",
            Model::AppRule => "AppRule",
            Model::Event => "Event",
            Model::Team => "Team",
            Model::AccessRight => "AccessRight",
        }
    }
}

/// The shape of a successful response, and what the SDK returns for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// `{"data": {...}}`: the SDK returns the inner object.
    Data(Model),
    /// `{"data": [...], "count": n}`: a page.
    Page(Model),
    /// `{"data": [...], "next_cursor": "..."}`: a page of audit-log events.
    EventPage,
    /// `{"balance": n}`: the guest access credit balance.
    Credits,
    /// No content (204), or a body the SDK ignores.
    Empty,
    /// A bare JSON object (the admin API).
    Object(Model),
    /// A bare JSON array (the admin API).
    List(Model),
}

impl ResultKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ResultKind::Data(_) => "data",
            ResultKind::Page(_) => "page",
            ResultKind::EventPage => "event_page",
            ResultKind::Credits => "credits",
            ResultKind::Empty => "empty",
            ResultKind::Object(_) => "object",
            ResultKind::List(_) => "list",
        }
    }

    pub const fn model(self) -> Option<Model> {
        match self {
            ResultKind::Data(m) | ResultKind::Page(m) | ResultKind::Object(m) | ResultKind::List(m) => Some(m),
            ResultKind::EventPage => Some(Model::Event),
            ResultKind::Credits | ResultKind::Empty => None,
        }
    }
}

/// How a list operation is walked to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paginate {
    None,
    /// `offset` / `limit` with a total `count`.
    Offset,
    /// `cursor` from each page's `next_cursor`.
    Cursor,
}

/// One operation: everything any layer needs to call it, check it, document it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub api: Api,
    /// The resource handle (`members`, `guest_access`, ...).
    pub resource: &'static str,
    /// The method name on that handle (`list`, `kick_guest`, ...).
    pub name: &'static str,
    pub method: HttpMethod,
    /// Path template; `{team_id}` comes from the client, other `{name}`s from
    /// path parameters.
    pub path: &'static str,
    pub params: &'static [Param],
    pub rules: &'static [Rule],
    pub result: ResultKind,
    /// The API-key permission the service checks (empty for the admin API,
    /// whose rule is `admin`).
    pub permission: &'static str,
    /// Name of the client-side quota this operation draws from.
    pub quota: Option<&'static str>,
    pub paginate: Paginate,
    pub deprecated: bool,
    /// One-paragraph description, from the service documentation.
    pub doc: &'static str,
}

impl Operation {
    /// `resource.name`, e.g. `members.list`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.resource, self.name)
    }

    /// The name of the auto-paginating form (`iter`, `iter_events`), if any.
    pub fn iter_name(&self) -> Option<String> {
        match self.paginate {
            Paginate::None => None,
            _ => Some(self.name.replacen("list", "iter", 1)),
        }
    }

    /// The parameter named `name`, if the operation has it.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

const fn param(name: &'static str, ty: Ty, location: Location, required: bool, doc: &'static str) -> Param {
    Param { name, ty, location, required, default: None, doc }
}
const fn path(name: &'static str, ty: Ty, doc: &'static str) -> Param {
    param(name, ty, Location::Path, true, doc)
}
const fn query(name: &'static str, ty: Ty, doc: &'static str) -> Param {
    param(name, ty, Location::Query, false, doc)
}
const fn body(name: &'static str, ty: Ty, doc: &'static str) -> Param {
    param(name, ty, Location::Body, false, doc)
}
const fn body_req(name: &'static str, ty: Ty, doc: &'static str) -> Param {
    param(name, ty, Location::Body, true, doc)
}

const INT: Ty = Ty::Int { min: None, max: None };
const ID: Ty = Ty::Int { min: Some(1), max: None };
const STR: Ty = Ty::Str { min_len: None, max_len: None };
const ID_STR: Ty = Ty::Str { min_len: Some(1), max_len: None };
const BOOL: Ty = Ty::Bool;
const GROUP_NAME: Ty = Ty::Str { min_len: Some(2), max_len: Some(64) };
const TIME_ZONE: Ty = Ty::Str { min_len: Some(3), max_len: None };
const INTS: Ty = Ty::List { item: &ID, min_items: 0, max_items: None, unique: false };
const UNIQUE_INTS: Ty = Ty::List { item: &ID, min_items: 0, max_items: None, unique: true };
const NONEMPTY_UNIQUE_INTS: Ty = Ty::List { item: &ID, min_items: 1, max_items: None, unique: true };
const STRS: Ty = Ty::List { item: &ID_STR, min_items: 0, max_items: None, unique: false };
const EMAILS: Ty = Ty::List { item: &Ty::Email, min_items: 0, max_items: None, unique: false };
const EMAILS_1_200: Ty = Ty::List { item: &Ty::Email, min_items: 1, max_items: Some(200), unique: true };
const DIRECTION: Ty = Ty::Enum { rust_name: "Direction", values: &["incoming", "outgoing"] };
const ASSIGNMENT: Ty = Ty::Enum { rust_name: "Assignment", values: &["group", "unassigned", "member", "reservation"] };
const ACCESS_RIGHTS_TYPE: Ty = Ty::Enum { rust_name: "AccessRightsType", values: &["assets", "projects"] };

const OFFSET: Param = Param {
    name: "offset",
    ty: Ty::Int { min: Some(0), max: None },
    location: Location::Query,
    required: true,
    default: Some(DefaultValue::Int(0)),
    doc: "Number of results to skip before returning results.",
};
const LIMIT: Param = Param {
    name: "limit",
    ty: Ty::Int { min: Some(1), max: Some(200) },
    location: Location::Query,
    required: true,
    default: Some(DefaultValue::Int(50)),
    doc: "Number of results to return (1..200).",
};

const GROUP_ID: Param = path("group_id", ID, "ID of team group.");
const MACHINE_ID: Param = path("machine_id", ID_STR, "ID of machine.");
const INVITE_ID: Param = path("invite_id", ID_STR, "ID of guest access invite.");
const APP_RULE_ID: Param = path("app_rule_id", ID_STR, "ID of the team app rule.");
const USER_ID: Param = path("user_id", ID, "ID of user.");

const SHOW_GROUP: &str = "When true, host list may include team computers that are assigned only to the group itself. May not be set to true unless allow_connections_within_group is also true.";
const SHOW_USER: &str = "When true, host list may include team computers that are assigned directly to other members in this group. May not be set to true unless allow_connections_within_group is also true.";
const SHOW_PERSONAL: &str = "When true, host list may include all personal computers belonging to other members in this group. May not be set to true unless allow_connections_within_group is also true.";
const ALLOW_WITHIN: &str = "Let members of this group connect with each other's workstations. If false, the show_* flags are set to false.";
const SEND_EMAIL: &str = "Flag for sending a Parsec email (defaults to false if not provided).";
const GROUP_IDS: Param = body_req("group_ids", NONEMPTY_UNIQUE_INTS, "List of group IDs (non-empty, unique).");
const DIRECTION_REQ: Param = body_req("direction", DIRECTION, "Direction of the connection permission: incoming or outgoing.");
const MEMBER_IDS: Param = body_req("user_ids", NONEMPTY_UNIQUE_INTS, "List of members' user IDs (non-empty, unique).");
const APP_RULE_TARGETS: &[Param] =
    &[APP_RULE_ID, body("user_ids", INTS, "User IDs of team members."), body("team_machine_ids", STRS, "IDs of team machines.")];
const APP_RULE_TARGET_RULES: &[Rule] = &[Rule::AtLeastOne(&["user_ids", "team_machine_ids"])];
const EMAILS_1_200_REQ: Param = body_req("emails", EMAILS_1_200, "Emails (1..200, unique, valid addresses).");
const ADMIN_TEAM_ID: Param = path("id", ID_STR, "ID of the team.");
const ADMIN_USER_ID: Param = path("user_id", ID_STR, "ID of the user.");
const ADMIN_TEAM_ID_OF_USER: Param = path("team_id", ID_STR, "ID of the team.");

#[allow(clippy::too_many_arguments)]
const fn op(
    resource: &'static str,
    name: &'static str,
    method: HttpMethod,
    path: &'static str,
    params: &'static [Param],
    result: ResultKind,
    permission: &'static str,
    doc: &'static str,
) -> Operation {
    Operation {
        api: Api::Teams,
        resource,
        name,
        method,
        path,
        params,
        rules: &[],
        result,
        permission,
        quota: None,
        paginate: match result {
            ResultKind::Page(_) => Paginate::Offset,
            ResultKind::EventPage => Paginate::Cursor,
            _ => Paginate::None,
        },
        deprecated: false,
        doc,
    }
}

const fn admin(
    resource: &'static str,
    name: &'static str,
    method: HttpMethod,
    path: &'static str,
    params: &'static [Param],
    result: ResultKind,
    doc: &'static str,
) -> Operation {
    Operation { api: Api::Admin, permission: "", paginate: Paginate::None, ..op(resource, name, method, path, params, result, "", doc) }
}

use HttpMethod::{Delete, Get, Post, Put};

// ---------------------------------------------------------------------------
// Parsec Teams API (V1)
// ---------------------------------------------------------------------------

/// 1. Get team audit-log events.
pub static AUDIT_LOG_LIST_EVENTS: Operation = Operation {
    quota: Some("audit_log"),
    rules: &[Rule::Exclusive("cursor", "after")],
    ..op(
        "audit_log",
        "list_events",
        Get,
        "/v1/teams/{team_id}/events",
        &[
            query("start_at", Ty::DateTime, "Only include events that occurred on or after this date-time."),
            query("end_at", Ty::DateTime, "Only include events that occurred at or before this date-time."),
            query("user_id", ID, "Only include events with this user_id (>= 1)."),
            query(
                "event_names",
                Ty::List { item: &ID_STR, min_items: 0, max_items: None, unique: true },
                "Only include events with these names (unique; sent comma-separated).",
            ),
            param(
                "limit",
                Ty::Int { min: Some(1), max: Some(1000) },
                Location::Query,
                true,
                "Limit the number of events returned (1..1000).",
            ),
            query("cursor", Ty::Ksuid, "ID of the first event to start paging from (inclusive). Never with `after`."),
            query("after", Ty::Ksuid, "ID of the event to start paging after (exclusive). Never with `cursor`."),
        ],
        ResultKind::EventPage,
        "Access Audit Log",
        "Get team audit-log events. Maximum 50 requests in a 5 minute window; the SDK paces calls so the 5 minute block is never earned.",
    )
};

/// 2. List team groups.
pub static GROUPS_LIST: Operation = op(
    "groups",
    "list",
    Get,
    "/v1/teams/{team_id}/groups",
    &[query("name", STR, "Search groups by name."), OFFSET, LIMIT],
    ResultKind::Page(Model::Group),
    "View Groups",
    "Get a paginated list of team groups.",
);

/// 3. Create a team group.
pub static GROUPS_CREATE: Operation = Operation {
    rules: &[Rule::ShowFlagsNeedConnections],
    ..op(
        "groups",
        "create",
        Post,
        "/v1/teams/{team_id}/groups",
        &[
            body_req("group_name", GROUP_NAME, "Name of the group (2..64 characters)."),
            body_req("allow_connections_within_group", BOOL, ALLOW_WITHIN),
            body("show_group_assigned_managed_hosts", Ty::NullableBool, SHOW_GROUP),
            body_req("show_user_assigned_managed_hosts", BOOL, SHOW_USER),
            body_req("show_personal_hosts", BOOL, SHOW_PERSONAL),
        ],
        ResultKind::Data(Model::Group),
        "Create Team Group",
        "Create a team group.",
    )
};

/// 4. Get a team group.
pub static GROUPS_GET: Operation = op(
    "groups",
    "get",
    Get,
    "/v1/teams/{team_id}/groups/{group_id}",
    &[GROUP_ID],
    ResultKind::Data(Model::Group),
    "View Groups",
    "Get a team group.",
);

/// 5. Update a team group.
pub static GROUPS_UPDATE: Operation = Operation {
    rules: &[Rule::ShowFlagsNeedConnections],
    ..op(
        "groups",
        "update",
        Put,
        "/v1/teams/{team_id}/groups/{group_id}",
        &[
            GROUP_ID,
            body("group_name", GROUP_NAME, "Name of the group (2..64 characters)."),
            body("allow_connections_within_group", Ty::NullableBool, ALLOW_WITHIN),
            body("show_group_assigned_managed_hosts", BOOL, SHOW_GROUP),
            body("show_user_assigned_managed_hosts", BOOL, SHOW_USER),
            body("show_personal_hosts", BOOL, SHOW_PERSONAL),
        ],
        ResultKind::Data(Model::Group),
        "Update Team Group",
        "Update a team group.",
    )
};

/// 6. Delete a team group.
pub static GROUPS_DELETE: Operation = op(
    "groups",
    "delete",
    Delete,
    "/v1/teams/{team_id}/groups/{group_id}",
    &[GROUP_ID],
    ResultKind::Empty,
    "Delete Team Group",
    "Delete a team group.",
);

/// 7. Remove members from a group.
pub static GROUPS_REMOVE_MEMBERS: Operation = op(
    "groups",
    "remove_members",
    Post,
    "/v1/teams/{team_id}/groups/{group_id}/remove-members",
    &[GROUP_ID, body_req("user_ids", UNIQUE_INTS, "List of members' user IDs (unique).")],
    ResultKind::Empty,
    "Remove Group Members",
    "Remove members from the team group.",
);

/// 8. Add permitted groups.
pub static GROUPS_ADD_PERMITTED_GROUPS: Operation = op(
    "groups",
    "add_permitted_groups",
    Post,
    "/v1/teams/{team_id}/groups/{group_id}/permitted-groups",
    &[
        GROUP_ID,
        GROUP_IDS,
        DIRECTION_REQ,
        body_req("show_group_assigned_managed_hosts", BOOL, SHOW_GROUP),
        body_req("show_user_assigned_managed_hosts", BOOL, SHOW_USER),
        body_req("show_personal_hosts", BOOL, SHOW_PERSONAL),
    ],
    ResultKind::Empty,
    "Add Permitted Team Groups",
    "Create connections with other groups: allow this group to accept incoming connections or to make outgoing connections, with host visibility settings.",
);

/// 9. Remove permitted groups.
pub static GROUPS_REMOVE_PERMITTED_GROUPS: Operation = op(
    "groups",
    "remove_permitted_groups",
    Delete,
    "/v1/teams/{team_id}/groups/{group_id}/permitted-groups",
    &[GROUP_ID, GROUP_IDS, DIRECTION_REQ],
    ResultKind::Empty,
    "Remove Permitted Team Groups",
    "Remove connections with other groups.",
);

/// 10. Update the permissions between two groups.
pub static GROUPS_UPDATE_PERMITTED_GROUP: Operation = op(
    "groups",
    "update_permitted_group",
    Put,
    "/v1/teams/{team_id}/groups/{group_id}/permitted-groups/{permitted_group_id}",
    &[
        GROUP_ID,
        path("permitted_group_id", ID, "ID of permitted team group."),
        DIRECTION_REQ,
        body("show_group_assigned_managed_hosts", BOOL, SHOW_GROUP),
        body("show_user_assigned_managed_hosts", BOOL, SHOW_USER),
        body("show_personal_hosts", BOOL, SHOW_PERSONAL),
    ],
    ResultKind::Empty,
    "Update Permitted Team Group",
    "Update the host visibility permissions between groups.",
);

/// 11. Add members to a group, replacing their other groups (deprecated).
pub static GROUPS_ADD_MEMBERS: Operation = Operation {
    deprecated: true,
    ..op(
        "groups",
        "add_members",
        Post,
        "/v1/teams/{team_id}/groups/{group_id}/members",
        &[GROUP_ID, MEMBER_IDS],
        ResultKind::Empty,
        "Add Group Members",
        "Deprecated: use assign_members. Add members to the team group, removing any previously assigned groups.",
    )
};

/// 12. Assign members to a group, keeping their other groups.
pub static GROUPS_ASSIGN_MEMBERS: Operation = op(
    "groups",
    "assign_members",
    Post,
    "/v1/teams/{team_id}/groups/{group_id}/add-members",
    &[GROUP_ID, MEMBER_IDS],
    ResultKind::Empty,
    "Add Group Members",
    "Assign members to the team group. Any previously assigned groups remain.",
);

/// 13. Get a guest access invite.
pub static GUEST_ACCESS_GET: Operation = op(
    "guest_access",
    "get",
    Get,
    "/v1/teams/{team_id}/guest-access-invites/{invite_id}",
    &[INVITE_ID],
    ResultKind::Data(Model::GuestInvite),
    "View Guest Access Links",
    "Get a team guest access invite.",
);

/// 14. Update a guest access invite.
pub static GUEST_ACCESS_UPDATE: Operation = Operation {
    rules: &[Rule::After { later: "expires_at", earlier: "starts_at" }],
    ..op(
        "guest_access",
        "update",
        Put,
        "/v1/teams/{team_id}/guest-access-invites/{invite_id}",
        &[
            INVITE_ID,
            body("host_peer_id", ID_STR, "Peer ID of host machine."),
            body("keyboard", BOOL, "Permission setting for controlling the keyboard."),
            body("mouse", BOOL, "Permission setting for controlling the mouse."),
            body("gamepad", BOOL, "Permission setting for using a gamepad."),
            body("time_zone", TIME_ZONE, "IANA time zone for starts_at and expires_at (at least 3 characters)."),
            body("starts_at", Ty::DateTime, "When guest access starts."),
            body("expires_at", Ty::DateTime, "When guest access ends (after starts_at)."),
            body("send_email", BOOL, "Send the guest an email with the updated event information."),
        ],
        ResultKind::Data(Model::GuestInvite),
        "Manage Guest Access Links",
        "Update a guest access invite. Keyboard, mouse and gamepad changes are pushed to connected guests at once.",
    )
};

/// 15. Cancel a guest access invite.
pub static GUEST_ACCESS_CANCEL: Operation = op(
    "guest_access",
    "cancel",
    Delete,
    "/v1/teams/{team_id}/guest-access-invites/{invite_id}",
    &[INVITE_ID, query("send_email", BOOL, SEND_EMAIL)],
    ResultKind::Empty,
    "Manage Guest Access Links",
    "Cancel a guest access invite. An unused invite's credit is refunded; connected guests are kicked out.",
);

/// 16. List guest access invites.
pub static GUEST_ACCESS_LIST: Operation = op(
    "guest_access",
    "list",
    Get,
    "/v1/teams/{team_id}/guest-access-invites",
    &[OFFSET, LIMIT],
    ResultKind::Page(Model::GuestInvite),
    "View Guest Access Links",
    "Get a paginated list of guest access invites.",
);

/// 17. Create a guest access invite.
pub static GUEST_ACCESS_CREATE: Operation = Operation {
    rules: &[Rule::InFuture("starts_at"), Rule::After { later: "expires_at", earlier: "starts_at" }],
    ..op(
        "guest_access",
        "create",
        Post,
        "/v1/teams/{team_id}/guest-access-invites",
        &[
            body_req("host_peer_id", ID_STR, "Peer ID of host machine."),
            body_req("guest_email", Ty::Email, "Email of the guest to invite."),
            body_req("event_name", ID_STR, "Name of the guest access event."),
            body_req("keyboard", BOOL, "Permission setting to control the keyboard."),
            body_req("mouse", BOOL, "Permission setting to control the mouse."),
            body_req("gamepad", BOOL, "Permission setting for using a gamepad."),
            body_req("time_zone", TIME_ZONE, "IANA time zone for starts_at and expires_at."),
            body_req("starts_at", Ty::DateTime, "When guest access starts (in the future)."),
            body_req("expires_at", Ty::DateTime, "When guest access ends (after starts_at)."),
            body_req("message", STR, "Message included in the guest access email."),
            body("send_email", BOOL, "Send the guest an invitation email (defaults to false)."),
        ],
        ResultKind::Data(Model::GuestInvite),
        "Create Guest Access Links",
        "Create a guest access invite. Consumes 1 guest access credit unless the guest is a member of the team.",
    )
};

/// 18. Kick the guest of an invite off its host.
pub static GUEST_ACCESS_KICK_GUEST: Operation = op(
    "guest_access",
    "kick_guest",
    Delete,
    "/v1/teams/{team_id}/guest-access-invites/{invite_id}/guest",
    &[INVITE_ID],
    ResultKind::Empty,
    "Team Machine Kick Guest",
    "Force disconnect the guest from the guest access host machine. The guest may reconnect while the invite is valid; cancel the invite to remove access.",
);

/// 19. Guest access credit balance.
pub static GUEST_ACCESS_CREDITS: Operation = op(
    "guest_access",
    "credits",
    Get,
    "/v1/teams/{team_id}/guest-access-invite-credits",
    &[],
    ResultKind::Credits,
    "View Credit Balance",
    "Get the team's guest access invite credit balance.",
);

/// 20. List team machines.
pub static MACHINES_LIST: Operation = op(
    "machines",
    "list",
    Get,
    "/v1/teams/{team_id}/machines",
    &[
        OFFSET,
        LIMIT,
        query("user_id", INT, "Filter by the assigned team member's user ID."),
        query("team_group_id", INT, "Filter by the assigned team group ID."),
        query("name", STR, "Filter by machine name."),
        query("email", Ty::Email, "Filter by the assigned member's email."),
        query("is_online", BOOL, "Filter by online status."),
        query("is_guest_access", BOOL, "Filter by guest access status."),
        query("assignment", ASSIGNMENT, "Filter by assignment: group, unassigned, member or reservation."),
    ],
    ResultKind::Page(Model::Machine),
    "View Team Computers",
    "Get a paginated list of team machines, optionally filtered.",
);

/// 21. Update a team machine.
pub static MACHINES_UPDATE: Operation = op(
    "machines",
    "update",
    Put,
    "/v1/teams/{team_id}/machines/{machine_id}",
    &[
        MACHINE_ID,
        body("name", STR, "Name of machine."),
        body("is_guest_access", BOOL, "Enable or disable guest access for the machine."),
        body("team_app_rule_id", ID_STR, "App rule ID to assign to the machine."),
    ],
    ResultKind::Data(Model::Machine),
    "Manage Team Computers",
    "Update a team machine.",
);

/// 22. Delete a team machine.
pub static MACHINES_DELETE: Operation = op(
    "machines",
    "delete",
    Delete,
    "/v1/teams/{team_id}/machines/{machine_id}",
    &[MACHINE_ID],
    ResultKind::Empty,
    "Delete Team Computers",
    "Delete a team machine. Its existing sessions are invalidated at once.",
);

/// 23. Get a team machine.
pub static MACHINES_GET: Operation = op(
    "machines",
    "get",
    Get,
    "/v1/teams/{team_id}/machines/{machine_id}",
    &[MACHINE_ID],
    ResultKind::Data(Model::Machine),
    "View Team Computers",
    "Get a team machine.",
);

/// 24. Assign a machine to a member, a group or an email (deprecated).
pub static MACHINES_CREATE_ASSIGNMENT: Operation = Operation {
    deprecated: true,
    rules: &[Rule::AtLeastOne(&["user_id", "team_group_id", "email"]), Rule::NotTogether(&["user_id", "email"], &["team_group_id"])],
    ..op(
        "machines",
        "create_assignment",
        Post,
        "/v1/teams/{team_id}/machines/{machine_id}/assignment",
        &[
            MACHINE_ID,
            body("user_id", ID, "User ID of team member."),
            body("team_group_id", ID, "ID of team group."),
            body("email", Ty::Email, "Email of team member; someone not yet in the team gets a reservation."),
        ],
        ResultKind::Data(Model::Machine),
        "Manage Team Computers",
        "Deprecated: use set_assignment. Assign a team machine to a team member or a team group.",
    )
};

/// 25. Remove a machine's assignment.
pub static MACHINES_REMOVE_ASSIGNMENT: Operation = op(
    "machines",
    "remove_assignment",
    Delete,
    "/v1/teams/{team_id}/machines/{machine_id}/assignment",
    &[MACHINE_ID],
    ResultKind::Empty,
    "Manage Team Computers",
    "Remove the machine's member, group and reservation assignments; it becomes unassigned.",
);

/// 26. Set a machine's assignment.
pub static MACHINES_SET_ASSIGNMENT: Operation = Operation {
    rules: &[Rule::AtLeastOne(&["user_id", "team_group_ids", "email"]), Rule::NotTogether(&["user_id", "email"], &["team_group_ids"])],
    ..op(
        "machines",
        "set_assignment",
        Put,
        "/v1/teams/{team_id}/machines/{machine_id}/assignment",
        &[
            MACHINE_ID,
            body("user_id", ID, "User ID of team member."),
            body("team_group_ids", INTS, "IDs of team groups."),
            body("email", Ty::Email, "Email of team member; someone not yet in the team gets a reservation."),
        ],
        ResultKind::Data(Model::Machine),
        "Manage Team Computers",
        "Assign a team machine to a team member or team groups (never both). An email of someone not yet in the team makes a reservation.",
    )
};

/// 27. Disconnect a user from a machine.
pub static MACHINES_KICK_USER: Operation = op(
    "machines",
    "kick_user",
    Delete,
    "/v1/teams/{team_id}/machines/{machine_id}/users/{user_id}",
    &[MACHINE_ID, USER_ID],
    ResultKind::Empty,
    "Team Machine Kick User",
    "Force disconnect all devices of the user from the host machine.",
);

/// 28. List app rules.
pub static APP_RULES_LIST: Operation = op(
    "app_rules",
    "list",
    Get,
    "/v1/teams/{team_id}/app-rules",
    &[OFFSET, LIMIT],
    ResultKind::Page(Model::AppRule),
    "View App Rules",
    "Get a paginated list of app rules.",
);

/// 29. Unassign an app rule.
pub static APP_RULES_UNASSIGN: Operation = Operation {
    rules: APP_RULE_TARGET_RULES,
    ..op(
        "app_rules",
        "unassign",
        Post,
        "/v1/teams/{team_id}/app-rules/{app_rule_id}/unassign",
        APP_RULE_TARGETS,
        ResultKind::Empty,
        "Manage App Rule Assignments",
        "Unassign the team app rule from team machines and members (at least one of user_ids, team_machine_ids).",
    )
};

/// 30. Assign an app rule.
pub static APP_RULES_ASSIGN: Operation = Operation {
    rules: APP_RULE_TARGET_RULES,
    ..op(
        "app_rules",
        "assign",
        Post,
        "/v1/teams/{team_id}/app-rules/{app_rule_id}/assign",
        APP_RULE_TARGETS,
        ResultKind::Empty,
        "Manage App Rule Assignments",
        "Assign the team app rule to team machines and members (at least one of user_ids, team_machine_ids).",
    )
};

/// 31. List team members.
pub static MEMBERS_LIST: Operation = op(
    "members",
    "list",
    Get,
    "/v1/teams/{team_id}/members",
    &[
        query("group_id", INT, "Search members by group ID."),
        query("email", STR, "Search members by email."),
        query("is_admin", BOOL, "Search admin members (default is unscoped)."),
        OFFSET,
        LIMIT,
    ],
    ResultKind::Page(Model::Member),
    "View Team Members",
    "Get a paginated list of team members.",
);

/// 32. Remove a team member.
pub static MEMBERS_REMOVE: Operation = op(
    "members",
    "remove",
    Delete,
    "/v1/teams/{team_id}/members/{user_id}",
    &[USER_ID, query("send_email", BOOL, "Deprecated: send a SAML password reset email.")],
    ResultKind::Empty,
    "Remove Team Members",
    "Remove a team member. The owner and members holding API keys cannot be removed; their team computers become unassigned.",
);

/// 33. Get a team member.
pub static MEMBERS_GET: Operation = op(
    "members",
    "get",
    Get,
    "/v1/teams/{team_id}/members/{user_id}",
    &[USER_ID],
    ResultKind::Data(Model::Member),
    "View Team Members",
    "Get a team member.",
);

/// 34. List member invites.
pub static INVITES_LIST: Operation = op(
    "invites",
    "list",
    Get,
    "/v1/teams/{team_id}/member-invites",
    &[OFFSET, LIMIT],
    ResultKind::Page(Model::MemberInvite),
    "View Team Invites",
    "Get a paginated list of team member invites.",
);

/// 35. Invite members.
pub static INVITES_CREATE: Operation = Operation {
    quota: Some("invites_create"),
    paginate: Paginate::None,
    ..op(
        "invites",
        "create",
        Post,
        "/v1/teams/{team_id}/member-invites",
        &[
            EMAILS_1_200_REQ,
            body("group_id", ID, "Group the members join on joining."),
            body("team_app_rule_id", ID_STR, "App rule assigned on joining (needs the Manage App Rule Assignments permission too)."),
            body("send_email", BOOL, "Send each invitee an email with the join link (defaults to false)."),
        ],
        ResultKind::Page(Model::MemberInvite),
        "Create Team Invites",
        "Create team member invites; they expire one week after creation. Maximum 50 requests in a 5 minute window (paced by the SDK).",
    )
};

/// 36. Update member invites.
pub static INVITES_UPDATE: Operation = Operation {
    paginate: Paginate::None,
    ..op(
        "invites",
        "update",
        Put,
        "/v1/teams/{team_id}/member-invites",
        &[
            body_req("emails", EMAILS, "Emails of the invites to update."),
            body("group_id", ID, "Group the invited users join."),
            body("team_app_rule_id", ID_STR, "App rule assigned to the invited users (needs Manage App Rule Assignments too)."),
        ],
        ResultKind::Page(Model::MemberInvite),
        "Manage Team Invites",
        "Update team member invites for the given emails.",
    )
};

/// 37. Cancel member invites.
pub static INVITES_CANCEL: Operation = op(
    "invites",
    "cancel",
    Post,
    "/v1/teams/{team_id}/cancel-member-invites",
    &[body_req("emails", EMAILS, "Emails of the invites to cancel.")],
    ResultKind::Empty,
    "Delete Team Invites",
    "Cancel team member invites for the given emails.",
);

/// 38. Cancel member invites (deprecated form).
pub static INVITES_CANCEL_DEPRECATED: Operation = Operation {
    deprecated: true,
    ..op(
        "invites",
        "cancel_deprecated",
        Delete,
        "/v1/teams/{team_id}/member-invites",
        &[EMAILS_1_200_REQ],
        ResultKind::Empty,
        "Delete Team Invite",
        "Deprecated: use cancel. Cancel team member invites.",
    )
};

/// 39. Resend member invites.
pub static INVITES_RESEND: Operation = Operation {
    quota: Some("invites_resend"),
    paginate: Paginate::None,
    ..op(
        "invites",
        "resend",
        Post,
        "/v1/teams/{team_id}/resend-member-invites",
        &[EMAILS_1_200_REQ, body("send_email", BOOL, "Send the invite emails again (defaults to false).")],
        ResultKind::Page(Model::MemberInvite),
        "Create Team Invites",
        "Resend existing team invites, extending their expiry by a week from now. Maximum 50 requests in a 5 minute window (paced by the SDK).",
    )
};

// ---------------------------------------------------------------------------
// Team-administration API
// ---------------------------------------------------------------------------

const TEAM_FIELDS_OPTIONAL: [Param; 3] = [
    param("name", ID_STR, Location::TeamBody, false, "Name of the team."),
    param("quota", Ty::IntAsString { min: 0 }, Location::TeamBody, false, "The team's maximum quota in bytes (sent as a string)."),
    param(
        "quota_mail_sent",
        Ty::BoolAsString,
        Location::TeamBody,
        false,
        "Warn administrators by mail when the team exceeds its quota (sent as \"true\"/\"false\").",
    ),
];

/// A1. All teams.
pub static ADMIN_TEAMS_LIST: Operation =
    admin("teams", "list", Get, "/api/v1/teams", &[], ResultKind::List(Model::Team), "Display a list of all teams.");

/// A2. Teams owned by the current user.
pub static ADMIN_TEAMS_LIST_OWNED: Operation = admin(
    "teams",
    "list_owned",
    Get,
    "/api/v1/teams/user_owned",
    &[],
    ResultKind::List(Model::Team),
    "Display a list of all teams owned by the current user.",
);

/// A3. One team.
pub static ADMIN_TEAMS_GET: Operation =
    admin("teams", "get", Get, "/api/v1/teams/{id}", &[ADMIN_TEAM_ID], ResultKind::Object(Model::Team), "Display a team.");

/// A4. Create a team.
pub static ADMIN_TEAMS_CREATE: Operation = admin(
    "teams",
    "create",
    Post,
    "/api/v1/teams",
    &[param("name", ID_STR, Location::TeamBody, true, "Name of the team."), TEAM_FIELDS_OPTIONAL[1], TEAM_FIELDS_OPTIONAL[2]],
    ResultKind::Object(Model::Team),
    "Create a new team (admin privileges).",
);

/// A5. Update a team.
pub static ADMIN_TEAMS_UPDATE: Operation = admin(
    "teams",
    "update",
    Put,
    "/api/v1/teams/{id}",
    &[ADMIN_TEAM_ID, TEAM_FIELDS_OPTIONAL[0], TEAM_FIELDS_OPTIONAL[1], TEAM_FIELDS_OPTIONAL[2]],
    ResultKind::Object(Model::Team),
    "Update a team (admin privileges).",
);

/// A6. Delete a team.
pub static ADMIN_TEAMS_DELETE: Operation =
    admin("teams", "delete", Delete, "/api/v1/teams/{id}", &[ADMIN_TEAM_ID], ResultKind::Empty, "Delete a team (admin privileges).");

/// A7. Add a user to a team.
pub static ADMIN_TEAMS_ADD_USER: Operation = admin(
    "teams",
    "add_user",
    Post,
    "/api/v1/teams/{team_id}/users/{user_id}",
    &[ADMIN_TEAM_ID_OF_USER, ADMIN_USER_ID],
    ResultKind::Object(Model::Team),
    "Add a user to a team (admin privileges).",
);

/// A8. Remove a user from a team.
pub static ADMIN_TEAMS_REMOVE_USER: Operation = admin(
    "teams",
    "remove_user",
    Delete,
    "/api/v1/teams/{team_id}/users/{user_id}",
    &[ADMIN_TEAM_ID_OF_USER, ADMIN_USER_ID],
    ResultKind::Empty,
    "Remove a user from a team (admin privileges).",
);

/// A9. Add a user to every team.
pub static ADMIN_USERS_ASSIGN_TO_ALL_TEAMS: Operation = admin(
    "users",
    "assign_to_all_teams",
    Post,
    "/api/v1/users/{user_id}/assign_to_all_teams",
    &[ADMIN_USER_ID],
    ResultKind::Empty,
    "Add the user to every team (admin privileges).",
);

/// A10. Remove a user from every team.
pub static ADMIN_USERS_REMOVE_FROM_ALL_TEAMS: Operation = admin(
    "users",
    "remove_from_all_teams",
    Delete,
    "/api/v1/users/{user_id}/remove_from_all_teams",
    &[ADMIN_USER_ID],
    ResultKind::Empty,
    "Remove the user from every team (admin privileges).",
);

/// A11. A team's access rights.
pub static ADMIN_TEAMS_ACCESS_RIGHTS: Operation = admin(
    "teams",
    "access_rights",
    Get,
    "/api/v1/teams/{id}/access_rights",
    &[
        ADMIN_TEAM_ID,
        param(
            "type",
            ACCESS_RIGHTS_TYPE,
            Location::Query,
            true,
            "\"assets\" for asset access rights, \"projects\" for project access rights.",
        ),
    ],
    ResultKind::List(Model::AccessRight),
    "Return all access rights of the team (admin privileges).",
);

/// Every operation of both APIs, in the order of the API contract.
pub static OPERATIONS: &[&Operation] = &[
    &AUDIT_LOG_LIST_EVENTS,
    &GROUPS_LIST,
    &GROUPS_CREATE,
    &GROUPS_GET,
    &GROUPS_UPDATE,
    &GROUPS_DELETE,
    &GROUPS_REMOVE_MEMBERS,
    &GROUPS_ADD_PERMITTED_GROUPS,
    &GROUPS_REMOVE_PERMITTED_GROUPS,
    &GROUPS_UPDATE_PERMITTED_GROUP,
    &GROUPS_ADD_MEMBERS,
    &GROUPS_ASSIGN_MEMBERS,
    &GUEST_ACCESS_GET,
    &GUEST_ACCESS_UPDATE,
    &GUEST_ACCESS_CANCEL,
    &GUEST_ACCESS_LIST,
    &GUEST_ACCESS_CREATE,
    &GUEST_ACCESS_KICK_GUEST,
    &GUEST_ACCESS_CREDITS,
    &MACHINES_LIST,
    &MACHINES_UPDATE,
    &MACHINES_DELETE,
    &MACHINES_GET,
    &MACHINES_CREATE_ASSIGNMENT,
    &MACHINES_REMOVE_ASSIGNMENT,
    &MACHINES_SET_ASSIGNMENT,
    &MACHINES_KICK_USER,
    &APP_RULES_LIST,
    &APP_RULES_UNASSIGN,
    &APP_RULES_ASSIGN,
    &MEMBERS_LIST,
    &MEMBERS_REMOVE,
    &MEMBERS_GET,
    &INVITES_LIST,
    &INVITES_CREATE,
    &INVITES_UPDATE,
    &INVITES_CANCEL,
    &INVITES_CANCEL_DEPRECATED,
    &INVITES_RESEND,
    &ADMIN_TEAMS_LIST,
    &ADMIN_TEAMS_LIST_OWNED,
    &ADMIN_TEAMS_GET,
    &ADMIN_TEAMS_CREATE,
    &ADMIN_TEAMS_UPDATE,
    &ADMIN_TEAMS_DELETE,
    &ADMIN_TEAMS_ADD_USER,
    &ADMIN_TEAMS_REMOVE_USER,
    &ADMIN_USERS_ASSIGN_TO_ALL_TEAMS,
    &ADMIN_USERS_REMOVE_FROM_ALL_TEAMS,
    &ADMIN_TEAMS_ACCESS_RIGHTS,
];

/// The operation of `api` called `resource.name`, if there is one.
pub fn find_operation(api: Api, resource: &str, name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().copied().find(|op| op.api == api && op.resource == resource && op.name == name)
}
