//! The bindings' shared tokio runtime and its fork handling, in one place.
//!
//! A binding runs every call on one multi-threaded runtime per process
//! ([`shared_runtime`]), with [`env::worker_threads`](crate::env::worker_threads)
//! workers (`PARSEC_TEAMS_WORKER_THREADS`, default half the CPUs, 1 to 4).
//! After `fork()` the child has none of the parent's threads: [`fork_generation`]
//! changes in the child (a `pthread_atfork` handler registered on first use),
//! and [`ForkLocal`] values — the runtime among them — are made anew there.
//! A client made in another generation should use
//! [`Client::with_own_pool`](crate::Client::with_own_pool) in the child.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Once;

use tokio::runtime::Runtime;

use crate::error::{Error, ErrorKind, Result};

/// How many `fork()`s separate this process from the one that loaded the
/// SDK: 0 in the original process, incremented in each child right after `fork()`.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Marks this process as a child just forked. Called by the `pthread_atfork`
/// handler; a binding may also call it from its language's own hook (Python's
/// `os.register_at_fork(after_in_child=...)`): a second bump for the same fork
/// is harmless, only a change of generation matters.
/// Only an atomic add: async-signal-safe.
pub fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

#[cfg(unix)]
extern "C" fn child_handler() {
    after_fork_in_child();
}

/// Registers the `pthread_atfork` child handler (once; [`fork_generation`] does it too).
pub fn install_fork_handler() {
    static HANDLER: Once = Once::new();
    HANDLER.call_once(|| {
        #[cfg(unix)]
        {
            extern "C" {
                fn pthread_atfork(
                    prepare: Option<extern "C" fn()>,
                    parent: Option<extern "C" fn()>,
                    child: Option<extern "C" fn()>,
                ) -> std::os::raw::c_int;
            }
            // SAFETY: registers a handler that only adds to an atomic (async-signal-safe).
            unsafe {
                pthread_atfork(None, None, Some(child_handler));
            }
        }
        // Elsewhere (Windows) there is no fork(): the generation stays 0.
    });
}

/// The current fork generation (one atomic load once the handler is in place).
/// An object remembers the generation it was made in; a different one means
/// it was inherited from a parent process.
pub fn fork_generation() -> u64 {
    install_fork_handler();
    FORK_GENERATION.load(Ordering::Acquire)
}

/// A value that belongs to one process: made on first use in each fork
/// generation, lock-free (a lock held by a parent thread at `fork()` would
/// never be released in the child). The value of an ancestor process is kept
/// (linked from the new one) but never used again: a thread of this process
/// may still be reading it, and it is at most one value per `fork()`.
pub struct ForkLocal<T> {
    current: AtomicPtr<Slot<T>>,
}

struct Slot<T> {
    generation: u64,
    value: T,
    /// The slot of the parent process, kept reachable, freed with this one.
    ancestor: *mut Slot<T>,
}

impl<T> ForkLocal<T> {
    pub const fn new() -> ForkLocal<T> {
        ForkLocal { current: AtomicPtr::new(ptr::null_mut()) }
    }
}

impl<T> Default for ForkLocal<T> {
    fn default() -> Self {
        ForkLocal::new()
    }
}

impl<T: Send + Sync> ForkLocal<T> {
    /// The value of this process, made by `make` when there is none yet.
    pub fn get_or_try_init(&self, make: impl FnOnce() -> Result<T>) -> Result<&T> {
        let generation = fork_generation();
        let mut seen = self.current.load(Ordering::Acquire);
        // SAFETY: a non-NULL pointer came from `Box::into_raw` below and is
        // freed only by `drop`, which has `&mut self`.
        if let Some(slot) = unsafe { seen.as_ref() } {
            if slot.generation == generation {
                return Ok(&slot.value);
            }
        }
        let mine = Box::into_raw(Box::new(Slot { generation, value: make()?, ancestor: seen }));
        loop {
            match self.current.compare_exchange(seen, mine, Ordering::AcqRel, Ordering::Acquire) {
                // SAFETY: just stored; lives until `drop`.
                Ok(_) => return Ok(unsafe { &(*mine).value }),
                Err(now) => {
                    // SAFETY: as above.
                    if let Some(slot) = unsafe { now.as_ref() } {
                        if slot.generation == generation {
                            // Another thread of this process won: ours was never shared.
                            // SAFETY: `mine` came from `Box::into_raw` and nobody else saw it.
                            let mut lost = unsafe { Box::from_raw(mine) };
                            lost.ancestor = ptr::null_mut();
                            return Ok(&slot.value);
                        }
                    }
                    // SAFETY: `mine` is still ours alone.
                    unsafe { (*mine).ancestor = now };
                    seen = now;
                }
            }
        }
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        if !self.ancestor.is_null() {
            // SAFETY: `ancestor` came from `Box::into_raw` and is owned by this slot only.
            drop(unsafe { Box::from_raw(self.ancestor) });
        }
    }
}

impl<T> Drop for ForkLocal<T> {
    fn drop(&mut self) {
        let p = *self.current.get_mut();
        if !p.is_null() {
            // SAFETY: came from `Box::into_raw`; `&mut self` means no reader is left.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

/// The process's one runtime for the bindings, created on first use with
/// [`env::worker_threads`](crate::env::worker_threads) workers; after
/// `fork()` the child gets its own. The fast path is two atomic loads.
pub fn shared_runtime() -> Result<&'static Runtime> {
    static RUNTIME: ForkLocal<Runtime> = ForkLocal::new();
    RUNTIME.get_or_try_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(crate::env::worker_threads())
            .thread_name("parsec-teams")
            .enable_all()
            .build()
            .map_err(|e| Error::new(ErrorKind::Internal, format!("could not start the parsec-teams runtime threads: {e}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: bumping the fork generation (as the child handler does)
    /// must not race another test's use of the shared runtime.
    #[test]
    fn fork_local_values_and_the_shared_runtime() {
        let rt = shared_runtime().unwrap();
        assert_eq!(rt.block_on(async { 7 }), 7);
        assert!(std::ptr::eq(rt, shared_runtime().unwrap()));

        let local: ForkLocal<u64> = ForkLocal::new();
        let mut made = 0;
        let first = *local
            .get_or_try_init(|| {
                made += 1;
                Ok(fork_generation())
            })
            .unwrap();
        assert_eq!(*local.get_or_try_init(|| Ok(99)).unwrap(), first);
        assert_eq!(made, 1);
        // What the child handler does after fork(): the next use makes a value of its own.
        after_fork_in_child();
        assert_eq!(*local.get_or_try_init(|| Ok(fork_generation())).unwrap(), first + 1);
        let child_rt = shared_runtime().unwrap();
        assert!(!std::ptr::eq(rt, child_rt), "a new generation gets a runtime of its own");
        assert_eq!(child_rt.block_on(async { 8 }), 8);
        let e = ForkLocal::<u8>::new().get_or_try_init(|| Err(Error::new(ErrorKind::Internal, "no"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
    }
}
