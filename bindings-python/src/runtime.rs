//! The one shared tokio runtime of the process, rebuilt lazily in a child
//! after `fork()` (the parent's worker threads do not exist there).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::runtime::Runtime;

/// Bumped by `after_fork_in_child` (registered with `os.register_at_fork`).
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

static RUNTIME: Mutex<Option<(u64, &'static Runtime)>> = Mutex::new(None);

/// The current fork generation: a client built in another generation must be rebuilt.
pub fn generation() -> u64 {
    FORK_GENERATION.load(Ordering::Acquire)
}

/// Called in the child process right after `fork()`: by `os.register_at_fork`
/// and, where there is `fork()`, by `pthread_atfork` (which also sees forks
/// made outside Python's `os.fork`). Only an atomic add: async-signal-safe.
pub fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Registers [`after_fork_in_child`] with `pthread_atfork` (once).
#[cfg(unix)]
pub fn install_fork_handler() {
    use std::sync::Once;

    extern "C" {
        fn pthread_atfork(
            prepare: Option<extern "C" fn()>,
            parent: Option<extern "C" fn()>,
            child: Option<extern "C" fn()>,
        ) -> std::os::raw::c_int;
    }
    extern "C" fn child() {
        after_fork_in_child();
    }
    static ONCE: Once = Once::new();
    // SAFETY: pthread_atfork only records the handler; `child` does nothing
    // but an atomic add, which is allowed in a child after fork().
    ONCE.call_once(|| unsafe {
        pthread_atfork(None, None, Some(child));
    });
}

/// No `fork()` on this platform (Windows): nothing to watch.
#[cfg(not(unix))]
pub fn install_fork_handler() {}

/// Worker threads of the runtime: `PARSEC_TEAMS_WORKER_THREADS`, default 1.
/// One is enough: the workers only move bytes (decoding into Python objects
/// happens on the calling thread), and a second one mostly adds wake-ups
/// between threads.
fn worker_threads() -> usize {
    std::env::var("PARSEC_TEAMS_WORKER_THREADS").ok().and_then(|v| v.parse().ok()).filter(|n| (1..=64).contains(n)).unwrap_or(1)
}

/// The shared runtime for this process (and this fork generation).
pub fn runtime() -> &'static Runtime {
    let gen = generation();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    match *slot {
        Some((g, rt)) if g == gen => rt,
        _ => {
            // The old runtime (if any) belongs to the parent: its threads are
            // gone in this process, so it is leaked rather than shut down.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(worker_threads())
                .thread_name("parsec-teams")
                .enable_all()
                .build()
                .expect("could not start the tokio runtime");
            let rt: &'static Runtime = Box::leak(Box::new(rt));
            *slot = Some((gen, rt));
            rt
        }
    }
}
