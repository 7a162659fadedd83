//! The error struct and the core's `ErrorKind` mapped to the status codes
//! (generated into `status_codes` from the description's error tree) in ONE
//! exhaustive function ([`status_of`]).

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use parsec_teams::{Error, ErrorKind};

use crate::status_codes::STATUS_NAMES;

pub use crate::status_codes::pt_status;

/// The one mapping from the core's error kinds to C status codes. Exhaustive
/// on purpose: a new kind in the core fails to compile here.
pub fn status_of(kind: ErrorKind) -> pt_status {
    match kind {
        ErrorKind::Validation => pt_status::PT_ERR_VALIDATION,
        ErrorKind::BadRequest => pt_status::PT_ERR_BAD_REQUEST,
        ErrorKind::Authentication => pt_status::PT_ERR_AUTHENTICATION,
        ErrorKind::PermissionDenied => pt_status::PT_ERR_PERMISSION_DENIED,
        ErrorKind::NotFound => pt_status::PT_ERR_NOT_FOUND,
        ErrorKind::Conflict => pt_status::PT_ERR_CONFLICT,
        ErrorKind::Unprocessable => pt_status::PT_ERR_UNPROCESSABLE,
        ErrorKind::RateLimited => pt_status::PT_ERR_RATE_LIMITED,
        ErrorKind::Server => pt_status::PT_ERR_SERVER,
        ErrorKind::Api => pt_status::PT_ERR_API,
        ErrorKind::Connection => pt_status::PT_ERR_CONNECTION,
        ErrorKind::Timeout => pt_status::PT_ERR_TIMEOUT,
        ErrorKind::Decode => pt_status::PT_ERR_DECODE,
        ErrorKind::Internal => pt_status::PT_ERR_INTERNAL,
    }
}

/// Details of a failed call, allocated by the library; free it with
/// `pt_error_free`. Every string is NUL-terminated UTF-8 owned by the error.
#[repr(C)]
pub struct pt_error {
    /// The status the call returned.
    pub code: pt_status,
    /// The HTTP status of the answer, or 0 when there was none.
    pub http_status: c_int,
    /// The message, never NULL: the server's `message` for an HTTP error (e.g.
    /// `"Unauthorized"`), else what the SDK found wrong (for `PT_ERR_VALIDATION`
    /// `"<field>: <what is wrong>"`). The whole description, with the HTTP
    /// status, method, path, retries and request id, is `description`. Never
    /// contains the API key.
    pub message: *mut c_char,
    /// The `x-request-id` of the (last) response, or NULL.
    pub request_id: *mut c_char,
    /// Seconds the server asked to wait (`Retry-After`) or the client-side
    /// quota wait; negative when there is none.
    pub retry_after: f64,
    /// Whether sending the same request again later could succeed and is safe.
    pub retryable: bool,
    /// True when a non-idempotent request may have reached the server and acted
    /// (a timeout or a reset after sending, or a 5xx).
    pub may_have_been_applied: bool,
    /// How many retries were made before giving up.
    pub retries_taken: u32,
    /// For `PT_ERR_VALIDATION`: the parameter at fault (e.g. `"limit"`,
    /// `"params_json"`, `"_options.timeout_ms"`), or NULL.
    pub field: *mut c_char,
    /// The raw response body of an HTTP error (at most 8 KiB), or NULL.
    pub body: *mut c_char,
    /// For `PT_ERR_VALIDATION` (always set then): the machine-readable name of
    /// the rule broken (`"range"`, `"required"`, `"enum"`, `"dot_segment"`,
    /// `"depth"`...); NULL for other errors. Added after `body`: the library
    /// allocates every `pt_error`, so a program built against the older
    /// header reads its fields at the same offsets.
    pub rule: *mut c_char,
    /// The whole human-readable description, never NULL: `message` with the
    /// HTTP status, method, path, retries and request id (what `message` held
    /// before `rule` and `description` were added). Never contains the API key.
    pub description: *mut c_char,
}

/// A C string from Rust text; interior NULs (impossible in valid messages, but
/// a server could send `\u0000`) become U+FFFD instead of failing.
pub(crate) fn c_string(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default(),
    }
}

fn c_opt(s: Option<&str>) -> *mut c_char {
    s.map_or(ptr::null_mut(), |s| c_string(s).into_raw())
}

impl pt_error {
    /// The C form of a core error.
    pub(crate) fn from_error(e: &Error) -> pt_error {
        pt_error {
            code: status_of(e.kind()),
            http_status: e.status().map_or(0, c_int::from),
            message: c_string(e.message()).into_raw(),
            request_id: c_opt(e.request_id()),
            retry_after: e.retry_after().unwrap_or(-1.0),
            retryable: e.retryable(),
            may_have_been_applied: e.may_have_been_applied(),
            retries_taken: e.retries_taken(),
            field: c_opt(e.field()),
            body: c_opt(e.body()),
            rule: c_opt(e.rule()),
            description: c_string(&e.to_string()).into_raw(),
        }
    }
}

unsafe fn free_c(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: every string of a pt_error came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Frees an error and its strings. NULL is fine; never free one twice.
#[no_mangle]
pub unsafe extern "C" fn pt_error_free(error: *mut pt_error) {
    if error.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `error` came from `Box::into_raw` in this library (the header's contract).
        let e = unsafe { Box::from_raw(error) };
        unsafe {
            free_c(e.message);
            free_c(e.request_id);
            free_c(e.field);
            free_c(e.body);
            free_c(e.rule);
            free_c(e.description);
        }
    }));
}

/// The name of a status code (`"PT_ERR_NOT_FOUND"`), a static string: do not
/// free it. Unknown values give `"PT_ERR_UNKNOWN"`. Takes an `int` so that any
/// value is safe to pass.
#[no_mangle]
pub extern "C" fn pt_status_name(status: c_int) -> *const c_char {
    let name = usize::try_from(status).ok().and_then(|i| STATUS_NAMES.get(i)).copied().unwrap_or(c"PT_ERR_UNKNOWN");
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn status_names_match_the_enum() {
        let all = [
            pt_status::PT_OK,
            pt_status::PT_ERR_VALIDATION,
            pt_status::PT_ERR_BAD_REQUEST,
            pt_status::PT_ERR_AUTHENTICATION,
            pt_status::PT_ERR_PERMISSION_DENIED,
            pt_status::PT_ERR_NOT_FOUND,
            pt_status::PT_ERR_CONFLICT,
            pt_status::PT_ERR_UNPROCESSABLE,
            pt_status::PT_ERR_RATE_LIMITED,
            pt_status::PT_ERR_SERVER,
            pt_status::PT_ERR_API,
            pt_status::PT_ERR_CONNECTION,
            pt_status::PT_ERR_TIMEOUT,
            pt_status::PT_ERR_DECODE,
            pt_status::PT_ERR_INTERNAL,
        ];
        for (i, s) in all.iter().enumerate() {
            assert_eq!(*s as c_int, i as c_int);
            let name = unsafe { CStr::from_ptr(pt_status_name(*s as c_int)) };
            assert_eq!(name.to_str().unwrap(), format!("{s:?}"));
        }
        let unknown = unsafe { CStr::from_ptr(pt_status_name(99)) };
        assert_eq!(unknown.to_str().unwrap(), "PT_ERR_UNKNOWN");
    }

    #[test]
    fn http_kinds_map_from_their_status() {
        for (code, want) in [
            (400, pt_status::PT_ERR_BAD_REQUEST),
            (401, pt_status::PT_ERR_AUTHENTICATION),
            (403, pt_status::PT_ERR_PERMISSION_DENIED),
            (404, pt_status::PT_ERR_NOT_FOUND),
            (409, pt_status::PT_ERR_CONFLICT),
            (422, pt_status::PT_ERR_UNPROCESSABLE),
            (429, pt_status::PT_ERR_RATE_LIMITED),
            (500, pt_status::PT_ERR_SERVER),
            (503, pt_status::PT_ERR_SERVER),
            (405, pt_status::PT_ERR_API),
        ] {
            assert_eq!(status_of(ErrorKind::from_status(code)), want, "{code}");
        }
    }

    #[test]
    fn nul_bytes_in_messages_are_replaced() {
        assert_eq!(c_string("a\0b").to_str().unwrap(), "a\u{FFFD}b");
    }
}
