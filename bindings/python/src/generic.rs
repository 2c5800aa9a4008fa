//! Every layer of the Rust registry that has no class of its own (`conv2d`, `maxpool2d`,
//! `avgpool2d`, `flatten`, `dropout`, `layernorm`) as one Python class, ``Layer(config,
//! seed=None)``; `wgpu_backprop.nodes` and `wgpu_backprop.neurons` make the named ones
//! (``Conv2d(1, 16, 3, padding=1)``, ``MaxPool2d(2)``) from it, so a new registry layer needs
//! one Python line.

use std::sync::Arc;

use numpy::PyArrayDyn;
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use wgpu_backprop::model::registry::{self, Init};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Layer, Tensor};

use crate::convert::{to_numpy, ArrayIn, Host};
use crate::errors::{value_error, PyResultExt};
use crate::gpu;
use crate::layers::{backward_of, on_gpu, ArrayOut, Shared};

/// A layer of the Rust registry: ``Layer("conv2d(1,16,3,1,1)", seed=None)``.
#[pyclass(frozen, module = "wgpu_backprop", name = "Layer")]
pub struct PyLayer {
    pub layer: Shared<dyn Layer>,
}

impl PyLayer {
    /// The Python object of a Rust layer.
    pub fn from_rust(layer: Box<dyn Layer>) -> Self {
        PyLayer {
            layer: Arc::new(Mutex::new(layer)),
        }
    }

    fn name(&self) -> &'static str {
        self.layer.lock().name()
    }
}

/// A tensor as numpy.
fn numpy_of<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let data = py.detach(|| t.to_vec()).py()?;
    to_numpy(py, t.shape(), data)
}

#[pymethods]
impl PyLayer {
    #[new]
    #[pyo3(signature = (config, seed = None))]
    fn new(py: Python<'_>, config: &str, seed: Option<u64>) -> PyResult<Self> {
        let gpu = gpu(py)?;
        let specs = registry::parse("Layer", config).py()?;
        let [spec] = &specs[..] else {
            return Err(value_error(format!(
                "Layer: '{config}' must name one layer, not {}",
                specs.len()
            )));
        };
        let seed = seed.unwrap_or_else(Rng::random_seed);
        let layer = py
            .detach(|| registry::build(&gpu, spec, &Init::Fresh(seed), 0))
            .py()?;
        Ok(PyLayer::from_rust(layer))
    }

    /// y = layer(x) as float32. Remembers what ``backward`` needs.
    fn forward<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<ArrayOut<'py>> {
        let x = Host::checked_rank(&format!("{}.forward", self.name()), "input", &x, 4)?;
        on_gpu(py, &x, |x| self.layer.lock().forward(x))
    }

    /// dL/dx from dL/dy (shaped like the last output); ``use_jacobian=True`` goes through the
    /// explicit Jacobian. Layers with parameters keep their gradients (``grads``).
    #[pyo3(signature = (dL_dy, use_jacobian = false))]
    #[allow(non_snake_case)]
    fn backward<'py>(
        &self,
        py: Python<'py>,
        dL_dy: ArrayIn<'py>,
        use_jacobian: bool,
    ) -> PyResult<ArrayOut<'py>> {
        let dy = Host::checked_rank(&format!("{}.backward", self.name()), "dL_dy", &dL_dy, 4)?;
        on_gpu(py, &dy, |dy| {
            backward_of(&mut *self.layer.lock(), dy, use_jacobian)
        })
    }

    /// ∂y/∂x of the last forward as a matrix (output elements, input elements).
    fn jacobian<'py>(&self, py: Python<'py>) -> PyResult<ArrayOut<'py>> {
        let layer = self.layer.clone();
        let (shape, data) = py
            .detach(move || {
                let j = layer.lock().jacobian()?;
                Ok((j.shape().to_vec(), j.to_vec()?))
            })
            .py()?;
        to_numpy(py, &shape, data)
    }

    /// The parameters by name (``weight``, ``bias``) as float32 arrays; empty for nodes.
    #[getter]
    fn parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        let layer = self.layer.lock();
        for p in layer.parameters() {
            out.set_item(p.name, numpy_of(py, p.value)?)?;
        }
        Ok(out)
    }

    /// The gradients of the last backward by name (``None`` before any).
    #[getter]
    fn grads<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        let layer = self.layer.lock();
        for p in layer.parameters() {
            match p.grad {
                Some(g) => out.set_item(p.name, numpy_of(py, g)?)?,
                None => out.set_item(p.name, py.None())?,
            }
        }
        Ok(out)
    }

    /// Training (``True``) or evaluation mode: Dropout is the identity in evaluation.
    fn train(&self, mode: bool) {
        self.layer.lock().set_training(mode);
    }

    /// The layer as a model string writes it (``"conv2d(1,16,3,1,1)"``).
    #[getter]
    fn config(&self) -> String {
        self.layer.lock().config()
    }

    fn __repr__(&self) -> String {
        format!("{}({})", self.name(), self.config())
    }
}
