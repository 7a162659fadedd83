//! The escape hatch's inputs, parsed once for every binding: the HTTP method
//! ([`parse_method`]), the query ([`query_pairs`]) and the body ([`parse_body`]).
//!
//! Query rules: the query is a JSON object (or null: none); a `null` value is
//! dropped; a string is sent as is; a number as its JSON text; a boolean as
//! `true` / `false`; an array as ONE key with its items comma-separated (the
//! way the API takes its lists, e.g. `event_names=a,b`; an empty array is
//! dropped; null items are dropped); an object, or an array holding an array
//! or an object, is refused (rule `type`).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::spec::HttpMethod;
use crate::validate::{check_depth, json_type};

/// An HTTP method from its name, case-insensitively (`get`, `Post`, ...).
/// Anything else is a validation error on `method` with rule `enum`.
pub fn parse_method(name: &str) -> Result<HttpMethod> {
    const ALL: [HttpMethod; 4] = [HttpMethod::Get, HttpMethod::Post, HttpMethod::Put, HttpMethod::Delete];
    ALL.into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| Error::validation("method", format!("must be GET, POST, PUT or DELETE, got {name:?}")).with_rule("enum"))
}

impl std::str::FromStr for HttpMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<HttpMethod> {
        parse_method(s)
    }
}

fn scalar(field: &str, v: &Value) -> Result<Option<String>> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => {
            return Err(
                Error::validation(field, format!("must be a string, number, boolean or null, got {}", json_type(other))).with_rule("type")
            )
        }
    })
}

/// The query pairs of the escape hatch from a JSON object (see the module doc).
/// Errors name the field `query` or `query.<key>`.
pub fn query_pairs(query: &Value) -> Result<Vec<(String, String)>> {
    let map = match query {
        Value::Null => return Ok(Vec::new()),
        Value::Object(m) => m,
        other => return Err(Error::validation("query", format!("must be an object, got {}", json_type(other))).with_rule("type")),
    };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        let field = format!("query.{k}");
        let text = match v {
            Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(t) = scalar(&field, item)? {
                        parts.push(t);
                    }
                }
                (!parts.is_empty()).then(|| parts.join(","))
            }
            other => scalar(&field, other)?,
        };
        if let Some(text) = text {
            out.push((k.clone(), text));
        }
    }
    Ok(out)
}

/// Borrowed pairs, as [`Client::request`](crate::Client::request) takes them.
pub fn pair_refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The escape hatch's body from JSON text: `None` (no body) when absent or
/// blank; otherwise the value (a `null` is sent as `null`). Text that is not
/// JSON is a validation error on `body` with rule `json`; nesting deeper than
/// [`MAX_DEPTH`](crate::validate::MAX_DEPTH) one with rule `depth`.
pub fn parse_body(text: Option<&str>) -> Result<Option<Value>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    let v: Value = serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            crate::validate::depth_error("body")
        } else {
            Error::validation("body", format!("must be JSON ({e})")).with_rule("json")
        }
    })?;
    check_depth("body", &v)?;
    Ok(Some(v))
}

/// The query of the escape hatch from JSON text (see [`query_pairs`]);
/// absent or blank text is no query.
pub fn parse_query(text: Option<&str>) -> Result<Vec<(String, String)>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(Vec::new()) };
    let v: Value = serde_json::from_str(text).map_err(|e| Error::validation("query", format!("must be JSON ({e})")).with_rule("json"))?;
    query_pairs(&v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn methods_parse_case_insensitively() {
        for (text, m) in [("get", HttpMethod::Get), ("POST", HttpMethod::Post), ("Put", HttpMethod::Put), (" delete ", HttpMethod::Delete)]
        {
            assert_eq!(parse_method(text).unwrap(), m);
            assert_eq!(text.parse::<HttpMethod>().unwrap(), m);
        }
        let e = parse_method("PATCH").unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("method"), Some("enum")));
    }

    #[test]
    fn query_scalars_arrays_and_nulls() {
        let pairs = query_pairs(&json!({
            "s": "a b", "n": 5, "f": 1.5, "t": true, "no": false, "skip": null,
            "list": ["x", 2, false, null], "empty": [], "only_null": [null]
        }))
        .unwrap();
        let want: Vec<(String, String)> = [("s", "a b"), ("n", "5"), ("f", "1.5"), ("t", "true"), ("no", "false"), ("list", "x,2,false")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, want);
        assert_eq!(pair_refs(&pairs)[0], ("s", "a b"));
        assert!(query_pairs(&Value::Null).unwrap().is_empty());
        let e = query_pairs(&json!({"o": {"a": 1}})).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("query.o"), Some("type")));
        let e = query_pairs(&json!({"l": [[1]]})).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("query.l"), Some("type")));
        let e = query_pairs(&json!([1])).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("query"), Some("type")));
        assert_eq!(parse_query(Some(r#"{"a": [1, 2]}"#)).unwrap(), vec![("a".to_owned(), "1,2".to_owned())]);
        assert_eq!(parse_query(Some("{")).unwrap_err().rule(), Some("json"));
    }

    #[test]
    fn bodies_parse_once() {
        assert_eq!(parse_body(None).unwrap(), None);
        assert_eq!(parse_body(Some("  ")).unwrap(), None);
        assert_eq!(parse_body(Some("null")).unwrap(), Some(Value::Null));
        assert_eq!(parse_body(Some(r#"{"a":[1]}"#)).unwrap(), Some(json!({"a": [1]})));
        let e = parse_body(Some("{nope")).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("body"), Some("json")));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(parse_body(Some(&deep)).unwrap_err().rule(), Some("depth"));
    }
}
