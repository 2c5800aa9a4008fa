//! What this device's invocations can do at best, to put the kernels' rates in context: vec4
//! FMAs on registers alone, and one vec4 load per invocation through each path a kernel can
//! read memory by — a storage buffer, a sampled texture (`textureLoad`), a uniform buffer,
//! workgroup memory and (with subgroups) a broadcast. On llvmpipe (Mesa 22.3) a storage-buffer
//! or workgroup load is a loop over the SIMD lanes with a branch per lane and component, a
//! texel fetch or uniform load a straight gather: the experiment behind the texture matmul.
//!
//! `cargo run --release --example device_limits`

use wgpu_backprop::bench::{measure, Method};
use wgpu_backprop::{Gpu, Result};

const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(1) @binding(0) var tex: texture_2d<u32>;
@group(2) @binding(0) var<uniform> ubo: array<vec4<f32>, 4096>;

const STEPS: u32 = 4096u;
var<workgroup> shared_rows: array<vec4<f32>, 2048>;

// 16 independent vec4 FMA chains per invocation: 16 · 4 · 2 FLOPs a step.
@compute @workgroup_size(64)
fn fmas(@builtin(global_invocation_id) id: vec3<u32>) {
    let x = src[id.x % 64u];
    var a0 = x; var a1 = x + 1.0; var a2 = x + 2.0; var a3 = x + 3.0;
    var a4 = x + 4.0; var a5 = x + 5.0; var a6 = x + 6.0; var a7 = x + 7.0;
    var a8 = x + 8.0; var a9 = x + 9.0; var a10 = x + 10.0; var a11 = x + 11.0;
    var a12 = x + 12.0; var a13 = x + 13.0; var a14 = x + 14.0; var a15 = x + 15.0;
    let m = vec4<f32>(0.999);
    for (var s = 0u; s < STEPS; s++) {
        a0 = fma(a0, m, x); a1 = fma(a1, m, x); a2 = fma(a2, m, x); a3 = fma(a3, m, x);
        a4 = fma(a4, m, x); a5 = fma(a5, m, x); a6 = fma(a6, m, x); a7 = fma(a7, m, x);
        a8 = fma(a8, m, x); a9 = fma(a9, m, x); a10 = fma(a10, m, x); a11 = fma(a11, m, x);
        a12 = fma(a12, m, x); a13 = fma(a13, m, x); a14 = fma(a14, m, x); a15 = fma(a15, m, x);
    }
    dst[id.x] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
}

// 16 vec4 loads a step through each path, each invocation from its own row where the path
// allows (storage buffer and texture: rows 1,024 vec4s apart).

@compute @workgroup_size(64)
fn ssbo_path(@builtin(global_invocation_id) id: vec3<u32>) {
    var acc = vec4<f32>(0.0);
    let row = (id.x % 256u) * 1024u;
    for (var s = 0u; s < STEPS / 16u; s++) {
        for (var j = 0u; j < 16u; j++) {
            acc += src[row + (s * 16u + j) % 1024u];
        }
    }
    dst[id.x] = acc;
}

@compute @workgroup_size(64)
fn texture_path(@builtin(global_invocation_id) id: vec3<u32>) {
    var acc = src[0] * 0.0;
    let row = i32(id.x % 256u);
    for (var s = 0u; s < STEPS / 16u; s++) {
        for (var j = 0u; j < 16u; j++) {
            acc += bitcast<vec4<f32>>(textureLoad(tex, vec2<i32>(i32((s * 16u + j) % 1024u), row), 0));
        }
    }
    dst[id.x] = acc;
}

@compute @workgroup_size(64)
fn uniform_path(@builtin(global_invocation_id) id: vec3<u32>) {
    var acc = src[0] * 0.0;
    let row = (id.x % 4u) * 1024u;
    for (var s = 0u; s < STEPS / 16u; s++) {
        for (var j = 0u; j < 16u; j++) {
            acc += ubo[row + (s * 16u + j + id.x) % 1024u];
        }
    }
    dst[id.x] = acc;
}

@compute @workgroup_size(64)
fn workgroup_path(@builtin(global_invocation_id) id: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    for (var i = li; i < 2048u; i += 64u) {
        shared_rows[i] = src[i];
    }
    workgroupBarrier();
    var acc = vec4<f32>(0.0);
    let row = li * 32u;
    for (var s = 0u; s < STEPS / 16u; s++) {
        for (var j = 0u; j < 16u; j++) {
            acc += shared_rows[row + (s * 16u + j) % 32u];
        }
    }
    dst[id.x] = acc;
}

"#;

/// Appended to the shader where the device has subgroups.
const BROADCAST: &str = r#"
@compute @workgroup_size(64)
fn broadcast_path(@builtin(global_invocation_id) id: vec3<u32>) {
    var acc = vec4<f32>(0.0);
    var x = src[id.x];
    for (var s = 0u; s < STEPS / 16u; s++) {
        acc += subgroupBroadcast(x, 0u); acc += subgroupBroadcast(x, 1u);
        acc += subgroupBroadcast(x, 2u); acc += subgroupBroadcast(x, 3u);
        acc += subgroupBroadcast(x, 4u); acc += subgroupBroadcast(x, 5u);
        acc += subgroupBroadcast(x, 6u); acc += subgroupBroadcast(x, 7u);
        acc += subgroupBroadcast(x, 0u); acc += subgroupBroadcast(x, 1u);
        acc += subgroupBroadcast(x, 2u); acc += subgroupBroadcast(x, 3u);
        acc += subgroupBroadcast(x, 4u); acc += subgroupBroadcast(x, 5u);
        acc += subgroupBroadcast(x, 6u); acc += subgroupBroadcast(x, 7u);
        x = x * 0.5;
    }
    dst[id.x] = acc;
}
"#;

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    println!("{} ({:?})", gpu.adapter_name(), gpu.adapter_info().backend);
    let device = gpu.device();
    let subgroups = gpu.features().contains(wgpu::Features::SUBGROUP);
    let source = if subgroups {
        format!("{SHADER}{BROADCAST}")
    } else {
        SHADER.to_string()
    };
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("device_limits"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    // Enough workgroups to fill the device: 256 on a CPU device (its cores take them in turn);
    // 2,048 of 64 on a GPU, at least 8 per compute unit up to 256 of them (an H100 has 132).
    let cpu = gpu.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let invocations: u32 = 64 * if cpu { 256 } else { 2048 };
    let buffer = |size: u64, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("device_limits"),
            size,
            usage,
            mapped_at_creation: false,
        })
    };
    let src_buf = buffer(256 * 1024 * 16, wgpu::BufferUsages::STORAGE);
    let dst_buf = buffer(u64::from(invocations) * 16, wgpu::BufferUsages::STORAGE);
    let ubo_buf = buffer(4096 * 16, wgpu::BufferUsages::UNIFORM);
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("device_limits"),
        size: wgpu::Extent3d {
            width: 1024,
            height: 256,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Uint,
        usage: wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
    let view = texture.create_view(&Default::default());
    let mut entries = vec![
        "fmas",
        "ssbo_path",
        "texture_path",
        "uniform_path",
        "workgroup_path",
    ];
    if subgroups {
        entries.push("broadcast_path");
    }
    for entry in entries {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        let group0 = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(entry),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: src_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: dst_buf.as_entire_binding(),
                },
            ],
        });
        let extra = match entry {
            "texture_path" => Some((
                1,
                device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(entry),
                    layout: &pipeline.get_bind_group_layout(1),
                    entries: &[wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::TextureView(&view),
                    }],
                }),
            )),
            "uniform_path" => Some((
                2,
                device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some(entry),
                    layout: &pipeline.get_bind_group_layout(2),
                    entries: &[wgpu::BindGroupEntry {
                        binding: 0,
                        resource: ubo_buf.as_entire_binding(),
                    }],
                }),
            )),
            _ => None,
        };
        if let Some(e) = pollster::block_on(scope.pop()) {
            println!("{entry}: {e}");
            continue;
        }
        let record = || {
            gpu.encode("device_limits", |enc| {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &group0, &[]);
                if let Some((index, group)) = &extra {
                    if *index == 2 {
                        pass.set_bind_group(1, None, &[]);
                    }
                    pass.set_bind_group(*index, group, &[]);
                }
                pass.dispatch_workgroups(invocations / 64, 1, 1);
            })
        };
        // GPU timestamps where usable, else the wall clock around submit and wait.
        let m = measure(&gpu, 3, 1, record)?;
        let best = m.min_s;
        let how = match m.method {
            Method::Timestamps => "timestamps",
            Method::WallClock => "wall clock",
        };
        // Per invocation: 4,096 steps of 16 vec4 FMAs (128 FLOPs), or 4,096 vec4 loads.
        let steps = f64::from(invocations) * 4096.0;
        if entry == "fmas" {
            let gflops = steps * 128.0 / best * 1e-9;
            println!("{entry:>14}: {gflops:8.2} GFLOP/s (best of 3, {best:.4} s, {how})");
        } else {
            let loads = steps / best * 1e-6;
            println!(
                "{entry:>14}: {loads:8.1} M vec4 loads/s, {:6.2} GB/s (best of 3, {best:.4} s, {how})",
                loads * 16e-3
            );
        }
    }
    Ok(())
}
