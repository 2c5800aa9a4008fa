//! `Gpu`: the one shared context — adapter, device, queue, the kernel cache, the pending command
//! encoder that ops record into, and the sink where device errors land.
//!
//! Ops never submit on their own: they record into the pending encoder, and the work is
//! submitted when a result is read back (`Tensor::to_vec`), on an explicit [`Gpu::flush`], or
//! when many dispatches have piled up. So forward → backward → read is one submit.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use wgpu::util::DeviceExt;

mod open;
mod readback;

pub use open::GpuOptions;

use crate::error::{Error, Result};
use crate::kernels::KernelCache;
use crate::pool::{size_class, MemoryStats, Pool, PooledBuffer};

/// Dispatches recorded before the pending encoder is submitted on its own.
const MAX_PENDING_DISPATCHES: usize = 512;

static NEXT_GPU_ID: AtomicU64 = AtomicU64::new(1);

/// A cheap-to-clone handle on one GPU device. All tensors and layers made from it share it.
///
/// Open one with [`Gpu::new`] (or [`Gpu::with_options`], [`Gpu::new_async`], or
/// [`Gpu::from_device`] for a device you already own) and pass it to everything that makes
/// tensors; it is `Send + Sync`.
///
/// ```no_run
/// use wgpu_backprop::Gpu;
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// println!("{} ({:?})", gpu.adapter_name(), gpu.adapter_info().backend);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Gpu {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) id: u64,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) kernels: KernelCache,
    pending: Mutex<Pending>,
    errors: Arc<Mutex<Vec<String>>>,
    pool: Arc<Mutex<Pool>>,
}

#[derive(Default)]
struct Pending {
    encoder: Option<wgpu::CommandEncoder>,
    dispatches: usize,
}

/// Locks a mutex, recovering the data if another thread panicked while holding it (the data
/// guarded here stays consistent: encoders and caches are only appended to).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Gpu {
    /// The adapter's name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`.
    pub fn adapter_name(&self) -> &str {
        &self.inner.info.name
    }

    /// Everything wgpu knows about the adapter (backend, vendor, driver).
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// The features enabled on the device.
    pub fn features(&self) -> wgpu::Features {
        self.inner.device.features()
    }

    /// The limits of the device (the adapter's own maxima are requested).
    pub fn limits(&self) -> wgpu::Limits {
        self.inner.device.limits()
    }

    /// The underlying wgpu device, for users who want to mix in their own passes.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The underlying wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// Whether the driver stops an invocation's loops after 65,535 iterations (llvmpipe does,
    /// silently); kernels then keep every invocation's loops shorter.
    pub(crate) fn caps_loops(&self) -> bool {
        self.inner.info.name.contains("llvmpipe")
    }

    pub(crate) fn same(&self, other: &Gpu) -> bool {
        self.inner.id == other.inner.id
    }

    /// Records into the pending encoder; submits it when many dispatches have piled up.
    pub(crate) fn record(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut wgpu::CommandEncoder),
    ) -> Result<()> {
        let full = {
            let mut pending = lock(&self.inner.pending);
            let encoder = pending.encoder.get_or_insert_with(|| {
                self.inner
                    .device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("ops") })
            });
            f(encoder);
            pending.dispatches += 1;
            pending.dispatches >= MAX_PENDING_DISPATCHES
        };
        if full {
            self.flush_op(op)?;
        }
        Ok(())
    }

    /// Submits all recorded work to the queue (without waiting for it).
    pub fn flush(&self) -> Result<()> {
        self.flush_op("Gpu::flush")
    }

    pub(crate) fn flush_op(&self, op: &'static str) -> Result<()> {
        {
            // Submit under the lock: work recorded after this point (by any thread) must reach
            // the queue after this encoder, or a readback could overtake the op it reads.
            let mut pending = lock(&self.inner.pending);
            pending.dispatches = 0;
            if let Some(encoder) = pending.encoder.take() {
                self.inner.queue.submit([encoder.finish()]);
            }
        }
        self.check_errors(op)
    }

    /// Submits recorded work and blocks until the device has finished it.
    pub fn synchronize(&self) -> Result<()> {
        self.flush_op("Gpu::synchronize")?;
        self.wait("Gpu::synchronize")
    }

    pub(crate) fn wait(&self, op: &'static str) -> Result<()> {
        self.inner
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Device {
                op,
                message: e.to_string(),
            })?;
        self.check_errors(op)
    }

    /// Returns the errors the device reported since the last check, as one `Err`.
    pub(crate) fn check_errors(&self, op: &'static str) -> Result<()> {
        let mut errors = lock(&self.inner.errors);
        if errors.is_empty() {
            return Ok(());
        }
        let message = errors.join("; ");
        errors.clear();
        Err(Error::Device { op, message })
    }

    /// GPU memory held by tensors and by the buffer pool.
    pub fn memory_stats(&self) -> MemoryStats {
        Pool::stats(&self.inner.pool)
    }

    /// Frees the idle buffers the pool keeps for reuse.
    pub fn trim_pool(&self) {
        Pool::trim(&self.inner.pool)
    }

    /// A storage buffer of at least `bytes` bytes from the pool (or new), checked against the
    /// device's limits. Its contents are whatever the last user left.
    pub(crate) fn storage_buffer(&self, op: &'static str, bytes: u64) -> Result<PooledBuffer> {
        let limits = self.limits();
        let limit = limits
            .max_buffer_size
            .min(limits.max_storage_buffer_binding_size);
        if bytes > limit {
            return Err(Error::TooLarge {
                op,
                what: "bytes in one storage buffer",
                requested: bytes,
                limit,
            });
        }
        let class = size_class(bytes, limit);
        if let Some(buffer) = Pool::take(&self.inner.pool, class) {
            return Ok(buffer);
        }
        let buffer = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(op),
            size: class,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.check_errors(op)?;
        Ok(Pool::adopt(&self.inner.pool, buffer, class))
    }

    /// Records a copy of `data` into `dst` (in order with all other recorded work, so a
    /// recycled buffer is never written before earlier work on it has run).
    pub(crate) fn upload(&self, op: &'static str, dst: &wgpu::Buffer, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let staging = self
            .inner
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("upload"),
                contents: data,
                usage: wgpu::BufferUsages::COPY_SRC,
            });
        self.record(op, |enc| {
            enc.copy_buffer_to_buffer(&staging, 0, dst, 0, data.len() as u64)
        })
    }

    /// Records zero-filling `dst`.
    pub(crate) fn clear(&self, op: &'static str, dst: &wgpu::Buffer) -> Result<()> {
        self.record(op, |enc| enc.clear_buffer(dst, 0, None))
    }

    /// Records an empty compute pass that writes timestamp `index` of `queries`.
    pub(crate) fn timestamp(
        &self,
        op: &'static str,
        queries: &wgpu::QuerySet,
        index: u32,
    ) -> Result<()> {
        self.record(op, |enc| {
            enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("timestamp"),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: queries,
                    beginning_of_pass_write_index: Some(index),
                    end_of_pass_write_index: None,
                }),
            });
        })
    }
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu")
            .field("adapter", &self.inner.info.name)
            .field("backend", &self.inner.info.backend)
            .finish()
    }
}
