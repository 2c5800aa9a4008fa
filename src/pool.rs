//! The buffer pool: storage buffers are recycled by size class instead of being created and
//! destroyed for every op's output. A tensor's buffer returns to the pool when its last handle
//! drops; the next request of that class takes it back. Reuse is safe because every use of a
//! buffer — kernels, copies, uploads (recorded as copies too) — is recorded in one stream, in
//! program order: work recorded after a buffer is reused always runs after work recorded
//! before. The pool keeps at most [`MAX_POOLED_BYTES`] of idle buffers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::sync::lock;

/// Idle bytes the pool keeps; beyond that, returned buffers are destroyed.
pub(crate) const MAX_POOLED_BYTES: u64 = 1 << 30;

/// Live and pooled GPU memory, from [`crate::Gpu::memory_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Buffers held by tensors (or by pending work).
    pub live_buffers: usize,
    /// Their size in bytes (by size class).
    pub live_bytes: u64,
    /// Idle buffers kept for reuse.
    pub pooled_buffers: usize,
    /// Their size in bytes.
    pub pooled_bytes: u64,
}

#[derive(Default)]
pub(crate) struct Pool {
    free: HashMap<u64, Vec<wgpu::Buffer>>,
    stats: MemoryStats,
    /// Buffers let go of so far (trimmed, or not kept past the cap): caches that hold
    /// buffers (bind groups) empty themselves when it moves.
    released: Arc<AtomicU64>,
}

/// A pooled storage buffer; goes back to its pool on drop.
pub(crate) struct PooledBuffer {
    buffer: wgpu::Buffer,
    class: u64,
    pool: Weak<Mutex<Pool>>,
}

/// The size class of a request: the next of 2^k or 1.5·2^k (at most a third wasted), at
/// least 256 bytes; requests above `limit` get exactly their size (clamped classes would not
/// fit a binding).
pub(crate) fn size_class(bytes: u64, limit: u64) -> u64 {
    let mut class = 256u64;
    while class < bytes {
        let half_step = class + class / 2;
        class = if half_step >= bytes {
            half_step
        } else {
            class * 2
        };
    }
    if class > limit {
        bytes
    } else {
        class
    }
}

impl Pool {
    /// An idle buffer of `class` bytes, if one is pooled.
    pub(crate) fn take(pool: &Arc<Mutex<Pool>>, class: u64) -> Option<PooledBuffer> {
        let mut p = lock(pool);
        let buffer = p.free.get_mut(&class)?.pop()?;
        p.stats.pooled_buffers -= 1;
        p.stats.pooled_bytes -= class;
        p.stats.live_buffers += 1;
        p.stats.live_bytes += class;
        Some(PooledBuffer {
            buffer,
            class,
            pool: Arc::downgrade(pool),
        })
    }

    /// Wraps a freshly created buffer of `class` bytes so it returns here.
    pub(crate) fn adopt(pool: &Arc<Mutex<Pool>>, buffer: wgpu::Buffer, class: u64) -> PooledBuffer {
        let mut p = lock(pool);
        p.stats.live_buffers += 1;
        p.stats.live_bytes += class;
        PooledBuffer {
            buffer,
            class,
            pool: Arc::downgrade(pool),
        }
    }

    /// The counter of buffers let go of, to share with caches that hold buffers.
    pub(crate) fn released(pool: &Mutex<Pool>) -> Arc<AtomicU64> {
        lock(pool).released.clone()
    }

    pub(crate) fn stats(pool: &Mutex<Pool>) -> MemoryStats {
        lock(pool).stats
    }

    /// Destroys every idle buffer.
    pub(crate) fn trim(pool: &Mutex<Pool>) {
        let mut p = lock(pool);
        p.free.clear();
        p.released.fetch_add(1, Ordering::Release);
        p.stats.pooled_buffers = 0;
        p.stats.pooled_bytes = 0;
    }
}

impl PooledBuffer {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        let buffer = self.buffer.clone(); // a handle: the GPU buffer itself is shared
        let mut p = lock(&pool);
        p.stats.live_buffers -= 1;
        p.stats.live_bytes -= self.class;
        if p.stats.pooled_bytes + self.class <= MAX_POOLED_BYTES {
            p.stats.pooled_buffers += 1;
            p.stats.pooled_bytes += self.class;
            p.free.entry(self.class).or_default().push(buffer);
        } else {
            p.released.fetch_add(1, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn classes_waste_at_most_a_third() {
        assert_eq!(size_class(1, 1 << 30), 256);
        assert_eq!(size_class(257, 1 << 30), 384);
        assert_eq!(size_class(385, 1 << 30), 512);
        assert_eq!(size_class(1 << 20, 1 << 30), 1 << 20);
        for bytes in [300u64, 1000, 5000, 123_456, 9_999_999] {
            let c = size_class(bytes, u64::MAX);
            assert!(
                c >= bytes && (c as f64) <= bytes as f64 * 1.5 + 256.0,
                "{bytes} -> {c}"
            );
        }
        assert_eq!(size_class(100, 64), 100, "above the limit: exact size");
    }
}
