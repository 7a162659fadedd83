//! Arbitrary JSON as the parameters of every operation of both APIs, through
//! the core's check-and-encode step (`Caller::prepare`, which is
//! `validate::check` + `validate::encode`).
//!
//! Input: byte 0 = how to form the arguments (bit 0: the JSON is one value of
//! the parameter picked by byte 2, else it must be the whole object), byte 1 =
//! how many arrays to wrap the value in (beyond what serde_json's parser
//! allows), byte 2 = the parameter picked; the rest is JSON text (when it
//! does not parse, the text itself becomes a string value).
//!
//! Invariants: never panics; a refusal is a validation error naming a field;
//! an accepted call honours the table: every required parameter was given,
//! every given value conforms to its type (checked here independently), no
//! value nests deeper than 128, and the encoded request is well formed: the
//! path is the template with each `{name}` replaced by exactly one
//! percent-encoded segment that decodes back to the value and is never a dot
//! segment, the query carries exactly the given query parameters (decoding
//! back to their values), and the body is a JSON object of exactly the body
//! parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parsec_teams::spec::{Api, Location, Operation, Ty, OPERATIONS};
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, ErrorKind};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// The nesting limit of the contract (`validate::MAX_DEPTH`).
const DEPTH_LIMIT: usize = 128;
const TEAM: &str = "team_fuzz";

fn callers() -> &'static (Caller, Caller) {
    static C: OnceLock<(Caller, Caller)> = OnceLock::new();
    C.get_or_init(|| {
        let base = "http://127.0.0.1:9";
        let teams = Client::new(ClientOptions::new().api_key("tapi_x.secret").team_id(TEAM).base_url(base)).expect("client");
        let admin = AdminClient::new(AdminClientOptions::new().token("token").base_url(base)).expect("admin client");
        (teams.caller().clone(), admin.caller().clone())
    })
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
}

/// An independent reading of the table's types: does `v` satisfy `ty`?
fn conforms(ty: &Ty, v: &Value) -> bool {
    let within = |n: i64, min: &Option<i64>, max: &Option<i64>| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
    match ty {
        Ty::Int { min, max } => as_int(v).is_some_and(|n| within(n, min, max)),
        Ty::IntAsString { min } => as_int(v).is_some_and(|n| n >= *min),
        Ty::Str { min_len, max_len } => v.as_str().is_some_and(|s| {
            let n = s.chars().count();
            min_len.is_none_or(|m| n >= m) && max_len.is_none_or(|m| n <= m)
        }),
        Ty::Bool | Ty::NullableBool | Ty::BoolAsString => v.is_boolean(),
        Ty::Email => v.as_str().is_some_and(|s| s.len() <= 254 && s.matches('@').count() == 1 && !s.contains(char::is_whitespace)),
        Ty::DateTime => v.as_str().is_some_and(|s| s.len() >= 20),
        Ty::Ksuid => v.as_str().is_some_and(|s| s.len() == 27 && s.bytes().all(|b| b.is_ascii_alphanumeric())),
        Ty::Enum { values, .. } => v.as_str().is_some_and(|s| values.contains(&s)),
        Ty::List { item, min_items, max_items, unique } => v.as_array().is_some_and(|a| {
            a.len() >= *min_items
                && max_items.is_none_or(|m| a.len() <= m)
                && a.iter().all(|x| conforms(item, x))
                && (!unique || a.iter().enumerate().all(|(i, x)| !a[..i].contains(x)))
        }),
    }
}

/// The text a scalar is sent as (integral floats as integers, as the core normalizes them).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(_) => match as_int(v) {
            Some(n) => n.to_string(),
            None => v.to_string(),
        },
        other => other.to_string(),
    }
}

fn decode(seg: &str) -> String {
    percent_encoding::percent_decode_str(seg).decode_utf8().expect("an encoded segment decodes to UTF-8").into_owned()
}

/// Only unreserved characters and well-formed `%XX` escapes.
fn is_encoded(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)) {
                    return false;
                }
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) => i += 1,
            _ => return false,
        }
    }
    true
}

fn check_accepted(op: &Operation, args: &Map<String, Value>, enc: &parsec_teams::validate::Encoded) {
    let name = op.qualified_name();
    let given: Map<String, Value> = args.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect();
    for p in op.params {
        match given.get(p.name) {
            Some(v) => {
                assert!(conforms(&p.ty, v), "{name}: accepted {}={v} that is not a {:?}", p.name, p.ty);
                assert!(depth(v) <= DEPTH_LIMIT, "{name}: accepted {} nested {} deep", p.name, depth(v));
            }
            None => assert!(!p.required || p.default.is_some(), "{name}: accepted without the required {}", p.name),
        }
    }
    assert!(given.keys().all(|k| op.param(k).is_some()), "{name}: accepted an unknown parameter among {:?}", given.keys());

    // Path: the template, segment by segment.
    let template: Vec<&str> = op.path.split('/').collect();
    let path: Vec<&str> = enc.path.split('/').collect();
    assert!(enc.path.starts_with('/'), "{name}: path {:?}", enc.path);
    assert_eq!(template.len(), path.len(), "{name}: path {:?} does not have the segments of {}", enc.path, op.path);
    for (t, seg) in template.iter().zip(&path) {
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(param) => {
                assert!(!seg.is_empty() && is_encoded(seg), "{name}: segment {seg:?} of {param} in {:?}", enc.path);
                let text = decode(seg);
                assert!(text != "." && text != "..", "{name}: {param} became the dot segment {seg:?}: {:?}", enc.path);
                let want = if param == "team_id" && op.api == Api::Teams { TEAM.to_owned() } else { scalar_text(&given[param]) };
                assert_eq!(text, want, "{name}: segment of {param}");
            }
            None => assert_eq!(t, seg, "{name}: literal segment changed in {:?}", enc.path),
        }
    }

    // Query: exactly the given query parameters, in table order.
    let mut expect_query = Vec::new();
    for p in op.params.iter().filter(|p| p.location == Location::Query) {
        if let Some(v) = args.get(p.name).filter(|v| !v.is_null()) {
            let items: Vec<String> = match v {
                Value::Array(a) => a.iter().map(scalar_text).collect(),
                other => vec![scalar_text(other)],
            };
            expect_query.push((p.name.to_owned(), items));
        } else if let Some(parsec_teams::spec::DefaultValue::Int(d)) = p.default {
            expect_query.push((p.name.to_owned(), vec![d.to_string()]));
        }
    }
    let got_query: Vec<(String, Vec<String>)> = match enc.query.strip_prefix('?') {
        None => {
            assert!(enc.query.is_empty(), "{name}: query {:?}", enc.query);
            Vec::new()
        }
        Some(q) => q
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("{name}: query pair {pair:?}"));
                let items: Vec<String> = if v.is_empty() {
                    vec![String::new()]
                } else {
                    v.split(',')
                        .map(|it| {
                            assert!(is_encoded(it), "{name}: query value {it:?}");
                            decode(it)
                        })
                        .collect()
                };
                (k.to_owned(), items)
            })
            .collect(),
    };
    // An empty list is sent as `name=` (one empty item on the way back).
    let normalize = |q: Vec<(String, Vec<String>)>| -> Vec<(String, Vec<String>)> {
        q.into_iter().map(|(k, v)| if v.is_empty() { (k, vec![String::new()]) } else { (k, v) }).collect()
    };
    assert_eq!(normalize(got_query), normalize(expect_query), "{name}: query {:?}", enc.query);

    // Body: an object of exactly the body parameters (the admin API's under "team").
    let has_body = op.params.iter().any(|p| matches!(p.location, Location::Body | Location::TeamBody));
    assert_eq!(enc.body.is_some(), has_body, "{name}: body presence");
    if let Some(body) = &enc.body {
        let body: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{name}: body is not JSON: {e}"));
        let obj = body.as_object().unwrap_or_else(|| panic!("{name}: body {body} is not an object"));
        for p in op.params.iter().filter(|p| p.location == Location::Body) {
            let sent = obj.get(p.name);
            match given.get(p.name) {
                Some(v) => {
                    let sent = sent.unwrap_or_else(|| panic!("{name}: body lacks {}", p.name));
                    assert!(same_json(sent, v), "{name}: body {} = {sent}, given {v}", p.name);
                }
                None => assert!(sent.is_none(), "{name}: body has {} that was not given", p.name),
            }
        }
        for k in obj.keys() {
            let known = k == "team" || op.param(k).is_some_and(|p| p.location == Location::Body);
            assert!(known, "{name}: body key {k:?} is no body parameter");
        }
        if let Some(team) = obj.get("team") {
            let team = team.as_object().unwrap_or_else(|| panic!("{name}: body.team {team}"));
            for (k, v) in team {
                let p = op.param(k).filter(|p| p.location == Location::TeamBody).unwrap_or_else(|| panic!("{name}: body.team.{k}"));
                let given = &given[p.name];
                match p.ty {
                    Ty::IntAsString { .. } | Ty::BoolAsString => {
                        assert_eq!(v.as_str(), Some(scalar_text(given).as_str()), "{name}: team.{k}")
                    }
                    _ => assert!(same_json(v, given), "{name}: team.{k}"),
                }
            }
        }
    }
}

/// Equal as JSON values, numbers compared by value (an integral float is sent as an integer).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same_json(a, b))),
        _ => a == b,
    }
}

fn args_of(data: &[u8]) -> Option<Map<String, Value>> {
    let (&[mode, wrap, pick], text) = data.split_first_chunk::<3>()?;
    let mut v: Value = serde_json::from_slice(text).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(text).into_owned()));
    for _ in 0..wrap {
        v = Value::Array(vec![v]);
    }
    if mode & 1 == 0 {
        if let Value::Object(m) = v {
            return Some(m);
        }
    }
    // One value for a parameter name picked from the whole table.
    let names: Vec<&str> = OPERATIONS.iter().flat_map(|op| op.params.iter().map(|p| p.name)).collect();
    let mut m = Map::new();
    m.insert(names[pick as usize % names.len()].to_owned(), v);
    Some(m)
}

fuzz_target!(|data: &[u8]| {
    let Some(args) = args_of(data) else { return };
    let (teams, admin) = callers();
    for op in OPERATIONS {
        let caller = if op.api == Api::Teams { teams } else { admin };
        match caller.prepare(op, args.clone()) {
            Ok(enc) => check_accepted(op, &args, &enc),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Validation, "{}: refused with {:?}: {}", op.qualified_name(), e.kind(), e.message());
                assert!(e.field().is_some_and(|f| !f.is_empty()), "{}: a refusal names no field: {}", op.qualified_name(), e.message());
            }
        }
    }
});
