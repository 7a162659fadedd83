//! Arbitrary response bodies as pages: the core's result decoding for every
//! result kind of the table, and its paginator walking a list over real HTTP
//! (a loopback server in this process serves the bodies one per request).
//!
//! Input: byte 0 picks the list operation; the rest is split at NUL bytes
//! into the bodies of successive pages (at most 6; every later request gets
//! `{"data": []}`).
//!
//! Invariants: never panics; a decoded page holds exactly the items serde_json
//! finds under `"data"`, and a page serde_json reads as `{"data": [...],
//! "count": n}` (an audit-log page: `"next_cursor": "..."`, any `count`) is
//! decoded; typed models keep every non-null field of an item
//! as it was (timestamps aside); the paginator returns exactly the items
//! of the bodies it was served, in order, asks for the next offset (items so
//! far) or the last `next_cursor`, stops after an empty page, and fails only
//! with an error that is not internal (a decode error only for a body
//! serde_json cannot read as a page either).
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use parsec_teams::pagination::Paginator;
use parsec_teams::spec::{Model, Paginate, ResultKind, OPERATIONS};
use parsec_teams::{
    AccessRight, AppRule, Caller, Client, ClientOptions, Credits, ErrorKind, Event, EventPage, Group, GuestInvite, Machine, Member,
    MemberInvite, Page, QuotaConfig, RawResponse, Team,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAX_PAGES: usize = 6;
const EMPTY_PAGE: &[u8] = br#"{"data": []}"#;

#[derive(Default)]
struct Served {
    bodies: Vec<Vec<u8>>,
    /// The request target (path and query) of each request, in order.
    requests: Vec<String>,
}

struct Harness {
    rt: tokio::runtime::Runtime,
    caller: Caller,
    served: Arc<Mutex<Served>>,
}

/// Answers every request on a connection with the next body, keep-alive.
async fn serve_connection(mut sock: tokio::net::TcpStream, served: Arc<Mutex<Served>>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
        let body = {
            let mut s = served.lock().unwrap();
            let body = s.bodies.get(s.requests.len()).cloned().unwrap_or_else(|| EMPTY_PAGE.to_vec());
            s.requests.push(target);
            body
        };
        let mut out = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(&body);
        if sock.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let served = Arc::new(Mutex::new(Served::default()));
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind loopback");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let s = served.clone();
        rt.spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve_connection(sock, s.clone()));
            }
        });
        let client = Client::new(
            ClientOptions::new()
                .api_key("tapi_fuzz.secret")
                .base_url(base_url)
                .max_retries(0)
                .timeout(Duration::from_secs(10))
                .quota(QuotaConfig { enabled: false, ..QuotaConfig::default() }),
        )
        .expect("client");
        Harness { rt, caller: client.caller().clone(), served }
    })
}

fn raw(body: &[u8]) -> RawResponse {
    RawResponse { status: 200, headers: Default::default(), request_id: None, retries_taken: 0, data: bytes::Bytes::copy_from_slice(body) }
}

/// What serde_json reads as the page's items: `Some` when the body is a JSON
/// object (a blank body counts as `{}`) whose `data` is absent or an array and
/// whose own page field is absent, null or of its type: `count` a non-negative
/// integer for offset pages, `next_cursor` a string for cursor pages (the
/// other kind's field is an unknown one).
fn reference_items(body: &[u8], kind: Paginate) -> Option<Vec<Value>> {
    // As the core reads bodies: blank text (Unicode whitespace, as `str::trim` sees it) is `{}`.
    let blank = std::str::from_utf8(body).is_ok_and(|t| t.trim().is_empty());
    let v: Value = if blank { Value::Object(Map::new()) } else { serde_json::from_slice(body).ok()? };
    let obj = v.as_object()?;
    let field_ok = match kind {
        Paginate::Cursor => obj.get("next_cursor").is_none_or(|c| c.is_null() || c.is_string()),
        _ => obj.get("count").is_none_or(|c| c.is_null() || c.is_u64()),
    };
    if !field_ok {
        return None;
    }
    match obj.get("data") {
        None => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.clone()),
        Some(_) => None,
    }
}

/// A typed item keeps every non-null field of the JSON item (timestamps may be dropped).
fn check_model<T: Serialize>(typed: &T, item: &Value) {
    let out = serde_json::to_value(typed).expect("a model serializes");
    let (out, item) = (out.as_object().expect("a model is an object"), item.as_object().expect("a typed item was an object"));
    for (k, v) in item {
        if v.is_null() || k.ends_with("_at") {
            continue;
        }
        assert_eq!(out.get(k), Some(v), "field {k} changed in decoding");
    }
}

fn check_typed_page<T: DeserializeOwned + Serialize>(body: &[u8], kind: ResultKind, items: Option<&[Value]>) {
    if let Ok(page) = raw(body).decode::<Page<T>>(kind) {
        let items = items.expect("a typed page decoded where serde_json finds none");
        assert_eq!(page.data.len(), items.len(), "typed page length");
        page.data.iter().zip(items).for_each(|(t, v)| check_model(t, v));
    }
}

fn check_typed_one<T: DeserializeOwned + Serialize>(body: &[u8], kind: ResultKind) {
    if let Ok(t) = raw(body).decode::<T>(kind) {
        let whole = raw(body).decode::<Value>(kind).expect("decodes typed but not as JSON");
        if whole.is_object() {
            check_model(&t, &whole);
        }
    }
}

/// Decodes `body` as every result kind of the table.
fn check_decoding(body: &[u8]) {
    let items = reference_items(body, Paginate::Offset);
    let page = raw(body).decode::<Page<Value>>(ResultKind::Page(Model::Member));
    match (&page, &items) {
        (Ok(p), Some(items)) => assert_eq!(&p.data, items, "page items differ from serde_json's"),
        (Ok(p), None) => panic!("decoded a page serde_json cannot read as one: {:?}", p.data),
        (Err(e), Some(_)) => panic!("refused a page serde_json reads ({}): {:?}", e.message(), String::from_utf8_lossy(body)),
        (Err(e), None) => assert_eq!(e.kind(), ErrorKind::Decode, "{}", e.message()),
    }
    let items = items.as_deref();
    let mut kinds: Vec<ResultKind> = Vec::new();
    for op in OPERATIONS {
        if !kinds.contains(&op.result) {
            kinds.push(op.result);
        }
    }
    for kind in kinds {
        if let Err(e) = raw(body).decode::<Value>(kind) {
            assert_eq!(e.kind(), ErrorKind::Decode, "{}", e.message());
        }
        match kind {
            ResultKind::Page(Model::Member) => check_typed_page::<Member>(body, kind, items),
            ResultKind::Page(Model::Group) => check_typed_page::<Group>(body, kind, items),
            ResultKind::Page(Model::Machine) => check_typed_page::<Machine>(body, kind, items),
            ResultKind::Page(Model::GuestInvite) => check_typed_page::<GuestInvite>(body, kind, items),
            ResultKind::Page(Model::MemberInvite) => check_typed_page::<MemberInvite>(body, kind, items),
            ResultKind::Page(Model::AppRule) => check_typed_page::<AppRule>(body, kind, items),
            ResultKind::EventPage => {
                if let Ok(page) = raw(body).decode::<EventPage>(kind) {
                    let items = reference_items(body, Paginate::Cursor).expect("an event page decoded where serde_json finds none");
                    assert_eq!(page.data.len(), items.len());
                    page.data.iter().zip(&items).for_each(|(t, v)| check_model(t, v));
                }
            }
            ResultKind::Credits => check_typed_one::<Credits>(body, kind),
            ResultKind::Data(Model::Member) | ResultKind::Object(Model::Member) => check_typed_one::<Member>(body, kind),
            ResultKind::Data(Model::Group) => check_typed_one::<Group>(body, kind),
            ResultKind::Data(Model::Machine) => check_typed_one::<Machine>(body, kind),
            ResultKind::Data(Model::GuestInvite) => check_typed_one::<GuestInvite>(body, kind),
            ResultKind::Data(Model::Event) => check_typed_one::<Event>(body, kind),
            ResultKind::Object(Model::Team) | ResultKind::Data(Model::Team) => check_typed_one::<Team>(body, kind),
            ResultKind::List(Model::Team) => drop(raw(body).decode::<Vec<Team>>(kind)),
            ResultKind::List(Model::AccessRight) => drop(raw(body).decode::<Vec<AccessRight>>(kind)),
            _ => drop(raw(body).decode::<Value>(kind)),
        }
    }
}

fn query_value(target: &str, name: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

fn body_at(bodies: &[Vec<u8>], i: usize) -> &[u8] {
    bodies.get(i).map(Vec::as_slice).unwrap_or(EMPTY_PAGE)
}

/// Same length, same first and last 512 bytes.
fn same_ends(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(512);
    a.len() == b.len() && a[..n] == b[..n] && a[a.len() - n..] == b[b.len() - n..]
}

fn check_pagination(op_pick: u8, bodies: Vec<Vec<u8>>) {
    let lists: Vec<_> = OPERATIONS.iter().filter(|op| op.paginate != Paginate::None).collect();
    let op = lists[op_pick as usize % lists.len()];
    let h = harness();
    *h.served.lock().unwrap() = Served { bodies: bodies.clone(), requests: Vec::new() };
    let mut args = Map::new();
    if op.paginate == Paginate::Cursor {
        args.insert("limit".into(), Value::from(100)); // required by the audit log
    }
    let mut pages = Paginator::new(h.caller.clone(), op, args).expect("a list operation");
    let mut got: Vec<Value> = Vec::new();
    let mut expected: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen_cursors = std::collections::HashSet::new();
    let mut cursor_repeated = false;
    for round in 0..=MAX_PAGES + 1 {
        let result = h.rt.block_on(pages.next_page::<Value>());
        let requests = h.served.lock().unwrap().requests.clone();
        match result {
            Ok(Some(items)) => {
                assert_eq!(requests.len(), round + 1, "{}: one request per page", op.qualified_name());
                let body = body_at(&bodies, round);
                let reference = reference_items(body, op.paginate).expect("a page decoded where serde_json finds none");
                assert_eq!(items, reference, "{}: page {round}", op.qualified_name());
                let target = &requests[round];
                match op.paginate {
                    Paginate::Offset => {
                        assert_eq!(
                            query_value(target, "offset"),
                            Some(got.len().to_string()),
                            "{}: offset of page {round}",
                            op.qualified_name()
                        );
                        assert_eq!(query_value(target, "limit").as_deref(), Some("200"), "{}: {target}", op.qualified_name());
                    }
                    _ => assert_eq!(query_value(target, "cursor"), cursor, "{}: cursor of page {round}", op.qualified_name()),
                }
                let next: Option<Value> = serde_json::from_slice::<Value>(body).ok().and_then(|v| v.get("next_cursor").cloned());
                cursor = next.and_then(|c| c.as_str().map(str::to_owned)).filter(|c| !c.is_empty());
                if let Some(c) = cursor.as_ref().filter(|_| !items.is_empty()) {
                    cursor_repeated |= !seen_cursors.insert(c.clone());
                }
                expected.extend(reference);
                got.extend(items);
            }
            Ok(None) => {
                // The list ended: never with a page of items still unread, and
                // always at the latest after the first empty page.
                let served_items: Vec<Value> = requests
                    .iter()
                    .enumerate()
                    .flat_map(|(i, _)| reference_items(body_at(&bodies, i), op.paginate).unwrap_or_default())
                    .collect();
                assert_eq!(got, served_items, "{}: items of the pages served", op.qualified_name());
                assert!(requests.len() <= bodies.len() + 1, "{}: asked past an empty page", op.qualified_name());
                break;
            }
            Err(e) => {
                assert_ne!(e.kind(), ErrorKind::Internal, "{}: {}", op.qualified_name(), e.message());
                let Some(last) = requests.len().checked_sub(1) else {
                    panic!("{}: failed before any request: {:?} {}", op.qualified_name(), e.kind(), e.message())
                };
                if e.kind() == ErrorKind::Decode && reference_items(body_at(&bodies, last), op.paginate).is_some() {
                    // A readable page may only end the walk as a loop: offset pages
                    // whose bytes repeat the previous page's (the core compares the
                    // length and the first and last 512 bytes), or a next_cursor
                    // sent before.
                    let looped = match op.paginate {
                        Paginate::Offset => last > 0 && same_ends(body_at(&bodies, last - 1), body_at(&bodies, last)),
                        _ => cursor_repeated,
                    };
                    assert!(looped, "{}: decode error on a readable page: {}", op.qualified_name(), e.message());
                }
                break;
            }
        }
        assert!(round <= MAX_PAGES, "{}: pagination went on past an empty page", op.qualified_name());
    }
    assert_eq!(got, expected);
}

fuzz_target!(|data: &[u8]| {
    let Some((&op_pick, rest)) = data.split_first() else { return };
    let bodies: Vec<Vec<u8>> = rest.split(|b| *b == 0).take(MAX_PAGES).map(<[u8]>::to_vec).collect();
    for body in &bodies {
        check_decoding(body);
    }
    check_pagination(op_pick, bodies);
});
