//! `Gpu`: the one shared context — adapter, device, queue, the kernel cache, the pending
//! command buffers that ops record, and their submission. Errors are in `errors`, memory (the
//! pool, the budget, uploads) in `memory`, reading back in `readback`.
//!
//! Ops never submit on their own: they record command buffers into the pending list, and it is
//! submitted when a result is read back (`Tensor::to_vec`), on an explicit [`Gpu::flush`], or
//! when many dispatches have piled up. So forward → backward → read is one submit.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;

mod bindings;
pub mod cards;
mod errors;
mod launch;
mod memory;
mod open;
mod profile;
mod readback;
mod trace;
mod tune;
mod window;

pub(crate) use memory::texture_rows_class;
pub use open::GpuOptions;
pub use profile::Profile;
pub use tune::{DeviceClock, TuneClock};
pub(crate) use window::Command;
use window::Pending;

use crate::error::{Error, Result};
use crate::kernels::KernelCache;
use crate::pool::Pool;
pub(crate) use crate::sync::lock;

/// Ops recorded before the pending command buffers are submitted on their own.
const MAX_PENDING_DISPATCHES: usize = 512;

/// How long a blocking call waits for the device by default (see [`Gpu::set_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

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
    /// Why the device was lost, once it is.
    lost: Arc<Mutex<Option<String>>>,
    pool: Arc<Mutex<Pool>>,
    /// The uniform ring every dispatch's `Params` go through.
    ring: bindings::Ring,
    /// Bind groups made once per kernel, specialisation and buffers.
    bind_groups: bindings::BindGroups,
    /// Mappable buffers for reading back, kept for reuse.
    staging: Mutex<memory::Staging>,
    /// The memory budget in bytes (`u64::MAX`: none).
    budget: AtomicU64,
    /// How long blocking calls wait for the device, in milliseconds.
    timeout_ms: AtomicU64,
    /// Waits left that fail at once ([`Gpu::inject_timeouts`]).
    injected_timeouts: AtomicU32,
    /// Held shared by every op while it records, and exclusively by the autotuner while it
    /// times a candidate ([`Gpu::exclusive`]), so no other thread's work lands in a timing.
    recording: RwLock<()>,
    /// What the autotuner times with.
    tune_clock: Mutex<Arc<dyn TuneClock>>,
    /// [`Gpu::profile`].
    profile: Profile,
    /// The dispatch trace being taken ([`Gpu::dispatch_times`]), if any.
    trace: Mutex<Option<trace::Trace>>,
}

thread_local! {
    /// The id of the `Gpu` whose recording lock this thread holds exclusively (0: none).
    static EXCLUSIVE: Cell<u64> = const { Cell::new(0) };
}

fn holds_exclusive(id: u64) -> bool {
    EXCLUSIVE.with(|e| e.get() == id)
}

fn set_exclusive(id: u64) {
    EXCLUSIVE.with(|e| e.set(id));
}

impl Gpu {
    /// The shared hold on the recording lock that an op keeps while it records (none for the
    /// thread that holds it exclusively). Take it before the pending list's lock.
    pub(crate) fn recording(&self) -> Option<RwLockReadGuard<'_, ()>> {
        if holds_exclusive(self.inner.id) {
            return None;
        }
        Some(
            self.inner
                .recording
                .read()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

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

    /// How this device runs the crate's kernels (CPU device or GPU, loop cap, timestamps,
    /// subgroups, chunk sizes, tuning budget), worked out when the `Gpu` opened.
    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    pub(crate) fn same(&self, other: &Gpu) -> bool {
        self.inner.id == other.inner.id
    }

    /// How long blocking calls ([`Tensor::to_vec`](crate::Tensor::to_vec),
    /// [`Gpu::synchronize`]) wait for the device before they return [`Error::Timeout`];
    /// [`DEFAULT_TIMEOUT`] unless set.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.inner.timeout_ms.load(Ordering::Relaxed))
    }

    /// For tests of what follows a timeout: the next `count` waits for the device fail with
    /// [`Error::Timeout`] at once, as if the device had not finished in time (a real timeout
    /// depends on how fast the device is, so no test can count on one).
    #[doc(hidden)]
    pub fn inject_timeouts(&self, count: u32) {
        self.inner.injected_timeouts.store(count, Ordering::Relaxed);
    }

    fn take_injected_timeout(&self) -> bool {
        let left = &self.inner.injected_timeouts;
        left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Sets [`Gpu::timeout`] for every handle on this device.
    pub fn set_timeout(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.inner.timeout_ms.store(ms, Ordering::Relaxed);
    }

    /// Records one command (a copy, a clear, a timestamp) into the pending window, after
    /// everything recorded before. Submits when many ops have piled up.
    pub(crate) fn record(&self, op: &'static str, command: Command) -> Result<()> {
        let full = {
            let _recording = self.recording();
            let mut pending = lock(&self.inner.pending);
            pending.command(&self.inner.device, op, command);
            pending.full(self.inner.ring.stride, MAX_PENDING_DISPATCHES)
        };
        if full {
            self.flush_op(op)?;
        }
        Ok(())
    }

    /// Records work of the caller's own into the same stream as the crate's ops: it runs after
    /// every op recorded before and before every op recorded after. Device errors it raises
    /// come back here as this call's `Err`, blamed on `op`, and then nothing of it is queued.
    ///
    /// ```no_run
    /// # fn main() -> wgpu_backprop::Result<()> {
    /// let gpu = wgpu_backprop::Gpu::new()?;
    /// let buffer = |usage| {
    ///     gpu.device().create_buffer(&wgpu::BufferDescriptor {
    ///         label: Some("mine"),
    ///         size: 64,
    ///         usage,
    ///         mapped_at_creation: false,
    ///     })
    /// };
    /// let (src, dst) = (buffer(wgpu::BufferUsages::COPY_SRC), buffer(wgpu::BufferUsages::COPY_DST));
    /// gpu.encode("my copy", |enc| enc.copy_buffer_to_buffer(&src, 0, &dst, 0, 64))?;
    /// # Ok(()) }
    /// ```
    pub fn encode(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut wgpu::CommandEncoder),
    ) -> Result<()> {
        let buffer = self.scoped(op, || {
            let mut encoder = self
                .inner
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(op) });
            f(&mut encoder);
            encoder.finish()
        })?;
        let _recording = self.recording();
        let mut pending = lock(&self.inner.pending);
        // The buffer joins the window even when sealing the segment before it found a
        // rejected op (that op's error is returned after).
        let sealed = pending.push_buffer(self, buffer);
        if pending.full(self.inner.ring.stride, MAX_PENDING_DISPATCHES) {
            self.submit_locked(op, &mut pending)?;
        }
        sealed
    }

    /// Submits all recorded work to the queue (without waiting for it).
    pub fn flush(&self) -> Result<()> {
        self.flush_op("Gpu::flush").map(|_| ())
    }

    /// Submits the pending work; returns its submission (`None` if nothing was pending).
    pub(crate) fn flush_op(&self, op: &'static str) -> Result<Option<wgpu::SubmissionIndex>> {
        // Submit under the lock: work recorded after this point (by any thread) must reach
        // the queue after these buffers, or a readback could overtake the op it reads.
        let mut pending = lock(&self.inner.pending);
        if pending.is_empty() {
            drop(pending);
            self.check_errors(op)?;
            return Ok(None);
        }
        self.submit_locked(op, &mut pending).map(Some)
    }

    /// Submits the window in `pending` (its lock held): the ring slots first, then the
    /// command buffers. An op of the window that the device rejected was left out (the rest
    /// is submitted) and is this call's `Err`, named.
    pub(crate) fn submit_locked(
        &self,
        op: &'static str,
        pending: &mut Pending,
    ) -> Result<wgpu::SubmissionIndex> {
        let (window, sealed) = pending.take(self);
        let index = self.scoped(op, || {
            if let Some(range) = window.ring {
                let ring = &self.inner.ring.buffer;
                self.inner
                    .queue
                    .write_buffer(ring, range.start as u64, &window.params[range]);
            }
            self.inner.queue.submit(window.buffers)
        })?;
        sealed.map(|()| index)
    }

    /// Submits recorded work and blocks until the device has finished it (or the timeout).
    pub fn synchronize(&self) -> Result<()> {
        const OP: &str = "Gpu::synchronize";
        let index = self.flush_op(OP)?;
        self.wait(OP, index)
    }

    /// Waits for submission `index` (all submitted work if `None`), up to the timeout.
    pub(crate) fn wait(
        &self,
        op: &'static str,
        index: Option<wgpu::SubmissionIndex>,
    ) -> Result<()> {
        self.check_lost(op)?;
        if cfg!(target_arch = "wasm32") {
            return Err(Error::Blocking {
                op,
                instead: "Tensor::to_vec_async",
            });
        }
        let timeout = self.timeout();
        if self.take_injected_timeout() {
            return Err(Error::Timeout {
                op,
                seconds: timeout.as_secs_f64(),
            });
        }
        let polled = self.inner.device.poll(wgpu::PollType::Wait {
            submission_index: index,
            timeout: Some(timeout),
        });
        match polled {
            Ok(_) => self.check_errors(op),
            Err(wgpu::PollError::Timeout) => {
                self.check_lost(op)?;
                Err(Error::Timeout {
                    op,
                    seconds: timeout.as_secs_f64(),
                })
            }
            Err(e) => {
                // A submission to a lost device fails without a word; one more poll runs the
                // device-lost callback, so the error says what happened.
                let _ = self.inner.device.poll(wgpu::PollType::Poll);
                Err(self.lost_or(op, e.to_string()))
            }
        }
    }

    /// Records an empty compute pass that writes timestamp `index` of `queries`.
    pub(crate) fn timestamp(
        &self,
        op: &'static str,
        queries: &wgpu::QuerySet,
        index: u32,
    ) -> Result<()> {
        self.record(op, Command::Timestamp(queries.clone(), index))
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
