//! The generator of `src/operations.rs`: one documented `extern "C"` entry
//! point per operation of the core's table, each a one-line call into the
//! generic path. Run by `cargo run -p parsec-teams-c --bin parsec-teams-c-gen`
//! (`--check` fails when the committed file is stale); cbindgen then turns
//! the doc comments into the header's documentation.

use std::fmt::Write;

use parsec_teams::spec::{Api, DefaultValue, Location, Operation, ResultKind, Rule, Ty, OPERATIONS};

/// The C name of an operation: `pt_<resource>_<method>`, or
/// `pt_admin_<resource>_<method>` for the team-administration API.
pub fn c_name(op: &Operation) -> String {
    match op.api {
        Api::Teams => format!("pt_{}_{}", op.resource, op.name),
        Api::Admin => format!("pt_admin_{}_{}", op.resource, op.name),
    }
}

fn ty_text(ty: &Ty) -> String {
    match ty {
        Ty::Int { min, max } => match (min, max) {
            (Some(a), Some(b)) => format!("integer {a}..{b}"),
            (Some(a), None) => format!("integer >= {a}"),
            (None, Some(b)) => format!("integer <= {b}"),
            (None, None) => "integer".into(),
        },
        Ty::IntAsString { min } => format!("integer >= {min}, sent as a string"),
        Ty::Str { min_len, max_len } => match (min_len, max_len) {
            (Some(a), Some(b)) => format!("string of {a}..{b} characters"),
            (Some(1), None) => "non-empty string".into(),
            (Some(a), None) => format!("string of at least {a} characters"),
            (None, Some(b)) => format!("string of at most {b} characters"),
            (None, None) => "string".into(),
        },
        Ty::Bool => "boolean".into(),
        Ty::NullableBool => "boolean or null".into(),
        Ty::BoolAsString => "boolean, sent as \"true\"/\"false\"".into(),
        Ty::Email => "email address".into(),
        Ty::DateTime => "RFC 3339 date-time string".into(),
        Ty::Ksuid => "KSUID string of 27 characters".into(),
        Ty::Enum { values, .. } => {
            let v: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
            format!("one of {}", v.join(", "))
        }
        Ty::List { item, min_items, max_items, unique } => {
            let mut s = format!("list of {}", ty_text(item));
            match (min_items, max_items) {
                (0, None) => {}
                (a, Some(b)) => write!(s, ", {a}..{b} items").unwrap(),
                (1, None) => s.push_str(", non-empty"),
                (a, None) => write!(s, ", at least {a} items").unwrap(),
            }
            if *unique {
                s.push_str(", unique");
            }
            s
        }
    }
}

fn result_text(kind: ResultKind) -> String {
    let model = kind.model().map(|m| m.name()).unwrap_or_default();
    match kind {
        ResultKind::Data(_) => format!("the {model} object"),
        ResultKind::Page(_) => {
            format!("a page `{{\"data\": [{model}...], \"count\": total}}`")
        }
        ResultKind::EventPage => "a page of events `{\"data\": [Event...], \"next_cursor\": \"...\"}`".into(),
        ResultKind::Credits => "`{\"balance\": n}`".into(),
        ResultKind::Empty => "`null`".into(),
        ResultKind::Object(_) => format!("the {model} object"),
        ResultKind::List(_) => format!("a JSON array of {model} objects"),
    }
}

fn names(list: &[&str]) -> String {
    let v: Vec<String> = list.iter().map(|n| format!("`{n}`")).collect();
    v.join(", ")
}

fn rule_text(rule: &Rule) -> String {
    match rule {
        Rule::Exclusive(a, b) => format!("`{a}` and `{b}` are never given together"),
        Rule::AtLeastOne(list) => format!("at least one of {} is given", names(list)),
        Rule::NotTogether(a, b) => {
            format!("none of {} together with any of {}", names(a), names(b))
        }
        Rule::InFuture(a) => format!("`{a}` lies in the future"),
        Rule::After { later, earlier } => format!("`{later}` is after `{earlier}`"),
        Rule::ShowFlagsNeedConnections => "no `show_*` flag is true while `allow_connections_within_group` is false".into(),
    }
}

/// Doc text safe inside a C block comment and a Rust doc comment.
fn clean(s: &str) -> String {
    s.replace("*/", "* /").replace("/*", "/ *")
}

fn docs(op: &Operation) -> Vec<String> {
    let mut d = Vec::new();
    d.push(format!("`{}`: {}", op.qualified_name(), clean(op.doc.trim())));
    d.push(String::new());
    let mut line = format!("`{} {}`", op.method.as_str(), op.path);
    match op.api {
        Api::Teams => write!(line, "; API-key permission: {}.", op.permission).unwrap(),
        Api::Admin => line.push_str(" (team-administration API)."),
    }
    d.push(line);
    if let Some(q) = op.quota {
        d.push(format!("Quota `{q}` (50 requests per 5 minutes): paced on the client side, see `pt_quota_status`."));
    }
    if op.deprecated {
        d.push("Deprecated by the service.".into());
    }
    if let Some(iter) = op.iter_name() {
        d.push(format!(
            "Every item, page after page: `pt_iter_new(client, \"{}\", ...)` (the `{}` form of the other languages).",
            op.qualified_name(),
            iter
        ));
    }
    d.push(String::new());
    if op.params.is_empty() {
        d.push("Parameters: none (`params_json` may be NULL or `{}`).".into());
    } else {
        d.push("Parameters (keys of the `params_json` object):".into());
        for p in op.params {
            let need = match (p.default, p.required) {
                (Some(DefaultValue::Int(v)), _) => format!("optional, default {v}"),
                (None, true) => "required".into(),
                (None, false) => "optional".into(),
            };
            let loc = match p.location {
                Location::Path => "path",
                Location::Query => "query",
                Location::Body | Location::TeamBody => "body",
            };
            let mut l = format!("- `{}` ({}; {}; {})", p.name, ty_text(&p.ty), need, loc);
            let doc = clean(p.doc.trim());
            if !doc.is_empty() {
                write!(l, ": {doc}").unwrap();
            }
            d.push(l);
        }
    }
    d.push("- `_options` (optional): `{\"timeout_ms\": n, \"max_retries\": n}` for this call only.".into());
    if !op.rules.is_empty() {
        let rules: Vec<String> = op.rules.iter().map(rule_text).collect();
        d.push(String::new());
        d.push(format!("Rules (checked before sending): {}.", rules.join("; ")));
    }
    d.push(String::new());
    d.push(format!("Result (`*out_json`, free with `pt_string_free`): {}.", result_text(op.result)));
    d
}

/// The whole text of `src/operations.rs`.
pub fn operations_rs() -> String {
    let mut s = String::new();
    s.push_str(
        "// @generated by `cargo run -p parsec-teams-c --bin parsec-teams-c-gen` from the\n\
         // core's operation table (parsec_teams::spec::OPERATIONS). Do not edit by hand.\n\
         //\n\
         // One entry point per operation; each is a single call into the generic\n\
         // path (`client::call_teams` / `client::call_admin`).\n\n\
         //! The per-operation entry points (generated).\n\n\
         use std::ffi::c_char;\n\n\
         use crate::client::{call_admin, call_teams, pt_admin_client, pt_client};\n\
         use crate::status::{pt_error, pt_status};\n",
    );
    for op in OPERATIONS {
        s.push('\n');
        for line in docs(op) {
            if line.is_empty() {
                s.push_str("///\n");
            } else {
                writeln!(s, "/// {line}").unwrap();
            }
        }
        if op.deprecated {
            s.push_str("#[deprecated(note = \"deprecated by the service\")]\n");
        }
        let (client_ty, entry) = match op.api {
            Api::Teams => ("pt_client", "call_teams"),
            Api::Admin => ("pt_admin_client", "call_admin"),
        };
        writeln!(
            s,
            "#[no_mangle]\n\
             pub unsafe extern \"C\" fn {name}(\n    \
             client: *const {client_ty},\n    \
             params_json: *const c_char,\n    \
             out_json: *mut *mut c_char,\n    \
             out_error: *mut *mut pt_error,\n\
             ) -> pt_status {{\n    \
             {entry}(\"{res}\", \"{method}\", client, params_json, out_json, out_error)\n\
             }}",
            name = c_name(op),
            res = op.resource,
            method = op.name,
        )
        .unwrap();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const COMMITTED: &str = include_str!("operations.rs");

    #[test]
    fn committed_operations_are_fresh() {
        assert!(COMMITTED == operations_rs(), "src/operations.rs is stale: run `make -C bindings-c generate`");
    }

    #[test]
    fn every_operation_has_one_entry_point_named_after_it() {
        let mut names = HashSet::new();
        for op in OPERATIONS {
            let name = c_name(op);
            let prefix = match op.api {
                Api::Teams => "pt_",
                Api::Admin => "pt_admin_",
            };
            assert_eq!(name, format!("{prefix}{}_{}", op.resource, op.name));
            assert!(names.insert(name.clone()), "duplicate C name {name}");
            let decl = format!("pub unsafe extern \"C\" fn {name}(");
            assert_eq!(COMMITTED.matches(&decl).count(), 1, "{name}");
            let call = format!("(\"{}\", \"{}\", client,", op.resource, op.name);
            assert!(COMMITTED.contains(&call), "{name} does not call its operation");
        }
        let declared = COMMITTED.matches("pub unsafe extern \"C\" fn ").count();
        assert_eq!(declared, OPERATIONS.len());
        let teams = OPERATIONS.iter().filter(|o| o.api == Api::Teams).count();
        assert_eq!((teams, OPERATIONS.len() - teams), (39, 11));
    }
}
