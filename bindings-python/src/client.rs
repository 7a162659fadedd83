//! The native clients: one generic call path (sync, async, pages) over the
//! core's `Caller` for every operation of the table.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parsec_teams::pagination::Paginator;
use parsec_teams::spec::{Operation, ResultKind, OPERATIONS};
use parsec_teams::{AdminClient, AdminClientOptions, Caller, Client, ClientOptions, Error, HttpMethod, RawResponse, RequestOptions};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::value::RawValue;

use crate::bridge::{self, LoopBridge, TaskHandle};
use crate::convert::{args_to_map, py_to_value, value_to_py, PyJson};
use crate::errors::{self, guard};
use crate::registry;
use crate::runtime::{generation, runtime};

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
    async fn send_raw(
        &self,
        method: HttpMethod,
        path: &str,
        query: &[(String, String)],
        body: Option<&serde_json::Value>,
    ) -> parsec_teams::Result<RawResponse> {
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let query = &query[..];
        match self {
            Core::Teams(c) => c.request(method, path, query, body).await,
            Core::Admin(c) => c.request(method, path, query, body).await,
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

/// A number of seconds as a `Duration`; not positive, not a number or too large
/// for a `Duration` (`1e300`) is a `ValidationError` naming `field`.
fn secs(v: Option<f64>, field: &str) -> parsec_teams::Result<Option<Duration>> {
    match v {
        None => Ok(None),
        Some(s) if s > 0.0 => match Duration::try_from_secs_f64(s) {
            Ok(d) => Ok(Some(d)),
            Err(_) => Err(Error::validation(field, "is too large a number of seconds")),
        },
        Some(_) => Err(Error::validation(field, "must be a positive number of seconds")),
    }
}

fn request_options(timeout: Option<f64>, max_retries: Option<i64>) -> parsec_teams::Result<RequestOptions> {
    let max_retries = match max_retries {
        None => None,
        Some(n) if (0..=100).contains(&n) => Some(n as u32),
        Some(_) => return Err(Error::validation("max_retries", "must be between 0 and 100")),
    };
    Ok(RequestOptions { timeout: secs(timeout, "timeout")?, max_retries })
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
    let rt = runtime();
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
            .map_err(|e| errors::to_py(py, &Error::validation("response", format!("undecodable item: {e}"))))?;
        list.append(reg.model(py, model, v.0.into_bound(py))?)?;
    }
    Ok(list.into_any())
}

fn http_method(py: Python<'_>, m: &str) -> PyResult<HttpMethod> {
    Ok(match m.to_ascii_uppercase().as_str() {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        _ => return Err(errors::to_py(py, &Error::validation("method", "must be GET, POST, PUT or DELETE"))),
    })
}

fn query_pairs(query: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    if let Some(q) = query {
        for (k, v) in q.iter() {
            if v.is_none() {
                continue;
            }
            let k: String = k.extract()?;
            let v = match py_to_value(&v, &k)? {
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            out.push((k, v));
        }
    }
    Ok(out)
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

    /// What `request` and `spawn_request` convert before sending.
    #[allow(clippy::type_complexity)]
    fn raw_request(
        &self,
        py: Python<'_>,
        method: &str,
        query: Option<&Bound<'_, PyDict>>,
        body: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(Core, HttpMethod, Vec<(String, String)>, Option<serde_json::Value>)> {
        let method = http_method(py, method)?;
        let core = self.core(py, options)?;
        let query = query_pairs(query)?;
        let body = match body {
            Some(b) if !b.is_none() => Some(py_to_value(b, "body")?),
            _ => None,
        };
        Ok((core, method, query, body))
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
                if k != "timeout" && k != "max_retries" {
                    return Err(errors::to_py(
                        py,
                        &Error::validation("options", format!("unknown option {k:?} (known: timeout, max_retries)")),
                    ));
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
    /// A client of the Parsec Teams API.
    #[staticmethod]
    #[pyo3(signature = (api_key=None, team_id=None, base_url=None, timeout=None, max_retries=None, max_retry_wait=None, quota=true, language=None, proxy=None, quota_window=None))]
    #[allow(clippy::too_many_arguments)]
    fn teams(
        py: Python<'_>,
        api_key: Option<String>,
        team_id: Option<String>,
        base_url: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<i64>,
        max_retry_wait: Option<f64>,
        quota: bool,
        language: Option<String>,
        proxy: Option<String>,
        quota_window: Option<f64>,
    ) -> PyResult<NativeClient> {
        guard(py, || {
            let ro = errors::check(py, request_options(timeout, max_retries))?;
            let mut o = ClientOptions::new();
            o.api_key = api_key;
            o.team_id = team_id;
            o.base_url = base_url;
            o.timeout = ro.timeout;
            o.max_retries = ro.max_retries;
            o.max_retry_wait = errors::check(py, secs(max_retry_wait, "max_retry_wait"))?;
            o.quota.enabled = quota;
            if let Some(w) = errors::check(py, secs(quota_window, "quota_window"))? {
                o.quota.window = w;
            }
            o.language = language;
            o.proxy = proxy;
            NativeClient::new_client(py, Options::Teams(o))
        })
    }

    /// A client of the team-administration API.
    #[staticmethod]
    #[pyo3(signature = (base_url=None, token=None, timeout=None, max_retries=None, max_retry_wait=None, language=None, proxy=None))]
    #[allow(clippy::too_many_arguments)]
    fn admin(
        py: Python<'_>,
        base_url: Option<String>,
        token: Option<String>,
        timeout: Option<f64>,
        max_retries: Option<i64>,
        max_retry_wait: Option<f64>,
        language: Option<String>,
        proxy: Option<String>,
    ) -> PyResult<NativeClient> {
        guard(py, || {
            let ro = errors::check(py, request_options(timeout, max_retries))?;
            let mut o = AdminClientOptions::new();
            o.base_url = base_url;
            o.token = token;
            o.timeout = ro.timeout;
            o.max_retries = ro.max_retries;
            o.max_retry_wait = errors::check(py, secs(max_retry_wait, "max_retry_wait"))?;
            o.language = language;
            o.proxy = proxy;
            NativeClient::new_client(py, Options::Admin(o))
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
            Ok(bridge::spawn(bridge, future, async move { caller.call(op, args).await }, move |py, response| {
                finish(py, op, response, raw).map(Bound::unbind)
            }))
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
        query: Option<&Bound<'py, PyDict>>,
        body: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(py, || {
            let (core, method, query, body) = self.raw_request(py, method, query, body, options)?;
            let response = block_on(py, async move { core.send_raw(method, &path, &query, body.as_ref()).await })?;
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
        query: Option<&Bound<'_, PyDict>>,
        body: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
        bridge: &Bound<'_, LoopBridge>,
        future: Py<PyAny>,
    ) -> PyResult<TaskHandle> {
        guard(py, || {
            let (core, method, query, body) = self.raw_request(py, method, query, body, options)?;
            Ok(bridge::spawn(bridge, future, async move { core.send_raw(method, &path, &query, body.as_ref()).await }, |py, response| {
                raw_json(py, response).map(Bound::unbind)
            }))
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
            Ok(bridge::spawn(bridge, future, async move { pager.lock().await.next_page::<Box<RawValue>>().await }, move |py, page| {
                page_items(py, op, page).map(Bound::unbind)
            }))
        })
    }
}
