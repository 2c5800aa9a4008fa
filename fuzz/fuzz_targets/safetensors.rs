//! `Sequential::from_safetensors` on arbitrary bytes, on one shared `Gpu`: it returns `Ok` or
//! `Err`, never panics; a model it accepts saves to bytes that load back to the same bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::Gpu;

fn gpu() -> &'static Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| Gpu::new().expect("the fuzz target needs a GPU adapter (lavapipe will do)"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Sequential::from_safetensors(gpu(), data) {
        let saved = model.to_safetensors().expect("a loaded model saves");
        let again = Sequential::from_safetensors(gpu(), &saved).expect("a saved model loads");
        assert_eq!(again.to_safetensors().expect("saves again"), saved);
    }
});
