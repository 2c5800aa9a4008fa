//! Fuzzes `Sequential::from_safetensors` on one shared `Gpu` (lavapipe will do): see
//! `checks::safetensors` in fuzz/checks.rs for what must hold.
#![no_main]

use std::sync::OnceLock;

include!("../checks.rs");

fn gpu() -> &'static wgpu_backprop::Gpu {
    static GPU: OnceLock<wgpu_backprop::Gpu> = OnceLock::new();
    GPU.get_or_init(|| {
        wgpu_backprop::Gpu::new().expect("the fuzz target needs a GPU adapter (lavapipe will do)")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::safetensors(gpu(), data));
