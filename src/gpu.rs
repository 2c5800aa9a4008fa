//! `Gpu`: the one shared context — adapter, device, queue, the kernel cache, the pending command
//! encoder that ops record into, and the sink where device errors land.
//!
//! Ops never submit on their own: they record into the pending encoder, and the work is
//! submitted when a result is read back (`Tensor::to_vec`), on an explicit [`Gpu::flush`], or
//! when many dispatches have piled up. So forward → backward → read is one submit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::kernels::KernelCache;
use crate::pool::{size_class, MemoryStats, Pool, PooledBuffer};

/// How long a readback polls without blocking before it blocks on the device.
const SPIN_BEFORE_WAIT: std::time::Duration = std::time::Duration::from_micros(200);

/// Dispatches recorded before the pending encoder is submitted on its own.
const MAX_PENDING_DISPATCHES: usize = 512;

static NEXT_GPU_ID: AtomicU64 = AtomicU64::new(1);

/// A cheap-to-clone handle on one GPU device. All tensors and layers made from it share it.
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

/// The first adapter whose name contains `WGPU_ADAPTER_NAME` (any case) when that is set, else
/// wgpu's choice, preferring a high-performance GPU (`WGPU_POWER_PREF` overrides) so that a
/// machine with a GPU and lavapipe gets the GPU. wgpu's own helper panics when the name
/// matches nothing; this is an `Err` naming the adapters there are.
async fn pick_adapter(
    instance: &wgpu::Instance,
    backends: wgpu::Backends,
) -> Result<wgpu::Adapter> {
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let adapters = instance.enumerate_adapters(backends).await;
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        let lower = wanted.to_lowercase();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&lower))
            .ok_or_else(|| Error::NoAdapter {
                backends: format!(
                    "{backends:?}; WGPU_ADAPTER_NAME={wanted:?} matches none of {names:?}"
                ),
            });
    }
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::from_env()
            .unwrap_or(wgpu::PowerPreference::HighPerformance),
        ..Default::default()
    };
    instance
        .request_adapter(&options)
        .await
        .map_err(|_| Error::NoAdapter {
            backends: format!("{backends:?}"),
        })
}

impl Gpu {
    /// Opens the default GPU (blocking). Honours `WGPU_BACKEND` (e.g. `vulkan`, `metal`, `dx12`,
    /// `gl`) and `WGPU_ADAPTER_NAME` (a substring of the adapter's name).
    pub fn new() -> Result<Gpu> {
        pollster::block_on(Self::new_async())
    }

    async fn new_async() -> Result<Gpu> {
        let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        desc.flags = wgpu::InstanceFlags::empty().with_env();
        let instance = wgpu::Instance::new(desc);
        let adapter = pick_adapter(&instance, backends).await?;
        let info = adapter.get_info();
        let wanted = wgpu::Features::TIMESTAMP_QUERY
            | wgpu::Features::SUBGROUP
            | wgpu::Features::PIPELINE_CACHE;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("wgpu-backprop"),
                required_features: adapter.features() & wanted,
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::DeviceRequest {
                adapter: info.name.clone(),
                message: e.to_string(),
            })?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).push(e.to_string())
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            lock(&sink).push(format!("device lost ({reason:?}): {msg}"))
        });
        Ok(Gpu {
            inner: Arc::new(Inner {
                id: NEXT_GPU_ID.fetch_add(1, Ordering::Relaxed),
                kernels: KernelCache::new(&device, &info),
                device,
                queue,
                info,
                pending: Mutex::new(Pending::default()),
                errors,
                pool: Arc::new(Mutex::new(Pool::default())),
            }),
        })
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

    /// Copies the first `len` floats of `buffer` back to the host (submits pending work).
    pub(crate) fn read_f32(
        &self,
        op: &'static str,
        buffer: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<f32>> {
        Ok(bytemuck::pod_collect_to_vec(&self.read_bytes(
            op,
            buffer,
            (len * 4) as u64,
        )?))
    }

    /// Copies the first `len` u64 words of `buffer` back to the host (submits pending work).
    pub(crate) fn read_u64(
        &self,
        op: &'static str,
        buffer: &wgpu::Buffer,
        len: usize,
    ) -> Result<Vec<u64>> {
        Ok(bytemuck::pod_collect_to_vec(&self.read_bytes(
            op,
            buffer,
            (len * 8) as u64,
        )?))
    }

    /// Copies the first `bytes` bytes (a multiple of 4) of `buffer` back to the host.
    fn read_bytes(&self, op: &'static str, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let staging = self.inner.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.record(op, |enc| {
            enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes)
        })?;
        self.flush_op(op)?;
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        let device_err = |message: String| Error::Device { op, message };
        // Small reads finish within microseconds, while a blocking wait costs a thread wake-up:
        // poll without blocking for a short while first, then block.
        let spin_until = std::time::Instant::now() + SPIN_BEFORE_WAIT;
        let mapped = loop {
            self.inner
                .device
                .poll(wgpu::PollType::Poll)
                .map_err(|e| device_err(e.to_string()))?;
            if let Ok(r) = rx.try_recv() {
                break r;
            }
            if std::time::Instant::now() >= spin_until {
                self.wait(op)?;
                break rx.recv().map_err(|e| device_err(e.to_string()))?;
            }
            std::hint::spin_loop();
        };
        mapped.map_err(|e| device_err(e.to_string()))?;
        self.check_errors(op)?;
        let out = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| device_err(e.to_string()))?;
            view.to_vec()
        };
        staging.unmap();
        Ok(out)
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
