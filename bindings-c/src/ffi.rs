//! The boundary: the panic guard every entry point runs in, conversions of C
//! pointers and strings, and calls into the core's shared runtime.

use std::ffi::{c_char, CStr, CString};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;

use parsec_teams::options;
use parsec_teams::runtime::shared_runtime;
use parsec_teams::validate::parse_json_text;
use parsec_teams::{Error, RequestOptions, Result};
use serde_json::{Map, Value};

use crate::status::{pt_error, pt_status};

/// Runs `f` with panics caught, clears `*out_error` first, and on failure
/// stores a `pt_error` there (when `out_error` is not NULL). Returns the
/// value or the status code of the failure.
pub(crate) fn guard<T>(out_error: *mut *mut pt_error, f: impl FnOnce() -> Result<T>) -> std::result::Result<T, pt_status> {
    if !out_error.is_null() {
        // SAFETY: a non-NULL `out_error` points to writable storage (header contract).
        unsafe { *out_error = ptr::null_mut() };
    }
    let error = match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => return Ok(v),
        Ok(Err(e)) => pt_error::from_error(&e),
        Err(payload) => pt_error::from_error(&Error::from_panic(payload)),
    };
    let code = error.code;
    if out_error.is_null() {
        // Nobody wants the details: free them now.
        // SAFETY: `error` was built just above and is owned here.
        unsafe { crate::status::pt_error_free(Box::into_raw(Box::new(error))) };
    } else {
        // SAFETY: as above.
        unsafe { *out_error = Box::into_raw(Box::new(error)) };
    }
    Err(code)
}

/// [`guard`] for entry points that return a `pt_status`.
pub(crate) fn guard_status(out_error: *mut *mut pt_error, f: impl FnOnce() -> Result<()>) -> pt_status {
    match guard(out_error, f) {
        Ok(()) => pt_status::PT_OK,
        Err(code) => code,
    }
}

/// Sets a non-NULL out-pointer to NULL before anything else happens, so the
/// caller never sees garbage whatever the outcome.
/// Drops a box this library handed out with `Box::into_raw`; NULL is a no-op
/// and a panic in a destructor never crosses the boundary.
///
/// # Safety
/// `p` is NULL or came from `Box::into_raw` here and is not used afterwards.
pub(crate) unsafe fn free_box<T>(p: *mut T) {
    if p.is_null() {
        return;
    }
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's contract.
        drop(unsafe { Box::from_raw(p) });
    }));
}

/// Takes a reference on a client handed out with `Arc::into_raw` for the
/// length of one call, so that `pt_*_free` on another thread meanwhile only
/// drops the caller's reference: the client lives until the call returns.
///
/// # Safety
/// `p` is NULL or came from `Arc::into_raw` here, and its last reference has
/// not been released before this call began (the header's rule).
pub(crate) unsafe fn hold<T>(p: *const T, field: &str) -> Result<Arc<T>> {
    non_null(p, field)?;
    // SAFETY: the caller's contract: `p` is a live `Arc<T>` pointer.
    unsafe {
        Arc::increment_strong_count(p);
        Ok(Arc::from_raw(p))
    }
}

/// Releases the reference `Arc::into_raw` handed out; NULL is a no-op and a
/// panic in a destructor never crosses the boundary.
///
/// # Safety
/// `p` is NULL or came from `Arc::into_raw` here and is released only once.
pub(crate) unsafe fn release<T>(p: *mut T) {
    if p.is_null() {
        return;
    }
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller's contract.
        drop(unsafe { Arc::from_raw(p.cast_const()) });
    }));
}

pub(crate) fn clear_out<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: a non-NULL out-pointer points to writable storage (header contract).
        unsafe { *out = ptr::null_mut() };
    }
}

/// Fails with a validation error naming `field` when `p` is NULL.
pub(crate) fn non_null<T>(p: *const T, field: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::validation(field, "must not be NULL"))
    } else {
        Ok(())
    }
}

/// A NUL-terminated C string as UTF-8 text; NULL gives `None`.
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, field: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: a non-NULL string argument is NUL-terminated (header contract).
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes
        .to_str()
        .map(Some)
        .map_err(|e| Error::validation(field, format!("must be valid UTF-8 (invalid byte at offset {})", e.valid_up_to())))
}

/// A required C string.
pub(crate) unsafe fn req_str<'a>(p: *const c_char, field: &str) -> Result<&'a str> {
    non_null(p, field)?;
    // SAFETY: forwarded contract.
    unsafe { opt_str(p, field) }.map(|s| s.unwrap_or_default())
}

/// An optional C string as an owned `String`.
pub(crate) unsafe fn opt_string(p: *const c_char, field: &str) -> Result<Option<String>> {
    // SAFETY: forwarded contract.
    Ok(unsafe { opt_str(p, field) }?.map(str::to_owned))
}

/// The parameters of a call: NULL, an empty string and `null` mean none; any
/// other value must be a JSON object.
pub(crate) unsafe fn parse_params(p: *const c_char) -> Result<Map<String, Value>> {
    // SAFETY: forwarded contract.
    let Some(text) = unsafe { opt_str(p, "params_json") }? else {
        return Ok(Map::new());
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    // Nested up to the core's bound, so a parameter deeper than the
    // contract's 128 levels reaches the core's check, which names it.
    match parse_json_text(text, "params_json")? {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        other => Err(Error::validation("params_json", format!("must be a JSON object of parameters, got {}", json_type(&other)))),
    }
}

pub(crate) use parsec_teams::validate::json_type;

/// Removes `"_options"` from the parameters and converts it into per-call
/// overrides: `{"timeout_ms": n, "max_retries": n}` (either may be left out or null).
pub(crate) fn take_options(args: &mut Map<String, Value>) -> Result<Option<RequestOptions>> {
    let opts = match args.remove("_options") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(Error::validation(
                "_options",
                format!("must be an object {{\"timeout_ms\", \"max_retries\"}}, got {}", json_type(&other)),
            ))
        }
    };
    let mut out = RequestOptions::default();
    for (key, value) in opts {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            // The ranges of the client options, checked by the core (fields `timeout`, `max_retries`).
            "timeout_ms" => {
                let ms = value
                    .as_f64()
                    .ok_or_else(|| Error::validation("_options.timeout_ms", "must be a number of milliseconds").with_rule("type"))?;
                out.timeout = Some(options::duration_value("timeout", ms / 1000.0)?);
            }
            "max_retries" => {
                let n =
                    value.as_i64().ok_or_else(|| Error::validation("_options.max_retries", "must be a whole number").with_rule("type"))?;
                out.max_retries = Some(options::int_value("max_retries", n)?);
            }
            other => {
                return Err(Error::validation(format!("_options.{other}"), "unknown per-call option (expected timeout_ms or max_retries)"))
            }
        }
    }
    Ok(Some(out))
}

/// Stores JSON `text` (which holds no NUL byte: raw control characters are
/// invalid in JSON text) in `*out` (which must not be NULL).
pub(crate) fn write_text(out: *mut *mut c_char, text: &str) -> Result<()> {
    let text = CString::new(text).unwrap_or_default();
    // SAFETY: the callers checked `out` for NULL (header contract for the rest).
    unsafe { *out = text.into_raw() };
    Ok(())
}

/// Stores `value` as a JSON string in `*out` (which must not be NULL).
pub(crate) fn write_json(out: *mut *mut c_char, value: &Value) -> Result<()> {
    let mut text = Vec::with_capacity(512);
    serde_json::to_writer(&mut text, value).expect("a JSON value always serializes");
    // serde_json escapes U+0000 as \u0000, so the text holds no NUL byte.
    let text = CString::new(text).unwrap_or_default();
    // SAFETY: the callers checked `out` for NULL (header contract for the rest).
    unsafe { *out = text.into_raw() };
    Ok(())
}

/// Runs a future of the core to completion on the core's shared runtime
/// (`parsec_teams::runtime`: its worker threads, its fork handling), blocking
/// the calling thread only.
pub(crate) fn block_on<F: Future>(f: F) -> Result<F::Output> {
    Ok(shared_runtime()?.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_pt_err_internal_with_the_core_message() {
        let mut err: *mut pt_error = ptr::null_mut();
        let prev = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let code = guard_status(&mut err, || -> Result<()> { panic!("boom") });
        panic::set_hook(prev);
        assert_eq!(code, pt_status::PT_ERR_INTERNAL);
        assert!(!err.is_null());
        let e = unsafe { &*err };
        assert_eq!(e.code, pt_status::PT_ERR_INTERNAL);
        let msg = unsafe { CStr::from_ptr(e.message) }.to_str().unwrap();
        assert_eq!(msg, "internal error in parsec-teams (please report it): boom");
        unsafe { crate::status::pt_error_free(err) };
    }

    #[test]
    fn a_null_error_pointer_is_fine() {
        let code = guard_status(ptr::null_mut(), || Err(Error::validation("x", "must be something")));
        assert_eq!(code, pt_status::PT_ERR_VALIDATION);
    }

    #[test]
    fn options_are_checked() {
        let mut args: Map<String, Value> = serde_json::from_str(r#"{"_options": {"timeout_ms": 250, "max_retries": 0}, "a": 1}"#).unwrap();
        let o = take_options(&mut args).unwrap().unwrap();
        assert_eq!(o.timeout, Some(std::time::Duration::from_millis(250)));
        assert_eq!(o.max_retries, Some(0));
        assert!(!args.contains_key("_options"));
        for bad in [
            r#"{"_options": 3}"#,
            r#"{"_options": {"timeout_ms": -1}}"#,
            r#"{"_options": {"max_retries": 1.5}}"#,
            r#"{"_options": {"retries": 1}}"#,
        ] {
            let mut args: Map<String, Value> = serde_json::from_str(bad).unwrap();
            let e = take_options(&mut args).unwrap_err();
            assert!(e.field().unwrap().starts_with("_options") || e.rule() == Some("range"), "{bad}");
        }
    }
}
