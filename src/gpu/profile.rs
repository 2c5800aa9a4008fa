//! The device profile: what about the device decides how ops run, worked out once when the
//! `Gpu` opens ([`Gpu::profile`]). Ops read it; none asks the adapter's type or name itself.

use std::time::Duration;

use super::cards::{self, Card};

/// How this device runs the crate's kernels.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Profile {
    /// A CPU device (llvmpipe, WARP): every invocation a SIMD lane, every per-invocation load a
    /// gather, barriers expensive. Kernel choices, timing and chunk sizes follow it.
    pub cpu: bool,
    /// A discrete GPU: the autotuner leaves out the kernels built for CPUs.
    pub discrete: bool,
    /// The driver stops an invocation's loops after 65,535 iterations, silently (llvmpipe):
    /// kernels then keep every invocation's loops shorter.
    pub caps_loops: bool,
    /// GPU timestamps time the work between them: `TIMESTAMP_QUERY` and not a CPU device (on
    /// llvmpipe, once a kernel has sampled a texture, timestamps stop bracketing later
    /// dispatches: a 256³ register matmul read 0.11 ms by timestamps and 12.6 ms by the wall
    /// clock), so CPU devices are timed by the wall clock.
    pub timestamps: bool,
    /// Subgroup operations, with the smallest and largest subgroup size, where the device has
    /// `SUBGROUP`.
    pub subgroups: Option<(u32, u32)>,
    /// Elements of a row one workgroup of the chunked softmax covers (a multiple of 4).
    pub softmax_chunk: usize,
    /// Wall time after which this `Gpu` starts no more autotuning.
    pub tuning_budget: Duration,
    /// Compute units (SMs, GPU cores) the matmul rules size their tiles to: the card table's
    /// ([`cards`](crate::cards)) where the adapter's name is in it,
    /// `WGPU_BACKPROP_COMPUTE_UNITS` where set, else 32 (a mid-sized GPU).
    pub compute_units: u32,
    /// The adapter's published figures, where its name is in the card table.
    pub card: Option<Card>,
    /// Bytes of workgroup memory a kernel may declare (`max_compute_workgroup_storage_size`).
    pub workgroup_storage: u32,
    /// How the WGSL reaches the device, e.g. "naga → HLSL → FXC (…)": on DX12, whether wgpu
    /// found DXC or fell back to FXC (no subgroups, `fma` as `mad`, slow compiles).
    pub shader_compiler: String,
}

/// A chunk of the chunked softmax on GPUs: 256 lanes × two vec4s, so long rows spread over many
/// workgroups.
const SOFTMAX_CHUNK_GPU: usize = 2_048;
/// The same on CPU devices, where each workgroup's barriers cost more than its loads: with
/// 2,048, a 64×65,536 forward took 122–153 ms on llvmpipe, with 16,384 93–95 (BENCHMARKS.md).
const SOFTMAX_CHUNK_CPU: usize = 16_384;
/// Compute units assumed where the card is not in the table: the rules then keep the 128×128
/// tile from 64 output tiles, as before they were sized to the card.
const DEFAULT_COMPUTE_UNITS: u32 = 32;

/// Tuning budget on CPU devices: what is under way finishes, so the total stays near 1 s on
/// lavapipe, whose first `train` run may spend no more.
const TUNING_BUDGET_CPU: Duration = Duration::from_millis(700);
/// The same on GPUs: several matmul candidates per class, each compiling its pipelines.
const TUNING_BUDGET_GPU: Duration = Duration::from_secs(4);

impl Profile {
    /// The profile of a device on `info`'s adapter with `features` enabled.
    /// `WGPU_BACKPROP_SOFTMAX_CHUNK` (a multiple of 4 from 4 to 2^20) forces the softmax chunk,
    /// for tests of the GPU size on a CPU device.
    pub(crate) fn of(
        info: &wgpu::AdapterInfo,
        features: wgpu::Features,
        limits: &wgpu::Limits,
    ) -> Profile {
        let cpu = info.device_type == wgpu::DeviceType::Cpu;
        let card = cards::lookup(&info.name).copied();
        let forced_units = std::env::var("WGPU_BACKPROP_COMPUTE_UNITS")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&u| (1..=4096).contains(&u));
        let forced_chunk = std::env::var("WGPU_BACKPROP_SOFTMAX_CHUNK")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&c| c.is_multiple_of(4) && (4..=1 << 20).contains(&c));
        Profile {
            cpu,
            discrete: info.device_type == wgpu::DeviceType::DiscreteGpu,
            caps_loops: info.name.contains("llvmpipe"),
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY) && !cpu,
            subgroups: features
                .contains(wgpu::Features::SUBGROUP)
                .then_some((info.subgroup_min_size, info.subgroup_max_size)),
            softmax_chunk: forced_chunk.unwrap_or(if cpu {
                SOFTMAX_CHUNK_CPU
            } else {
                SOFTMAX_CHUNK_GPU
            }),
            tuning_budget: if cpu {
                TUNING_BUDGET_CPU
            } else {
                TUNING_BUDGET_GPU
            },
            shader_compiler: shader_compiler(info.backend),
            compute_units: forced_units
                .or(card.map(|c| c.compute_units))
                .unwrap_or(DEFAULT_COMPUTE_UNITS),
            card,
            workgroup_storage: limits.max_compute_workgroup_storage_size,
        }
    }
}

/// How WGSL reaches a device of `backend`.
fn shader_compiler(backend: wgpu::Backend) -> String {
    match backend {
        wgpu::Backend::Vulkan => "naga → SPIR-V (compiled by the Vulkan driver)".into(),
        wgpu::Backend::Metal => "naga → MSL (compiled by Metal, with fast math)".into(),
        wgpu::Backend::Gl => "naga → GLSL (compiled by the GL driver)".into(),
        wgpu::Backend::BrowserWebGpu => "the browser's own (Tint or naga), from WGSL".into(),
        wgpu::Backend::Dx12 => dx12_compiler(
            std::env::var("WGPU_DX12_COMPILER").ok().as_deref(),
            find_dxc(),
        ),
        wgpu::Backend::Noop => "none (the no-op backend)".into(),
    }
}

/// What wgpu's DX12 backend compiles HLSL with: DXC where `WGPU_DX12_COMPILER` does not ask for
/// FXC and `dxcompiler.dll` is where Windows loads DLLs from (wgpu's default, `Auto`, falls
/// back to FXC without a word otherwise).
fn dx12_compiler(env: Option<&str>, dxc: Option<std::path::PathBuf>) -> String {
    if env.is_some_and(|v| v.eq_ignore_ascii_case("fxc")) {
        return "naga → HLSL → FXC (WGPU_DX12_COMPILER=fxc: no subgroups, slow compiles)".into();
    }
    match dxc {
        Some(path) => format!("naga → HLSL → DXC ({})", path.display()),
        None => "naga → HLSL → FXC (no dxcompiler.dll beside the program or on PATH: no \
                 subgroups, fma as mad, slow compiles; README's \"DX12\" says how to get DXC)"
            .into(),
    }
}

/// `dxcompiler.dll` beside the program or on PATH, where Windows' DLL search finds it.
fn find_dxc() -> Option<std::path::PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.to_path_buf()));
    let path = std::env::var_os("PATH").unwrap_or_default();
    beside
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|d| d.join("dxcompiler.dll"))
        .find(|f| f.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dx12_says_which_compiler_and_how_to_get_dxc() {
        let fxc = dx12_compiler(None, None);
        assert!(
            fxc.contains("FXC") && fxc.contains("dxcompiler.dll"),
            "{fxc}"
        );
        let dxc = dx12_compiler(None, Some("C:/app/dxcompiler.dll".into()));
        assert!(dxc.contains("DXC (C:/app/dxcompiler.dll)"), "{dxc}");
        let forced = dx12_compiler(Some("Fxc"), Some("C:/app/dxcompiler.dll".into()));
        assert!(forced.contains("FXC (WGPU_DX12_COMPILER=fxc"), "{forced}");
    }
}
