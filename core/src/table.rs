//! The operation table as JSON, for the generators of the Python, Node and C
//! surfaces and for the docs.

use serde_json::{json, Value};

use crate::spec::{DefaultValue, Operation, Ty, OPERATIONS};

pub(crate) fn ty_json(ty: &Ty) -> Value {
    match ty {
        Ty::Int { min, max } => json!({"type": "int", "min": min, "max": max}),
        Ty::IntAsString { min } => json!({"type": "int", "min": min, "wire": "string"}),
        Ty::Str { min_len, max_len } => {
            json!({"type": "string", "min_len": min_len, "max_len": max_len})
        }
        Ty::Bool => json!({"type": "bool"}),
        Ty::NullableBool => json!({"type": "bool", "nullable": true}),
        Ty::BoolAsString => json!({"type": "bool", "wire": "string"}),
        Ty::Email => json!({"type": "string", "format": "email"}),
        Ty::DateTime => json!({"type": "datetime"}),
        Ty::Ksuid => json!({"type": "string", "format": "ksuid", "len": 27}),
        Ty::Enum { rust_name, values } => {
            json!({"type": "enum", "name": rust_name, "values": values})
        }
        Ty::List { item, min_items, max_items, unique } => {
            json!({"type": "list", "item": ty_json(item), "min_items": min_items, "max_items": max_items, "unique": unique})
        }
    }
}

/// One operation as JSON.
pub fn operation_json(op: &Operation) -> Value {
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "location": p.location.as_str(),
                "required": p.required,
                "default": p.default.map(|DefaultValue::Int(d)| d),
                "doc": p.doc,
                "schema": ty_json(&p.ty),
            })
        })
        .collect();
    // Structured, as in the description (`{"kind": "never_both", "fields": [...]}`).
    let rules: Vec<Value> = op.rules.iter().map(crate::describe::rule_json).collect();
    json!({
        "api": format!("{:?}", op.api).to_lowercase(),
        "resource": op.resource,
        "name": op.name,
        "http_method": op.method.as_str(),
        "path": op.path,
        "params": params,
        "rules": rules,
        "result": {"kind": op.result.as_str(), "model": op.result.model().map(|m| m.name())},
        "permission": op.permission,
        "quota": op.quota,
        "paginate": format!("{:?}", op.paginate).to_lowercase(),
        "iter_name": op.iter_name(),
        "deprecated": op.deprecated,
        "doc": op.doc,
    })
}

/// Every operation of both APIs as a JSON array.
pub fn table_json() -> Value {
    Value::Array(OPERATIONS.iter().map(|op| operation_json(op)).collect())
}
