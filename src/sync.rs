//! Locking that survives a panic elsewhere: the one helper every module that shares state
//! uses (kept apart so that no module needs `gpu` for it).

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if another thread panicked while holding it (the data
/// guarded in this crate stays consistent: caches and queues are only appended to or taken
/// whole).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the async body of a blocking call to its end. Natively at once: the reads inside such a
/// body block (asleep, see `Tensor::read`), so nothing spins. In a browser a page cannot wait:
/// `Err(Blocking)` naming the async call to use instead.
pub(crate) fn block_on<T>(
    op: &'static str,
    instead: &'static str,
    body: impl std::future::Future<Output = crate::Result<T>>,
) -> crate::Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (op, instead);
        pollster::block_on(body)
    }
    #[cfg(target_arch = "wasm32")]
    {
        drop(body);
        Err(crate::Error::Blocking { op, instead })
    }
}
