//! Kernels: the registry (`registry.rs`) and the cache of compiled pipelines keyed by
//! (kernel, specialisation); `gpu/launch.rs` records the dispatches.
//!
//! Binding 0 of every kernel is a small `Params` uniform holding the runtime shapes (up to eight
//! `u32`/`f32` words, a slot of the uniform ring bound at a dynamic offset); bindings 1.. are
//! storage buffers in the order the kernel lists them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::sync::lock;

mod attention;
mod blocked;
mod decl;
mod disk_cache;
pub mod inventory;
mod params;
mod registry;
pub(crate) mod search;
#[cfg(test)]
mod translate;
mod tune;

pub(crate) use attention::{attention_header, AttentionPart};
pub(crate) use blocked::tile_header;
pub(crate) use decl::*;
use disk_cache::DiskCache;
pub(crate) use params::*;
pub(crate) use registry::*;
pub(crate) use tune::Tuner;
pub use tune::{TuneSource, Tuned};

/// A compiled pipeline and the explicit bind-group layout that mirrors its WGSL bindings.
pub(crate) struct Compiled {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

/// A pipeline's identity: its source's name, entry point and specialisation bits.
type PipelineKey = (&'static str, &'static str, u32);

/// Shader modules and pipelines, each built once per device.
pub(crate) struct KernelCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<Compiled>>>,
    disk: Option<DiskCache>,
    /// The autotuner's choices (timed by `gpu/tune.rs`).
    pub(crate) tuner: Tuner,
    /// Whether the sources that guard every access themselves ([`Source::guards_itself`](decl::Source))
    /// are compiled without wgpu's runtime checks: `WGPU_BACKPROP_UNCHECKED=1`, opt-in, for
    /// measuring what the checks cost on a device.
    unchecked: bool,
    /// The WGSL compiler of the device's backend.
    compiler: Compiler,
    /// Wall time of each pipeline's creation (its shader compile), in order.
    compile_times: Mutex<Vec<(String, f64)>>,
}

impl KernelCache {
    pub(crate) fn new(device: &wgpu::Device, info: &wgpu::AdapterInfo) -> Self {
        let unchecked = std::env::var("WGPU_BACKPROP_UNCHECKED").is_ok_and(|v| v == "1");
        KernelCache {
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
            disk: DiskCache::open(device, info),
            tuner: Tuner::new(info, unchecked),
            unchecked,
            compiler: Compiler::of(info.backend),
            compile_times: Mutex::new(Vec::new()),
        }
    }

    /// Each pipeline built so far, as ("source/entry#spec", seconds to create it).
    pub(crate) fn compile_times(&self) -> Vec<(String, f64)> {
        lock(&self.compile_times).clone()
    }

    /// The pipeline for `kernel` specialised by `spec`, compiled on first use.
    pub(crate) fn compiled(
        &self,
        device: &wgpu::Device,
        kernel: &'static Kernel,
        spec: u32,
    ) -> Arc<Compiled> {
        let key = (kernel.source.name, kernel.entry, spec);
        if let Some(c) = lock(&self.pipelines).get(&key) {
            return c.clone();
        }
        let module = lock(&self.modules)
            .entry(kernel.source.name)
            .or_insert_with(|| self.module(device, kernel))
            .clone();
        let layout = bind_group_layout(device, kernel);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let constants = kernel.constants(spec);
        let started = web_time::Instant::now();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: self.disk.as_ref().map(|d| &d.cache),
        });
        let label = format!("{}/{}#{spec}", kernel.source.name, kernel.entry);
        lock(&self.compile_times).push((label, started.elapsed().as_secs_f64()));
        if let Some(disk) = &self.disk {
            disk.mark_dirty();
        }
        let compiled = Arc::new(Compiled { pipeline, layout });
        lock(&self.pipelines).insert(key, compiled.clone());
        compiled
    }
}

impl KernelCache {
    /// The shader module of `kernel`'s source: with wgpu's runtime checks (bounds clamping,
    /// loop bounding), unless unchecked is asked for and the source guards itself.
    fn module(&self, device: &wgpu::Device, kernel: &Kernel) -> wgpu::ShaderModule {
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(kernel.entry),
            source: wgpu::ShaderSource::Wgsl(kernel.source.wgsl_for(self.compiler)),
        };
        if !(self.unchecked && kernel.source.guards_itself) {
            return device.create_shader_module(desc);
        }
        // SAFETY: the blocked matmul and split-K sum index only within their bindings: every
        // load and store is guarded by the shape (EDGE) or the host runs the unguarded
        // specialisation only for shapes that fit the tile exactly, and their loops end (counts
        // from the uniform). `tests/ops/matmul.rs` and `tests/ops/fusion.rs` sweep every edge case.
        unsafe { device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) }
    }
}

/// The explicit layout: binding 0 the `Params` uniform (a slot of the uniform ring, at a
/// dynamic offset), then one binding per `kernel.bindings`.
fn bind_group_layout(device: &wgpu::Device, kernel: &Kernel) -> wgpu::BindGroupLayout {
    let buffer = |ty: wgpu::BufferBindingType, dynamic: bool| wgpu::BindingType::Buffer {
        ty,
        has_dynamic_offset: dynamic,
        min_binding_size: None,
    };
    let entry = |binding: u32, ty: wgpu::BindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty,
        count: None,
    };
    let mut entries = vec![entry(0, buffer(wgpu::BufferBindingType::Uniform, true))];
    for (i, access) in kernel.bindings.iter().enumerate() {
        let ty = match access {
            Access::Read | Access::ReadWrite => buffer(
                wgpu::BufferBindingType::Storage {
                    read_only: *access == Access::Read,
                },
                false,
            ),
            Access::Texture => wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: false },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            Access::WriteTexture => wgpu::BindingType::StorageTexture {
                access: wgpu::StorageTextureAccess::WriteOnly,
                format: wgpu::TextureFormat::Rgba32Float,
                view_dimension: wgpu::TextureViewDimension::D2,
            },
        };
        entries.push(entry(i as u32 + 1, ty));
    }
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(kernel.entry),
        entries: &entries,
    })
}
