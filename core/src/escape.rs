//! The escape hatch's inputs, parsed once for every binding: the HTTP method
//! ([`parse_method`]), the query ([`encode_query`]) and the body ([`parse_body`]),
//! together a [`RawRequest`].
//!
//! Query rules (the same encoding as the typed operations' query): the query
//! is a JSON object (or null: none); a `null` value is dropped; a string is
//! sent percent-encoded; a number as its JSON text; a boolean as `true` /
//! `false`; an array as ONE key with its items separated by a literal comma
//! (the way the API takes its lists, e.g. `event_names=a,b`; a comma inside an
//! item is percent-encoded; null items are dropped and an empty list is left
//! out); an object, or an array holding an array or an object, is refused
//! (rule `type`). Repeated keys are not used: the API reads lists
//! comma-separated.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::spec::HttpMethod;
use crate::validate::{check_depth, json_type, push_encoded};

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

/// The query string of the escape hatch (without `?`) from a JSON object,
/// encoded exactly as the typed operations encode theirs (see the module doc):
/// keys and values percent-encoded, list items separated by a literal `,`.
/// Errors name the field `query` or `query.<key>`.
pub fn encode_query(query: &Value) -> Result<String> {
    let map = match query {
        Value::Null => return Ok(String::new()),
        Value::Object(m) => m,
        other => return Err(Error::validation("query", format!("must be an object, got {}", json_type(other))).with_rule("type")),
    };
    let mut out = String::new();
    for (k, v) in map {
        let field = || format!("query.{k}");
        let items: Vec<&Value> = match v {
            Value::Array(items) => items.iter().filter(|i| !i.is_null()).collect(),
            Value::Null => continue,
            other => vec![other],
        };
        if items.is_empty() {
            continue;
        }
        if let Some(bad) = items.iter().find(|i| i.is_array() || i.is_object()) {
            let msg = format!("must be a string, number, boolean, null or a list of them, got {}", json_type(bad));
            return Err(Error::validation(field(), msg).with_rule("type"));
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.extend(percent_encoding::utf8_percent_encode(k, QUERY_KEY));
        out.push('=');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_encoded(&mut out, item);
        }
    }
    Ok(out)
}

/// Query keys keep the characters the typed operations send as is.
const QUERY_KEY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The escape hatch's body from JSON text: `None` (no body) when absent or
/// blank; otherwise the value (a `null` is sent as `null`). Text that is not
/// JSON is a validation error on `body` with rule `json`; nesting deeper than
/// [`MAX_DEPTH`](crate::validate::MAX_DEPTH) one with rule `depth`.
pub fn parse_body(text: Option<&str>) -> Result<Option<Value>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    // Read past serde_json's own 127 levels (parse_json_text bounds the nesting first), then the contract's limit.
    let v = crate::validate::parse_json_text(text, "body").map_err(|e| match e.rule() {
        Some("depth") => crate::validate::depth_error("body"),
        _ => e,
    })?;
    check_depth("body", &v)?;
    Ok(Some(v))
}

/// A request of the escape hatch, parsed and encoded once in the core:
/// a binding passes the method name, the path, the query as JSON (a value or
/// text) and the body, then sends it with `Client::send_raw`
/// (or `AdminClient::send_raw`).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRequest {
    pub method: HttpMethod,
    /// The path as given; `{team_id}` is filled in when sent.
    pub path: String,
    /// The encoded query, without `?` (empty: none).
    pub query: String,
    pub body: Option<Value>,
}

impl RawRequest {
    /// From JSON values (`query` an object or null).
    pub fn new(method: &str, path: &str, query: Option<&Value>, body: Option<Value>) -> Result<RawRequest> {
        let method = parse_method(method)?;
        let query = query.map(encode_query).transpose()?.unwrap_or_default();
        if let Some(b) = &body {
            check_depth("body", b)?;
        }
        Ok(RawRequest { method, path: path.to_owned(), query, body })
    }

    /// From JSON text (C and Node): absent or blank query and body texts are none.
    pub fn from_text(method: &str, path: &str, query: Option<&str>, body: Option<&str>) -> Result<RawRequest> {
        let query = match query.filter(|t| !t.trim().is_empty()) {
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|e| Error::validation("query", format!("must be JSON ({e})")).with_rule("json"))?,
            ),
            None => None,
        };
        RawRequest::new(method, path, query.as_ref(), parse_body(body)?)
    }
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
        let q = encode_query(&json!({
            "s": "a b,c", "n": 5, "f": 1.5, "t": true, "no": false, "skip": null,
            "list": ["x", 2, false, null, "y,z"], "empty": [], "only_null": [null], "k y": 1
        }))
        .unwrap();
        assert_eq!(q, "s=a%20b%2Cc&n=5&f=1.5&t=true&no=false&list=x,2,false,y%2Cz&k%20y=1");
        assert_eq!(encode_query(&Value::Null).unwrap(), "");
        let e = encode_query(&json!({"o": {"a": 1}})).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("query.o"), Some("type")));
        let e = encode_query(&json!({"l": [[1]]})).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("query.l"), Some("type")));
        let e = encode_query(&json!([1])).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("query"), Some("type")));
    }

    #[test]
    fn raw_requests_from_values_or_text_are_the_same() {
        let a = RawRequest::new("post", "/x", Some(&json!({"a": [1, 2]})), Some(json!({"b": true}))).unwrap();
        let b = RawRequest::from_text("POST", "/x", Some(r#"{"a": [1, 2]}"#), Some(r#"{"b": true}"#)).unwrap();
        assert_eq!(a, b);
        assert_eq!((a.method, a.query.as_str()), (HttpMethod::Post, "a=1,2"));
        let none = RawRequest::from_text("get", "/x", Some(" "), None).unwrap();
        assert_eq!((none.query.as_str(), none.body), ("", None));
        assert_eq!(RawRequest::from_text("GET", "/x", Some("{"), None).unwrap_err().rule(), Some("json"));
        assert_eq!(RawRequest::from_text("PATCH", "/x", None, None).unwrap_err().rule(), Some("enum"));
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

    #[test]
    fn a_body_of_exactly_128_levels_is_taken() {
        // The contract's limit is 128 levels; serde_json's own parser stops at 127.
        let nested = |n: usize| "[".repeat(n) + "1" + &"]".repeat(n);
        let v = parse_body(Some(&nested(crate::validate::MAX_DEPTH))).unwrap().unwrap();
        assert!(check_depth("body", &v).is_ok());
        let e = parse_body(Some(&nested(crate::validate::MAX_DEPTH + 1))).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("body"), Some("depth")));
        let e = parse_body(Some(&nested(5000))).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("body"), Some("depth")));
    }
}
