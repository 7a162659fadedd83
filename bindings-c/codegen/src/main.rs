//! The C binding's generator, a workspace program outside the shipped
//! library. It reads ONLY `docs/description.json` (written by `make describe`)
//! and writes the generated part of the C library:
//!
//! - `bindings-c/src/operations.rs`: one documented `extern "C"` entry point
//!   per operation (`pt_<resource>_<method>`, `pt_admin_...`), each a one-line
//!   call into the generic path;
//! - `bindings-c/src/status_codes.rs`: `pt_status`, `PT_OK` and one code per
//!   class of the error tree that has a `c_status`, with their names.
//!
//! cbindgen then renders both into `include/parsec_teams.h`.
//!
//! `cargo run -p parsec-teams-c-codegen` writes them; `-- --check` writes
//! nothing and fails when a committed file is stale (`make -C bindings-c test`).

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Doc text safe inside a C block comment and a Rust doc comment.
fn clean(text: &str) -> String {
    text.trim().replace("*/", "* /").replace("/*", "/ *")
}

fn bound(v: &Value) -> Option<i64> {
    v.as_i64()
}

fn ty_text(ty: &Value) -> String {
    match s(ty, "type") {
        "int" => {
            let base = match (bound(&ty["min"]), bound(&ty["max"])) {
                (Some(a), Some(b)) => format!("integer {a}..{b}"),
                (Some(a), None) => format!("integer >= {a}"),
                (None, Some(b)) => format!("integer <= {b}"),
                (None, None) => "integer".into(),
            };
            if s(ty, "wire") == "string" {
                format!("{base}, sent as a string")
            } else {
                base
            }
        }
        "string" => match s(ty, "format") {
            "email" => "email address".into(),
            "ksuid" => format!("KSUID string of {} characters", ty["len"].as_i64().unwrap_or(27)),
            _ => match (bound(&ty["min_len"]), bound(&ty["max_len"])) {
                (Some(a), Some(b)) => format!("string of {a}..{b} characters"),
                (Some(1), None) => "non-empty string".into(),
                (Some(a), None) => format!("string of at least {a} characters"),
                (None, Some(b)) => format!("string of at most {b} characters"),
                (None, None) => "string".into(),
            },
        },
        "bool" if ty["nullable"].as_bool() == Some(true) => "boolean or null".into(),
        "bool" if s(ty, "wire") == "string" => "boolean, sent as \"true\"/\"false\"".into(),
        "bool" => "boolean".into(),
        "datetime" => "RFC 3339 date-time string".into(),
        "enum" => format!("enum {}", s(ty, "name")),
        "list" => {
            let mut t = format!("list of {}", ty_text(&ty["item"]));
            match (ty["min_items"].as_i64().unwrap_or(0), bound(&ty["max_items"])) {
                (0, None) => {}
                (a, Some(b)) => write!(t, ", {a}..{b} items").unwrap(),
                (1, None) => t.push_str(", non-empty"),
                (a, None) => write!(t, ", at least {a} items").unwrap(),
            }
            if ty["unique"].as_bool() == Some(true) {
                t.push_str(", unique");
            }
            t
        }
        other => other.to_owned(),
    }
}

/// The values of an `enum` rule among a parameter's rules, as text.
fn enum_values(param: &Value) -> Option<String> {
    let rule = list(&param["rules"]).iter().find(|r| s(r, "kind") == "enum")?;
    let v: Vec<String> = list(&rule["values"]).iter().map(|v| format!("\"{}\"", v.as_str().unwrap_or_default())).collect();
    Some(format!("one of {}", v.join(", ")))
}

fn names(v: &Value) -> String {
    let n: Vec<String> = list(v).iter().map(|n| format!("`{}`", n.as_str().unwrap_or_default())).collect();
    n.join(", ")
}

/// A cross-field rule of an operation in words.
fn rule_text(rule: &Value) -> String {
    let f = &rule["fields"];
    let field = |i: usize| list(f).get(i).and_then(Value::as_str).unwrap_or_default().to_owned();
    match s(rule, "kind") {
        "never_both" => format!("`{}` and `{}` are never given together", field(0), field(1)),
        "at_least_one" => format!("at least one of {} is given", names(f)),
        "member_or_group" => format!("none of {} together with any of {}", names(&rule["member_fields"]), names(&rule["group_fields"])),
        "in_future" => format!("`{}` lies in the future", s(rule, "field")),
        "time_order" => format!("`{}` is after `{}`", s(rule, "later"), s(rule, "earlier")),
        "show_flags" => format!("no flag of {} is true while `{}` is false", names(&rule["flags"]), s(rule, "requires")),
        other => format!("rule `{other}`"),
    }
}

fn result_text(result: &Value) -> String {
    let model = s(result, "model");
    match s(result, "kind") {
        "data" | "object" => format!("the {model} object"),
        "page" => format!("a page `{{\"data\": [{model}...], \"count\": total}}`"),
        "event_page" => format!("a page of events `{{\"data\": [{model}...], \"next_cursor\": \"...\"}}`"),
        "credits" => "`{\"balance\": n}`".into(),
        "empty" => "`null`".into(),
        "list" => format!("a JSON array of {model} objects"),
        other => format!("a `{other}` result"),
    }
}

fn docs(op: &Value) -> Vec<String> {
    let admin = s(op, "api") == "admin";
    let qualified = format!("{}.{}", s(op, "resource"), s(op, "name"));
    let mut d = vec![format!("`{qualified}`: {}", clean(s(op, "doc"))), String::new()];
    let mut line = format!("`{} {}`", s(op, "method"), s(op, "path"));
    if admin {
        line.push_str(" (team-administration API).");
    } else {
        write!(line, "; API-key permission: {}.", s(op, "permission")).unwrap();
    }
    d.push(line);
    if let Some(q) = op["quota"].as_str() {
        d.push(format!("Quota `{q}` (paced on the client side, see `pt_quota_status`)."));
    }
    if op["deprecated"].as_bool() == Some(true) {
        d.push("Deprecated by the service.".into());
    }
    if op["pagination"].is_object() {
        d.push(format!(
            "Every item, page after page: `pt_iter_new(client, \"{qualified}\", ...)` (the `{}` form of the other languages).",
            s(&op["pagination"], "iter")
        ));
    }
    d.push(String::new());
    let params = list(&op["params"]);
    if params.is_empty() {
        d.push("Parameters: none (`params_json` may be NULL or `{}`).".into());
    } else {
        d.push("Parameters (keys of the `params_json` object):".into());
        for p in params {
            let need = match (&p["default"], p["required"].as_bool() == Some(true)) {
                (Value::Number(n), _) => format!("optional, default {n}"),
                (_, true) => "required".into(),
                (_, false) => "optional".into(),
            };
            let loc = if s(p, "location") == "path" {
                "path"
            } else if s(p, "location") == "query" {
                "query"
            } else {
                "body"
            };
            let ty = enum_values(p).unwrap_or_else(|| ty_text(&p["type"]));
            let mut l = format!("- `{}` ({ty}; {need}; {loc})", s(p, "name"));
            let doc = clean(s(p, "doc"));
            if !doc.is_empty() {
                write!(l, ": {doc}").unwrap();
            }
            d.push(l);
        }
    }
    d.push("- `_options` (optional): `{\"timeout_ms\": n, \"max_retries\": n}` for this call only.".into());
    let rules = list(&op["rules"]);
    if !rules.is_empty() {
        let r: Vec<String> = rules.iter().map(rule_text).collect();
        d.push(String::new());
        d.push(format!("Rules (checked before sending): {}.", r.join("; ")));
    }
    d.push(String::new());
    d.push(format!("Result (`*out_json`, free with `pt_string_free`): {}.", result_text(&op["result"])));
    d
}

fn doc_lines(out: &mut String, lines: &[String], indent: &str) {
    for line in lines {
        if line.is_empty() {
            writeln!(out, "{indent}///").unwrap();
        } else {
            writeln!(out, "{indent}/// {line}").unwrap();
        }
    }
}

const HEADER: &str = "// @generated by `cargo run -p parsec-teams-c-codegen` (bindings-c/codegen) from\n\
                      // docs/description.json. Do not edit by hand: run `make -C bindings-c generate`.\n";

/// The whole text of `src/operations.rs`.
pub fn operations_rs(desc: &Value) -> String {
    let mut out = String::from(HEADER);
    out.push_str(
        "//\n\
         // One entry point per operation; each is a single call into the generic\n\
         // path (`client::call_teams` / `client::call_admin`).\n\n\
         //! The per-operation entry points (generated).\n\n\
         use std::ffi::c_char;\n\n\
         use crate::client::{call_admin, call_teams, pt_admin_client, pt_client};\n\
         use crate::status::{pt_error, pt_status};\n",
    );
    for op in list(&desc["operations"]) {
        out.push('\n');
        doc_lines(&mut out, &docs(op), "");
        if op["deprecated"].as_bool() == Some(true) {
            out.push_str("#[deprecated(note = \"deprecated by the service\")]\n");
        }
        let (client_ty, entry) = if s(op, "api") == "admin" { ("pt_admin_client", "call_admin") } else { ("pt_client", "call_teams") };
        writeln!(
            out,
            "#[no_mangle]\n\
             pub unsafe extern \"C\" fn {name}(\n    \
             client: *const {client_ty},\n    \
             params_json: *const c_char,\n    \
             out_json: *mut *mut c_char,\n    \
             out_error: *mut *mut pt_error,\n\
             ) -> pt_status {{\n    \
             {entry}(\"{res}\", \"{method}\", client, params_json, out_json, out_error)\n\
             }}",
            name = s(&op["names"]["c"], "function"),
            res = s(op, "resource"),
            method = s(op, "name"),
        )
        .unwrap();
    }
    out
}

/// The whole text of `src/status_codes.rs`: `PT_OK` and the `c_status` of
/// every class of the error tree, by code (which must run 0, 1, 2... with no gap).
pub fn status_codes_rs(desc: &Value) -> Result<String, String> {
    let mut codes: Vec<(i64, String, String)> = vec![(0, "PT_OK".into(), "Success.".into())];
    for class in list(&desc["errors"]) {
        if let Some(c) = class["c_status"].as_object() {
            let code = c["code"].as_i64().ok_or("a c_status without a code")?;
            let name = c["name"].as_str().ok_or("a c_status without a name")?.to_owned();
            codes.push((code, name, format!("`{}`: {}", s(class, "name"), clean(s(class, "doc")))));
        }
    }
    codes.sort();
    for (i, (code, name, _)) in codes.iter().enumerate() {
        if *code != i as i64 {
            return Err(format!("the C status codes must run 0, 1, 2... without a gap: {name} is {code}, expected {i}"));
        }
    }
    let mut out = String::from(HEADER);
    out.push_str(
        "//\n\
         // PT_OK and one code per class of the error tree that has a `c_status`.\n\n\
         //! The status codes (generated).\n\n\
         use std::ffi::CStr;\n\n\
         /// The outcome of every call. `PT_OK` is 0; every other value is the class\n\
         /// of the error tree (docs/description.json, `errors`) named in its doc.\n\
         /// The values never change.\n\
         #[repr(C)]\n\
         #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n\
         pub enum pt_status {\n",
    );
    for (code, name, doc) in &codes {
        doc_lines(&mut out, std::slice::from_ref(doc), "    ");
        writeln!(out, "    {name} = {code},").unwrap();
    }
    out.push_str("}\n\n/// The name of each status, indexed by its value.\npub(crate) const STATUS_NAMES: [&CStr; ");
    writeln!(out, "{}] = [", codes.len()).unwrap();
    for (_, name, _) in &codes {
        writeln!(out, "    c\"{name}\",").unwrap();
    }
    out.push_str("];\n");
    Ok(out)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> ExitCode {
    let root = root();
    let desc_path = root.join("docs/description.json");
    let desc: Value = match std::fs::read_to_string(&desc_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot read {}: {e}", desc_path.display());
            return ExitCode::FAILURE;
        }
    };
    let status = match status_codes_rs(&desc) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let check = std::env::args().any(|a| a == "--check");
    let mut ok = true;
    for (rel, fresh) in [("bindings-c/src/operations.rs", operations_rs(&desc)), ("bindings-c/src/status_codes.rs", status)] {
        let path = root.join(rel);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == fresh {
            println!("{rel} is fresh");
        } else if check {
            eprintln!("{rel} is stale: run `make -C bindings-c generate` (after `make describe`) and commit the result");
            ok = false;
        } else if let Err(e) = std::fs::write(&path, fresh) {
            eprintln!("cannot write {rel}: {e}");
            ok = false;
        } else {
            println!("wrote {rel}");
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description() -> Value {
        serde_json::from_str(&std::fs::read_to_string(root().join("docs/description.json")).unwrap()).unwrap()
    }

    #[test]
    fn one_entry_point_per_operation_of_the_description() {
        let desc = description();
        let text = operations_rs(&desc);
        let ops = list(&desc["operations"]);
        assert_eq!(ops.len() as u64, desc["counts"]["operations"].as_u64().unwrap());
        assert_eq!(text.matches("pub unsafe extern \"C\" fn ").count(), ops.len());
        let admin = text.matches("call_admin(\"").count() as u64;
        assert_eq!(admin, desc["counts"]["admin"].as_u64().unwrap());
        assert_eq!(text.matches("call_teams(\"").count() as u64, desc["counts"]["teams"].as_u64().unwrap());
        for op in ops {
            let f = s(&op["names"]["c"], "function");
            assert_eq!(text.matches(&format!("fn {f}(")).count(), 1, "{f}");
        }
    }

    #[test]
    fn a_status_per_error_class_with_a_c_status() {
        let desc = description();
        let text = status_codes_rs(&desc).unwrap();
        let with_c = list(&desc["errors"]).iter().filter(|c| c["c_status"].is_object()).count();
        assert_eq!(text.matches("    PT_").count(), with_c + 1, "PT_OK and one per class");
        let mut gap = desc.clone();
        gap["errors"][1]["c_status"]["code"] = 99.into();
        assert!(status_codes_rs(&gap).unwrap_err().contains("without a gap"));
    }
}
