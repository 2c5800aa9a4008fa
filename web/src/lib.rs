//! The web page's side of wgpu-backprop, compiled to wasm32 with wgpu's WebGPU backend: opening
//! the browser's GPU, the lab (`lab.rs`), the self-check, and live training (`train.rs`).
//! Nothing here blocks: every readback is awaited, so the page keeps drawing while the GPU
//! works. Results cross to JavaScript as JSON strings; errors as `Error`s whose message is the
//! library's (it names the op, the shapes and what was expected).

mod lab;
mod train;

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use wgpu_backprop::{selftest, Gpu, GpuOptions};

pub use train::Trainer;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console)]
    fn error(message: &str);
}

/// A panic reaches the browser's console (and so the CI log) instead of a bare `unreachable`.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        error(&format!("wgpu-backprop panicked: {info}"))
    }));
}

/// A library error as a JavaScript `Error`.
pub(crate) fn js_error(e: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

/// The browser's GPU, opened with the adapter's own limits.
#[wasm_bindgen]
pub struct WebGpu {
    gpu: Gpu,
    /// Held while the self-check runs, so that two runs do not interleave.
    busy: Rc<Cell<bool>>,
}

/// Opens the browser's WebGPU adapter. Rejects with what the user needs where the browser has
/// no WebGPU (`navigator.gpu` missing, or no adapter behind it).
#[wasm_bindgen(js_name = openGpu)]
pub async fn open_gpu() -> Result<WebGpu, JsValue> {
    let gpu = Gpu::with_options_async(&GpuOptions::default())
        .await
        .map_err(js_error)?;
    Ok(WebGpu {
        gpu,
        busy: Rc::new(Cell::new(false)),
    })
}

#[wasm_bindgen]
impl WebGpu {
    /// The adapter, its features and the limits the device was opened with, as JSON.
    pub fn info(&self) -> String {
        let info = self.gpu.adapter_info();
        let l = self.gpu.limits();
        let features: Vec<String> = self
            .gpu
            .features()
            .iter_names()
            .map(|(name, _)| name.to_lowercase())
            .collect();
        json!({
            "adapter": info.name,
            "backend": format!("{:?}", info.backend),
            "driver": format!("{} {}", info.driver, info.driver_info).trim(),
            "device_type": format!("{:?}", info.device_type),
            "features": features,
            "limits": {
                "max_compute_invocations_per_workgroup": l.max_compute_invocations_per_workgroup,
                "max_compute_workgroup_size_x": l.max_compute_workgroup_size_x,
                "max_compute_workgroup_storage_size": l.max_compute_workgroup_storage_size,
                "max_compute_workgroups_per_dimension": l.max_compute_workgroups_per_dimension,
                "max_storage_buffer_binding_size": l.max_storage_buffer_binding_size,
                "max_storage_buffers_per_shader_stage": l.max_storage_buffers_per_shader_stage,
                "max_buffer_size": l.max_buffer_size,
            },
        })
        .to_string()
    }

    /// The lab's SoftMax, ReLU and Linear, forward, backward and through the Jacobians, on the
    /// lab's inputs, beside the f64 reference (and the lab's printed numbers): JSON.
    pub fn lab(&self) -> Promise {
        let gpu = self.gpu.clone();
        future_to_promise(async move {
            let report = lab::run(&gpu).await.map_err(js_error)?;
            Ok(JsValue::from_str(&report))
        })
    }

    /// The self-check (`quick` unless `full`), calling `on_row` with each row's JSON as it is
    /// done; resolves to the whole report's JSON (`selftest --json`'s).
    pub fn selftest(&self, full: bool, on_row: Function) -> Promise {
        let (gpu, busy) = (self.gpu.clone(), self.busy.clone());
        future_to_promise(async move {
            if busy.replace(true) {
                return Err(js_error("selftest: a self-check is already running"));
            }
            let options = selftest::Options { quick: !full };
            let mut each = |row: &selftest::Row| {
                // The page's handler may throw; the run goes on, the console says why.
                if let Err(e) = on_row.call1(&JsValue::NULL, &JsValue::from_str(&row.json())) {
                    error(&format!("selftest: the row handler threw {e:?}"));
                }
            };
            let report = selftest::run_async(&gpu, &options, &mut each).await;
            busy.set(false);
            Ok(JsValue::from_str(&report.json()))
        })
    }
}
