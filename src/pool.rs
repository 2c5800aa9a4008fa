//! The pool: storage buffers (and the texture matmul's operand textures) are recycled by size
//! class instead of being created and destroyed for every op's output. A tensor's buffer returns
//! to the pool when its last handle drops; the next request of that class takes it back. Reuse
//! is safe because every use of a buffer or texture — kernels, copies, uploads (recorded as
//! copies too) — is recorded in one stream, in program order: work recorded after a resource is
//! reused always runs after work recorded before. The pool keeps at most [`MAX_POOLED_BYTES`]
//! of idle resources.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::sync::lock;

/// Idle bytes the pool keeps; beyond that, returned resources are destroyed.
pub(crate) const MAX_POOLED_BYTES: u64 = 1 << 30;

/// Live and pooled GPU memory, from [`crate::Gpu::memory_stats`]. The bytes count buffers and
/// textures together (what a memory budget limits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Buffers held by tensors (or by pending work).
    pub live_buffers: usize,
    /// The bytes of live buffers and textures (by size class).
    pub live_bytes: u64,
    /// Idle buffers kept for reuse.
    pub pooled_buffers: usize,
    /// The bytes of idle buffers and textures.
    pub pooled_bytes: u64,
    /// Operand textures of the texture matmul held by work in flight (its workspace).
    pub live_textures: usize,
    /// Idle operand textures kept for reuse.
    pub pooled_textures: usize,
}

#[derive(Default)]
pub(crate) struct Pool {
    buffers: HashMap<u64, Vec<wgpu::Buffer>>,
    textures: HashMap<u64, Vec<wgpu::Texture>>,
    stats: MemoryStats,
    /// Buffers let go of so far (trimmed, or not kept past the cap): caches that hold
    /// buffers (bind groups) empty themselves when it moves.
    released: Arc<AtomicU64>,
}

/// What the pool recycles: a storage buffer or an operand texture, shelved by size class.
pub(crate) trait Reusable: Clone {
    /// The pool's idle resources of this kind, by class.
    fn shelf(pool: &mut Pool) -> &mut HashMap<u64, Vec<Self>>;
    /// The counts of live and pooled resources of this kind.
    fn counts(stats: &mut MemoryStats) -> (&mut usize, &mut usize);
}

impl Reusable for wgpu::Buffer {
    fn shelf(pool: &mut Pool) -> &mut HashMap<u64, Vec<Self>> {
        &mut pool.buffers
    }
    fn counts(stats: &mut MemoryStats) -> (&mut usize, &mut usize) {
        (&mut stats.live_buffers, &mut stats.pooled_buffers)
    }
}

impl Reusable for wgpu::Texture {
    fn shelf(pool: &mut Pool) -> &mut HashMap<u64, Vec<Self>> {
        &mut pool.textures
    }
    fn counts(stats: &mut MemoryStats) -> (&mut usize, &mut usize) {
        (&mut stats.live_textures, &mut stats.pooled_textures)
    }
}

/// A pooled resource of `bytes` bytes (its class's); goes back to its pool on drop.
pub(crate) struct Pooled<R: Reusable> {
    resource: R,
    class: u64,
    bytes: u64,
    pool: Weak<Mutex<Pool>>,
}

/// A pooled storage buffer.
pub(crate) type PooledBuffer = Pooled<wgpu::Buffer>;

/// The size class of a request: the next of 2^k or 1.5·2^k (at most a third wasted), at
/// least 256 bytes; requests above `limit` get exactly their size (clamped classes would not
/// fit a binding).
pub(crate) fn size_class(bytes: u64, limit: u64) -> u64 {
    rounded_class(bytes, 256, limit)
}

/// `n` rounded up to the next of 2^k or 1.5·2^k from `min` (at most a third wasted), or `n`
/// itself where that would pass `limit`: the classes of pooled buffers (bytes) and operand
/// textures (rows).
pub(crate) fn rounded_class(n: u64, min: u64, limit: u64) -> u64 {
    let mut class = min;
    while class < n {
        let half_step = class + class / 2;
        class = if half_step >= n {
            half_step
        } else {
            class.saturating_mul(2)
        };
    }
    if class > limit {
        n
    } else {
        class
    }
}

impl Pool {
    /// An idle resource of `class` (`bytes` bytes), if one is pooled.
    pub(crate) fn take<R: Reusable>(
        pool: &Arc<Mutex<Pool>>,
        class: u64,
        bytes: u64,
    ) -> Option<Pooled<R>> {
        let mut p = lock(pool);
        let resource = R::shelf(&mut p).get_mut(&class)?.pop()?;
        let stats = &mut p.stats;
        stats.pooled_bytes -= bytes;
        stats.live_bytes += bytes;
        let (live, pooled) = R::counts(stats);
        *pooled -= 1;
        *live += 1;
        Some(Pooled {
            resource,
            class,
            bytes,
            pool: Arc::downgrade(pool),
        })
    }

    /// Wraps a freshly created resource of `class` (`bytes` bytes) so it returns here.
    pub(crate) fn adopt<R: Reusable>(
        pool: &Arc<Mutex<Pool>>,
        resource: R,
        class: u64,
        bytes: u64,
    ) -> Pooled<R> {
        let mut p = lock(pool);
        p.stats.live_bytes += bytes;
        *R::counts(&mut p.stats).0 += 1;
        Pooled {
            resource,
            class,
            bytes,
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

    /// Destroys every idle buffer and texture.
    pub(crate) fn trim(pool: &Mutex<Pool>) {
        let mut p = lock(pool);
        p.buffers.clear();
        p.textures.clear();
        p.released.fetch_add(1, Ordering::Release);
        p.stats.pooled_buffers = 0;
        p.stats.pooled_textures = 0;
        p.stats.pooled_bytes = 0;
    }
}

impl<R: Reusable> Pooled<R> {
    /// The buffer or texture.
    pub(crate) fn resource(&self) -> &R {
        &self.resource
    }
}

impl PooledBuffer {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        &self.resource
    }
}

impl<R: Reusable> Drop for Pooled<R> {
    fn drop(&mut self) {
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        let resource = self.resource.clone(); // a handle: the GPU resource itself is shared
        let mut p = lock(&pool);
        p.stats.live_bytes -= self.bytes;
        *R::counts(&mut p.stats).0 -= 1;
        if p.stats.pooled_bytes + self.bytes <= MAX_POOLED_BYTES {
            p.stats.pooled_bytes += self.bytes;
            *R::counts(&mut p.stats).1 += 1;
            R::shelf(&mut p)
                .entry(self.class)
                .or_default()
                .push(resource);
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
