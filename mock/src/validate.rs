//! Errors, JSON replies and the field-validation helpers shared by every route.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::RawPathParams;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt::Display;
use std::hash::Hash;
use time::OffsetDateTime;

/// An error answer: `status` with `{"message": message}` (and `Retry-After` when set).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None }
    }
    /// 400 `"<field>: <rule>"`.
    pub fn bad(field: &str, rule: impl Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format!("{field}: {rule}"))
    }
    /// 404 `"<field>: <rule>"`.
    pub fn not_found(field: &str, rule: impl Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{field}: {rule}"))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    /// 422 `"<field>: <rule>"` (team-administration API).
    pub fn unprocessable(field: &str, rule: impl Display) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{field}: {rule}"))
    }
    pub fn too_many(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError { status: StatusCode::TOO_MANY_REQUESTS, message: message.into(), retry_after: Some(retry_after) }
    }
}

/// A finished answer, body already serialized.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Vec<u8>>,
    pub retry_after: Option<u64>,
}

impl Reply {
    /// `status` with `value` serialized as the JSON body.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Reply {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Reply { status, body: Some(body), retry_after: None }
    }
    /// 200 `{"data": value}`.
    pub fn data<T: Serialize + ?Sized>(value: &T) -> Reply {
        #[derive(Serialize)]
        struct Data<'a, T: ?Sized> {
            data: &'a T,
        }
        Self::json(StatusCode::OK, &Data { data: value })
    }
    /// 200 `{"data": items, "count": count}`.
    pub fn page<T: Serialize>(items: &[&T], count: usize) -> Reply {
        #[derive(Serialize)]
        struct Page<'a, 'b, T> {
            data: &'b [&'a T],
            count: usize,
        }
        Self::json(StatusCode::OK, &Page { data: items, count })
    }
    /// 204 with an empty body.
    pub fn no_content() -> Reply {
        Reply { status: StatusCode::NO_CONTENT, body: None, retry_after: None }
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        let mut r = Reply::json(e.status, &serde_json::json!({ "message": e.message }));
        r.retry_after = e.retry_after;
        r
    }
}

/// The path parameters of a route, as extracted (an invalid one is an error).
pub type PathParams = Result<RawPathParams, RawPathParamsRejection>;

/// The values of the path parameters in path order; 400 when one is not UTF-8
/// after percent-decoding (`/api/v1/teams/%FF`).
pub fn path_params(p: &PathParams) -> ApiResult<Vec<&str>> {
    match p {
        Ok(p) => Ok(p.iter().map(|(_, v)| v).collect()),
        Err(RawPathParamsRejection::InvalidUtf8InPathParam(_)) => {
            Err(ApiError::bad("path", "a path segment is not valid UTF-8 after percent-decoding"))
        }
        Err(_) => Ok(Vec::new()),
    }
}

/// Whether `items` holds a value twice (linear time).
pub fn has_duplicates<T: Eq + Hash>(items: impl IntoIterator<Item = T>) -> bool {
    let mut seen = HashSet::new();
    items.into_iter().any(|x| !seen.insert(x))
}

/// Applies offset/limit to an iterator: the window and the total count.
pub fn paginate<'a, T: 'a>(items: impl Iterator<Item = &'a T>, offset: usize, limit: usize) -> (Vec<&'a T>, usize) {
    let mut page = Vec::with_capacity(limit.min(200));
    let mut count = 0;
    for item in items {
        if count >= offset && page.len() < limit {
            page.push(item);
        }
        count += 1;
    }
    (page, count)
}

/// `Option::is_none_or` for older toolchains (the crate's MSRV is 1.80).
pub trait NoneOr<T> {
    /// True when `None`, else `f(value)`.
    fn none_or(self, f: impl FnOnce(T) -> bool) -> bool;
}

impl<T> NoneOr<T> for Option<T> {
    fn none_or(self, f: impl FnOnce(T) -> bool) -> bool {
        match self {
            None => true,
            Some(v) => f(v),
        }
    }
}

/// A loose but honest email syntax check: `local@domain.tld`, no spaces.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parsed query string (percent-decoded). Empty values count as absent.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Query { pairs }
    }

    /// The last non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    pub fn opt_int(&self, name: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.parse::<i64>() {
            Ok(n) if n >= min && n <= max => Ok(Some(n)),
            _ if max == i64::MAX => Err(ApiError::bad(name, format!("must be an integer >= {min}"))),
            _ => Err(ApiError::bad(name, format!("must be an integer in {min}..{max}"))),
        }
    }

    pub fn req_int(&self, name: &str, min: i64, max: i64) -> ApiResult<i64> {
        self.opt_int(name, min, max)?.ok_or_else(|| ApiError::bad(name, "is required"))
    }

    pub fn opt_bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad(name, "must be true or false")),
        }
    }

    pub fn opt_time(&self, name: &str) -> ApiResult<Option<OffsetDateTime>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => crate::clock::parse(v).map(Some).ok_or_else(|| ApiError::bad(name, "must be an RFC 3339 date-time")),
        }
    }

    /// `offset` (required, >= 0) and `limit` (required, 1..200).
    pub fn page(&self) -> ApiResult<(usize, usize)> {
        let offset = self.req_int("offset", 0, i64::MAX)?;
        let limit = self.req_int("limit", 1, 200)?;
        Ok((offset as usize, limit as usize))
    }
}

/// A field that may be absent, explicitly null, or set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt<T> {
    Absent,
    Null,
    Val(T),
}

impl<T> Opt<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Opt::Val(v) => Some(v),
            _ => None,
        }
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)),
        _ => None,
    }
}

/// Typed access to a JSON object body.
pub struct Body<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> Body<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Body { map }
    }

    fn field(&self, name: &str) -> Opt<&'a Value> {
        match self.map.get(name) {
            None => Opt::Absent,
            Some(Value::Null) => Opt::Null,
            Some(v) => Opt::Val(v),
        }
    }

    pub fn tri_str(&self, name: &str) -> ApiResult<Opt<&'a str>> {
        match self.field(name) {
            Opt::Val(Value::String(s)) => Ok(Opt::Val(s)),
            Opt::Val(_) => Err(ApiError::bad(name, "must be a string")),
            Opt::Null => Ok(Opt::Null),
            Opt::Absent => Ok(Opt::Absent),
        }
    }

    pub fn tri_int(&self, name: &str, min: i64) -> ApiResult<Opt<i64>> {
        match self.field(name) {
            Opt::Val(_) => Ok(Opt::Val(self.opt_int(name, min)?.expect("present"))),
            Opt::Null => Ok(Opt::Null),
            Opt::Absent => Ok(Opt::Absent),
        }
    }

    pub fn opt_str(&self, name: &str) -> ApiResult<Option<&'a str>> {
        match self.field(name) {
            Opt::Val(Value::String(s)) => Ok(Some(s)),
            Opt::Val(_) => Err(ApiError::bad(name, "must be a string")),
            _ => Ok(None),
        }
    }

    pub fn req_str(&self, name: &str) -> ApiResult<&'a str> {
        self.opt_str(name)?.ok_or_else(|| ApiError::bad(name, "is required"))
    }

    pub fn tri_bool(&self, name: &str) -> ApiResult<Opt<bool>> {
        match self.field(name) {
            Opt::Val(Value::Bool(b)) => Ok(Opt::Val(*b)),
            Opt::Val(_) => Err(ApiError::bad(name, "must be a boolean")),
            Opt::Null => Ok(Opt::Null),
            Opt::Absent => Ok(Opt::Absent),
        }
    }

    pub fn opt_bool(&self, name: &str) -> ApiResult<Option<bool>> {
        Ok(self.tri_bool(name)?.value())
    }

    pub fn req_bool(&self, name: &str) -> ApiResult<bool> {
        self.opt_bool(name)?.ok_or_else(|| ApiError::bad(name, "is required (a boolean)"))
    }

    pub fn opt_int(&self, name: &str, min: i64) -> ApiResult<Option<i64>> {
        match self.field(name) {
            Opt::Val(v) => match as_int(v) {
                Some(n) if n >= min => Ok(Some(n)),
                _ => Err(ApiError::bad(name, format!("must be an integer >= {min}"))),
            },
            _ => Ok(None),
        }
    }

    /// An array of integers (each >= `min`). `None` when absent or null.
    pub fn int_list(&self, name: &str, min: i64, non_empty: bool, unique: bool) -> ApiResult<Option<Vec<i64>>> {
        let arr = match self.field(name) {
            Opt::Val(Value::Array(a)) => a,
            Opt::Val(_) => return Err(ApiError::bad(name, "must be an array of integers")),
            _ => return Ok(None),
        };
        let mut out = Vec::with_capacity(arr.len());
        for v in arr {
            match as_int(v) {
                Some(n) if n >= min => out.push(n),
                _ => return Err(ApiError::bad(name, format!("must be an array of integers >= {min}"))),
            }
        }
        check_list(name, &out, non_empty, unique)?;
        Ok(Some(out))
    }

    pub fn req_int_list(&self, name: &str, min: i64, non_empty: bool, unique: bool) -> ApiResult<Vec<i64>> {
        self.int_list(name, min, non_empty, unique)?.ok_or_else(|| ApiError::bad(name, "is required"))
    }

    /// An array of strings. `None` when absent or null.
    pub fn str_list(&self, name: &str, non_empty: bool, unique: bool) -> ApiResult<Option<Vec<&'a str>>> {
        let arr = match self.field(name) {
            Opt::Val(Value::Array(a)) => a,
            Opt::Val(_) => return Err(ApiError::bad(name, "must be an array of strings")),
            _ => return Ok(None),
        };
        let mut out = Vec::with_capacity(arr.len());
        for v in arr {
            match v {
                Value::String(s) => out.push(s.as_str()),
                _ => return Err(ApiError::bad(name, "must be an array of strings")),
            }
        }
        check_list(name, &out, non_empty, unique)?;
        Ok(Some(out))
    }

    /// A required array of emails, `min..=max` items, each a valid address,
    /// unique (case-insensitively) when `unique`; duplicates are dropped otherwise.
    pub fn emails(&self, name: &str, min: usize, max: usize, unique: bool) -> ApiResult<Vec<String>> {
        let list = self.str_list(name, false, false)?.ok_or_else(|| ApiError::bad(name, "is required"))?;
        if list.len() < min || list.len() > max {
            return Err(ApiError::bad(name, format!("must have {min}..{max} items")));
        }
        let mut out: Vec<String> = Vec::with_capacity(list.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(list.len());
        for e in list {
            if !is_email(e) {
                return Err(ApiError::bad(name, format!("{e:?} is not a valid email")));
            }
            if !seen.insert(e.to_ascii_lowercase()) {
                if unique {
                    return Err(ApiError::bad(name, "items must be unique"));
                }
                continue;
            }
            out.push(e.to_string());
        }
        Ok(out)
    }

    pub fn opt_time(&self, name: &str) -> ApiResult<Option<OffsetDateTime>> {
        match self.opt_str(name) {
            Ok(None) => Ok(None),
            Ok(Some(s)) => crate::clock::parse(s).map(Some).ok_or_else(|| ApiError::bad(name, "must be an RFC 3339 date-time")),
            Err(_) => Err(ApiError::bad(name, "must be an RFC 3339 date-time string")),
        }
    }

    pub fn req_time(&self, name: &str) -> ApiResult<OffsetDateTime> {
        self.opt_time(name)?.ok_or_else(|| ApiError::bad(name, "is required"))
    }

    /// `direction`: `incoming` or `outgoing`.
    pub fn direction(&self) -> ApiResult<&'a str> {
        match self.req_str("direction")? {
            d @ ("incoming" | "outgoing") => Ok(d),
            _ => Err(ApiError::bad("direction", "must be one of incoming, outgoing")),
        }
    }
}

fn check_list<T: Eq + Hash>(name: &str, items: &[T], non_empty: bool, unique: bool) -> ApiResult<()> {
    if non_empty && items.is_empty() {
        return Err(ApiError::bad(name, "must not be empty"));
    }
    if unique && has_duplicates(items) {
        return Err(ApiError::bad(name, "items must be unique"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(is_email("a.b@example.com"));
        assert!(!is_email("a.b@example"));
        assert!(!is_email("a b@example.com"));
        assert!(!is_email("@example.com"));
        assert!(!is_email("nobody"));
    }

    #[test]
    fn query() {
        let q = Query::parse(Some("offset=0&limit=5&name=New%20York&x=a+b&event_names=a,b"));
        assert_eq!(q.page().unwrap(), (0, 5));
        assert_eq!(q.get("name"), Some("New York"));
        assert_eq!(q.get("x"), Some("a b"));
        assert!(Query::parse(Some("offset=0&limit=201")).page().is_err());
        assert!(Query::parse(Some("limit=2")).page().is_err());
    }
}
