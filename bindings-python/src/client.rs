//! The native clients: one generic call path (sync, async, pages) over the
//! core's `Caller` for every operation of the table.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parsec_teams::describe::REQUEST_OPTIONS;
use parsec_teams::escape::RawRequest;
use parsec_teams::options::{self, duration_value, int_value, OptionType, OptionValues, OPTIONS};
use parsec_teams::pagination::Paginator;
use parsec_teams::runtime::fork_generation as generation;
use parsec_teams::spec::{Operation, ResultKind, OPERATIONS};
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, Error, RawResponse, RequestOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString};
use serde_json::value::RawValue;

use crate::bridge::{self, LoopBridge, TaskHandle};
use crate::convert::{args_to_map, py_to_value, value_to_py, PyJson};
use crate::errors::{self, guard};
use crate::registry;

#[derive(Clone)]
enum Options {
    Teams(ClientOptions),
    Admin(AdminClientOptions),
}

#[derive(Clone)]
enum Core {
    Teams(Client),
    Admin(AdminClient),
}

impl Core {
    fn build(options: &Options) -> parsec_teams::Result<Core> {
        Ok(match options {
            Options::Teams(o) => Core::Teams(Client::new(o.clone())?),
            Options::Admin(o) => Core::Admin(AdminClient::new(o.clone())?),
        })
    }
    fn caller(&self) -> &Caller {
        match self {
            Core::Teams(c) => c.caller(),
            Core::Admin(c) => c.caller(),
        }
    }
    fn with_options(&self, o: RequestOptions) -> Core {
        match self {
            Core::Teams(c) => Core::Teams(c.with_options(o)),
            Core::Admin(c) => Core::Admin(c.with_options(o)),
        }
    }
    async fn send_raw(&self, req: &RawRequest) -> parsec_teams::Result<RawResponse> {
        match self {
            Core::Teams(c) => c.send_raw(req).await,
            Core::Admin(c) => c.send_raw(req).await,
        }
    }
}

/// Shared by a client and its `with_options` copies: the options it was made
/// from and the core client of the current fork generation.
struct Shared {
    options: Options,
    core: Mutex<Option<(u64, Core)>>,
    closed: AtomicBool,
}

/// `_native.NativeClient`: the per-client half of the generic call path.
#[pyclass(frozen, module = "parsec_teams._native")]
pub struct NativeClient {
    shared: Arc<Shared>,
    request_options: RequestOptions,
}

/// Per-call (or `with_options`) timeout and retries, checked by the core's
/// rules of the options `timeout` and `max_retries`.
fn request_options(timeout: Option<f64>, max_retries: Option<i64>) -> parsec_teams::Result<RequestOptions> {
    Ok(RequestOptions {
        timeout: timeout.map(|t| duration_value("timeout", t)).transpose()?,
        max_retries: max_retries.map(|n| int_value("max_retries", n)).transpose()?,
    })
}

/// A Python value of option `name` (canonical) of type `ty`: the conversion
/// only (`None` is not given); the core checks the ranges.
enum Given {
    Text(String),
    Number(f64),
    Whole(i64),
    Flag(bool),
}

fn type_error(name: &str, want: &str, got: &Bound<'_, PyAny>) -> Error {
    let got = got.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    Error::validation(name, format!("must be {want}, got {got}")).with_rule("type")
}

fn given(name: &str, ty: OptionType, v: &Bound<'_, PyAny>) -> parsec_teams::Result<Given> {
    let is_bool = v.is_instance_of::<pyo3::types::PyBool>();
    match ty {
        OptionType::String | OptionType::Secret | OptionType::Url => match v.cast::<PyString>() {
            Ok(s) => Ok(Given::Text(s.to_cow().map_err(|_| type_error(name, "text", v))?.into_owned())),
            Err(_) => Err(type_error(name, "a str", v)),
        },
        OptionType::Duration if !is_bool && (v.is_instance_of::<PyFloat>() || v.is_instance_of::<PyInt>()) => {
            // An int too large for a float is out of range all the same.
            Ok(Given::Number(v.extract::<f64>().unwrap_or(f64::INFINITY)))
        }
        OptionType::Int if !is_bool && v.is_instance_of::<PyInt>() => {
            // Beyond i64: out of range, reported by the core's range check.
            let n = v.extract::<i64>().unwrap_or_else(|_| if v.lt(0i64).unwrap_or(false) { i64::MIN } else { i64::MAX });
            Ok(Given::Whole(n))
        }
        OptionType::Bool if is_bool => Ok(Given::Flag(v.is_truthy().unwrap_or(false))),
        OptionType::Duration => Err(type_error(name, "a number of seconds", v)),
        OptionType::Int => Err(type_error(name, "an int", v)),
        OptionType::Bool => Err(type_error(name, "a bool", v)),
    }
}

/// The core's option values from the Python keywords (the Python names of
/// the core's options table) of a client of `api`; every check is the core's
/// (`ClientOptions::from_values` / `AdminClientOptions::from_values`).
fn option_values(admin: bool, values: Option<&Bound<'_, PyDict>>, language: String) -> parsec_teams::Result<OptionValues> {
    let mut out = OptionValues::default();
    out.language = Some(language);
    let Some(values) = values else { return Ok(out) };
    for (k, v) in values.iter() {
        if v.is_none() {
            continue;
        }
        let mut key = k.cast::<PyString>().ok().and_then(|s| s.to_cow().ok().map(|c| c.into_owned())).unwrap_or_default();
        // A deprecated name (the core's OPTION_ALIASES; the constructor warned).
        if let Some(a) = options::alias("python", &key) {
            let current = options::option(a.option).map_or("", |o| o.python.name);
            if values.get_item(current).ok().flatten().is_some_and(|v| !v.is_none()) {
                return Err(options::alias_conflict(a));
            }
            key = current.to_owned();
        }
        let spec = OPTIONS
            .iter()
            .find(|o| o.python.name == key && if admin { o.clients.admin } else { o.clients.client })
            .ok_or_else(|| Error::validation(key.clone(), "is not an option of this client").with_rule("unsupported"))?;
        // The admin base URL's errors name the field `base_url`, as the core's do.
        let field = if spec.name == "admin_base_url" { "base_url" } else { spec.name };
        let seconds = |g: Given| match g {
            Given::Number(n) if spec.python.unit == "ms" => Some(n / 1000.0),
            Given::Number(n) => Some(n),
            _ => None,
        };
        match (spec.name, given(field, spec.ty, &v)?) {
            ("api_key", Given::Text(t)) => out.api_key = Some(t),
            ("team_id", Given::Text(t)) => out.team_id = Some(t),
            ("base_url" | "admin_base_url", Given::Text(t)) => out.base_url = Some(t),
            ("token", Given::Text(t)) => out.token = Some(t),
            ("proxy", Given::Text(t)) => out.proxy = Some(t),
            ("max_retries", Given::Whole(n)) => out.max_retries = Some(n),
            ("quota_limit", Given::Whole(n)) => out.quota_limit = Some(n),
            ("quota_pacing", Given::Flag(b)) => out.quota_pacing = Some(b),
            ("timeout", g) => out.timeout = seconds(g),
            ("max_retry_wait", g) => out.max_retry_wait = seconds(g),
            ("pool_idle_timeout", g) => out.pool_idle_timeout = seconds(g),
            ("quota_window", g) => out.quota_window = seconds(g),
            (name, _) => return Err(Error::validation(name, "is not an option of the Python binding").with_rule("unsupported")),
        }
    }
    Ok(out)
}

fn merge(a: RequestOptions, b: RequestOptions) -> RequestOptions {
    RequestOptions { timeout: b.timeout.or(a.timeout), max_retries: b.max_retries.or(a.max_retries) }
}

/// The operation with index `op` of the core's table.
fn operation(py: Python<'_>, op: usize) -> PyResult<&'static Operation> {
    OPERATIONS.get(op).copied().ok_or_else(|| errors::to_py(py, &Error::validation("operation", "unknown operation")))
}

/// Runs `fut` on the shared runtime with the GIL released. Every 250 ms the
/// GIL is taken back for a moment to let Ctrl-C (KeyboardInterrupt) through;
/// an exception there drops the future, which cancels the request.
pub fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = errors::runtime(py)?;
    let mut fut = std::pin::pin!(fut);
    loop {
        let polled = py.detach(|| rt.block_on(async { tokio::time::timeout(Duration::from_millis(250), &mut fut).await }));
        match polled {
            Ok(v) => return Ok(v),
            Err(_) => py.check_signals()?,
        }
    }
}

/// The Python result of an operation's response: a model, a page of models,
/// a list, `None`; or, with `raw`, a `RawResponse` holding it.
fn finish<'py>(
    py: Python<'py>,
    op: &'static Operation,
    response: parsec_teams::Result<RawResponse>,
    raw: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let response = response.map_err(|e| errors::to_py(py, &e))?;
    let decoded = response.decode::<PyJson>(op.result).map_err(|e| errors::to_py(py, &e))?;
    let result = wrap(py, op.result, decoded.0.into_bound(py))?;
    if !raw {
        return Ok(result);
    }
    raw_response(py, &response, result)
}

fn raw_response<'py>(py: Python<'py>, response: &RawResponse, data: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let headers = PyDict::new(py);
    for name in response.headers.keys() {
        let values: Vec<&str> = response.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        headers.set_item(name.as_str(), values.join(", "))?;
    }
    let d = PyDict::new(py);
    d.set_item("status", response.status)?;
    d.set_item("headers", headers)?;
    d.set_item("request_id", response.request_id.as_deref())?;
    d.set_item("retries_taken", response.retries_taken)?;
    d.set_item("data", data)?;
    registry::get(py)?.model(py, "RawResponse", d.into_any())
}

fn models_in_list<'py>(py: Python<'py>, reg: &registry::Registry, model: &str, list: &Bound<'py, PyAny>) -> PyResult<()> {
    if let Ok(list) = list.cast::<PyList>() {
        for i in 0..list.len() {
            let item = list.get_item(i)?;
            list.set_item(i, reg.model(py, model, item)?)?;
        }
    }
    Ok(())
}

fn wrap<'py>(py: Python<'py>, kind: ResultKind, v: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let reg = registry::get(py)?;
    match kind {
        ResultKind::Empty => Ok(py.None().into_bound(py)),
        ResultKind::Data(m) | ResultKind::Object(m) => reg.model(py, m.name(), v),
        ResultKind::Credits => reg.model(py, "Credits", v),
        ResultKind::List(m) => {
            models_in_list(py, reg, m.name(), &v)?;
            Ok(v)
        }
        ResultKind::Page(_) | ResultKind::EventPage => {
            let (page, model) = match kind {
                ResultKind::Page(m) => ("Page", m.name()),
                _ => ("EventPage", "Event"),
            };
            if let Ok(d) = v.cast::<PyDict>() {
                match d.get_item("data")? {
                    Some(items) => models_in_list(py, reg, model, &items)?,
                    None => d.set_item("data", PyList::empty(py))?,
                }
            }
            reg.model(py, page, v)
        }
    }
}

/// The items of one page, as models.
fn page_items<'py>(
    py: Python<'py>,
    op: &'static Operation,
    page: parsec_teams::Result<Option<Vec<Box<RawValue>>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(items) = page.map_err(|e| errors::to_py(py, &e))? else {
        return Ok(py.None().into_bound(py));
    };
    let reg = registry::get(py)?;
    let model = op.result.model().map(|m| m.name()).unwrap_or("");
    let list = PyList::empty(py);
    for item in items {
        let v: PyJson = serde_json::from_str(item.get())
            .map_err(|e| errors::to_py(py, &Error::decode(format!("a page item could not be decoded: {e}"))))?;
        list.append(reg.model(py, model, v.0.into_bound(py))?)?;
    }
    Ok(list.into_any())
}

fn raw_json<'py>(py: Python<'py>, response: parsec_teams::Result<RawResponse>) -> PyResult<Bound<'py, PyAny>> {
    let response = response.map_err(|e| errors::to_py(py, &e))?;
    let v = response.json().map_err(|e| errors::to_py(py, &e))?;
    value_to_py(py, &v)
}

impl NativeClient {
    /// The sync call path of `call` and `call_raw`: waits with the GIL released.
    fn call_blocking<'py>(
        &self,
        py: Python<'py>,
        op: usize,
        args: Option<&Bound<'py, PyDict>>,
        options: Option<&Bound<'py, PyDict>>,
        raw: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let op = operation(py, op)?;
        let caller = self.core(py, options)?.caller().clone();
        let args = args_to_map(args)?;
        let response = block_on(py, async move { caller.call(op, args).await })?;
        finish(py, op, response, raw)
    }

    fn new_client(py: Python<'_>, options: Options) -> PyResult<NativeClient> {
        let core = errors::check(py, Core::build(&options))?;
        Ok(NativeClient {
            shared: Arc::new(Shared { options, core: Mutex::new(Some((generation(), core))), closed: AtomicBool::new(false) }),
            request_options: RequestOptions::default(),
        })
    }

    /// What `request` and `spawn_request` send: the core parses the method
    /// and encodes the query and body (`core::escape::RawRequest`).
    fn raw_request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        query: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(Core, RawRequest)> {
        let value = |v: Option<&Bound<'_, PyAny>>, field: &str| -> PyResult<Option<serde_json::Value>> {
            match v {
                Some(v) if !v.is_none() => py_to_value(v, field).map(Some),
                _ => Ok(None),
            }
        };
        // A query's values are named `query.<key>`, as the core names them.
        let query = match query.map(|q| q.cast::<PyDict>()) {
            Some(Ok(d)) => {
                let mut m = serde_json::Map::new();
                for (k, v) in d.iter() {
                    let k = k.str()?.to_cow()?.into_owned();
                    let v = py_to_value(&v, &format!("query.{k}"))?;
                    m.insert(k, v);
                }
                Some(serde_json::Value::Object(m))
            }
            _ => value(query, "query")?,
        };
        let req = errors::check(py, RawRequest::new(method, path, query.as_ref(), value(body, "body")?))?;
        Ok((self.core(py, options)?, req))
    }

    /// The core client of this process (rebuilt after a fork), with this
    /// handle's and this call's options.
    fn core(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Core> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(errors::to_py(py, &Error::validation("client", "is closed")));
        }
        let gen = generation();
        let mut core = {
            let mut slot = self.shared.core.lock().unwrap_or_else(|e| e.into_inner());
            match &*slot {
                Some((g, c)) if *g == gen => c.clone(),
                _ => {
                    let c = Core::build(&self.shared.options).map_err(|e| errors::to_py(py, &e))?;
                    *slot = Some((gen, c.clone()));
                    c
                }
            }
        };
        let mut ro = self.request_options;
        if let Some(o) = options {
            let timeout: Option<f64> = match o.get_item("timeout")? {
                Some(v) if !v.is_none() => Some(v.extract()?),
                _ => None,
            };
            let max_retries: Option<i64> = match o.get_item("max_retries")? {
                Some(v) if !v.is_none() => Some(v.extract()?),
                _ => None,
            };
            for (k, _) in o.iter() {
                let k: String = k.extract()?;
                if !REQUEST_OPTIONS.contains(&k.as_str()) {
                    let known = REQUEST_OPTIONS.join(", ");
                    let e =
                        Error::validation(format!("options.{k}"), format!("is not a per-call option ({known})")).with_rule("unsupported");
                    return Err(errors::to_py(py, &e));
                }
            }
            ro = merge(ro, request_options(timeout, max_retries).map_err(|e| errors::to_py(py, &e))?);
        }
        if ro != RequestOptions::default() {
            core = core.with_options(ro);
        }
        Ok(core)
    }
}

#[pymethods]
impl NativeClient {
    /// A client of `api` (`teams` or `admin`) from the keywords of its Python
    /// constructor (the Python names of the core's options table); the core
    /// validates them and reads the environment for what is left out.
    #[staticmethod]
    #[pyo3(signature = (api, values, language))]
    fn new(py: Python<'_>, api: &str, values: Option<&Bound<'_, PyDict>>, language: String) -> PyResult<NativeClient> {
        guard(py, || {
            let admin = api == "admin";
            let v = errors::check(py, option_values(admin, values, language))?;
            let options = if admin {
                Options::Admin(errors::check(py, AdminClientOptions::from_values(&v))?)
            } else {
                Options::Teams(errors::check(py, ClientOptions::from_values(&v))?)
            };
            NativeClient::new_client(py, options)
        })
    }

    /// A copy with other timeout / retry options, sharing the connection pool and quota pacer.
    #[pyo3(signature = (timeout=None, max_retries=None))]
    fn with_options(&self, py: Python<'_>, timeout: Option<f64>, max_retries: Option<i64>) -> PyResult<NativeClient> {
        guard(py, || {
            let ro = errors::check(py, request_options(timeout, max_retries))?;
            Ok(NativeClient { shared: self.shared.clone(), request_options: merge(self.request_options, ro) })
        })
    }

    /// Closes the connection pool (of this client and its copies).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        guard(py, || {
            self.shared.closed.store(true, Ordering::Release);
            let core = self.shared.core.lock().unwrap_or_else(|e| e.into_inner()).take();
            // Dropping the pool may wait for its connections: without the GIL.
            py.detach(move || drop(core));
            Ok(())
        })
    }

    #[getter]
    fn closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// (team id, base URL, timeout in seconds, max retries), for reprs. Never the key.
    fn describe(&self, py: Python<'_>) -> PyResult<(String, String, f64, u32)> {
        guard(py, || {
            let (team, base, timeout, retries) = match &self.shared.options {
                Options::Teams(o) => (o.team_id.clone(), o.base_url.clone(), o.timeout, o.max_retries),
                Options::Admin(o) => (None, o.base_url.clone(), o.timeout, o.max_retries),
            };
            let core = self.shared.core.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let (team, base) = match core {
                Some((_, Core::Teams(c))) => (c.team_id().to_owned(), c.base_url().to_owned()),
                Some((_, Core::Admin(c))) => (String::new(), c.base_url().to_owned()),
                None => (team.unwrap_or_default(), base.unwrap_or_default()),
            };
            let timeout = self.request_options.timeout.or(timeout).unwrap_or(Duration::from_secs(30));
            let retries = self.request_options.max_retries.or(retries).unwrap_or(2);
            Ok((team, base, timeout.as_secs_f64(), retries))
        })
    }

    /// Calls operation `op` (an index of the table) and waits with the GIL released.
    #[pyo3(signature = (op, args, options=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        op: usize,
        args: Option<&Bound<'py, PyDict>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || self.call_blocking(py, op, args, options, false))
    }

    /// Like `call`, returning a `RawResponse` (status, headers, parsed result).
    #[pyo3(signature = (op, args, options=None))]
    fn call_raw<'py>(
        &self,
        py: Python<'py>,
        op: usize,
        args: Option<&Bound<'py, PyDict>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || self.call_blocking(py, op, args, options, true))
    }

    /// Starts operation `op` on the shared runtime; `future` (of the loop that
    /// owns `bridge`) receives the result.
    #[pyo3(signature = (op, args, options, raw, bridge, future))]
    #[allow(clippy::too_many_arguments)]
    fn spawn_call(
        &self,
        py: Python<'_>,
        op: usize,
        args: Option<&Bound<'_, PyDict>>,
        options: Option<&Bound<'_, PyDict>>,
        raw: bool,
        bridge: &Bound<'_, LoopBridge>,
        future: Py<PyAny>,
    ) -> PyResult<TaskHandle> {
        guard(py, || {
            let op = operation(py, op)?;
            let caller = self.core(py, options)?.caller().clone();
            let args = args_to_map(args)?;
            bridge::spawn(bridge, future, async move { caller.call(op, args).await }, move |py, response| {
                finish(py, op, response, raw).map(Bound::unbind)
            })
        })
    }

    /// A paginator over every page of list operation `op`.
    #[pyo3(signature = (op, args, options=None))]
    fn pages(&self, py: Python<'_>, op: usize, args: Option<&Bound<'_, PyDict>>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Pages> {
        guard(py, || {
            let op = operation(py, op)?;
            let caller = self.core(py, options)?.caller().clone();
            let args = args_to_map(args)?;
            let pager = errors::check(py, Paginator::new(caller, op, args))?;
            Ok(Pages { op, pager: Arc::new(tokio::sync::Mutex::new(pager)), generation: generation() })
        })
    }

    /// The escape hatch: any method and path, same auth, retries and errors; JSON back.
    #[pyo3(signature = (method, path, query=None, body=None, options=None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: String,
        query: Option<&Bound<'py, PyAny>>,
        body: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            let (core, req) = self.raw_request(py, method, &path, query, body, options)?;
            let response = block_on(py, async move { core.send_raw(&req).await })?;
            raw_json(py, response)
        })
    }

    /// The async form of `request`.
    #[pyo3(signature = (method, path, query, body, options, bridge, future))]
    #[allow(clippy::too_many_arguments)]
    fn spawn_request(
        &self,
        py: Python<'_>,
        method: &str,
        path: String,
        query: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
        bridge: &Bound<'_, LoopBridge>,
        future: Py<PyAny>,
    ) -> PyResult<TaskHandle> {
        guard(py, || {
            let (core, req) = self.raw_request(py, method, &path, query, body, options)?;
            bridge::spawn(bridge, future, async move { core.send_raw(&req).await }, |py, response| {
                raw_json(py, response).map(Bound::unbind)
            })
        })
    }

    /// How many calls each paced quota has left, and when it refills.
    fn quota_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(py, || {
            let core = self.core(py, None)?;
            let list = PyList::empty(py);
            if let Core::Teams(c) = core {
                for q in c.quota_status() {
                    let d = PyDict::new(py);
                    d.set_item("name", q.name)?;
                    d.set_item("limit", q.limit)?;
                    d.set_item("remaining", q.remaining)?;
                    d.set_item("window", q.window.as_secs_f64())?;
                    d.set_item("refills_in", q.refills_in.map(|d| d.as_secs_f64()))?;
                    d.set_item("blocked_for", q.blocked_for.map(|d| d.as_secs_f64()))?;
                    list.append(d)?;
                }
            }
            Ok(list)
        })
    }
}

/// `_native.Pages`: walks a list operation page by page (the core's `Paginator`).
///
/// Its connection pool belongs to the process that made it: in a child made
/// by `fork()` its pooled connections are served by threads that do not exist
/// there, so a page would wait until the timeout. There it refuses at once
/// (`ValidationError`, field `iterator`, rule `fork`); a new iteration works.
#[pyclass(frozen, module = "parsec_teams._native")]
pub struct Pages {
    op: &'static Operation,
    pager: Arc<tokio::sync::Mutex<Paginator>>,
    /// The fork generation it was made in.
    generation: u64,
}

impl Pages {
    fn check_process(&self) -> parsec_teams::Result<()> {
        if self.generation == generation() {
            return Ok(());
        }
        Err(Error::validation(
            "iterator",
            "was made before os.fork() and cannot be used in the child process; start a new iteration there (e.g. client.members.iter())",
        )
        .with_rule("fork"))
    }
}

#[pymethods]
impl Pages {
    /// The next page's items as models, or `None` at the end (GIL released while waiting).
    fn next_page<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            errors::check(py, self.check_process())?;
            let pager = self.pager.clone();
            let page = block_on(py, async move { pager.lock().await.next_page::<Box<RawValue>>().await })?;
            page_items(py, self.op, page)
        })
    }

    /// The async form of `next_page`.
    fn spawn_next(&self, py: Python<'_>, bridge: &Bound<'_, LoopBridge>, future: Py<PyAny>) -> PyResult<TaskHandle> {
        guard(py, || {
            errors::check(py, self.check_process())?;
            let pager = self.pager.clone();
            let op = self.op;
            bridge::spawn(bridge, future, async move { pager.lock().await.next_page::<Box<RawValue>>().await }, move |py, page| {
                page_items(py, op, page).map(Bound::unbind)
            })
        })
    }
}
