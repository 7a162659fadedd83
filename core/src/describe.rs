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
//! "envelopes", "errors", "validation_rules", "options", "environment",
//! "log_levels", "counts"}`.

use serde_json::{json, Map, Value};

use crate::env::{LogLevel, ENV_VARS};
use crate::error::{ERROR_CLASSES, VALIDATION_RULES};
use crate::models::{model_fields, MODELS};
use crate::options::{OptionDefault, OPTIONS};
use crate::spec::{Api, DefaultValue, Operation, Paginate, Rule, Ty, OPERATIONS};
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
                "names": {"rust": {"name": o.name}, "python": lang(&o.python), "node": lang(&o.node), "c": lang(&o.c)},
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
        "validation_rules": VALIDATION_RULES.iter().map(|(r, d)| json!({"rule": r, "doc": d})).collect::<Vec<_>>(),
        "options": options(),
        "environment": ENV_VARS.iter().map(|v| json!({
            "name": v.name, "option": v.option, "used_by": v.used_by, "secret": v.secret, "doc": v.doc,
        })).collect::<Vec<_>>(),
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
}
