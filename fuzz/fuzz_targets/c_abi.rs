//! Every C ABI entry point of bindings-c fed arbitrary bytes as parameter
//! JSON and strings. The clients point at a loopback port that refuses
//! connections (a socket bound without listening), with no retries.
//!
//! Input: byte 0 picks the entry point, byte 1 an integer argument; the rest
//! is split at NUL bytes into up to four C strings (params JSON, then the
//! operation name / method, path, query JSON / option strings).
//!
//! Invariants: never panics or aborts, never reports PT_ERR_INTERNAL (a panic
//! caught at the boundary); a failure sets `*out_error` with the same code
//! and a message and leaves `*out_json` NULL; success sets `*out_json` to
//! JSON and no error; every string and error returned is freed (LeakSanitizer
//! checks); a call that passed validation fails only to connect.
#![no_main]
// The deprecated operations are entry points too.
#![allow(deprecated)]

use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use parsec_teams_c::client::{
    pt_admin_call, pt_admin_client_request, pt_call, pt_client_request, pt_iter_free, pt_iter_new, pt_iter_next, pt_quota_status,
};
use parsec_teams_c::client::{
    pt_admin_client_free, pt_admin_client_new, pt_admin_client_options_init, pt_client_free, pt_client_new, pt_client_options_init,
};
use parsec_teams_c::status::{pt_error_free, pt_status_name};
use parsec_teams_c::{
    pt_admin_client, pt_admin_client_options, pt_client, pt_client_options, pt_error, pt_status, pt_string_free, pt_version,
};
use serde_json::Value;

type TeamsEntry = unsafe extern "C" fn(*const pt_client, *const c_char, *mut *mut c_char, *mut *mut pt_error) -> pt_status;
type AdminEntry = unsafe extern "C" fn(*const pt_admin_client, *const c_char, *mut *mut c_char, *mut *mut pt_error) -> pt_status;

include!(concat!(env!("OUT_DIR"), "/c_ops.rs"));

struct Clients {
    teams: *mut pt_client,
    admin: *mut pt_admin_client,
    base_url: CString,
    /// Keeps the port taken (bound, never listening: connections are refused).
    _port: tokio::net::TcpSocket,
}
// SAFETY: the clients are thread-safe (header contract); the fuzzer is single-threaded anyway.
unsafe impl Send for Clients {}
unsafe impl Sync for Clients {}

fn clients() -> &'static Clients {
    static C: OnceLock<Clients> = OnceLock::new();
    C.get_or_init(|| {
        let port = tokio::net::TcpSocket::new_v4().expect("socket");
        port.bind("127.0.0.1:0".parse().unwrap()).expect("bind loopback");
        let base_url = CString::new(format!("http://{}", port.local_addr().expect("addr"))).unwrap();
        let key = CString::new("tapi_fuzz.secret").unwrap();
        unsafe {
            let mut o: pt_client_options = std::mem::zeroed();
            pt_client_options_init(&mut o);
            o.api_key = key.as_ptr();
            o.base_url = base_url.as_ptr();
            o.max_retries = 0;
            o.timeout_ms = 2000;
            o.quota_pacing = 0;
            let mut err = null_mut();
            let teams = pt_client_new(&o, &mut err);
            assert!(!teams.is_null() && err.is_null(), "pt_client_new failed");
            let mut a: pt_admin_client_options = std::mem::zeroed();
            pt_admin_client_options_init(&mut a);
            a.token = key.as_ptr();
            a.base_url = base_url.as_ptr();
            a.max_retries = 0;
            a.timeout_ms = 2000;
            let admin = pt_admin_client_new(&a, &mut err);
            assert!(!admin.is_null() && err.is_null(), "pt_admin_client_new failed");
            Clients { teams, admin, base_url, _port: port }
        }
    })
}

/// Checks the out-parameters of a call against its status and frees them.
/// `sent`: the call got past validation, so only the connection can fail.
unsafe fn settle(what: &str, status: pt_status, out: *mut c_char, err: *mut pt_error) {
    let code = status as c_int;
    assert_ne!(status, pt_status::PT_ERR_INTERNAL, "{what}: internal error (a panic): {}", unsafe { message(err) });
    let name = unsafe { CStr::from_ptr(pt_status_name(code)) };
    assert!(!name.to_bytes().is_empty(), "{what}: status {code} has no name");
    if status == pt_status::PT_OK {
        assert!(err.is_null(), "{what}: PT_OK with an error");
        if !out.is_null() {
            let text = unsafe { CStr::from_ptr(out) }.to_str().expect("result is UTF-8");
            serde_json::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: result is not JSON ({e}): {text}"));
        }
    } else {
        assert!(out.is_null(), "{what}: a result with status {code}");
        assert!(!err.is_null(), "{what}: status {code} without an error");
        let e = unsafe { &*err };
        assert_eq!(e.code, status, "{what}: error code differs from the status");
        assert!(!e.message.is_null(), "{what}: error without a message");
        unsafe { CStr::from_ptr(e.message) }.to_str().expect("message is UTF-8");
        if status != pt_status::PT_ERR_VALIDATION {
            // Past validation, the refused connection is the only way to fail.
            assert!(
                matches!(status, pt_status::PT_ERR_CONNECTION | pt_status::PT_ERR_TIMEOUT),
                "{what}: unexpected status {code}: {}",
                unsafe { message(err) }
            );
        }
    }
    unsafe {
        pt_string_free(out);
        pt_error_free(err);
    }
}

unsafe fn message(err: *mut pt_error) -> String {
    if err.is_null() || unsafe { (*err).message }.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr((*err).message) }.to_string_lossy().into_owned()
}

/// Per-call `_options` may ask for retries (each waiting a backoff): keep the
/// input's other bytes, but never more than 0 retries.
fn without_retries(params: &[u8]) -> Vec<u8> {
    if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(params) {
        if let Some(Value::Object(o)) = m.get_mut("_options") {
            if o.get("max_retries").is_some_and(|r| r.as_u64().is_some_and(|n| n > 0)) {
                o.insert("max_retries".into(), Value::from(0));
                return serde_json::to_vec(&Value::Object(m)).unwrap();
            }
        }
    }
    params.to_vec()
}

fn cstr(bytes: Option<&&[u8]>) -> Option<CString> {
    bytes.map(|b| CString::new(b.to_vec()).expect("split at NUL"))
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |s| s.as_ptr())
}

fuzz_target!(|data: &[u8]| {
    let Some((&[pick, int], rest)) = data.split_first_chunk::<2>() else { return };
    let parts: Vec<&[u8]> = rest.split(|b| *b == 0).take(4).collect();
    let params = parts.first().map(|p| without_retries(p));
    let params = params.map(|p| CString::new(p).unwrap_or_default());
    let (s1, s2, s3) = (cstr(parts.get(1)), cstr(parts.get(2)), cstr(parts.get(3)));
    let c = clients();
    let (mut out, mut err) = (null_mut::<c_char>(), null_mut::<pt_error>());
    let n_fixed = 9;
    let pick = pick as usize % (TEAMS_OPS.len() + ADMIN_OPS.len() + n_fixed);
    unsafe {
        if pick < TEAMS_OPS.len() {
            let (name, f) = TEAMS_OPS[pick];
            let status = f(c.teams, ptr(&params), &mut out, &mut err);
            return settle(name, status, out, err);
        }
        let pick = pick - TEAMS_OPS.len();
        if pick < ADMIN_OPS.len() {
            let (name, f) = ADMIN_OPS[pick];
            let status = f(c.admin, ptr(&params), &mut out, &mut err);
            return settle(name, status, out, err);
        }
        match pick - ADMIN_OPS.len() {
            0 => settle("pt_call", pt_call(c.teams, ptr(&s1), ptr(&params), &mut out, &mut err), out, err),
            1 => settle("pt_admin_call", pt_admin_call(c.admin, ptr(&s1), ptr(&params), &mut out, &mut err), out, err),
            2 => {
                let status = pt_client_request(c.teams, ptr(&s1), ptr(&s2), ptr(&s3), ptr(&params), &mut out, &mut err);
                settle("pt_client_request", status, out, err)
            }
            3 => {
                let status = pt_admin_client_request(c.admin, ptr(&s1), ptr(&s2), ptr(&s3), ptr(&params), &mut out, &mut err);
                settle("pt_admin_client_request", status, out, err)
            }
            4 => {
                let mut it = null_mut();
                let status = pt_iter_new(c.teams, ptr(&s1), ptr(&params), &mut it, &mut err);
                settle("pt_iter_new", status, null_mut(), err);
                assert_eq!(it.is_null(), status != pt_status::PT_OK, "pt_iter_new: iterator and status disagree");
                if !it.is_null() {
                    err = null_mut();
                    let status = pt_iter_next(it, &mut out, &mut err);
                    settle("pt_iter_next", status, out, err);
                    pt_iter_free(it);
                }
            }
            5 => {
                // Options from the input; the client is made and freed, never used for a call.
                let mut o: pt_client_options = std::mem::zeroed();
                pt_client_options_init(&mut o);
                (o.api_key, o.team_id, o.base_url) = (ptr(&params), ptr(&s1), ptr(&s2));
                o.timeout_ms = int as i64 - 128;
                o.max_retries = int as c_int - 128;
                o.quota_limit = int as c_int;
                let client = pt_client_new(&o, &mut err);
                assert_eq!(client.is_null(), !err.is_null(), "pt_client_new: client and error disagree");
                if client.is_null() {
                    settle("pt_client_new", (*err).code, null_mut(), err);
                } else {
                    let status = pt_quota_status(client, &mut out, &mut err);
                    assert_eq!(status, pt_status::PT_OK, "pt_quota_status: {}", message(err));
                    settle("pt_quota_status", status, out, err);
                    pt_client_free(client);
                }
            }
            6 => {
                let mut o: pt_admin_client_options = std::mem::zeroed();
                pt_admin_client_options_init(&mut o);
                (o.token, o.base_url) = (ptr(&params), ptr(&s1));
                o.version = if int == 0 { 0 } else { o.version };
                let client = pt_admin_client_new(&o, &mut err);
                assert_eq!(client.is_null(), !err.is_null(), "pt_admin_client_new: client and error disagree");
                if client.is_null() {
                    settle("pt_admin_client_new", (*err).code, null_mut(), err);
                }
                pt_admin_client_free(client);
            }
            7 => {
                // NULL arguments where the header allows none: a validation error, never a crash.
                let status = TEAMS_OPS[int as usize % TEAMS_OPS.len()].1(null(), ptr(&params), &mut out, &mut err);
                assert_eq!(status, pt_status::PT_ERR_VALIDATION);
                settle("NULL client", status, out, err);
                let status = pt_call(c.teams, ptr(&s1), ptr(&params), null_mut(), &mut err);
                assert_eq!(status, pt_status::PT_ERR_VALIDATION);
                settle("NULL out_json", status, null_mut(), err);
            }
            _ => {
                let name = pt_status_name(int as c_int - 128);
                assert!(!name.is_null() && !CStr::from_ptr(name).to_bytes().is_empty());
                assert_eq!(CStr::from_ptr(pt_version()).to_str(), Ok(parsec_teams::VERSION));
                let _ = &c.base_url;
            }
        }
    }
});
