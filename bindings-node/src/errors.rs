//! The core's error as plain data for `errors.js`. Its `code` is the core's
//! `ErrorKind::code`, the `kind` of the description's error tree, from which
//! `errors.js` (generated from docs/description.json) picks the class. The
//! JavaScript `Error` itself is created in JS (in the caller's async function),
//! so `instanceof` works and the stack points at the caller.

use napi_derive::napi;
use parsec_teams::Error;

/// An error of the core, as plain data for `errors.js`.
#[napi(object)]
pub struct ErrorRecord {
    /// The kind: a stable machine-readable code (`not_found`, `rate_limited`, ...).
    pub code: String,
    /// The message (the server's `message`, or what the SDK found wrong).
    pub message: String,
    /// The message with status, method, path and request id, for logs.
    pub display: String,
    pub status: Option<u32>,
    pub body: Option<String>,
    pub request_id: Option<String>,
    pub retry_after: Option<f64>,
    pub retryable: bool,
    pub retries_taken: u32,
    pub may_have_been_applied: bool,
    pub field: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    /// For validation errors: the rule that failed (`depth`, `dot_segment`, ...), where the core names one.
    pub rule: Option<String>,
}

impl From<&Error> for ErrorRecord {
    fn from(e: &Error) -> Self {
        ErrorRecord {
            code: e.kind().code().to_owned(),
            message: e.message().to_owned(),
            display: e.to_string(),
            status: e.status().map(u32::from),
            body: e.body().map(str::to_owned),
            request_id: e.request_id().map(str::to_owned),
            retry_after: e.retry_after(),
            retryable: e.retryable(),
            retries_taken: e.retries_taken(),
            may_have_been_applied: e.may_have_been_applied(),
            field: e.field().map(str::to_owned),
            method: e.method().map(str::to_owned),
            path: e.path().map(str::to_owned),
            rule: e.rule().map(str::to_owned),
        }
    }
}
