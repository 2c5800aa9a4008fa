//! The lab's layers for Python: `SoftMax` and `ReLU` (`wgpu_backprop.nodes`) and `Linear`
//! (`wgpu_backprop.neurons`). Each wraps the Rust layer in an `Arc<Mutex<…>>` shared with any
//! `Sequential` that holds it; every call copies its input once, releases the GIL, locks the
//! layer, runs on the GPU and copies the result back into a new float32 array.

use std::sync::Arc;

use numpy::PyArrayDyn;
use parking_lot::Mutex;
use pyo3::prelude::*;
use wgpu_backprop::{nodes, Layer, Tensor};

use crate::convert::{to_numpy, ArrayIn, Declared, Host};
use crate::errors::PyResultExt;
use crate::gpu;

/// A float32 array: the result of a layer call.
pub type ArrayOut<'py> = Bound<'py, PyArrayDyn<f32>>;

/// A Rust layer shared between its Python object and the models that hold it.
pub type Shared<L> = Arc<Mutex<L>>;

/// Runs `f` with the GIL released and returns the tensor it makes as a numpy array.
fn read_out<'py>(
    py: Python<'py>,
    f: impl FnOnce() -> wgpu_backprop::Result<Tensor> + Send,
) -> PyResult<ArrayOut<'py>> {
    let (shape, data) = py
        .detach(|| {
            let y = f()?;
            Ok((y.shape().to_vec(), y.to_vec()?))
        })
        .py()?;
    to_numpy(py, &shape, data)
}

/// Uploads `input`, runs `f` on it with the GIL released, and returns its result as numpy:
/// every layer and model call goes through here.
pub fn on_gpu<'py>(
    py: Python<'py>,
    input: &Host,
    f: impl FnOnce(&Tensor) -> wgpu_backprop::Result<Tensor> + Send,
) -> PyResult<ArrayOut<'py>> {
    let gpu = gpu(py)?;
    read_out(py, || {
        f(&Tensor::from_slice(&gpu, &input.data, &input.shape)?)
    })
}

/// dL/dx through the fused kernels or, with `use_jacobian`, the explicit Jacobians.
pub fn backward_of(
    layer: &mut (impl Layer + ?Sized),
    dy: &Tensor,
    use_jacobian: bool,
) -> wgpu_backprop::Result<Tensor> {
    if use_jacobian {
        layer.backward_jacobian(dy)
    } else {
        layer.backward(dy)
    }
}

/// What the three layer classes share: the Rust layer and the input shape it was declared with.
pub struct Handle<L: Layer> {
    pub name: &'static str,
    pub declared: Declared,
    pub layer: Shared<L>,
}

impl<L: Layer + 'static> Handle<L> {
    pub fn new(name: &'static str, declared: Declared, layer: L) -> Self {
        Handle {
            name,
            declared,
            layer: Arc::new(Mutex::new(layer)),
        }
    }

    /// The same layer, typed for a model.
    pub fn shared(&self) -> Shared<dyn Layer> {
        self.layer.clone()
    }

    pub fn forward<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<ArrayOut<'py>> {
        let x = Host::checked(&format!("{}.forward", self.name), "input", &x)?;
        self.declared.check(self.name, &x.shape)?;
        on_gpu(py, &x, |x| self.layer.lock().forward(x))
    }

    pub fn backward<'py>(
        &self,
        py: Python<'py>,
        dy: ArrayIn<'py>,
        use_jacobian: bool,
    ) -> PyResult<ArrayOut<'py>> {
        let dy = Host::checked(&format!("{}.backward", self.name), "dL_dy", &dy)?;
        on_gpu(py, &dy, |dy| {
            backward_of(&mut *self.layer.lock(), dy, use_jacobian)
        })
    }

    pub fn jacobian<'py>(&self, py: Python<'py>) -> PyResult<ArrayOut<'py>> {
        read_out(py, || self.layer.lock().jacobian())
    }

    pub fn repr(&self) -> String {
        format!("{}({})", self.name, self.declared.repr())
    }
}

/// SoftMax along the last axis: a vector as a whole, a matrix row by row.
///
/// ``SoftMax(shape=None)``: ``shape`` is the input's shape as in the lab, an int (a vector, or
/// a batch of such rows) or a tuple (exactly that shape); ``None`` takes any vector or matrix.
#[pyclass(frozen, module = "wgpu_backprop.nodes", name = "SoftMax")]
pub struct PySoftMax {
    pub h: Handle<nodes::SoftMax>,
}

/// ReLU element-wise, y = max(x, 0), with ReLU'(0) = 0.
///
/// ``ReLU(shape=None)``: ``shape`` as for ``SoftMax``.
#[pyclass(frozen, module = "wgpu_backprop.nodes", name = "ReLU")]
pub struct PyReLU {
    pub h: Handle<nodes::ReLU>,
}

/// The methods the lab calls on a node, the same for both node classes.
macro_rules! layer_methods {
    ($class:ident, $name:literal, $rust:ty) => {
        impl $class {
            /// A node for inputs of the `declared` shape.
            pub fn with_shape(declared: Declared) -> Self {
                $class {
                    h: Handle::new($name, declared, <$rust>::new()),
                }
            }
        }

        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (shape = None))]
            fn new(shape: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
                Ok(Self::with_shape(Declared::parse($name, "shape", shape)?))
            }

            /// y = f(x) as float32, shaped like x. Remembers what ``backward`` needs.
            fn forward<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<ArrayOut<'py>> {
                self.h.forward(py, x)
            }

            /// dL/dx from dL/dy (shaped like the last forward's output). With
            /// ``use_jacobian=True`` it goes through the explicit Jacobian: the same result.
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

            /// ∂y/∂x of the last forward as a matrix (output elements, input elements).
            fn jacobian<'py>(&self, py: Python<'py>) -> PyResult<ArrayOut<'py>> {
                self.h.jacobian(py)
            }

            fn __repr__(&self) -> String {
                self.h.repr()
            }
        }
    };
}

layer_methods!(PySoftMax, "SoftMax", nodes::SoftMax);
layer_methods!(PyReLU, "ReLU", nodes::ReLU);
