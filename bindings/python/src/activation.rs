//! Every element-wise activation of the Rust table (`ops::ACTIVATIONS`) for Python, as one
//! class `Activation(name, shape=None, param=None)`; `wgpu_backprop.nodes` makes the named
//! classes (`Sigmoid(5)`, `LeakyReLU(5, slope=0.2)`) from [`activations`], so a new activation
//! needs no Python code.

use pyo3::prelude::*;
use wgpu_backprop::nodes;
use wgpu_backprop::ops::{ActivationKind, ACTIVATIONS};

use crate::convert::{ArrayIn, Declared};
use crate::errors::value_error;
use crate::layers::{ArrayOut, Handle};

/// An element-wise activation: ``Activation("sigmoid", shape=None, param=None)``. The named
/// classes in ``wgpu_backprop.nodes`` (``Sigmoid``, ``Tanh``, ``GELU``, ``GELUTanh``,
/// ``SiLU``, ``LeakyReLU``, ``ELU``, ``Softplus``) make these; ``shape`` as for ``ReLU``.
#[pyclass(frozen, module = "wgpu_backprop.nodes", name = "Activation")]
pub struct PyActivation {
    pub h: Handle<nodes::Activation>,
}

impl PyActivation {
    /// The Python object of a Rust activation layer.
    pub fn from_rust(layer: nodes::Activation) -> Self {
        PyActivation {
            h: Handle::new(layer.kind().layer, Declared::Any, layer),
        }
    }
}

/// The activation `name`, or `ValueError` naming the known ones.
pub fn kind_of(name: &str) -> PyResult<&'static ActivationKind> {
    ActivationKind::by_name(name).ok_or_else(|| {
        let known: Vec<&str> = ACTIVATIONS.iter().map(|a| a.name).collect();
        value_error(format!(
            "no activation '{name}'; known: {}",
            known.join(", ")
        ))
    })
}

#[pymethods]
impl PyActivation {
    #[new]
    #[pyo3(signature = (name, shape = None, param = None))]
    fn new(name: &str, shape: Option<&Bound<'_, PyAny>>, param: Option<f32>) -> PyResult<Self> {
        let kind = kind_of(name)?;
        if param.is_some() && kind.param.is_none() {
            return Err(value_error(format!("{}: takes no parameter", kind.layer)));
        }
        let layer = match param {
            Some(p) => nodes::Activation::with_param(kind, p),
            None => nodes::Activation::new(kind),
        };
        let declared = Declared::parse(kind.layer, "shape", shape)?;
        Ok(PyActivation {
            h: Handle::new(kind.layer, declared, layer),
        })
    }

    /// y = f(x) as float32, shaped like x. Remembers what ``backward`` needs.
    fn forward<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<ArrayOut<'py>> {
        self.h.forward(py, x)
    }

    /// dL/dx from dL/dy; ``use_jacobian=True`` goes through the explicit Jacobian.
    #[pyo3(signature = (dL_dy, use_jacobian = false))]
    #[allow(non_snake_case)]
    fn backward<'py>(
        &self,
        py: Python<'py>,
        dL_dy: ArrayIn<'py>,
        use_jacobian: bool,
    ) -> PyResult<ArrayOut<'py>> {
        self.h.backward(py, dL_dy, use_jacobian)
    }

    /// ∂y/∂x of the last forward as a matrix: diag(f'(x)).
    fn jacobian<'py>(&self, py: Python<'py>) -> PyResult<ArrayOut<'py>> {
        self.h.jacobian(py)
    }

    /// The name in model strings (``"leaky_relu"``).
    #[getter]
    fn name(&self) -> &'static str {
        self.h.layer.lock().kind().name
    }

    /// The parameter in use (``None`` for activations without one).
    #[getter]
    fn param(&self) -> Option<f32> {
        self.h.layer.lock().param()
    }

    fn __repr__(&self) -> String {
        let layer = self.h.layer.lock();
        let Some(p) = layer.param() else {
            return self.h.repr();
        };
        let shape = self.h.declared.repr();
        let sep = if shape.is_empty() { "" } else { ", " };
        format!(
            "{}({shape}{sep}{}={p})",
            self.h.name,
            param_name(layer.kind())
        )
    }
}

fn param_name(kind: &ActivationKind) -> &'static str {
    kind.param.map_or("param", |p| p.0)
}

/// Every activation but ReLU (which has its own class): ``(name, class name, parameter name or
/// None, its default or None)``.
#[pyfunction]
pub fn activations() -> Vec<(
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<f32>,
)> {
    ACTIVATIONS
        .iter()
        .filter(|a| a.name != "relu")
        .map(|a| (a.name, a.layer, a.param.map(|p| p.0), a.param.map(|p| p.1)))
        .collect()
}
