//! Opening a [`Gpu`]: choosing the adapter, in code through [`GpuOptions`] or by environment,
//! and requesting its device with the adapter's own limits (or WebGPU's defaults); or adopting
//! a device the caller already owns ([`Gpu::from_device`]). The async functions never block;
//! [`Gpu::new`] and [`Gpu::with_options`] wait on them (which a browser cannot do: there they
//! return `Error::Blocking`, and a browser without WebGPU gives `Error::NoWebGpu`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::memory::Staging;
use super::{bindings, errors, DeviceClock, Gpu, Inner, Pending, DEFAULT_TIMEOUT, NEXT_GPU_ID};
use crate::error::{Error, Result};
use crate::kernels::KernelCache;
use crate::pool::Pool;

/// Which adapter to open. A field left `None` takes its default; an environment variable that
/// is set wins over the field, so any program can be pointed at another adapter without a
/// rebuild: `WGPU_BACKEND` (`vulkan`, `metal`, `dx12`, `gl`, comma-separated),
/// `WGPU_POWER_PREF` (`low`, `high`, `none`), `WGPU_ADAPTER_NAME`.
///
/// ```no_run
/// use wgpu_backprop::{Gpu, GpuOptions};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let options = GpuOptions {
///     backends: Some(wgpu::Backends::VULKAN),
///     adapter_name: Some("nvidia".into()),
///     ..GpuOptions::default()
/// };
/// let gpu = Gpu::with_options(&options)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Default: a high-performance (discrete) GPU, so a machine with a GPU and lavapipe
    /// gets the GPU.
    pub power_preference: Option<wgpu::PowerPreference>,
    /// Default: wgpu's primary backends (Vulkan, Metal, DX12, WebGPU).
    pub backends: Option<wgpu::Backends>,
    /// The first adapter whose name contains this, in any case (`"llvmpipe"`, `"nvidia"`).
    pub adapter_name: Option<String>,
    /// Open the device with WebGPU's default limits (256 invocations per workgroup, 16 KiB
    /// of workgroup memory, 128 MiB per storage binding, 8 storage buffers per stage, …)
    /// instead of the adapter's own maxima: what a browser and some Apple and mobile devices
    /// give, to test on a desktop. `WGPU_BACKPROP_LIMITS=webgpu` sets it too.
    pub webgpu_limits: bool,
}

/// The features used where the adapter has them: GPU timing, subgroups, the disk cache.
const WANTED: wgpu::Features = wgpu::Features::TIMESTAMP_QUERY
    .union(wgpu::Features::SUBGROUP)
    .union(wgpu::Features::PIPELINE_CACHE);

impl GpuOptions {
    fn backends(&self) -> wgpu::Backends {
        wgpu::Backends::from_env()
            .or(self.backends)
            .unwrap_or(wgpu::Backends::PRIMARY)
    }

    fn power_preference(&self) -> wgpu::PowerPreference {
        wgpu::PowerPreference::from_env()
            .or(self.power_preference)
            .unwrap_or(wgpu::PowerPreference::HighPerformance)
    }

    fn adapter_name(&self) -> Option<String> {
        std::env::var("WGPU_ADAPTER_NAME")
            .ok()
            .filter(|n| !n.is_empty())
            .or_else(|| self.adapter_name.clone())
    }

    fn webgpu_limits(&self) -> bool {
        self.webgpu_limits || std::env::var("WGPU_BACKPROP_LIMITS").is_ok_and(|v| v == "webgpu")
    }

    /// The limits to request of `adapter`.
    fn limits(&self, adapter: &wgpu::Adapter) -> wgpu::Limits {
        if self.webgpu_limits() {
            wgpu::Limits::default()
        } else {
            adapter.limits()
        }
    }

    fn instance(&self) -> wgpu::Instance {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = self.backends();
        desc.flags = wgpu::InstanceFlags::empty().with_env();
        wgpu::Instance::new(desc)
    }

    /// The adapter these options choose. wgpu's own helper for `WGPU_ADAPTER_NAME` panics when
    /// the name matches nothing; this is an `Err` naming the adapters there are.
    async fn adapter(&self) -> Result<wgpu::Adapter> {
        #[cfg(target_arch = "wasm32")]
        if !wgpu::util::is_browser_webgpu_supported().await {
            let has_gpu = web_has_gpu_property();
            return Err(Error::NoWebGpu {
                why: if has_gpu {
                    "navigator.gpu gives no adapter"
                } else {
                    "navigator.gpu is missing"
                },
            });
        }
        let instance = self.instance();
        let backends = self.backends();
        if let Some(wanted) = self.adapter_name() {
            let adapters = instance.enumerate_adapters(backends).await;
            let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            let lower = wanted.to_lowercase();
            return adapters
                .into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&lower))
                .ok_or_else(|| Error::NoAdapter {
                    backends: format!(
                        "{backends:?}; adapter name {wanted:?} matches none of {names:?}"
                    ),
                });
        }
        let options = wgpu::RequestAdapterOptions {
            power_preference: self.power_preference(),
            ..Default::default()
        };
        instance
            .request_adapter(&options)
            .await
            .map_err(|_| Error::NoAdapter {
                backends: format!("{backends:?}"),
            })
    }
}

impl Gpu {
    /// Opens the default GPU (blocking): [`GpuOptions::default`], so a high-performance
    /// adapter unless `WGPU_BACKEND`, `WGPU_POWER_PREF` or `WGPU_ADAPTER_NAME` say otherwise.
    pub fn new() -> Result<Gpu> {
        Self::with_options(&GpuOptions::default())
    }

    /// Opens the adapter `options` choose (blocking).
    pub fn with_options(options: &GpuOptions) -> Result<Gpu> {
        crate::sync::block_on(
            "Gpu::with_options",
            "Gpu::with_options_async",
            Self::with_options_async(options),
        )
    }

    /// [`Gpu::new`] without blocking, for async code and the browser.
    pub async fn new_async() -> Result<Gpu> {
        Self::with_options_async(&GpuOptions::default()).await
    }

    /// [`Gpu::with_options`] without blocking.
    pub async fn with_options_async(options: &GpuOptions) -> Result<Gpu> {
        let adapter = options.adapter().await?;
        let info = adapter.get_info();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("wgpu-backprop"),
                required_features: adapter.features() & WANTED,
                required_limits: options.limits(&adapter),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::DeviceRequest {
                adapter: info.name.clone(),
                message: e.to_string(),
            })?;
        Ok(Self::from_device(info, device, queue))
    }

    /// Every adapter `options` can see (its backends; the name and power preference are not
    /// applied), for listing.
    pub async fn adapters(options: &GpuOptions) -> Vec<wgpu::AdapterInfo> {
        let instance = options.instance();
        let adapters = instance.enumerate_adapters(options.backends()).await;
        adapters.iter().map(|a| a.get_info()).collect()
    }

    /// Runs on a device the caller already owns (a renderer's, say), with the adapter's info
    /// (its name and backend choose kernel variants). The device keeps the limits and features
    /// it was created with: tensors are limited by its `max_storage_buffer_binding_size`, and
    /// GPU timing needs `TIMESTAMP_QUERY`. This installs the `Gpu`'s own uncaptured-error
    /// handler and device-lost callback on the device, replacing any the owner set.
    pub fn from_device(info: wgpu::AdapterInfo, device: wgpu::Device, queue: wgpu::Queue) -> Gpu {
        let id = NEXT_GPU_ID.fetch_add(1, Ordering::Relaxed);
        let lost = errors::install(&device, id);
        let pool = Arc::new(Mutex::new(Pool::default()));
        let released = Pool::released(&pool);
        let ring = bindings::Ring::new(&device);
        let profile = super::Profile::of(&info, device.features(), &device.limits());
        Gpu {
            inner: Arc::new(Inner {
                id,
                kernels: KernelCache::new(&device, &info),
                device,
                queue,
                info,
                pending: Mutex::new(Pending::default()),
                lost,
                pool,
                ring,
                bind_groups: bindings::BindGroups::new(released),
                staging: Mutex::new(Staging::default()),
                budget: AtomicU64::new(u64::MAX),
                timeout_ms: AtomicU64::new(DEFAULT_TIMEOUT.as_millis() as u64),
                injected_timeouts: AtomicU32::new(0),
                recording: RwLock::new(()),
                tune_clock: Mutex::new(Arc::new(DeviceClock::default())),
                profile,
                trace: Mutex::new(None),
            }),
        }
    }
}

/// Whether the page's `navigator` has a `gpu` property at all.
#[cfg(target_arch = "wasm32")]
fn web_has_gpu_property() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"gpu".into()))
        .is_ok_and(|g| !g.is_undefined() && !g.is_null())
}
