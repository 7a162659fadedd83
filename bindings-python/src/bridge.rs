//! Completing asyncio futures without binding anything to one event loop.
//!
//! A request runs on the shared tokio runtime. When it finishes, its result
//! is queued on the `LoopBridge` of the loop that awaits it and one byte is
//! written to a socket that loop watches (`loop.add_reader`); the loop thread
//! then drains the queue and sets the futures' results. The tokio threads
//! never take the GIL and never call into the loop, so a loop that has closed
//! (successive `asyncio.run()` calls) is never touched: nothing can raise
//! "Event loop is closed".
//!
//! No future is left pending: a panic in the request becomes an
//! `InternalError` result, and so does a panic while building the result.

use std::future::Future;
use std::io::{Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use crate::errors;

/// The socket pair: a Unix socket pair where there is one, else a connected
/// loopback TCP pair (Windows: `select()`, which asyncio's selector loop uses,
/// takes sockets only).
#[cfg(unix)]
mod pair {
    pub type Stream = std::os::unix::net::UnixStream;

    pub fn new() -> std::io::Result<(Stream, Stream)> {
        Stream::pair()
    }

    pub fn fileno(s: &Stream) -> i64 {
        use std::os::fd::AsRawFd;
        i64::from(s.as_raw_fd())
    }
}

#[cfg(not(unix))]
mod pair {
    use std::net::{Ipv4Addr, TcpListener};

    pub type Stream = std::net::TcpStream;

    pub fn new() -> std::io::Result<(Stream, Stream)> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let writer = Stream::connect(listener.local_addr()?)?;
        let (reader, _) = listener.accept()?;
        writer.set_nodelay(true)?;
        Ok((reader, writer))
    }

    #[cfg(windows)]
    pub fn fileno(s: &Stream) -> i64 {
        use std::os::windows::io::AsRawSocket;
        s.as_raw_socket() as i64
    }

    #[cfg(not(windows))]
    pub fn fileno(_: &Stream) -> i64 {
        -1
    }
}

/// Builds the Python result of a finished request, on the loop thread.
pub type Finish = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

struct Queue {
    done: Vec<(Py<PyAny>, Finish)>,
    /// A wake-up byte is in flight.
    armed: bool,
}

pub struct BridgeInner {
    queue: Mutex<Queue>,
    writer: pair::Stream,
}

impl BridgeInner {
    /// Queues the completion of `future` (an `asyncio.Future`) and wakes the loop.
    pub fn complete(&self, future: Py<PyAny>, finish: Finish) {
        let wake = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.done.push((future, finish));
            !std::mem::replace(&mut q.armed, true)
        };
        if wake {
            // A full socket buffer already means "readable": ignore WouldBlock.
            let _ = (&self.writer).write(&[1]);
        }
    }
}

/// Runs `work` on the shared runtime; `future` (of the loop that owns
/// `bridge`) then receives `finish` of its result. A panic in either becomes
/// an `InternalError` on the future.
pub fn spawn<T, W, F>(bridge: &Bound<'_, LoopBridge>, future: Py<PyAny>, work: W, finish: F) -> PyResult<TaskHandle>
where
    T: Send + 'static,
    W: Future<Output = parsec_teams::Result<T>> + Send + 'static,
    F: FnOnce(Python<'_>, parsec_teams::Result<T>) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let rt = errors::runtime(bridge.py())?;
    let bridge = bridge.get().inner.clone();
    let handle = rt.spawn(async move {
        let result = parsec_teams::error::catch_panic(work).await;
        bridge.complete(future, Box::new(move |py| finish(py, result)));
    });
    Ok(TaskHandle { handle: handle.abort_handle() })
}

/// One per event loop: `fileno()` is watched with `loop.add_reader(fd, bridge.drain)`.
#[pyclass(frozen, module = "parsec_teams._native")]
pub struct LoopBridge {
    pub inner: Arc<BridgeInner>,
    reader: pair::Stream,
}

#[pymethods]
impl LoopBridge {
    #[new]
    fn new(py: Python<'_>) -> PyResult<LoopBridge> {
        errors::guard(py, || {
            let (reader, writer) = pair::new()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            Ok(LoopBridge { inner: Arc::new(BridgeInner { queue: Mutex::new(Queue { done: Vec::new(), armed: false }), writer }), reader })
        })
    }

    /// The file descriptor (a socket on Windows) the loop watches.
    fn fileno(&self) -> i64 {
        pair::fileno(&self.reader)
    }

    /// Sets the results of every finished request (run by the loop). A result
    /// that cannot be set is reported as unraisable; the others are still set.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        errors::guard(py, || {
            let mut buf = [0u8; 64];
            while let Ok(n) = (&self.reader).read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            let done = {
                let mut q = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.armed = false;
                std::mem::take(&mut q.done)
            };
            for (future, finish) in done {
                let future = future.bind(py);
                if let Err(e) = settle(py, future, finish) {
                    e.write_unraisable(py, Some(future));
                }
            }
            Ok(())
        })
    }
}

fn settle(py: Python<'_>, future: &Bound<'_, PyAny>, finish: Finish) -> PyResult<()> {
    if future.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
        return Ok(()); // cancelled meanwhile
    }
    let result = panic::catch_unwind(AssertUnwindSafe(|| finish(py))).unwrap_or_else(|p| Err(errors::from_panic(py, p)));
    match result {
        Ok(v) => future.call_method1(pyo3::intern!(py, "set_result"), (v,))?,
        Err(e) => future.call_method1(pyo3::intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
}

/// A running request: `abort()` drops its Rust future, which stops it.
#[pyclass(frozen, module = "parsec_teams._native")]
pub struct TaskHandle {
    pub handle: tokio::task::AbortHandle,
}

#[pymethods]
impl TaskHandle {
    fn abort(&self) {
        self.handle.abort();
    }
}

/// `_native._panic_for_tests(where, bridge, future)`: a request that panics
/// `"task"` (in the runtime) or `"finish"` (building its result on the loop
/// thread), so tests can show the future still completes, with
/// `InternalError`. No other use.
#[pyfunction]
#[pyo3(name = "_panic_for_tests")]
pub fn panic_for_tests(py: Python<'_>, place: &str, bridge: &Bound<'_, LoopBridge>, future: Py<PyAny>) -> PyResult<TaskHandle> {
    errors::guard(py, || {
        let in_task = place == "task";
        spawn(
            bridge,
            future,
            async move {
                tokio::task::yield_now().await;
                if in_task {
                    panic!("deliberate panic in the task");
                }
                Ok(())
            },
            |py, result: parsec_teams::Result<()>| match result {
                Err(e) => Err(errors::to_py(py, &e)),
                Ok(()) => panic!("deliberate panic in the finish"),
            },
        )
    })
}
