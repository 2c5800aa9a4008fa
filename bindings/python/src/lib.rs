//! The `wgpu_backprop` Python package's native module (`wgpu_backprop._core`): a thin PyO3 layer
//! over the Rust crate. `layers` and `linear` hold the lab's classes, `model` the training stack,
//! `convert` the numpy conversions, `errors` the exception mapping. One `Gpu` serves the
//! process; it is opened on first use.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use wgpu_backprop::Gpu;

mod activation;
mod convert;
mod data;
mod errors;
mod generic;
mod graph;
mod layers;
mod linear;
mod model;

use errors::PyResultExt;

static GPU: Mutex<Option<Gpu>> = Mutex::new(None);

/// The process's GPU, opened on first use with the GIL released. A failure is not cached: the
/// next call tries again (after the user installed a driver, say).
pub(crate) fn gpu(py: Python<'_>) -> PyResult<Gpu> {
    py.detach(|| {
        let mut slot = GPU.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(gpu) = slot.as_ref() {
            return Ok(gpu.clone());
        }
        let gpu = Gpu::new()?;
        *slot = Some(gpu.clone());
        Ok(gpu)
    })
    .py()
}

/// The adapter every layer runs on: a dict with ``name``, ``backend`` (``"Vulkan"``,
/// ``"Metal"``, ``"Dx12"``, ``"Gl"``), ``device_type``, ``driver`` and ``driver_info``.
/// Raises ``RuntimeError`` (with how to install one) when no adapter is found.
#[pyfunction]
fn device(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let gpu = gpu(py)?;
    let info = gpu.adapter_info();
    let d = PyDict::new(py);
    d.set_item("name", &info.name)?;
    d.set_item("backend", format!("{:?}", info.backend))?;
    d.set_item("device_type", format!("{:?}", info.device_type))?;
    d.set_item("driver", &info.driver)?;
    d.set_item("driver_info", &info.driver_info)?;
    Ok(d)
}

/// Checks every kernel variant and automatic choice against an f64 CPU reference on this
/// process's adapter (the demo's ``wgpu-backprop selftest``): run it first on an unusual GPU,
/// and attach its ``table`` to a bug report. ``quick`` runs a subset (about a minute on a CPU
/// device). Returns a dict: ``passed``, ``adapter``, ``seconds``, ``rows`` (one dict per
/// kernel × case family: ``kernel``, ``family``, ``cases``, ``worst`` — the largest error
/// relative to its tolerance, ``None`` where exactness was missed —, ``worst_at``,
/// ``error``, ``passed``), ``auto`` and ``table`` (the report as text).
#[pyfunction]
#[pyo3(signature = (quick = false))]
fn selftest(py: Python<'_>, quick: bool) -> PyResult<Bound<'_, PyAny>> {
    let gpu = gpu(py)?;
    let report = py
        .detach(|| wgpu_backprop::selftest::run(&gpu, &wgpu_backprop::selftest::Options { quick }));
    let out = py.import("json")?.call_method1("loads", (report.json(),))?;
    out.set_item("table", report.table())?;
    Ok(out)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(device, m)?)?;
    m.add_function(wrap_pyfunction!(selftest, m)?)?;
    m.add_class::<layers::PySoftMax>()?;
    m.add_class::<layers::PyReLU>()?;
    m.add_class::<activation::PyActivation>()?;
    m.add_function(wrap_pyfunction!(activation::activations, m)?)?;
    m.add_class::<linear::PyLinear>()?;
    m.add_class::<generic::PyLayer>()?;
    graph::register(m)?;
    model::register(m)
}
