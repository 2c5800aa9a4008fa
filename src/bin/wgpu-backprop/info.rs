//! `wgpu-backprop info`: what the chosen adapter is and what the device was opened with.

use wgpu_backprop::{Gpu, GpuOptions};

#[derive(clap::Args)]
pub struct InfoArgs {
    /// List every adapter on every backend instead (WGPU_BACKEND still narrows the backends)
    #[arg(long)]
    pub all: bool,
}

/// One line per adapter wgpu finds, on every backend.
pub fn list_all() {
    let options = GpuOptions {
        backends: Some(wgpu::Backends::all()),
        ..GpuOptions::default()
    };
    let adapters = pollster::block_on(Gpu::adapters(&options));
    if adapters.is_empty() {
        println!("no adapters found; {}", wgpu_backprop::INSTALL_HINT);
    }
    for a in adapters {
        println!(
            "{:<8} {:<14} {}  ({} {})",
            format!("{:?}", a.backend),
            format!("{:?}", a.device_type),
            a.name,
            a.driver,
            a.driver_info
        );
    }
}

pub fn run(gpu: &Gpu) {
    let info = gpu.adapter_info();
    println!("adapter:      {}", info.name);
    println!("backend:      {:?}", info.backend);
    println!("device type:  {:?}", info.device_type);
    println!("vendor/device: {:#06x}/{:#06x}", info.vendor, info.device);
    println!("driver:       {} {}", info.driver, info.driver_info);
    println!("shaders:      {}", gpu.profile().shader_compiler);
    let features: Vec<String> = gpu
        .features()
        .iter_names()
        .map(|(name, _)| name.to_string())
        .collect();
    println!(
        "features:     {}",
        if features.is_empty() {
            "(none beyond WebGPU core)".to_string()
        } else {
            features.join(", ")
        }
    );
    let l = gpu.limits();
    println!("limits:");
    println!(
        "  max_buffer_size                     {}",
        l.max_buffer_size
    );
    println!(
        "  max_storage_buffer_binding_size     {}",
        l.max_storage_buffer_binding_size
    );
    println!(
        "  max_storage_buffers_per_shader_stage {}",
        l.max_storage_buffers_per_shader_stage
    );
    println!(
        "  max_compute_workgroup_storage_size  {}",
        l.max_compute_workgroup_storage_size
    );
    println!(
        "  max_compute_invocations_per_workgroup {}",
        l.max_compute_invocations_per_workgroup
    );
    println!(
        "  max_compute_workgroup_size          {} x {} x {}",
        l.max_compute_workgroup_size_x,
        l.max_compute_workgroup_size_y,
        l.max_compute_workgroup_size_z
    );
    println!(
        "  max_compute_workgroups_per_dimension {}",
        l.max_compute_workgroups_per_dimension
    );
    let units = gpu.profile().compute_units;
    let card = gpu
        .profile()
        .card
        .map_or("not in the card table".into(), |c| {
            format!("{} TFLOP/s f32, {} GB/s published", c.f32_tflops, c.gbps)
        });
    println!("compute units: {units} ({card})");
    println!("matmul static rules on GPUs (the first that holds; sized to {units} units):");
    for (rule, kernel) in wgpu_backprop::ops::gpu_rules() {
        println!("  {kernel:<14} {rule}");
    }
    println!("matmul kernels (the autotuner times those that apply, in this order):");
    for kernel in wgpu_backprop::ops::MatmulKernel::FORCED {
        println!("  {:<14} {}", kernel.name(), kernel.why());
    }
}
