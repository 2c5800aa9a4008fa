//! Locking that survives a panic elsewhere: the one helper every module that shares state
//! uses (kept apart so that no module needs `gpu` for it).

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if another thread panicked while holding it (the data
/// guarded in this crate stays consistent: caches and queues are only appended to or taken
/// whole).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
