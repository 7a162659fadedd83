//! JSON across the boundary as a flat token list: `Array { len }` and
//! `Object { len }` are followed by their `len` items (an object's as `Key`
//! then the value). Neither side parses text; building a value from tokens
//! uses an explicit stack, so no input depth overflows the Rust stack.

use parsec_teams::Error;
use serde_json::{Map, Number, Value};

/// One token of a JSON value.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum JsonToken {
    Null,
    Bool { v: bool },
    Int { v: i64 },
    Float { v: f64 },
    Str { v: String },
    Array { len: u32 },
    Object { len: u32 },
    Key { name: String },
}

/// Deeper than this, tokens are refused before a value is built (the core
/// refuses far less deep parameters itself, with the parameter's name).
pub const MAX_TOKEN_DEPTH: usize = 4096;

/// The tokens of `v`, in order.
pub fn to_tokens(v: &Value) -> Vec<JsonToken> {
    let mut out = Vec::new();
    push(v, &mut out);
    out
}

fn push(v: &Value, out: &mut Vec<JsonToken>) {
    match v {
        Value::Null => out.push(JsonToken::Null),
        Value::Bool(b) => out.push(JsonToken::Bool { v: *b }),
        Value::Number(n) => out.push(match n.as_i64() {
            Some(i) => JsonToken::Int { v: i },
            None => JsonToken::Float { v: n.as_f64().unwrap_or(f64::NAN) },
        }),
        Value::String(s) => out.push(JsonToken::Str { v: s.clone() }),
        Value::Array(a) => {
            out.push(JsonToken::Array { len: a.len() as u32 });
            for x in a {
                push(x, out);
            }
        }
        Value::Object(m) => {
            out.push(JsonToken::Object { len: m.len() as u32 });
            for (k, x) in m {
                out.push(JsonToken::Key { name: k.clone() });
                push(x, out);
            }
        }
    }
}

enum Frame {
    Array(Vec<Value>, u32),
    Object(Map<String, Value>, u32, Option<String>),
}

fn bad(why: &str) -> Error {
    Error::validation("params", format!("malformed JSON tokens: {why}")).with_rule("json")
}

/// The value the tokens spell; exactly one value, else a validation error.
pub fn from_tokens(tokens: Vec<JsonToken>) -> Result<Value, Error> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut done: Option<Value> = None;
    let mut it = tokens.into_iter();
    loop {
        // Close every container that has all its items.
        let mut value = match stack.last() {
            Some(Frame::Array(_, 0)) | Some(Frame::Object(_, 0, None)) => match stack.pop() {
                Some(Frame::Array(a, _)) => Some(Value::Array(a)),
                Some(Frame::Object(m, _, _)) => Some(Value::Object(m)),
                None => None,
            },
            _ => None,
        };
        if value.is_none() {
            let Some(t) = it.next() else { break };
            if done.is_some() {
                return Err(bad("more than one value"));
            }
            if let Some(Frame::Object(_, _, key @ None)) = stack.last_mut() {
                match t {
                    JsonToken::Key { name } => {
                        *key = Some(name);
                        continue;
                    }
                    _ => return Err(bad("an object item without its key")),
                }
            }
            value = match t {
                JsonToken::Null => Some(Value::Null),
                JsonToken::Bool { v } => Some(Value::Bool(v)),
                JsonToken::Int { v } => Some(Value::Number(v.into())),
                JsonToken::Float { v } => Some(Number::from_f64(v).map(Value::Number).ok_or_else(|| bad("a number that is not finite"))?),
                JsonToken::Str { v } => Some(Value::String(v)),
                JsonToken::Key { .. } => return Err(bad("a key outside an object")),
                JsonToken::Array { len } | JsonToken::Object { len } if stack.len() >= MAX_TOKEN_DEPTH => {
                    let _ = len;
                    return Err(Error::validation("params", format!("nested deeper than {MAX_TOKEN_DEPTH} levels")).with_rule("depth"));
                }
                JsonToken::Array { len } => {
                    stack.push(Frame::Array(Vec::with_capacity(len.min(1024) as usize), len));
                    None
                }
                JsonToken::Object { len } => {
                    stack.push(Frame::Object(Map::new(), len, None));
                    None
                }
            };
        }
        let Some(v) = value else { continue };
        match stack.last_mut() {
            None => done = Some(v),
            Some(Frame::Array(a, left)) => {
                a.push(v);
                *left -= 1;
            }
            Some(Frame::Object(m, left, key)) => {
                let k = key.take().ok_or_else(|| bad("an object item without its key"))?;
                m.insert(k, v);
                *left -= 1;
            }
        }
    }
    if !stack.is_empty() {
        return Err(bad("a list or object with fewer items than announced"));
    }
    done.ok_or_else(|| bad("no value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_round_trip_values() {
        let v = json!({"a": [1, -2, 2.5, "x", null, true, {}], "b": {"c": []}, "big": 18446744073709551615u64});
        assert_eq!(from_tokens(to_tokens(&v)).unwrap()["a"], v["a"]);
        assert_eq!(from_tokens(to_tokens(&v)).unwrap()["b"], v["b"]);
        assert_eq!(from_tokens(to_tokens(&json!([[[]]]))).unwrap(), json!([[[]]]));
    }

    #[test]
    fn malformed_tokens_are_refused_not_panicking() {
        let t = |v: Vec<JsonToken>| from_tokens(v).unwrap_err().rule().map(str::to_owned);
        assert_eq!(t(vec![JsonToken::Array { len: 2 }, JsonToken::Null]), Some("json".into()));
        assert_eq!(t(vec![JsonToken::Null, JsonToken::Null]), Some("json".into()));
        assert_eq!(t(vec![JsonToken::Object { len: 1 }, JsonToken::Null]), Some("json".into()));
        assert_eq!(t(vec![JsonToken::Key { name: "k".into() }]), Some("json".into()));
        assert_eq!(t(vec![]), Some("json".into()));
        assert_eq!(t(vec![JsonToken::Float { v: f64::NAN }]), Some("json".into()));
        let deep = vec![JsonToken::Array { len: 1 }; MAX_TOKEN_DEPTH + 1];
        assert_eq!(t(deep), Some("depth".into()));
    }
}
