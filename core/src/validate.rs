//! Checks a call's arguments against the operation table before anything is
//! sent, and encodes them into path, query and body.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::spec::{DefaultValue, Location, Operation, Rule, Ty};

/// The largest valid KSUID (the maximum 160-bit value in base62).
const MAX_KSUID: &str = "aWgEPTl1tmebfsQzFP4bxwgy80V";

/// The deepest nesting of JSON arrays and objects accepted in any parameter or
/// body (as serde_json's own parser allows). Deeper input, a cycle converted by
/// a binding among it, is a validation error with rule `depth`.
pub const MAX_DEPTH: usize = 128;

/// Refuses `v` when its arrays and objects nest deeper than [`MAX_DEPTH`]
/// (a [`ErrorKind::Validation`](crate::ErrorKind::Validation) error naming `field`).
/// Recursion stops at the limit, so any input is safe to check.
pub fn check_depth(field: &str, v: &Value) -> Result<()> {
    fn fits(v: &Value, budget: usize) -> bool {
        match v {
            Value::Array(a) => budget > 0 && a.iter().all(|x| fits(x, budget - 1)),
            Value::Object(m) => budget > 0 && m.values().all(|x| fits(x, budget - 1)),
            _ => true,
        }
    }
    if fits(v, MAX_DEPTH) {
        Ok(())
    } else {
        Err(depth_error(field))
    }
}

/// The error for input nested deeper than [`MAX_DEPTH`], for bindings that stop converting there.
pub fn depth_error(field: &str) -> Error {
    Error::validation(field, format_args!("nested deeper than {MAX_DEPTH} levels")).with_rule("depth")
}

/// The most nesting [`parse_json_text`] parses: deeper text is refused before
/// parsing (rule `depth`), so the parser's recursion stays bounded.
pub const MAX_TEXT_NESTING: usize = 512;

/// The deepest nesting of arrays and objects in JSON text, counted without
/// parsing or recursion (brackets inside strings are skipped).
pub fn json_nesting(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// JSON text a binding was given (the parameters of a call as one object,
/// for C), as a [`Value`]: nested up to [`MAX_TEXT_NESTING`] levels, so that a
/// parameter of [`MAX_DEPTH`] levels inside its wrapper object parses (serde_json
/// alone stops at 127) and a deeper one reaches [`check_depth`], which names
/// the parameter. Deeper text is a depth error on `field`; text that is not
/// JSON an error on `field` with rule `json`.
pub fn parse_json_text(text: &str, field: &str) -> Result<Value> {
    use serde::Deserialize;
    if json_nesting(text) > MAX_TEXT_NESTING {
        return Err(Error::validation(field, format_args!("nested deeper than {MAX_TEXT_NESTING} levels")).with_rule("depth"));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    // The nesting was bounded above, so the recursion is too.
    de.disable_recursion_limit();
    Value::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| Error::validation(field, format!("must be valid JSON ({e})")).with_rule("json"))
}

/// Refuses a path segment that URL parsing would fold into another route:
/// `.` or `..`, as given or once percent-decoded (`%2e`, `.%2E`, ...).
/// Every other value is percent-encoded into its own segment.
pub fn check_path_segment(field: &str, s: &str) -> Result<()> {
    fn is_dots(b: &[u8]) -> bool {
        matches!(b, b"." | b"..")
    }
    // The longest dot form is `%2e%2e`; decode short values without allocating.
    let dotty = s.len() <= 6 && {
        let mut decoded = [0u8; 6];
        let mut n = 0;
        for (slot, b) in decoded.iter_mut().zip(percent_encoding::percent_decode_str(s)) {
            *slot = b;
            n += 1;
        }
        is_dots(&decoded[..n])
    };
    if dotty {
        return Err(Error::validation(field, format_args!("must not be {s:?}: a dot path segment would send the call to another route"))
            .with_rule("dot_segment"));
    }
    Ok(())
}

/// Normalizes and checks `args` for `op`: nulls are dropped (null is the same
/// as leaving a parameter out), defaults are filled in, unknown names, missing
/// required parameters, types, ranges, lengths, formats and the cross-field
/// rules are checked. The first problem found is returned, naming the field.
pub fn check(op: &Operation, args: &mut Map<String, Value>) -> Result<()> {
    args.retain(|_, v| !v.is_null());
    for (name, v) in args.iter() {
        check_depth(name, v)?;
    }
    for p in op.params.iter().filter(|p| p.location == Location::Path) {
        if let Some(Value::String(s)) = args.get(p.name) {
            check_path_segment(p.name, s)?;
        }
    }
    if let Some(unknown) = args.keys().find(|k| op.param(k).is_none()) {
        let known: Vec<&str> = op.params.iter().map(|p| p.name).collect();
        let expected = if known.is_empty() { "it takes no parameters".to_owned() } else { format!("expected one of {}", known.join(", ")) };
        return Err(Error::validation(unknown.clone(), format!("unknown parameter of {} ({expected})", op.qualified_name()))
            .with_rule("unknown_parameter"));
    }
    for p in op.params {
        match args.get_mut(p.name) {
            Some(v) => check_value(p.name, &p.ty, v)?,
            None => match p.default {
                Some(DefaultValue::Int(d)) => {
                    args.insert(p.name.to_owned(), Value::from(d));
                }
                None if p.required => return Err(Error::validation(p.name, "is required").with_rule("required")),
                None => {}
            },
        }
    }
    for rule in op.rules {
        check_rule(rule, args)?;
    }
    Ok(())
}

/// What kind of JSON value `v` is, as validation messages say it ("a string", "null", ...).
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn range(field: &str, message: String) -> Error {
    Error::validation(field, message).with_rule("range")
}

fn length(field: &str, message: impl std::fmt::Display) -> Error {
    Error::validation(field, message).with_rule("length")
}

fn type_error(field: &str, expected: &str, got: &Value) -> Error {
    Error::validation(field, format!("must be {expected}, got {}", json_type(got))).with_rule("type")
}

/// Checks one value, normalizing integral floats (JavaScript numbers) to integers.
fn check_value(field: &str, ty: &Ty, v: &mut Value) -> Result<()> {
    match ty {
        Ty::Int { min, max } => {
            let n = as_int(v).ok_or_else(|| type_error(field, "an integer", v))?;
            *v = Value::from(n);
            match (min, max) {
                (Some(a), Some(b)) if n < *a || n > *b => Err(range(field, format!("must be between {a} and {b}, got {n}"))),
                (Some(a), _) if n < *a => Err(range(field, format!("must be >= {a}, got {n}"))),
                (_, Some(b)) if n > *b => Err(range(field, format!("must be <= {b}, got {n}"))),
                _ => Ok(()),
            }
        }
        Ty::IntAsString { min } => {
            let n = as_int(v).ok_or_else(|| type_error(field, "an integer number of bytes", v))?;
            *v = Value::from(n);
            if n < *min {
                return Err(range(field, format!("must be >= {min}, got {n}")));
            }
            Ok(())
        }
        Ty::Str { min_len, max_len } => {
            let s = v.as_str().ok_or_else(|| type_error(field, "a string", v))?;
            let len = s.chars().count();
            match (min_len, max_len) {
                (Some(a), Some(b)) if len < *a || len > *b => Err(length(field, format!("must be {a}..{b} characters long, got {len}"))),
                (Some(1), _) if len == 0 => Err(length(field, "must not be empty")),
                (Some(a), _) if len < *a => Err(length(field, format!("must be at least {a} characters long, got {len}"))),
                (_, Some(b)) if len > *b => Err(length(field, format!("must be at most {b} characters long, got {len}"))),
                _ => Ok(()),
            }
        }
        Ty::Bool | Ty::NullableBool | Ty::BoolAsString => {
            if v.is_boolean() {
                Ok(())
            } else {
                Err(type_error(field, "true or false", v))
            }
        }
        Ty::Email => {
            let s = v.as_str().ok_or_else(|| type_error(field, "an email address", v))?;
            if is_email(s) {
                Ok(())
            } else {
                Err(Error::validation(field, format!("must be a valid email address, got {s:?}")).with_rule("email"))
            }
        }
        Ty::DateTime => {
            let s = v.as_str().ok_or_else(|| type_error(field, "an RFC 3339 date-time string", v))?;
            parse_time(s).map(|_| ()).ok_or_else(|| {
                Error::validation(field, format!("must be an RFC 3339 date-time such as 2026-01-31T09:00:00Z, got {s:?}"))
                    .with_rule("datetime")
            })
        }
        Ty::Ksuid => {
            let s = v.as_str().ok_or_else(|| type_error(field, "a KSUID string", v))?;
            if s.len() != 27 {
                return Err(Error::validation(field, format!("must be a KSUID of exactly 27 characters, got {}", s.chars().count()))
                    .with_rule("ksuid"));
            }
            if !s.bytes().all(|b| b.is_ascii_alphanumeric()) || s > MAX_KSUID {
                return Err(Error::validation(field, format!("must be a valid KSUID (27 base62 characters), got {s:?}")).with_rule("ksuid"));
            }
            Ok(())
        }
        Ty::Enum { values, .. } => {
            let s = v.as_str().ok_or_else(|| type_error(field, &format!("one of {}", values.join(", ")), v))?;
            if values.contains(&s) {
                Ok(())
            } else {
                Err(Error::validation(field, format!("must be one of {}, got {s:?}", values.join(", "))).with_rule("enum"))
            }
        }
        Ty::List { item, min_items, max_items, unique } => {
            let Some(items) = v.as_array_mut() else { return Err(type_error(field, "a list", v)) };
            let n = items.len();
            if n < *min_items {
                return Err(Error::validation(
                    field,
                    if *min_items == 1 { "must not be empty".to_owned() } else { format!("must have at least {min_items} items, got {n}") },
                )
                .with_rule("items"));
            }
            if let Some(max) = max_items {
                if n > *max {
                    return Err(Error::validation(field, format!("must have at most {max} items, got {n}")).with_rule("items"));
                }
            }
            for (i, it) in items.iter_mut().enumerate() {
                check_value(&format!("{field}[{i}]"), item, it)?;
            }
            if *unique {
                for i in 1..n {
                    if let Some(j) = items[..i].iter().position(|x| x == &items[i]) {
                        return Err(Error::validation(field, format!("items must be unique: item {i} repeats item {j} ({})", items[i]))
                            .with_rule("unique"));
                    }
                }
            }
            Ok(())
        }
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)),
        _ => None,
    }
}

pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A pragmatic address check: one `@`, a non-empty local part of at most 64
/// printable characters without spaces, and a domain of dot-separated labels
/// of letters, digits and hyphens with at least one dot.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return false;
    }
    if !local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)) {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn given(args: &Map<String, Value>, name: &str) -> bool {
    match args.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

fn check_rule(rule: &Rule, args: &Map<String, Value>) -> Result<()> {
    match rule {
        Rule::Exclusive(a, b) => {
            if given(args, a) && given(args, b) {
                return Err(Error::validation(*b, format!("may not be given together with {a}")).with_rule("never_both"));
            }
        }
        Rule::AtLeastOne(names) => {
            if !names.iter().any(|n| given(args, n)) {
                return Err(Error::validation(names.join(" / "), format!("at least one of {} is required", names.join(", ")))
                    .with_rule("at_least_one"));
            }
        }
        Rule::NotTogether(first, second) => {
            if let (Some(a), Some(b)) = (first.iter().find(|n| given(args, n)), second.iter().find(|n| given(args, n))) {
                return Err(Error::validation(
                    *b,
                    format!("may not be given together with {a}: assign to a member or to a group, never both"),
                )
                .with_rule("member_or_group"));
            }
        }
        Rule::InFuture(name) => {
            if let Some(t) = args.get(*name).and_then(Value::as_str).and_then(parse_time) {
                if t <= OffsetDateTime::now_utc() {
                    return Err(Error::validation(*name, "must be in the future").with_rule("in_future"));
                }
            }
        }
        Rule::After { later, earlier } => {
            let l = args.get(*later).and_then(Value::as_str).and_then(parse_time);
            let e = args.get(*earlier).and_then(Value::as_str).and_then(parse_time);
            if let (Some(l), Some(e)) = (l, e) {
                if l <= e {
                    return Err(Error::validation(*later, format!("must be after {earlier}")).with_rule("time_order"));
                }
            }
        }
        Rule::ShowFlagsNeedConnections => {
            if args.get("allow_connections_within_group") == Some(&Value::Bool(false)) {
                for flag in ["show_group_assigned_managed_hosts", "show_user_assigned_managed_hosts", "show_personal_hosts"] {
                    if args.get(flag) == Some(&Value::Bool(true)) {
                        return Err(Error::validation(flag, "may not be true unless allow_connections_within_group is true")
                            .with_rule("show_flags"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The encoded request of one call.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Path with the parameters filled in, starting with `/`.
    pub path: String,
    /// The `?...` part, empty when there is none.
    pub query: String,
    /// JSON body, when the operation has one.
    pub body: Option<Vec<u8>>,
}

const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Encodes checked `args` into path, query and body. `team_segment` is the
/// team id as it appears in the path (already percent-encoded; see
/// [`path_segment`]).
pub fn encode(op: &Operation, team_segment: &str, args: &Map<String, Value>) -> Encoded {
    let mut path = String::with_capacity(op.path.len() + 32);
    let mut rest = op.path;
    while let Some(start) = rest.find('{') {
        path.push_str(&rest[..start]);
        let end = rest[start..].find('}').map(|e| start + e).unwrap_or(rest.len() - 1);
        let name = &rest[start + 1..end];
        if name == "team_id" && op.api == crate::spec::Api::Teams {
            path.push_str(team_segment);
        } else if let Some(v) = args.get(name) {
            push_encoded(&mut path, v);
        }
        rest = &rest[end + 1..];
    }
    path.push_str(rest);

    let mut query = String::new();
    let mut body = Map::new();
    let mut team = Map::new();
    for p in op.params {
        let Some(v) = args.get(p.name) else { continue };
        match p.location {
            Location::Path => {}
            Location::Query => {
                query.push(if query.is_empty() { '?' } else { '&' });
                query.push_str(p.name);
                query.push('=');
                match v {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if i > 0 {
                                query.push(',');
                            }
                            push_encoded(&mut query, item);
                        }
                    }
                    other => push_encoded(&mut query, other),
                }
            }
            Location::Body => {
                body.insert(p.name.to_owned(), v.clone());
            }
            Location::TeamBody => {
                let v = match p.ty {
                    Ty::IntAsString { .. } | Ty::BoolAsString => Value::String(scalar_text(v)),
                    _ => v.clone(),
                };
                team.insert(p.name.to_owned(), v);
            }
        }
    }
    if !team.is_empty() || op.params.iter().any(|p| p.location == Location::TeamBody && p.required) {
        body.insert("team".to_owned(), Value::Object(team));
    }
    let has_body = op.params.iter().any(|p| matches!(p.location, Location::Body | Location::TeamBody));
    let body = has_body.then(|| serde_json::to_vec(&Value::Object(body)).expect("a JSON map always serializes"));
    Encoded { path, query, body }
}

/// `text` percent-encoded for a path segment or a query value.
pub fn path_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// Appends a scalar's text, percent-encoded, without an intermediate string
/// for the common cases (numbers, booleans, strings).
pub(crate) fn push_encoded(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    match v {
        Value::String(s) => out.extend(percent_encoding::utf8_percent_encode(s, PATH_SEGMENT)),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        other => out.extend(percent_encoding::utf8_percent_encode(&other.to_string(), PATH_SEGMENT)),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Value {
        let mut v = Value::from(1);
        for _ in 0..levels {
            v = Value::Array(vec![v]);
        }
        v
    }

    #[test]
    fn depth_limit() {
        assert!(check_depth("body", &nested(MAX_DEPTH)).is_ok());
        let text = format!("{{\"p\": {}1{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(json_nesting(&text), MAX_DEPTH + 1);
        assert_eq!(json_nesting(r#"{"s": "[[{\"[" }"#), 1);
        assert!(check_depth("p", &parse_json_text(&text, "params").unwrap()["p"]).is_ok());
        let too_deep = "[".repeat(MAX_TEXT_NESTING + 1) + &"]".repeat(MAX_TEXT_NESTING + 1);
        let e = parse_json_text(&too_deep, "params").unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("params"), Some("depth")));
        assert_eq!(parse_json_text("{", "params").unwrap_err().rule(), Some("json"));
        let e = check_depth("body", &nested(MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(e.field(), Some("body"));
        assert_eq!(e.message(), "body: nested deeper than 128 levels");
        assert_eq!(e.rule(), Some("depth"));
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.com", "x_y@ex-ample.org"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@@b.co", "a@b..co", ".a@b.co", "a@-b.co", "a@b.co."] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
