//! Completing asyncio futures without binding anything to one event loop.
//!
//! A request runs on the shared tokio runtime. When it finishes, its result
//! is queued on the `LoopBridge` of the loop that awaits it and one byte is
//! written to a socket that loop watches (`loop.add_reader`); the loop thread
//! then drains the queue and sets the futures' results. The tokio threads
//! never take the GIL and never call into the loop, so a loop that has closed
//! (successive `asyncio.run()` calls) is never touched: nothing can raise
//! "Event loop is closed".

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

/// Builds the Python result of a finished request, on the loop thread.
pub type Finish = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

struct Queue {
    done: Vec<(Py<PyAny>, Finish)>,
    /// A wake-up byte is in flight.
    armed: bool,
}

pub struct BridgeInner {
    queue: Mutex<Queue>,
    writer: UnixStream,
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

/// One per event loop: `fileno()` is watched with `loop.add_reader(fd, bridge.drain)`.
#[pyclass(frozen, module = "parsec_teams._native")]
pub struct LoopBridge {
    pub inner: Arc<BridgeInner>,
    reader: UnixStream,
}

#[pymethods]
impl LoopBridge {
    #[new]
    fn new() -> PyResult<LoopBridge> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(LoopBridge { inner: Arc::new(BridgeInner { queue: Mutex::new(Queue { done: Vec::new(), armed: false }), writer }), reader })
    }

    /// The file descriptor the loop watches.
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    /// Sets the results of every finished request (run by the loop).
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
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
        let done_name = pyo3::intern!(py, "done");
        let set_result = pyo3::intern!(py, "set_result");
        let set_exception = pyo3::intern!(py, "set_exception");
        for (future, finish) in done {
            let future = future.bind(py);
            if future.call_method0(done_name)?.is_truthy()? {
                continue; // cancelled meanwhile
            }
            match finish(py) {
                Ok(v) => future.call_method1(set_result, (v,))?,
                Err(e) => future.call_method1(set_exception, (e.into_value(py),))?,
            };
        }
        Ok(())
    }
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
