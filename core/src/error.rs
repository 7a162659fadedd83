//! The one error type of the SDK. Every binding maps [`ErrorKind`] to its own
//! classes in exactly one function.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::task::Poll;

/// What went wrong, one variant per error class of the API contract.
/// Not `non_exhaustive` on purpose: a binding that maps every kind fails to
/// compile when a kind is added, instead of mapping it wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A bad argument or configuration, caught before any request was sent.
    Validation,
    /// HTTP 400.
    BadRequest,
    /// HTTP 401.
    Authentication,
    /// HTTP 403.
    PermissionDenied,
    /// HTTP 404.
    NotFound,
    /// HTTP 409.
    Conflict,
    /// HTTP 422.
    Unprocessable,
    /// HTTP 429 from the server, or a client-side quota wait longer than `max_retry_wait`.
    RateLimited,
    /// HTTP 500 and above.
    Server,
    /// Any other unsuccessful HTTP status.
    Api,
    /// The connection could not be made or broke.
    Connection,
    /// The request timed out (a kind of connection error).
    Timeout,
    /// The response body could not be decoded.
    Decode,
    /// A defect inside the SDK (a caught panic). Not an API error: the class
    /// `InternalError` is a direct child of `ParsecError`.
    Internal,
}

impl ErrorKind {
    /// The error class for an unsuccessful HTTP status.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            422 => ErrorKind::Unprocessable,
            429 => ErrorKind::RateLimited,
            s if s >= 500 => ErrorKind::Server,
            _ => ErrorKind::Api,
        }
    }

    /// The class name used by the Python and Node packages.
    pub const fn class_name(self) -> &'static str {
        match self {
            ErrorKind::Validation => "ValidationError",
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Conflict => "ConflictError",
            ErrorKind::Unprocessable => "UnprocessableEntityError",
            ErrorKind::RateLimited => "RateLimitError",
            ErrorKind::Server => "InternalServerError",
            ErrorKind::Api => "APIStatusError",
            ErrorKind::Connection => "APIConnectionError",
            ErrorKind::Timeout => "APITimeoutError",
            ErrorKind::Decode => "APIResponseError",
            ErrorKind::Internal => "InternalError",
        }
    }

    /// A stable, machine-readable code (the Node package's `error.code`).
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation_error",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unprocessable => "unprocessable_entity",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "internal_server_error",
            ErrorKind::Api => "api_status_error",
            ErrorKind::Connection => "connection_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Decode => "response_decode_error",
            ErrorKind::Internal => "internal_error",
        }
    }

    /// True for the kinds that carry an HTTP status.
    pub const fn is_http(self) -> bool {
        matches!(
            self,
            ErrorKind::BadRequest
                | ErrorKind::Authentication
                | ErrorKind::PermissionDenied
                | ErrorKind::NotFound
                | ErrorKind::Conflict
                | ErrorKind::Unprocessable
                | ErrorKind::RateLimited
                | ErrorKind::Server
                | ErrorKind::Api
        )
    }
}

/// One class of the error tree, the same in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClass {
    /// The class name (Python and Node).
    pub name: &'static str,
    /// The parent class (`None` for the root, `ParsecError`).
    pub parent: Option<&'static str>,
    /// The kind a raised error of exactly this class has (`None` for the
    /// abstract classes `ParsecError` and `APIError`).
    pub kind: Option<ErrorKind>,
    /// The HTTP statuses mapped to this class: exact ones, and for
    /// `InternalServerError` every status from 500 (`status_from`).
    pub statuses: &'static [u16],
    pub status_from: Option<u16>,
    /// The C `pt_status` value and name (`None` for the abstract classes).
    pub c_status: Option<(i32, &'static str)>,
    /// The attributes this class adds to its parent's.
    pub attributes: &'static [&'static str],
    pub doc: &'static str,
}

const fn class(
    name: &'static str,
    parent: &'static str,
    kind: ErrorKind,
    statuses: &'static [u16],
    c_status: (i32, &'static str),
    doc: &'static str,
) -> ErrorClass {
    ErrorClass { name, parent: Some(parent), kind: Some(kind), statuses, status_from: None, c_status: Some(c_status), attributes: &[], doc }
}

/// The error tree, parents before children. [`ErrorKind::class_name`] names
/// the class of each kind; `c_status` is the C library's `pt_status`.
pub const ERROR_CLASSES: &[ErrorClass] = &[
    ErrorClass {
        name: "ParsecError",
        parent: None,
        kind: None,
        statuses: &[],
        status_from: None,
        c_status: None,
        attributes: &["message"],
        doc: "Every error of the SDK.",
    },
    ErrorClass {
        name: "ValidationError",
        parent: Some("ParsecError"),
        kind: Some(ErrorKind::Validation),
        statuses: &[],
        status_from: None,
        c_status: Some((1, "PT_ERR_VALIDATION")),
        attributes: &["field", "rule"],
        doc: "A bad argument or option, caught before any request was sent (Python: also a ValueError).",
    },
    ErrorClass {
        name: "APIError",
        parent: Some("ParsecError"),
        kind: None,
        statuses: &[],
        status_from: None,
        c_status: None,
        attributes: &["request_id", "retryable", "retries_taken", "may_have_been_applied"],
        doc: "A request was attempted and failed.",
    },
    ErrorClass {
        name: "APIStatusError",
        parent: Some("APIError"),
        kind: Some(ErrorKind::Api),
        statuses: &[],
        status_from: None,
        c_status: Some((10, "PT_ERR_API")),
        attributes: &["status", "body", "retry_after"],
        doc: "The server answered with an unsuccessful status (any status without a class of its own, 3xx included).",
    },
    class("BadRequestError", "APIStatusError", ErrorKind::BadRequest, &[400], (2, "PT_ERR_BAD_REQUEST"), "HTTP 400."),
    class("AuthenticationError", "APIStatusError", ErrorKind::Authentication, &[401], (3, "PT_ERR_AUTHENTICATION"), "HTTP 401."),
    class("PermissionDeniedError", "APIStatusError", ErrorKind::PermissionDenied, &[403], (4, "PT_ERR_PERMISSION_DENIED"), "HTTP 403."),
    class("NotFoundError", "APIStatusError", ErrorKind::NotFound, &[404], (5, "PT_ERR_NOT_FOUND"), "HTTP 404."),
    class("ConflictError", "APIStatusError", ErrorKind::Conflict, &[409], (6, "PT_ERR_CONFLICT"), "HTTP 409."),
    class("UnprocessableEntityError", "APIStatusError", ErrorKind::Unprocessable, &[422], (7, "PT_ERR_UNPROCESSABLE"), "HTTP 422."),
    class(
        "RateLimitError",
        "APIStatusError",
        ErrorKind::RateLimited,
        &[429],
        (8, "PT_ERR_RATE_LIMITED"),
        "HTTP 429, or a client-side quota wait longer than max_retry_wait (retry_after says how long).",
    ),
    ErrorClass {
        name: "InternalServerError",
        parent: Some("APIStatusError"),
        kind: Some(ErrorKind::Server),
        statuses: &[],
        status_from: Some(500),
        c_status: Some((9, "PT_ERR_SERVER")),
        attributes: &[],
        doc: "HTTP 500 and above.",
    },
    class("APIConnectionError", "APIError", ErrorKind::Connection, &[], (11, "PT_ERR_CONNECTION"), "No connection, or it broke."),
    class("APITimeoutError", "APIConnectionError", ErrorKind::Timeout, &[], (12, "PT_ERR_TIMEOUT"), "An attempt timed out."),
    class("APIResponseError", "APIError", ErrorKind::Decode, &[], (13, "PT_ERR_DECODE"), "The response body could not be decoded."),
    class(
        "InternalError",
        "ParsecError",
        ErrorKind::Internal,
        &[],
        (14, "PT_ERR_INTERNAL"),
        "A defect inside the SDK (a caught panic); please report it.",
    ),
];

/// Every `rule` a validation error of the core can carry, with its meaning.
pub const VALIDATION_RULES: &[(&str, &str)] = &[
    ("required", "a required parameter or option is missing"),
    ("unknown_parameter", "a parameter the operation does not take"),
    ("type", "a value of the wrong JSON type"),
    ("range", "a number outside its range"),
    ("finite", "a number that is NaN or infinite"),
    ("length", "a string of the wrong length"),
    ("enum", "a value not among the allowed ones"),
    ("email", "not an email address"),
    ("datetime", "not an RFC 3339 date-time"),
    ("ksuid", "not a KSUID"),
    ("items", "a list with too few or too many items"),
    ("unique", "a list with a repeated item"),
    ("never_both", "two parameters that may not be given together"),
    ("at_least_one", "none of parameters of which one is required"),
    ("member_or_group", "a member and a group given together"),
    ("in_future", "a date-time that must lie in the future"),
    ("time_order", "a date-time that must come after another"),
    ("show_flags", "a show_* flag true while allow_connections_within_group is false"),
    ("depth", "JSON nested too deep"),
    ("dot_segment", "a path segment . or .."),
    ("url", "a base URL or proxy that is not acceptable"),
    ("ascii", "a key, token or language with characters a header cannot carry"),
    ("json", "text that is not JSON, or a body that cannot be encoded"),
    ("unsupported", "an option the client does not take"),
    ("api", "an operation of the other API's client"),
    ("paginated", "iteration over an operation that does not return pages"),
    ("invalid", "any other check (errors made by a binding without a rule)"),
];

impl ErrorKind {
    /// This kind's class in [`ERROR_CLASSES`].
    pub fn class(self) -> &'static ErrorClass {
        ERROR_CLASSES.iter().find(|c| c.kind == Some(self)).expect("every kind has a class")
    }
}

/// An error of any call. Carries what happened to the request: whether it may
/// be retried, how many retries were taken, and whether a non-idempotent
/// request may have reached the server.
#[derive(Clone)]
pub struct Error {
    pub(crate) inner: Box<ErrorInner>,
}

#[derive(Clone, Default)]
pub(crate) struct ErrorInner {
    pub kind: Option<ErrorKind>,
    pub message: String,
    pub status: Option<u16>,
    pub body: Option<String>,
    pub request_id: Option<String>,
    pub retry_after: Option<f64>,
    pub retryable: bool,
    pub retries_taken: u32,
    pub may_have_been_applied: bool,
    pub field: Option<String>,
    pub method: Option<&'static str>,
    pub path: Option<String>,
    pub rule: Option<&'static str>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { inner: Box::new(ErrorInner { kind: Some(kind), message: message.into(), ..Default::default() }) }
    }

    /// The error for a panic caught inside the SDK (kind [`ErrorKind::Internal`]).
    /// Never panics itself, whatever the payload.
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Error {
        let text = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic without a message".to_owned()
        };
        // A payload whose destructor panics must not escape either.
        if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
        Error::new(ErrorKind::Internal, format!("internal error in parsec-teams (please report it): {text}"))
    }

    /// A validation error about `field`, saying in words which rule it
    /// breaks. Its machine-readable [`Error::rule`] is `invalid` until
    /// [`Error::with_rule`] names it: every validation error has one.
    pub fn validation(field: impl Into<String>, rule: impl fmt::Display) -> Error {
        let field = field.into();
        let mut e = Error::new(ErrorKind::Validation, format!("{field}: {rule}"));
        e.inner.field = Some(field);
        e.inner.rule = Some("invalid");
        e
    }

    /// A decode error ([`ErrorKind::Decode`], the class `APIResponseError`) for
    /// a binding that decodes part of a response itself (an item of a page
    /// straight into its language's objects): an undecodable answer is the
    /// server's fault, never a [`ErrorKind::Validation`] error.
    pub fn decode(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Decode, message)
    }

    /// Names the rule a validation error breaks, for the structural checks
    /// (`depth`, `dot_segment`); see [`Error::rule`].
    pub fn with_rule(mut self, rule: &'static str) -> Error {
        self.inner.rule = Some(rule);
        self
    }

    /// For validation errors (always set for them): a short machine-readable
    /// name of the rule broken (`required`, `type`, `range`, `length`, `enum`,
    /// `email`, `datetime`, `ksuid`, `unique`, `never_both`, `at_least_one`,
    /// `member_or_group`, `in_future`, `time_order`, `show_flags`, `depth`,
    /// `dot_segment`, `url`, ...; see [`VALIDATION_RULES`]); the message says
    /// it in words.
    pub fn rule(&self) -> Option<&str> {
        self.inner.rule
    }

    pub fn kind(&self) -> ErrorKind {
        self.inner.kind.unwrap_or(ErrorKind::Api)
    }
    /// The message: the server's `message`, or what the SDK found wrong.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
    /// The HTTP status, for errors the server answered.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }
    /// The raw response body, for errors the server answered.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }
    /// The `x-request-id` of the (last) response.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }
    /// Seconds the server asked to wait (`Retry-After`), or the client-side quota wait.
    pub fn retry_after(&self) -> Option<f64> {
        self.inner.retry_after
    }
    /// Whether sending the same request again later could succeed and is safe.
    pub fn retryable(&self) -> bool {
        self.inner.retryable
    }
    /// How many retries were made before giving up.
    pub fn retries_taken(&self) -> u32 {
        self.inner.retries_taken
    }
    /// True when a non-idempotent request may have reached the server and acted
    /// (a timeout or reset after sending, or a 5xx) in any of its attempts:
    /// a retried DELETE whose first attempt timed out stays `true` when the
    /// retry then meets 404.
    pub fn may_have_been_applied(&self) -> bool {
        self.inner.may_have_been_applied
    }
    /// For validation errors: the parameter at fault.
    pub fn field(&self) -> Option<&str> {
        self.inner.field.as_deref()
    }
    /// The HTTP method of the request, when one was made.
    pub fn method(&self) -> Option<&str> {
        self.inner.method
    }
    /// The request path (never with credentials), when one was made.
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if let Some(status) = i.status {
            write!(f, "{status} ")?;
        }
        f.write_str(&i.message)?;
        if let (Some(m), Some(p)) = (i.method, &i.path) {
            write!(f, " ({m} {p}")?;
            if i.retries_taken > 0 {
                write!(f, ", {} retries", i.retries_taken)?;
            }
            f.write_str(")")?;
        }
        if let Some(ra) = i.retry_after {
            if i.kind == Some(ErrorKind::RateLimited) {
                write!(f, " [retry after {ra}s]")?;
            }
        }
        if i.may_have_been_applied {
            f.write_str(" [the request may have been applied]")?;
        }
        if let Some(id) = &i.request_id {
            write!(f, " [request id: {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("message", &i.message)
            .field("status", &i.status)
            .field("request_id", &i.request_id)
            .field("retry_after", &i.retry_after)
            .field("retryable", &i.retryable)
            .field("retries_taken", &i.retries_taken)
            .field("may_have_been_applied", &i.may_have_been_applied)
            .field("field", &i.field)
            .field("rule", &i.rule)
            .finish()
    }
}

impl std::error::Error for Error {}

/// The SDK's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs `f`, turning a panic inside it into an [`ErrorKind::Internal`] error.
/// For the bindings' entry points: no panic reaches a caller in any language.
pub fn catch_panic_sync<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(Error::from_panic(p)))
}

/// Polls `fut` inside `catch_unwind`: a panic while polling ends the future
/// with an [`ErrorKind::Internal`] error (it is not polled again).
pub async fn catch_panic<T>(fut: impl Future<Output = Result<T>>) -> Result<T> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| match panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
        Ok(poll) => poll,
        Err(p) => Poll::Ready(Err(Error::from_panic(p))),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_tree_names_every_kind_once_with_its_status() {
        let kinds = [
            ErrorKind::Validation,
            ErrorKind::BadRequest,
            ErrorKind::Authentication,
            ErrorKind::PermissionDenied,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::Unprocessable,
            ErrorKind::RateLimited,
            ErrorKind::Server,
            ErrorKind::Api,
            ErrorKind::Connection,
            ErrorKind::Timeout,
            ErrorKind::Decode,
            ErrorKind::Internal,
        ];
        for k in kinds {
            let c = k.class();
            assert_eq!(c.name, k.class_name());
            assert_eq!(ERROR_CLASSES.iter().filter(|x| x.kind == Some(k)).count(), 1);
            for s in c.statuses {
                assert_eq!(ErrorKind::from_status(*s), k);
            }
            if let Some(from) = c.status_from {
                assert_eq!(ErrorKind::from_status(from), k);
                assert_eq!(ErrorKind::from_status(599), k);
            }
            // HTTP kinds sit under APIStatusError, the others not.
            let mut up = c.parent;
            let mut under_status = c.name == "APIStatusError";
            while let Some(p) = up {
                under_status |= p == "APIStatusError";
                up = ERROR_CLASSES.iter().find(|x| x.name == p).expect("parent listed").parent;
            }
            assert_eq!(under_status, k.is_http(), "{}", c.name);
        }
        assert_eq!(ERROR_CLASSES.iter().filter(|c| c.kind.is_some()).count(), kinds.len());
        assert_eq!(ErrorKind::from_status(418), ErrorKind::Api);
        // Parents come first.
        for (i, c) in ERROR_CLASSES.iter().enumerate() {
            if let Some(p) = c.parent {
                assert!(ERROR_CLASSES[..i].iter().any(|x| x.name == p), "{}", c.name);
            }
        }
    }

    #[test]
    fn a_binding_reports_an_undecodable_item_as_a_decode_error() {
        let e = Error::decode("undecodable item: expected value");
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert_eq!(e.kind().class_name(), "APIResponseError");
        assert_eq!((e.field(), e.rule()), (None, None));
    }

    #[test]
    fn every_validation_error_has_a_rule() {
        let e = Error::validation("x", "is odd");
        assert_eq!(e.rule(), Some("invalid"));
        assert_eq!(e.clone().with_rule("range").rule(), Some("range"));
        assert!(VALIDATION_RULES.iter().any(|(r, _)| *r == "invalid"));
    }

    #[test]
    fn panics_become_internal_errors() {
        let e = catch_panic_sync::<()>(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert_eq!(e.message(), "internal error in parsec-teams (please report it): boom 1");
        assert_eq!(e.kind().class_name(), "InternalError");
        assert!(!e.kind().is_http());
        let e = catch_panic_sync::<()>(|| std::panic::panic_any(42u8)).unwrap_err();
        assert!(e.message().ends_with("a panic without a message"), "{e}");
        assert_eq!(catch_panic_sync(|| Ok(7)).unwrap(), 7);
    }

    #[tokio::test]
    async fn panics_in_futures_become_internal_errors() {
        let e = catch_panic::<()>(async {
            tokio::task::yield_now().await;
            panic!("late")
        })
        .await
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.message().ends_with(": late"), "{e}");
        assert_eq!(catch_panic(async { Ok(3) }).await.unwrap(), 3);
    }
}
