//! What this device's invocations can do at best, measured with two tiny kernels, to put the
//! matmul kernels' rates in context: vec4 FMAs on registers alone, and vec4 loads alone (each
//! invocation from its own addresses, as a matmul's are). On llvmpipe the register matmul
//! needs 1 vec4 load per 25.6 vec4 FMAs (32 + 8 loads per 1,024 FMAs); its rate is bounded
//! by these two numbers.
//!
//! `cargo run --release --example device_limits`

use std::time::Instant;

use wgpu_backprop::{Gpu, Result};

const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

const STEPS: u32 = 4096u;

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

// 16 vec4 loads a step, each invocation from its own row (rows 1,024 vec4s apart).
@compute @workgroup_size(64)
fn loads(@builtin(global_invocation_id) id: vec3<u32>) {
    var acc = vec4<f32>(0.0);
    let row = (id.x % 256u) * 1024u;
    for (var s = 0u; s < STEPS / 16u; s++) {
        for (var j = 0u; j < 16u; j++) {
            acc += src[row + (s * 16u + j) % 1024u];
        }
    }
    dst[id.x] = acc;
}
"#;

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    println!("{} ({:?})", gpu.adapter_name(), gpu.adapter_info().backend);
    let device = gpu.device();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("device_limits"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let invocations: u32 = 64 * 256;
    let buffer = |size: u64| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("device_limits"),
            size,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    };
    let src_buf = buffer(256 * 1024 * 16);
    let dst_buf = buffer(u64::from(invocations) * 16);
    for (entry, per_step, unit) in [("fmas", 16.0 * 8.0, "GFLOP/s"), ("loads", 16.0, "GB/s")] {
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
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
        let run = || {
            gpu.encode("device_limits", |enc| {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&pipeline);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(invocations / 64, 1, 1);
            })?;
            gpu.synchronize()
        };
        run()?; // warm-up (compiles)
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            run()?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        let work = f64::from(invocations) * 4096.0 * per_step;
        println!(
            "{entry:>6}: {:8.2} {unit} (best of 3, {best:.3} s)",
            work / best * 1e-9
        );
    }
    Ok(())
}
