//! The kernel registry: every WGSL source (one file per kernel family under `shaders/`, pulled
//! in with `include_str!`), the kernels in them (entry point, storage bindings, boolean
//! specialisation constants), and the cache of compiled pipelines keyed by
//! (kernel, specialisation). [`Gpu::launch`] records one dispatch into the pending encoder.
//!
//! Binding 0 of every kernel is a small `Params` uniform holding the runtime shapes (up to eight
//! `u32`/`f32` words); bindings 1.. are storage buffers in the order the kernel lists them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::gpu::{lock, Gpu};

/// A WGSL source file: one kernel family.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Source {
    Matmul,
    MatmulRegister,
    Reduce,
    Softmax,
    Relu,
    Jacobian,
    Loss,
    Optim,
}

impl Source {
    fn wgsl(self) -> &'static str {
        match self {
            Source::Matmul => include_str!("../shaders/matmul.wgsl"),
            Source::MatmulRegister => include_str!("../shaders/matmul_register.wgsl"),
            Source::Reduce => include_str!("../shaders/reduce.wgsl"),
            Source::Softmax => include_str!("../shaders/softmax.wgsl"),
            Source::Relu => include_str!("../shaders/relu.wgsl"),
            Source::Jacobian => include_str!("../shaders/jacobian.wgsl"),
            Source::Loss => include_str!("../shaders/loss.wgsl"),
            Source::Optim => include_str!("../shaders/optim.wgsl"),
        }
    }
}

/// How a kernel uses a storage binding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    Read,
    ReadWrite,
}
use Access::{Read, ReadWrite};

/// One entry point of a kernel family and the bind-group layout it expects.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub source: Source,
    pub entry: &'static str,
    /// Storage bindings 1.. in order (binding 0 is the `Params` uniform).
    pub bindings: &'static [Access],
    /// Boolean `override` constants; bit `i` of a launch's `spec` sets `flags[i]`.
    pub flags: &'static [&'static str],
}

/// Specialisation bits of [`MATMUL`].
pub(crate) const TRANS_A: u32 = 1;
pub(crate) const TRANS_B: u32 = 2;
pub(crate) const HAS_BIAS: u32 = 4;
pub(crate) const ACCUMULATE: u32 = 8;

/// C = op(A)·op(B) (+ bias), or C += … over a range of k: bindings A, B, bias, C.
pub(crate) const MATMUL: Kernel = Kernel {
    source: Source::Matmul,
    entry: "matmul",
    bindings: &[Read, Read, Read, ReadWrite],
    flags: &["TRANS_A", "TRANS_B", "HAS_BIAS", "ACCUMULATE"],
};
/// The same product by the register kernel (CPU devices, aligned shapes): same bindings, flags.
pub(crate) const MATMUL_REGISTER: Kernel = Kernel {
    source: Source::MatmulRegister,
    entry: "matmul_register",
    bindings: &[Read, Read, Read, ReadWrite],
    flags: &["TRANS_A", "TRANS_B", "HAS_BIAS"],
};
/// Partial column sums over chunks of rows: bindings x, out.
pub(crate) const COLUMN_SUM: Kernel = Kernel {
    source: Source::Reduce,
    entry: "column_sum",
    bindings: &[Read, ReadWrite],
    flags: &[],
};
const LOSS_LAYOUT: &[Access] = &[Read, Read, ReadWrite, ReadWrite];
/// Cross-entropy terms and gradient: bindings logits, labels, grad, terms.
pub(crate) const CROSS_ENTROPY: Kernel = Kernel {
    source: Source::Loss,
    entry: "cross_entropy",
    bindings: LOSS_LAYOUT,
    flags: &[],
};
/// Squared-error terms and gradient: bindings y, target, grad, terms.
pub(crate) const MSE: Kernel = Kernel {
    source: Source::Loss,
    entry: "mse",
    bindings: LOSS_LAYOUT,
    flags: &[],
};
/// In-place SGD: bindings θ, g, velocity.
pub(crate) const SGD: Kernel = Kernel {
    source: Source::Optim,
    entry: "sgd",
    bindings: &[ReadWrite, Read, ReadWrite],
    flags: &[],
};
/// In-place Adam: bindings θ, g, m, v.
pub(crate) const ADAM: Kernel = Kernel {
    source: Source::Optim,
    entry: "adam",
    bindings: &[ReadWrite, Read, ReadWrite, ReadWrite],
    flags: &[],
};
/// acc += x: bindings acc, x.
pub(crate) const ADD_ASSIGN: Kernel = Kernel {
    source: Source::Optim,
    entry: "accumulate",
    bindings: &[ReadWrite, Read],
    flags: &[],
};
const SOFTMAX_LAYOUT: &[Access] = &[Read, Read, ReadWrite];
pub(crate) const SOFTMAX_FORWARD: Kernel = Kernel {
    source: Source::Softmax,
    entry: "softmax_forward",
    bindings: SOFTMAX_LAYOUT,
    flags: &[],
};
pub(crate) const SOFTMAX_BACKWARD: Kernel = Kernel {
    source: Source::Softmax,
    entry: "softmax_backward",
    bindings: SOFTMAX_LAYOUT,
    flags: &[],
};
pub(crate) const SOFTMAX_FORWARD_ROWS: Kernel = Kernel {
    source: Source::Softmax,
    entry: "softmax_forward_rows",
    bindings: SOFTMAX_LAYOUT,
    flags: &[],
};
pub(crate) const SOFTMAX_BACKWARD_ROWS: Kernel = Kernel {
    source: Source::Softmax,
    entry: "softmax_backward_rows",
    bindings: SOFTMAX_LAYOUT,
    flags: &[],
};
const CHUNKED_LAYOUT: &[Access] = &[Read, Read, ReadWrite, ReadWrite];
/// The three passes each way of the chunked softmax (long rows): bindings x or y, g, out, stats.
pub(crate) const SOFTMAX_CHUNKED_FORWARD: [Kernel; 3] = [
    chunked("softmax_partials"),
    chunked("softmax_combine"),
    chunked("softmax_write"),
];
pub(crate) const SOFTMAX_CHUNKED_BACKWARD: [Kernel; 3] = [
    chunked("softmax_dot_partials"),
    chunked("softmax_dot_combine"),
    chunked("softmax_backward_write"),
];

const fn chunked(entry: &'static str) -> Kernel {
    Kernel {
        source: Source::Softmax,
        entry,
        bindings: CHUNKED_LAYOUT,
        flags: &[],
    }
}
pub(crate) const RELU_FORWARD: Kernel = Kernel {
    source: Source::Relu,
    entry: "relu_forward",
    bindings: SOFTMAX_LAYOUT,
    flags: &[],
};
pub(crate) const RELU_BACKWARD: Kernel = Kernel {
    source: Source::Relu,
    entry: "relu_backward",
    bindings: SOFTMAX_LAYOUT,
    flags: &[],
};
const JACOBIAN_LAYOUT: &[Access] = &[Read, ReadWrite];
pub(crate) const SOFTMAX_JACOBIAN: Kernel = jacobian("softmax_jacobian");
pub(crate) const RELU_JACOBIAN: Kernel = jacobian("relu_jacobian");
pub(crate) const LINEAR_DX_JACOBIAN: Kernel = jacobian("linear_dx_jacobian");
pub(crate) const LINEAR_DW_JACOBIAN: Kernel = jacobian("linear_dw_jacobian");
pub(crate) const LINEAR_DB_JACOBIAN: Kernel = jacobian("linear_db_jacobian");

const fn jacobian(entry: &'static str) -> Kernel {
    Kernel {
        source: Source::Jacobian,
        entry,
        bindings: JACOBIAN_LAYOUT,
        flags: &[],
    }
}

/// A compiled pipeline and the explicit bind-group layout that mirrors its WGSL bindings.
struct Compiled {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

/// A pipeline's identity: its kernel family, entry point and specialisation bits.
type PipelineKey = (Source, &'static str, u32);

/// Shader modules, pipelines and small uniform buffers, each built once per device.
pub(crate) struct KernelCache {
    modules: Mutex<HashMap<Source, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<Compiled>>>,
    uniforms: Mutex<HashMap<[u32; 8], wgpu::Buffer>>,
}

/// Uniform buffers kept before the cache is emptied (they are tiny; shapes repeat in training).
const MAX_CACHED_UNIFORMS: usize = 4096;

/// One dispatch: which kernel, its specialisation, runtime params, storage buffers and grid.
pub(crate) struct Dispatch<'a> {
    pub kernel: &'static Kernel,
    pub spec: u32,
    pub params: [u32; 8],
    pub buffers: &'a [&'a wgpu::Buffer],
    pub grid: [u32; 3],
}

impl KernelCache {
    pub(crate) fn new(_device: &wgpu::Device) -> Self {
        KernelCache {
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
            uniforms: Mutex::new(HashMap::new()),
        }
    }

    fn compiled(&self, device: &wgpu::Device, kernel: &'static Kernel, spec: u32) -> Arc<Compiled> {
        let key = (kernel.source, kernel.entry, spec);
        if let Some(c) = lock(&self.pipelines).get(&key) {
            return c.clone();
        }
        let module = lock(&self.modules)
            .entry(kernel.source)
            .or_insert_with(|| {
                device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.entry),
                    source: wgpu::ShaderSource::Wgsl(kernel.source.wgsl().into()),
                })
            })
            .clone();
        let layout = bind_group_layout(device, kernel);
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let constants: Vec<(&str, f64)> = kernel
            .flags
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, f64::from((spec >> i) & 1)))
            .collect();
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants: &constants,
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        let compiled = Arc::new(Compiled { pipeline, layout });
        lock(&self.pipelines).insert(key, compiled.clone());
        compiled
    }

    fn uniform(&self, device: &wgpu::Device, params: [u32; 8]) -> wgpu::Buffer {
        let mut uniforms = lock(&self.uniforms);
        if uniforms.len() >= MAX_CACHED_UNIFORMS {
            uniforms.clear();
        }
        uniforms
            .entry(params)
            .or_insert_with(|| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("params"),
                    contents: bytemuck::cast_slice(&params),
                    usage: wgpu::BufferUsages::UNIFORM,
                })
            })
            .clone()
    }
}

/// The explicit layout: binding 0 uniform, then one storage binding per `kernel.bindings`.
fn bind_group_layout(device: &wgpu::Device, kernel: &Kernel) -> wgpu::BindGroupLayout {
    let buffer = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let mut entries = vec![buffer(0, wgpu::BufferBindingType::Uniform)];
    for (i, access) in kernel.bindings.iter().enumerate() {
        let read_only = *access == Access::Read;
        entries.push(buffer(
            i as u32 + 1,
            wgpu::BufferBindingType::Storage { read_only },
        ));
    }
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(kernel.entry),
        entries: &entries,
    })
}

impl Gpu {
    /// Records one dispatch into the pending encoder (nothing is submitted here).
    pub(crate) fn launch(&self, op: &'static str, d: Dispatch<'_>) -> Result<()> {
        if d.buffers.len() != d.kernel.bindings.len() {
            return Err(Error::InvalidArgument {
                op,
                message: format!(
                    "kernel {} takes {} buffers, got {}",
                    d.kernel.entry,
                    d.kernel.bindings.len(),
                    d.buffers.len()
                ),
            });
        }
        if d.grid.contains(&0) {
            return Ok(());
        }
        let max = self.limits().max_compute_workgroups_per_dimension;
        if let Some(&too_many) = d.grid.iter().find(|&&g| g > max) {
            return Err(Error::TooLarge {
                op,
                what: "workgroups along one dimension of a dispatch",
                requested: u64::from(too_many),
                limit: u64::from(max),
            });
        }
        let device = &self.inner.device;
        let compiled = self.inner.kernels.compiled(device, d.kernel, d.spec);
        let uniform = self.inner.kernels.uniform(device, d.params);
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (i, b) in d.buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: i as u32 + 1,
                resource: b.as_entire_binding(),
            });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(d.kernel.entry),
            layout: &compiled.layout,
            entries: &entries,
        });
        self.record(op, |enc| {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some(d.kernel.entry),
                timestamp_writes: None,
            });
            pass.set_pipeline(&compiled.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(d.grid[0], d.grid[1], d.grid[2]);
        })
    }

    /// A grid of `groups` workgroups folded into x and y so that no dimension exceeds the
    /// device's limit. Kernels rebuild the linear index as `wg.y * num_workgroups.x + wg.x` and
    /// ignore indices past their work.
    pub(crate) fn grid_1d(&self, op: &'static str, groups: u64) -> Result<[u32; 3]> {
        let max = u64::from(self.limits().max_compute_workgroups_per_dimension.max(1));
        let x = groups.clamp(1, max);
        let y = groups.div_ceil(x);
        if y > max {
            return Err(Error::TooLarge {
                op,
                what: "workgroups in one dispatch",
                requested: groups,
                limit: max * max,
            });
        }
        Ok([x as u32, y as u32, 1])
    }
}

/// Packs parameters into the 8-word uniform (unused words are zero).
pub(crate) fn params(words: &[u32]) -> [u32; 8] {
    let mut p = [0u32; 8];
    for (dst, src) in p.iter_mut().zip(words) {
        *dst = *src;
    }
    p
}
