//! The client options of every language, declared once: their names in each
//! language, types, defaults, allowed ranges and units ([`OPTIONS`]), and the
//! one validation of the values a binding passes through
//! ([`OptionValues`] → [`ClientOptions::from_values`] /
//! [`AdminClientOptions::from_values`]).
//!
//! One rule set for every language (a binding only converts types and units):
//!
//! | option | range | default |
//! | --- | --- | --- |
//! | `timeout` | more than 0, at most 86400 s | 30 s |
//! | `max_retries` | 0 to 100 | 2 |
//! | `max_retry_wait` | 0 to 86400 s (0: never sleep through a server's wait) | 60 s |
//! | `pool_idle_timeout` | more than 0, at most 86400 s | 20 s |
//! | `quota_pacing` | true / false | true |
//! | `quota_limit` | 1 to 1000000 requests per window | 50 |
//! | `quota_window` | more than 0, at most 86400 s | 300 s |
//!
//! A value out of range is one [`ErrorKind::Validation`](crate::ErrorKind)
//! error with [`Error::field`] the canonical option name and [`Error::rule`]
//! the kind of rule broken (`range`, `finite`, `url`, ...).
//!
//! The Rust builders ([`ClientOptions::timeout`], ...) keep taking typed
//! values unchecked (a `Duration` cannot be negative; extreme values are
//! clamped by the transport); [`ClientOptions::validate`] applies the same
//! rules to them on request.

use std::time::Duration;

use crate::client::{AdminClientOptions, ClientOptions, DEFAULT_BASE_URL};
use crate::error::{Error, Result};
use crate::quota::QuotaConfig;

/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries of a retryable failure.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The most retries accepted.
pub const MAX_MAX_RETRIES: u32 = 100;
/// Default longest server-requested wait slept through.
pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// Default idle time after which a pooled connection is closed.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Default: quota pacing on.
pub const DEFAULT_QUOTA_PACING: bool = true;
/// Default requests per quota window (the service's).
pub const DEFAULT_QUOTA_LIMIT: u32 = 50;
/// The largest quota limit accepted.
pub const MAX_QUOTA_LIMIT: u32 = 1_000_000;
/// Default length of a quota window (the service's 5 minutes).
pub const DEFAULT_QUOTA_WINDOW: Duration = Duration::from_secs(300);
/// The longest duration any option accepts (a day).
pub const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// The type of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionType {
    /// Text.
    String,
    /// Text never printed, logged or put in an error.
    Secret,
    /// An absolute URL.
    Url,
    /// A whole number.
    Int,
    /// A duration; the canonical unit is seconds.
    Duration,
    /// true / false.
    Bool,
}

impl OptionType {
    /// The name used in the description.
    pub const fn as_str(self) -> &'static str {
        match self {
            OptionType::String => "string",
            OptionType::Secret => "secret",
            OptionType::Url => "url",
            OptionType::Int => "int",
            OptionType::Duration => "duration",
            OptionType::Bool => "bool",
        }
    }
}

/// A default value of an option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OptionDefault {
    /// No default: left out, the option is not used (or is required).
    None,
    /// Taken from this environment variable, else the next default.
    Env(&'static str, &'static OptionDefault),
    /// Derived from another value, as the doc says.
    Derived,
    Str(&'static str),
    Int(i64),
    /// Seconds.
    Seconds(f64),
    Bool(bool),
}

/// The allowed range of a numeric option (inclusive bounds unless `min_exclusive`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionRange {
    pub min: f64,
    pub min_exclusive: bool,
    pub max: f64,
}

/// How one language names an option and in which unit it takes a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LangName {
    /// The name; empty when the language does not offer the option.
    pub name: &'static str,
    /// `s` or `ms` for durations, empty otherwise.
    pub unit: &'static str,
}

/// Which client takes an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clients {
    pub client: bool,
    pub admin: bool,
}

/// One client option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionSpec {
    /// The canonical (Rust, snake_case) name; also the `field` of its validation errors.
    pub name: &'static str,
    pub python: LangName,
    pub node: LangName,
    pub c: LangName,
    pub ty: OptionType,
    pub default: OptionDefault,
    pub range: Option<OptionRange>,
    pub clients: Clients,
    pub doc: &'static str,
}

const BOTH: Clients = Clients { client: true, admin: true };
const TEAMS: Clients = Clients { client: true, admin: false };
const ADMIN: Clients = Clients { client: false, admin: true };
const NO_DEFAULT: OptionDefault = OptionDefault::None;
const BASE_URL_DEFAULT: OptionDefault = OptionDefault::Str(DEFAULT_BASE_URL);
const DERIVED: OptionDefault = OptionDefault::Derived;

const fn n(name: &'static str) -> LangName {
    LangName { name, unit: "" }
}
const fn s(name: &'static str) -> LangName {
    LangName { name, unit: "s" }
}
const fn ms(name: &'static str) -> LangName {
    LangName { name, unit: "ms" }
}
const fn secs(d: Duration) -> f64 {
    d.as_secs() as f64
}
const POSITIVE_DURATION: OptionRange = OptionRange { min: 0.0, min_exclusive: true, max: secs(MAX_DURATION) };

/// Every option of [`ClientOptions`] and [`AdminClientOptions`], in every language.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "api_key",
        python: n("api_key"),
        node: n("apiKey"),
        c: n("api_key"),
        ty: OptionType::Secret,
        default: OptionDefault::Env("PARSEC_API_KEY", &NO_DEFAULT),
        range: None,
        clients: TEAMS,
        doc: "Bearer key `tapi_<team>.<secret>` (required). Never printed, logged or put in an error.",
    },
    OptionSpec {
        name: "team_id",
        python: n("team_id"),
        node: n("teamId"),
        c: n("team_id"),
        ty: OptionType::String,
        default: OptionDefault::Env("PARSEC_TEAM_ID", &DERIVED),
        range: None,
        clients: TEAMS,
        doc: "The `{team_id}` path segment; defaults to the part of the key between `tapi_` and `.`.",
    },
    OptionSpec {
        name: "base_url",
        python: n("base_url"),
        node: n("baseUrl"),
        c: n("base_url"),
        ty: OptionType::Url,
        default: OptionDefault::Env("PARSEC_BASE_URL", &BASE_URL_DEFAULT),
        range: None,
        clients: TEAMS,
        doc: "The API's base URL. Plain `http://` only for loopback hosts; no credentials, query or fragment.",
    },
    OptionSpec {
        name: "admin_base_url",
        python: n("base_url"),
        node: n("baseUrl"),
        c: n("base_url"),
        ty: OptionType::Url,
        default: OptionDefault::Env("PARSEC_ADMIN_BASE_URL", &NO_DEFAULT),
        range: None,
        clients: ADMIN,
        doc: "The team-administration API's base URL (required; its errors name the field `base_url`).",
    },
    OptionSpec {
        name: "token",
        python: n("token"),
        node: n("token"),
        c: n("token"),
        ty: OptionType::Secret,
        default: OptionDefault::Env("PARSEC_ADMIN_TOKEN", &NO_DEFAULT),
        range: None,
        clients: ADMIN,
        doc: "The admin API's token (required), sent as `Authorization: Bearer <token>`. Never printed, logged or put in an error.",
    },
    OptionSpec {
        name: "timeout",
        python: s("timeout"),
        node: ms("timeoutMs"),
        c: ms("timeout_ms"),
        ty: OptionType::Duration,
        default: OptionDefault::Seconds(secs(DEFAULT_TIMEOUT)),
        range: Some(POSITIVE_DURATION),
        clients: BOTH,
        doc: "Timeout of each attempt.",
    },
    OptionSpec {
        name: "max_retries",
        python: n("max_retries"),
        node: n("maxRetries"),
        c: n("max_retries"),
        ty: OptionType::Int,
        default: OptionDefault::Int(DEFAULT_MAX_RETRIES as i64),
        range: Some(OptionRange { min: 0.0, min_exclusive: false, max: MAX_MAX_RETRIES as f64 }),
        clients: BOTH,
        doc: "Retries of a retryable failure (0: never retry).",
    },
    OptionSpec {
        name: "max_retry_wait",
        python: s("max_retry_wait"),
        node: ms("maxRetryWaitMs"),
        c: ms("max_retry_wait_ms"),
        ty: OptionType::Duration,
        default: OptionDefault::Seconds(secs(DEFAULT_MAX_RETRY_WAIT)),
        range: Some(OptionRange { min: 0.0, min_exclusive: false, max: secs(MAX_DURATION) }),
        clients: BOTH,
        doc: "The longest wait asked by the server (Retry-After, quota block) that is slept through; a longer one fails the call at once with `retry_after` set.",
    },
    OptionSpec {
        name: "pool_idle_timeout",
        python: s("pool_idle_timeout"),
        node: ms("poolIdleTimeoutMs"),
        c: ms("pool_idle_timeout_ms"),
        ty: OptionType::Duration,
        default: OptionDefault::Seconds(secs(DEFAULT_POOL_IDLE_TIMEOUT)),
        range: Some(POSITIVE_DURATION),
        clients: BOTH,
        doc: "Idle pooled connections are closed after this long.",
    },
    OptionSpec {
        name: "proxy",
        python: n("proxy"),
        node: n("proxy"),
        c: n("proxy"),
        ty: OptionType::Url,
        default: OptionDefault::None,
        range: None,
        clients: BOTH,
        doc: "An explicit http(s) proxy URL. A loopback base URL never uses a proxy; an https one otherwise honours HTTPS_PROXY / ALL_PROXY / NO_PROXY.",
    },
    OptionSpec {
        name: "quota_pacing",
        python: n("quota_pacing"),
        node: n("quotaPacing"),
        c: n("quota_pacing"),
        ty: OptionType::Bool,
        default: OptionDefault::Bool(DEFAULT_QUOTA_PACING),
        range: None,
        clients: TEAMS,
        doc: "Pace the quota'd operations on the client side. Off: the service's 429 and Retry-After reach the caller.",
    },
    OptionSpec {
        name: "quota_limit",
        python: n("quota_limit"),
        node: n("quotaLimit"),
        c: n("quota_limit"),
        ty: OptionType::Int,
        default: OptionDefault::Int(DEFAULT_QUOTA_LIMIT as i64),
        range: Some(OptionRange { min: 1.0, min_exclusive: false, max: MAX_QUOTA_LIMIT as f64 }),
        clients: TEAMS,
        doc: "Requests per window of each paced quota.",
    },
    OptionSpec {
        name: "quota_window",
        python: s("quota_window"),
        node: s("quotaWindowSeconds"),
        c: ms("quota_window_ms"),
        ty: OptionType::Duration,
        default: OptionDefault::Seconds(secs(DEFAULT_QUOTA_WINDOW)),
        range: Some(POSITIVE_DURATION),
        clients: TEAMS,
        doc: "Length of the paced quota window.",
    },
];

/// An old name one language still accepts for an option, for one release:
/// using it warns (naming the new name); giving both is one validation error
/// with `field` the option's canonical name and rule `never_both`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionAlias {
    /// The canonical name of the option (in [`OPTIONS`]).
    pub option: &'static str,
    /// The language accepting it: `python`, `node`, `c` or `kotlin`.
    pub language: &'static str,
    /// The deprecated name, in that language's spelling.
    pub name: &'static str,
}

/// The deprecated per-language option names still accepted ([`OptionAlias`]).
pub const OPTION_ALIASES: &[OptionAlias] = &[
    // Python called the pacing switch `quota` until 0.2.0.
    OptionAlias { option: "quota_pacing", language: "python", name: "quota" },
];

/// The option that `language`'s deprecated name `name` stands for.
pub fn alias(language: &str, name: &str) -> Option<&'static OptionAlias> {
    OPTION_ALIASES.iter().find(|a| a.language == language && a.name == name)
}

/// The error for an option given under both its name and its deprecated `alias`.
pub fn alias_conflict(alias: &OptionAlias) -> Error {
    Error::validation(alias.option, format!("may not be given together with its deprecated name `{}`", alias.name)).with_rule("never_both")
}

/// The option named `name` (canonical name).
pub fn option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// The raw values a binding passes, in canonical units (durations in seconds):
/// `None` is "not given" (environment, then default). For both clients; the
/// fields one client does not take must be `None` (else a validation error
/// with rule `unsupported`).
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OptionValues {
    pub api_key: Option<String>,
    pub team_id: Option<String>,
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub timeout: Option<f64>,
    pub max_retries: Option<i64>,
    pub max_retry_wait: Option<f64>,
    pub pool_idle_timeout: Option<f64>,
    pub proxy: Option<String>,
    pub quota_pacing: Option<bool>,
    pub quota_limit: Option<i64>,
    pub quota_window: Option<f64>,
    /// `<language> <version>` for the User-Agent.
    pub language: Option<String>,
}

impl std::fmt::Debug for OptionValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OptionValues")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

fn range_error(spec: &OptionSpec, got: impl std::fmt::Display) -> Error {
    let r = spec.range.expect("a ranged option");
    let unit = if spec.ty == OptionType::Duration { " seconds" } else { "" };
    let low = if r.min_exclusive { format!("more than {}", r.min) } else { format!("at least {}", r.min) };
    Error::validation(spec.name, format!("must be {low} and at most {}{unit}, got {got}", r.max)).with_rule("range")
}

fn spec_of(name: &str) -> &'static OptionSpec {
    option(name).expect("every option is in OPTIONS")
}

/// Checks a number against the range of option `name`.
fn check_number(name: &str, v: f64) -> Result<f64> {
    let spec = spec_of(name);
    if !v.is_finite() {
        return Err(Error::validation(name, format!("must be a finite number, got {v}")).with_rule("finite"));
    }
    let r = spec.range.expect("a ranged option");
    let low_ok = if r.min_exclusive { v > r.min } else { v >= r.min };
    if !low_ok || v > r.max {
        return Err(range_error(spec, v));
    }
    Ok(v)
}

/// A duration option given in seconds, checked against its range.
pub fn duration_value(name: &str, seconds: f64) -> Result<Duration> {
    check_number(name, seconds).map(Duration::from_secs_f64)
}

/// A whole-number option, checked against its range.
pub fn int_value(name: &str, value: i64) -> Result<u32> {
    let spec = spec_of(name);
    let r = spec.range.expect("a ranged option");
    if (value as f64) < r.min || (value as f64) > r.max {
        return Err(range_error(spec, value));
    }
    Ok(value as u32)
}

fn duration_ok(name: &str, d: Option<Duration>) -> Result<()> {
    match d {
        Some(d) => check_number(name, d.as_secs_f64()).map(|_| ()),
        None => Ok(()),
    }
}

fn unsupported(name: &str, client: &str) -> Error {
    Error::validation(name, format!("is not an option of {client}")).with_rule("unsupported")
}

/// The checked transport options both clients take: timeout, max_retries,
/// max_retry_wait, pool_idle_timeout.
type TransportValues = (Option<Duration>, Option<u32>, Option<Duration>, Option<Duration>);

fn transport_values(v: &OptionValues) -> Result<TransportValues> {
    Ok((
        v.timeout.map(|t| duration_value("timeout", t)).transpose()?,
        v.max_retries.map(|n| int_value("max_retries", n)).transpose()?,
        v.max_retry_wait.map(|t| duration_value("max_retry_wait", t)).transpose()?,
        v.pool_idle_timeout.map(|t| duration_value("pool_idle_timeout", t)).transpose()?,
    ))
}

impl ClientOptions {
    /// Options of a [`Client`](crate::Client) from a binding's raw values,
    /// every value checked against [`OPTIONS`]. Required values left out
    /// (the key) are looked up in the environment by `Client::new`.
    pub fn from_values(v: &OptionValues) -> Result<ClientOptions> {
        if v.token.is_some() {
            return Err(unsupported("token", "Client"));
        }
        let mut o = ClientOptions::new();
        o.api_key = v.api_key.clone();
        o.team_id = v.team_id.clone();
        o.base_url = v.base_url.clone();
        o.proxy = v.proxy.clone();
        o.language = v.language.clone();
        (o.timeout, o.max_retries, o.max_retry_wait, o.pool_idle_timeout) = transport_values(v)?;
        o.quota = QuotaConfig {
            enabled: v.quota_pacing.unwrap_or(DEFAULT_QUOTA_PACING),
            limit: v.quota_limit.map(|n| int_value("quota_limit", n)).transpose()?.unwrap_or(DEFAULT_QUOTA_LIMIT),
            window: v.quota_window.map(|t| duration_value("quota_window", t)).transpose()?.unwrap_or(DEFAULT_QUOTA_WINDOW),
        };
        Ok(o)
    }

    /// Checks the options against the ranges of [`OPTIONS`] (what
    /// [`ClientOptions::from_values`] enforces); `Client::new` itself clamps
    /// extreme typed values instead of refusing them.
    pub fn validate(&self) -> Result<()> {
        duration_ok("timeout", self.timeout)?;
        if let Some(n) = self.max_retries {
            int_value("max_retries", n.into())?;
        }
        duration_ok("max_retry_wait", self.max_retry_wait)?;
        duration_ok("pool_idle_timeout", self.pool_idle_timeout)?;
        int_value("quota_limit", self.quota.limit.into())?;
        duration_ok("quota_window", Some(self.quota.window))
    }
}

impl AdminClientOptions {
    /// Options of an [`AdminClient`](crate::AdminClient) from a binding's raw
    /// values, checked like [`ClientOptions::from_values`].
    pub fn from_values(v: &OptionValues) -> Result<AdminClientOptions> {
        for (name, given) in [
            ("api_key", v.api_key.is_some()),
            ("team_id", v.team_id.is_some()),
            ("quota_pacing", v.quota_pacing.is_some()),
            ("quota_limit", v.quota_limit.is_some()),
            ("quota_window", v.quota_window.is_some()),
        ] {
            if given {
                return Err(unsupported(name, "AdminClient"));
            }
        }
        let mut o = AdminClientOptions::new();
        o.base_url = v.base_url.clone();
        o.token = v.token.clone();
        o.proxy = v.proxy.clone();
        o.language = v.language.clone();
        (o.timeout, o.max_retries, o.max_retry_wait, o.pool_idle_timeout) = transport_values(v)?;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(v: OptionValues) -> (String, String) {
        let e = ClientOptions::from_values(&v).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Validation);
        (e.field().unwrap().to_owned(), e.rule().unwrap().to_owned())
    }

    #[test]
    fn one_rule_set_for_every_binding() {
        let f = |field: &str, rule: &str| (field.to_owned(), rule.to_owned());
        assert_eq!(refused(OptionValues { max_retries: Some(101), ..Default::default() }), f("max_retries", "range"));
        assert_eq!(refused(OptionValues { max_retries: Some(-1), ..Default::default() }), f("max_retries", "range"));
        assert_eq!(refused(OptionValues { timeout: Some(0.0), ..Default::default() }), f("timeout", "range"));
        assert_eq!(refused(OptionValues { timeout: Some(f64::NAN), ..Default::default() }), f("timeout", "finite"));
        assert_eq!(refused(OptionValues { timeout: Some(86_401.0), ..Default::default() }), f("timeout", "range"));
        assert_eq!(refused(OptionValues { max_retry_wait: Some(-0.5), ..Default::default() }), f("max_retry_wait", "range"));
        assert_eq!(refused(OptionValues { quota_limit: Some(0), ..Default::default() }), f("quota_limit", "range"));
        assert_eq!(refused(OptionValues { quota_window: Some(1e9), ..Default::default() }), f("quota_window", "range"));
        assert_eq!(refused(OptionValues { pool_idle_timeout: Some(0.0), ..Default::default() }), f("pool_idle_timeout", "range"));
        assert_eq!(refused(OptionValues { token: Some("t".into()), ..Default::default() }), f("token", "unsupported"));
        let e = AdminClientOptions::from_values(&OptionValues { quota_pacing: Some(false), ..Default::default() }).unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("quota_pacing"), Some("unsupported")));
    }

    #[test]
    fn values_at_the_bounds_are_taken_and_defaults_come_from_the_constants() {
        let o = ClientOptions::from_values(&OptionValues {
            timeout: Some(0.25),
            max_retries: Some(100),
            max_retry_wait: Some(0.0),
            quota_pacing: Some(false),
            quota_limit: Some(7),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(o.timeout, Some(Duration::from_millis(250)));
        assert_eq!(o.max_retries, Some(100));
        assert_eq!(o.max_retry_wait, Some(Duration::ZERO));
        assert_eq!(o.quota, QuotaConfig { enabled: false, limit: 7, window: DEFAULT_QUOTA_WINDOW });
        assert!(o.validate().is_ok());
        let d = ClientOptions::from_values(&OptionValues::default()).unwrap();
        assert_eq!(d.quota, QuotaConfig::default());
        assert_eq!(
            QuotaConfig::default(),
            QuotaConfig { enabled: DEFAULT_QUOTA_PACING, limit: DEFAULT_QUOTA_LIMIT, window: DEFAULT_QUOTA_WINDOW }
        );
        assert_eq!(ClientOptions::new().max_retries(101).validate().unwrap_err().rule(), Some("range"));
    }

    #[test]
    fn every_alias_names_an_option_and_no_current_name() {
        for a in OPTION_ALIASES {
            assert!(option(a.option).is_some(), "{}", a.option);
            assert!(["python", "node", "c", "kotlin"].contains(&a.language), "{}", a.language);
            let taken = OPTIONS.iter().any(|o| [o.python.name, o.node.name, o.c.name].contains(&a.name));
            assert!(!taken, "{} is an option's current name", a.name);
            assert_eq!(alias(a.language, a.name), Some(a));
        }
        let e = alias_conflict(&OPTION_ALIASES[0]);
        assert_eq!((e.field(), e.rule()), (Some("quota_pacing"), Some("never_both")));
    }

    #[test]
    fn the_table_names_every_option_in_every_language_with_its_default() {
        for o in OPTIONS {
            assert!(!o.python.name.is_empty() && !o.node.name.is_empty() && !o.c.name.is_empty(), "{}", o.name);
            if o.ty == OptionType::Duration {
                assert!(!o.python.unit.is_empty() && !o.node.unit.is_empty() && !o.c.unit.is_empty(), "{}", o.name);
                assert!(o.range.is_some(), "{}", o.name);
            }
            let default = match o.default {
                OptionDefault::Seconds(d) => Some(d),
                OptionDefault::Int(i) => Some(i as f64),
                _ => None,
            };
            if let Some(v) = default {
                assert!(check_number(o.name, v).is_ok(), "the default of {} lies in its range", o.name);
            }
        }
    }
}
