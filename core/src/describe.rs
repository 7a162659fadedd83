//! The description of the SDK as one JSON document, built from the core's own
//! tables: the operations ([`crate::spec::OPERATIONS`]), the result models
//! ([`crate::models::model_fields`]), the error tree
//! ([`crate::error::ERROR_CLASSES`]), the client options
//! ([`crate::options::OPTIONS`]) and the environment variables
//! ([`crate::env::ENV_VARS`]). The workspace program `parsec-teams-describe`
//! prints it; `docs/description.json` is its checked-in copy.
//!
//! Top-level shape:
//! `{"format", "sdk": {name, version}, "apis", "operations", "models",
//! "envelopes", "errors", "error_attributes", "validation_rules", "options", "option_aliases", "environment",
//! "request_options", "retries", "quotas", "log_levels", "counts"}`. Every operation, parameter
//! and option also has `names`: its spelling per language (`rust`, `python`,
//! `node`, `c`, `kotlin`).

use serde_json::{json, Map, Value};

use crate::env::{LogLevel, ENV_VARS};
use crate::error::{ERROR_CLASSES, VALIDATION_RULES};
use crate::models::{model_fields, MODELS};
use crate::options::{OptionDefault, OPTIONS, OPTION_ALIASES};
use crate::spec::{Api, DefaultValue, HttpMethod, Operation, Paginate, Rule, Ty, OPERATIONS};
use crate::table::ty_json;

/// The version of this document's layout; raised when a key changes meaning.
pub const FORMAT: u32 = 1;

fn api_name(api: Api) -> &'static str {
    match api {
        Api::Teams => "teams",
        Api::Admin => "admin",
    }
}

/// The rules a parameter's type imposes, each `{"kind": ..., ...}`; the
/// `kind` is the `rule` of the validation error that breaking it raises.
pub fn type_rules(ty: &Ty) -> Vec<Value> {
    let mut out = Vec::new();
    match ty {
        Ty::Int { min, max } => {
            if min.is_some() || max.is_some() {
                out.push(json!({"kind": "range", "min": min, "max": max}));
            }
        }
        Ty::IntAsString { min } => out.push(json!({"kind": "range", "min": min, "max": null})),
        Ty::Str { min_len, max_len } => {
            if min_len.is_some() || max_len.is_some() {
                out.push(json!({"kind": "length", "min": min_len, "max": max_len}));
            }
        }
        Ty::Email => out.push(json!({"kind": "email"})),
        Ty::DateTime => out.push(json!({"kind": "datetime"})),
        Ty::Ksuid => out.push(json!({"kind": "ksuid", "length": 27})),
        Ty::Enum { values, .. } => out.push(json!({"kind": "enum", "values": values})),
        Ty::List { item, min_items, max_items, unique } => {
            if *min_items > 0 || max_items.is_some() {
                out.push(json!({"kind": "items", "min": min_items, "max": max_items}));
            }
            if *unique {
                out.push(json!({"kind": "unique"}));
            }
            let inner = type_rules(item);
            if !inner.is_empty() {
                out.push(json!({"kind": "each_item", "rules": inner}));
            }
        }
        Ty::Bool | Ty::NullableBool | Ty::BoolAsString => {}
    }
    out
}

/// A rule spanning several parameters, structured; its `kind` is the `rule`
/// of the validation error that breaking it raises.
pub fn rule_json(rule: &Rule) -> Value {
    match rule {
        Rule::Exclusive(a, b) => json!({"kind": "never_both", "fields": [a, b]}),
        Rule::AtLeastOne(names) => json!({"kind": "at_least_one", "fields": names}),
        Rule::NotTogether(member, group) => json!({"kind": "member_or_group", "member_fields": member, "group_fields": group}),
        Rule::InFuture(name) => json!({"kind": "in_future", "field": name}),
        Rule::After { later, earlier } => json!({"kind": "time_order", "later": later, "earlier": earlier}),
        Rule::ShowFlagsNeedConnections => json!({
            "kind": "show_flags",
            "flags": ["show_group_assigned_managed_hosts", "show_user_assigned_managed_hosts", "show_personal_hosts"],
            "requires": "allow_connections_within_group",
        }),
    }
}

/// `snake_case` to `camelCase` (the Node and Kotlin spelling of names).
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn pascal_case(name: &str) -> String {
    let camel = camel_case(name);
    let mut chars = camel.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// How each language spells an operation: the resource and method names, the
/// auto-paginating form, the Rust parameter struct (path parameters are
/// positional arguments, the required others go to `new` in this order, the
/// optional ones are setters) and the C function.
fn operation_names(op: &Operation) -> Value {
    let iter = op.iter_name();
    let struct_prefix = match op.api {
        Api::Teams => "",
        Api::Admin => "Admin",
    };
    let has_struct = op.params.iter().any(|p| p.location != crate::spec::Location::Path);
    let path_args: Vec<&str> = op.params.iter().filter(|p| p.location == crate::spec::Location::Path).map(|p| p.name).collect();
    let new_args: Vec<&str> = op
        .params
        .iter()
        .filter(|p| p.location != crate::spec::Location::Path && p.required && p.default.is_none())
        .map(|p| p.name)
        .collect();
    let c_prefix = match op.api {
        Api::Teams => "pt_",
        Api::Admin => "pt_admin_",
    };
    let camel = json!({
        "resource": camel_case(op.resource),
        "method": camel_case(op.name),
        "iter": iter.as_deref().map(camel_case),
    });
    json!({
        "rust": {
            "resource": op.resource,
            "method": op.name,
            "iter": iter,
            "params_struct": if has_struct {
                Some(format!("{struct_prefix}{}{}Params", pascal_case(op.resource), pascal_case(op.name)))
            } else {
                None
            },
            "path_args": path_args,
            "new_args": new_args,
        },
        "python": {"resource": op.resource, "method": op.name, "iter": iter},
        "node": camel,
        "c": {"function": format!("{c_prefix}{}_{}", op.resource, op.name), "operation": op.qualified_name()},
        "kotlin": camel,
    })
}

fn operation(op: &Operation) -> Value {
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "location": p.location.as_str(),
                "type": ty_json(&p.ty),
                "required": p.required && p.default.is_none(),
                "required_on_wire": p.required,
                "default": p.default.map(|DefaultValue::Int(d)| d),
                "rules": type_rules(&p.ty),
                "doc": p.doc,
                "names": {"rust": p.name, "python": p.name, "node": camel_case(p.name), "c": p.name, "kotlin": camel_case(p.name)},
            })
        })
        .collect();
    let pagination = match op.paginate {
        Paginate::None => Value::Null,
        Paginate::Offset => json!({"style": "offset", "iter": op.iter_name(), "params": ["offset", "limit"], "total": "count"}),
        Paginate::Cursor => json!({"style": "cursor", "iter": op.iter_name(), "param": "cursor", "next": "next_cursor"}),
    };
    json!({
        "id": format!("{}.{}", api_name(op.api), op.qualified_name()),
        "api": api_name(op.api),
        "resource": op.resource,
        "name": op.name,
        "method": op.method.as_str(),
        "path": op.path,
        "idempotent": op.method.is_idempotent(),
        "params": params,
        "rules": op.rules.iter().map(rule_json).collect::<Vec<_>>(),
        "result": {"kind": op.result.as_str(), "model": op.result.model().map(|m| m.name())},
        "permission": op.permission,
        "quota": op.quota,
        "pagination": pagination,
        "deprecated": op.deprecated,
        "doc": op.doc,
        "names": operation_names(op),
    })
}

fn default_json(d: &OptionDefault) -> Value {
    match d {
        OptionDefault::None => Value::Null,
        OptionDefault::Env(name, then) => json!({"env": name, "else": default_json(then)}),
        OptionDefault::Derived => json!("derived"),
        OptionDefault::Str(s) => json!(s),
        OptionDefault::Int(i) => json!(i),
        OptionDefault::Seconds(s) => json!(s),
        OptionDefault::Bool(b) => json!(b),
    }
}

fn options() -> Vec<Value> {
    OPTIONS
        .iter()
        .map(|o| {
            let lang = |l: &crate::options::LangName| {
                if l.unit.is_empty() {
                    json!({"name": l.name})
                } else {
                    json!({"name": l.name, "unit": l.unit})
                }
            };
            let mut clients = Vec::new();
            if o.clients.client {
                clients.push("Client");
            }
            if o.clients.admin {
                clients.push("AdminClient");
            }
            json!({
                "name": o.name,
                "type": o.ty.as_str(),
                "unit": if o.ty == crate::options::OptionType::Duration { Some("s") } else { None },
                "default": default_json(&o.default),
                "range": o.range.map(|r| json!({"kind": "range", "min": r.min, "min_exclusive": r.min_exclusive, "max": r.max})),
                "clients": clients,
                // Kotlin takes the Node spelling (camelCase, same units).
                "names": {"rust": {"name": o.name}, "python": lang(&o.python), "node": lang(&o.node), "c": lang(&o.c), "kotlin": lang(&o.node)},
                "doc": o.doc,
            })
        })
        .collect()
}

fn models() -> Map<String, Value> {
    MODELS
        .iter()
        .map(|m| {
            let fields: Vec<Value> =
                model_fields(*m).iter().map(|f| json!({"name": f.name, "type": f.ty.as_str(), "optional": true})).collect();
            (m.name().to_owned(), json!({"fields": fields, "extra": "kept"}))
        })
        .collect()
}

/// Every attribute an error class of [`ERROR_CLASSES`] names: its type (`?`:
/// may be null/absent) and meaning, as [`crate::Error`]'s accessors give it.
pub const ERROR_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("message", "string", "The server's `message`, or what the SDK found wrong. The error's text form (`str`, `toString`, `Display`) adds the status, method, path and request id."),
    ("field", "string?", "The parameter or option at fault (its wire or option name)."),
    ("rule", "string?", "The rule broken, one word of `validation_rules` (`range`, `never_both`, ...)."),
    ("request_id", "string?", "The `x-request-id` of the (last) response."),
    ("retryable", "bool", "Whether sending the same request again later could succeed and is safe."),
    ("retries_taken", "int", "How many retries were made before giving up."),
    (
        "may_have_been_applied",
        "bool",
        "True when a request other than GET may have reached the server and acted (a 5xx, a timeout or a connection broken after sending) in any attempt.",
    ),
    ("status", "int?", "The HTTP status, for errors the server answered."),
    ("body", "string?", "The raw response body, for errors the server answered."),
    ("retry_after", "float?", "Seconds the server asked to wait (`Retry-After`), or the client-side quota wait."),
];

/// The options a single call may override (the fields of
/// [`crate::client::RequestOptions`]), by their names in [`OPTIONS`].
pub const REQUEST_OPTIONS: [&str; 2] = ["timeout", "max_retries"];

/// The retry policy every client applies, as data.
fn retries() -> Value {
    use crate::client::{BACKOFF_BASE_SECS, BACKOFF_CAP_SECS, RETRYABLE_SERVER_STATUSES};
    let idempotent: Vec<&str> = [HttpMethod::Get, HttpMethod::Post, HttpMethod::Put, HttpMethod::Delete]
        .into_iter()
        .filter(|m| m.is_idempotent())
        .map(HttpMethod::as_str)
        .collect();
    let mut statuses = vec![429];
    statuses.extend(RETRYABLE_SERVER_STATUSES);
    json!({
        "idempotent_methods": idempotent,
        "idempotent": {
            "retried_on": {"statuses": statuses, "connection_failure": "any", "timeout": true},
            "doc": "Retried up to max_retries times on a failed connection, a timeout, 429 and these statuses.",
        },
        "non_idempotent": {
            "retried_on": {"statuses": [429], "connection_failure": "not_connected", "timeout": false},
            "doc": "Retried only where the server surely did not act: the connection was never made, or it answered 429. Never after a 5xx, a timeout or a reset.",
        },
        "backoff": {
            "kind": "exponential_full_jitter",
            "base_seconds": BACKOFF_BASE_SECS,
            "cap_seconds": BACKOFF_CAP_SECS,
            "doc": "Before retry n (from 0), a wait drawn uniformly from [0, min(cap, base * 2^n)].",
        },
        "retry_after": {
            "capped_by_option": "max_retry_wait",
            "doc": "A Retry-After (seconds or HTTP date) is waited instead of the backoff; one longer than max_retry_wait fails the call at once with retry_after set.",
        },
        "may_have_been_applied": "True when a request other than GET may have reached the server and acted: a 5xx, a timeout or a connection broken after sending. It stays true once any attempt may have acted.",
    })
}

/// The quotas the client paces on its side, with the operations drawing from each.
fn quotas() -> Vec<Value> {
    let mut names: Vec<&str> = Vec::new();
    for q in OPERATIONS.iter().filter_map(|op| op.quota) {
        if !names.contains(&q) {
            names.push(q);
        }
    }
    names
        .iter()
        .map(|q| {
            let ops: Vec<String> = OPERATIONS
                .iter()
                .filter(|op| op.quota == Some(q))
                .map(|op| format!("{}.{}", api_name(op.api), op.qualified_name()))
                .collect();
            json!({
                "name": q,
                "operations": ops,
                "limit": crate::options::DEFAULT_QUOTA_LIMIT,
                "window_seconds": crate::options::DEFAULT_QUOTA_WINDOW.as_secs_f64(),
                "limit_option": "quota_limit",
                "window_option": "quota_window",
                "pacing_option": "quota_pacing",
            })
        })
        .collect()
}

/// The description of the SDK.
pub fn description() -> Value {
    let operations: Vec<Value> = OPERATIONS.iter().map(|op| operation(op)).collect();
    let errors: Vec<Value> = ERROR_CLASSES
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "parent": c.parent,
                "kind": c.kind.map(|k| k.code()),
                "statuses": c.statuses,
                "status_from": c.status_from,
                "c_status": c.c_status.map(|(code, name)| json!({"code": code, "name": name})),
                "attributes": c.attributes,
                "doc": c.doc,
            })
        })
        .collect();
    let teams = OPERATIONS.iter().filter(|op| op.api == Api::Teams).count();
    json!({
        "format": FORMAT,
        "sdk": {"name": "parsec-teams", "version": crate::VERSION},
        "apis": [
            {"name": "teams", "client": "Client", "base_url_option": "base_url", "auth": "api_key"},
            {"name": "admin", "client": "AdminClient", "base_url_option": "admin_base_url", "auth": "token"},
        ],
        "operations": operations,
        "models": models(),
        "envelopes": {
            "page": {"fields": [{"name": "data", "type": "list<model>"}, {"name": "count", "type": "int", "optional": true}]},
            "event_page": {"fields": [{"name": "data", "type": "list<Event>"}, {"name": "next_cursor", "type": "string", "optional": true}]},
            "credits": {"fields": [{"name": "balance", "type": "int", "optional": true}]},
            "data": {"unwraps": "data"},
            "object": {"unwraps": null},
            "list": {"unwraps": null},
            "empty": {},
        },
        "errors": errors,
        "error_attributes": ERROR_ATTRIBUTES.iter().map(|(name, ty, doc)| json!({
            "name": name, "type": ty, "doc": doc,
            "names": {"rust": name, "python": name, "node": camel_case(name), "c": name, "kotlin": camel_case(name)},
        })).collect::<Vec<_>>(),
        "validation_rules": VALIDATION_RULES.iter().map(|(r, d)| json!({"rule": r, "doc": d})).collect::<Vec<_>>(),
        "options": options(),
        "option_aliases": OPTION_ALIASES.iter().map(|a| json!({
            "option": a.option, "language": a.language, "name": a.name, "deprecated": true, "conflict_rule": "never_both",
            "doc": format!("The deprecated name of `{}`, accepted for one release with a deprecation warning naming the current name; giving both is a ValidationError (field `{}`, rule `never_both`).", a.option, a.option),
        })).collect::<Vec<_>>(),
        "environment": ENV_VARS.iter().map(|v| json!({
            "name": v.name, "option": v.option, "used_by": v.used_by, "secret": v.secret, "doc": v.doc,
        })).collect::<Vec<_>>(),
        "request_options": {
            "options": REQUEST_OPTIONS,
            "doc": "Every call also takes these options for that call only (Rust `with_options(RequestOptions)`, Python `options={...}` or `with_options(...)`, Node a second argument that also takes an AbortSignal `signal`, C `\"_options\"` in the params JSON, each under the option's name in that language).",
        },
        "retries": retries(),
        "quotas": quotas(),
        "log_levels": LogLevel::ALL.iter().map(|l| json!({"name": l.as_str(), "python_level": l.python_level()})).collect::<Vec<_>>(),
        "counts": {"operations": OPERATIONS.len(), "teams": teams, "admin": OPERATIONS.len() - teams},
    })
}

/// The description as pretty JSON text with a final newline (what
/// `docs/description.json` holds).
pub fn description_text() -> String {
    let mut text = serde_json::to_string_pretty(&description()).expect("a JSON value always serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_description_covers_every_operation_once() {
        let d = description();
        let ops = d["operations"].as_array().unwrap();
        assert_eq!(ops.len(), OPERATIONS.len());
        assert_eq!(d["counts"]["operations"], OPERATIONS.len());
        let ids: HashSet<&str> = ops.iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), OPERATIONS.len(), "ids are unique");
        for op in OPERATIONS {
            let id = format!("{}.{}", api_name(op.api), op.qualified_name());
            let o = ops.iter().find(|o| o["id"] == id.as_str()).unwrap_or_else(|| panic!("{id} described"));
            assert_eq!(o["params"].as_array().unwrap().len(), op.params.len(), "{id}");
            assert_eq!(o["rules"].as_array().unwrap().len(), op.rules.len(), "{id}");
            assert_eq!(o["method"], op.method.as_str());
            if let Some(m) = op.result.model() {
                assert!(d["models"][m.name()]["fields"].is_array(), "{id} names model {}", m.name());
            }
        }
    }

    #[test]
    fn rules_are_structured_and_named_like_the_errors() {
        let d = description();
        let known: HashSet<&str> = VALIDATION_RULES.iter().map(|(r, _)| *r).collect();
        let mut kinds = HashSet::new();
        fn walk<'a>(rules: &'a Value, kinds: &mut HashSet<&'a str>) {
            for r in rules.as_array().unwrap() {
                let k = r["kind"].as_str().expect("every rule has a kind");
                kinds.insert(k);
                if k == "each_item" {
                    walk(&r["rules"], kinds);
                }
            }
        }
        for o in d["operations"].as_array().unwrap() {
            walk(&o["rules"], &mut kinds);
            for p in o["params"].as_array().unwrap() {
                walk(&p["rules"], &mut kinds);
            }
        }
        kinds.remove("each_item");
        for k in &kinds {
            assert!(known.contains(k), "rule kind {k} is a validation rule");
        }
        for k in ["range", "length", "enum", "email", "ksuid", "never_both", "at_least_one", "member_or_group", "time_order", "show_flags"]
        {
            assert!(kinds.contains(k), "some operation has a {k} rule");
        }
        let text = description_text();
        assert!(!text.contains("Exclusive(") && !text.contains("NotTogether("), "no Debug text");
    }

    #[test]
    fn a_broken_rule_raises_the_rule_the_description_names() {
        // For each cross-field rule of the table, build arguments that break it
        // and check the error's rule equals the described kind.
        use serde_json::Map;
        for op in OPERATIONS {
            for rule in op.rules {
                let described = rule_json(rule)["kind"].as_str().unwrap().to_owned();
                let mut args = Map::new();
                let sample = |name: &str| -> Value {
                    match op.param(name).map(|p| p.ty) {
                        Some(Ty::Int { .. }) => json!(1),
                        Some(Ty::Email) => json!("a@b.co"),
                        Some(Ty::List { .. }) => json!([1]),
                        Some(Ty::Bool) | Some(Ty::NullableBool) => json!(true),
                        Some(Ty::Ksuid) => json!("0ujtsYcgvSTl8PAuAdqWYSMnLOv"),
                        _ => json!("x"),
                    }
                };
                match rule {
                    Rule::Exclusive(a, b) => {
                        args.insert((*a).into(), sample(a));
                        args.insert((*b).into(), sample(b));
                    }
                    Rule::AtLeastOne(_) => {}
                    Rule::NotTogether(m, g) => {
                        args.insert(m[0].into(), sample(m[0]));
                        args.insert(g[0].into(), sample(g[0]));
                    }
                    Rule::InFuture(name) => {
                        args.insert((*name).into(), json!("2000-01-01T00:00:00Z"));
                    }
                    Rule::After { later, earlier } => {
                        args.insert((*later).into(), json!("2998-01-01T00:00:00Z"));
                        args.insert((*earlier).into(), json!("2999-01-01T00:00:00Z"));
                    }
                    Rule::ShowFlagsNeedConnections => {
                        args.insert("allow_connections_within_group".into(), json!(false));
                        args.insert("show_personal_hosts".into(), json!(true));
                    }
                }
                // Fill the other required parameters so only the rule can fail.
                for p in op.params.iter().filter(|p| p.required && p.default.is_none()) {
                    args.entry(p.name.to_owned()).or_insert_with(|| sample_for(&p.ty));
                }
                let e = crate::validate::check(op, &mut args).expect_err(&format!("{} breaks {described}", op.qualified_name()));
                assert_eq!(e.rule(), Some(described.as_str()), "{}: {e}", op.qualified_name());
            }
        }
    }

    fn sample_for(ty: &Ty) -> Value {
        match ty {
            Ty::Int { min, .. } => json!(min.unwrap_or(1)),
            Ty::IntAsString { min } => json!(min),
            Ty::Str { min_len, .. } => json!("x".repeat(min_len.unwrap_or(1).max(1))),
            Ty::Email => json!("a@b.co"),
            Ty::DateTime => json!("2999-01-01T00:00:00Z"),
            Ty::Ksuid => json!("0ujtsYcgvSTl8PAuAdqWYSMnLOv"),
            Ty::Enum { values, .. } => json!(values[0]),
            Ty::List { item, min_items, .. } => Value::Array((0..(*min_items).max(1)).map(|i| unique_item(item, i)).collect()),
            Ty::Bool | Ty::NullableBool | Ty::BoolAsString => json!(true),
        }
    }

    fn unique_item(ty: &Ty, i: usize) -> Value {
        match ty {
            Ty::Int { .. } => json!(i + 1),
            Ty::Email => json!(format!("a{i}@b.co")),
            _ => sample_for(ty),
        }
    }

    #[test]
    fn options_errors_and_environment_are_described() {
        let d = description();
        assert_eq!(d["options"].as_array().unwrap().len(), OPTIONS.len());
        assert_eq!(d["environment"].as_array().unwrap().len(), ENV_VARS.len());
        assert_eq!(d["errors"].as_array().unwrap().len(), ERROR_CLASSES.len());
        let retries = d["options"].as_array().unwrap().iter().find(|o| o["name"] == "max_retries").unwrap();
        assert_eq!(retries["names"]["node"]["name"], "maxRetries");
        assert_eq!(retries["default"], crate::options::DEFAULT_MAX_RETRIES);
        assert_eq!(retries["range"]["max"], f64::from(crate::options::MAX_MAX_RETRIES));
        let nf = d["errors"].as_array().unwrap().iter().find(|e| e["name"] == "NotFoundError").unwrap();
        assert_eq!(nf["parent"], "APIStatusError");
        assert_eq!(nf["c_status"]["name"], "PT_ERR_NOT_FOUND");
        let created = d["models"]["Member"]["fields"].as_array().unwrap().iter().find(|f| f["name"] == "created_at").unwrap();
        assert_eq!(created["type"], "timestamp");
    }

    #[test]
    fn every_language_spelling_is_described() {
        let d = description();
        let ops = d["operations"].as_array().unwrap();
        let kick = ops.iter().find(|o| o["id"] == "teams.guest_access.kick_guest").unwrap();
        assert_eq!(kick["names"]["node"]["resource"], "guestAccess");
        assert_eq!(kick["names"]["kotlin"]["method"], "kickGuest");
        assert_eq!(kick["names"]["c"]["function"], "pt_guest_access_kick_guest");
        assert_eq!(kick["names"]["rust"]["path_args"], json!(["invite_id"]));
        let events = ops.iter().find(|o| o["id"] == "teams.audit_log.list_events").unwrap();
        assert_eq!(events["names"]["node"]["iter"], "iterEvents");
        assert_eq!(events["names"]["python"]["iter"], "iter_events");
        let create = ops.iter().find(|o| o["id"] == "teams.groups.create").unwrap();
        assert_eq!(create["names"]["rust"]["params_struct"], "GroupsCreateParams");
        assert_eq!(
            create["names"]["rust"]["new_args"],
            json!(["group_name", "allow_connections_within_group", "show_user_assigned_managed_hosts", "show_personal_hosts"])
        );
        let admin = ops.iter().find(|o| o["id"] == "admin.users.assign_to_all_teams").unwrap();
        assert_eq!(admin["names"]["c"]["function"], "pt_admin_users_assign_to_all_teams");
        let team_create = ops.iter().find(|o| o["id"] == "admin.teams.create").unwrap();
        assert_eq!(team_create["names"]["rust"]["params_struct"], "AdminTeamsCreateParams");
        let group_id = create["params"].as_array().unwrap().iter().find(|p| p["name"] == "allow_connections_within_group").unwrap();
        assert_eq!(group_id["names"]["node"], "allowConnectionsWithinGroup");
        for o in d["options"].as_array().unwrap() {
            assert_eq!(o["names"]["kotlin"], o["names"]["node"], "{}", o["name"]);
        }
    }

    #[test]
    fn every_error_attribute_is_described_once() {
        let named: HashSet<&str> = ERROR_CLASSES.iter().flat_map(|c| c.attributes.iter().copied()).collect();
        let described: Vec<&str> = ERROR_ATTRIBUTES.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(described.len(), named.len(), "{described:?} vs {named:?}");
        for n in &described {
            assert!(named.contains(n), "{n} is an attribute of some class");
        }
        let d = description();
        let attrs = d["error_attributes"].as_array().unwrap();
        let may = attrs.iter().find(|a| a["name"] == "may_have_been_applied").unwrap();
        assert_eq!(may["names"]["node"], "mayHaveBeenApplied");
    }

    #[test]
    fn request_options_are_options_of_the_table() {
        let crate::client::RequestOptions { timeout, max_retries } = crate::client::RequestOptions::default();
        let _ = (timeout, max_retries); // a new field breaks this line: add it to REQUEST_OPTIONS
        for name in REQUEST_OPTIONS {
            assert!(OPTIONS.iter().any(|o| o.name == name), "{name} is an option");
        }
        assert_eq!(description()["request_options"]["options"], json!(["timeout", "max_retries"]));
    }

    #[test]
    fn retries_and_quotas_are_described_from_the_client() {
        let d = description();
        assert_eq!(d["retries"]["idempotent_methods"], json!(["GET", "PUT", "DELETE"]));
        assert_eq!(d["retries"]["idempotent"]["retried_on"]["statuses"], json!([429, 500, 502, 503, 504]));
        assert_eq!(d["retries"]["backoff"]["cap_seconds"], 8.0);
        let quotas = d["quotas"].as_array().unwrap();
        let names: Vec<&str> = quotas.iter().map(|q| q["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["audit_log", "invites_create", "invites_resend"]);
        assert_eq!(quotas[0]["operations"], json!(["teams.audit_log.list_events"]));
        assert_eq!(quotas[0]["limit"], 50);
    }
}
