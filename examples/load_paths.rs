//! The experiment behind the texture matmul: the cost of one vec4 load per invocation on this
//! device, through each path a kernel can read memory by — a storage buffer, a sampled texture
//! (`textureLoad`), a uniform buffer, workgroup memory and (with subgroups) a broadcast. On
//! llvmpipe (Mesa 22.3) a storage-buffer or workgroup load is a loop over the SIMD lanes with
//! a branch per lane and component, a texel fetch or uniform load a straight gather.
//!
//! `cargo run --release --example load_paths`

use std::time::Instant;

use wgpu_backprop::{Gpu, Result};

const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(1) @binding(0) var tex: texture_2d<u32>;
@group(2) @binding(0) var<uniform> ubo: array<vec4<f32>, 4096>;

const STEPS: u32 = 4096u;
var<workgroup> shared_rows: array<vec4<f32>, 2048>;

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
        label: Some("load_paths"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let invocations: u32 = 64 * 256;
    let buffer = |size: u64, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("load_paths"),
            size,
            usage,
            mapped_at_creation: false,
        })
    };
    let src_buf = buffer(256 * 1024 * 16, wgpu::BufferUsages::STORAGE);
    let dst_buf = buffer(u64::from(invocations) * 16, wgpu::BufferUsages::STORAGE);
    let ubo_buf = buffer(4096 * 16, wgpu::BufferUsages::UNIFORM);
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("load_paths"),
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
    for entry in [
        "ssbo_path",
        "texture_path",
        "uniform_path",
        "workgroup_path",
        "broadcast_path",
    ] {
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
        let run = || {
            gpu.encode("load_paths", |enc| {
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
            })?;
            gpu.synchronize()
        };
        run()?;
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            run()?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        let loads = f64::from(invocations) * 4096.0;
        println!(
            "{entry:>10}: {:7.1} M vec4 loads/s per invocation ({best:.3} s)",
            loads / best * 1e-6
        );
    }
    Ok(())
}
