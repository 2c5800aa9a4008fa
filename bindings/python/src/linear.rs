//! `Linear` for Python, as the lab has it: `Linear(input_dim, output_dim)` with the bias folded
//! into `W` as its first row, shape (n_in + 1, n_out), so Y = [1, X]·W; `_W_pd` is dL/dW in the
//! same layout. `weight`, `bias` and their gradients are there separately too.

use pyo3::prelude::*;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::Tensor;

use crate::convert::{py_shape, to_numpy, ArrayIn, Declared, Host};
use crate::errors::{value_error, PyResultExt};
use crate::gpu;
use crate::layers::{ArrayOut, Handle};

/// A fully connected layer, Y = X·weight + bias.
///
/// ``Linear(input_dim, output_dim, seed=None)``: dims as in the lab, ints (vectors, or batches
/// of rows) or tuples ``(batch, n)`` (exactly that batch). Weights start U(−1/√n_in, 1/√n_in)
/// as in PyTorch; ``seed`` makes them reproducible.
#[pyclass(frozen, module = "wgpu_backprop.neurons", name = "Linear")]
pub struct PyLinear {
    pub h: Handle<Linear>,
}

impl PyLinear {
    /// Wraps a Rust Linear (a model's layer, a loaded file); it takes vectors or batches.
    pub fn from_rust(layer: Linear) -> Self {
        let k = layer.in_features();
        PyLinear {
            h: Handle::new("Linear", Declared::Vector(k), layer),
        }
    }

    /// n_in, n_out.
    fn dims(&self) -> (usize, usize) {
        let l = self.h.layer.lock();
        (l.in_features(), l.out_features())
    }

    /// Host copies of the tensors `pick` chooses (None where it finds none), GIL released. The
    /// layer is locked only while picking; the copies are read after.
    fn read(
        &self,
        py: Python<'_>,
        pick: impl FnOnce(&Linear) -> Option<Vec<Tensor>> + Send,
    ) -> PyResult<Option<Vec<Vec<f32>>>> {
        py.detach(|| {
            let picked = pick(&self.h.layer.lock());
            picked
                .map(|ts| ts.iter().map(Tensor::to_vec).collect())
                .transpose()
        })
        .py()
    }

    /// One tensor chosen by `pick` as an array of `shape`, or None.
    fn one<'py>(
        &self,
        py: Python<'py>,
        shape: &[usize],
        pick: impl FnOnce(&Linear) -> Option<Tensor> + Send,
    ) -> PyResult<Option<ArrayOut<'py>>> {
        let host = self.read(py, |l| pick(l).map(|t| vec![t]))?;
        host.and_then(|mut v| v.pop())
            .map(|data| to_numpy(py, shape, data))
            .transpose()
    }

    /// (b, W) chosen by `pick` as one (n_in + 1, n_out) array, the lab's layout, or None.
    fn folded<'py>(
        &self,
        py: Python<'py>,
        pick: impl FnOnce(&Linear) -> Option<(Tensor, Tensor)> + Send,
    ) -> PyResult<Option<ArrayOut<'py>>> {
        let (k, n) = self.dims();
        let host = self.read(py, |l| pick(l).map(|(b, w)| vec![b, w]))?;
        host.map(|v| to_numpy(py, &[k + 1, n], v.concat()))
            .transpose()
    }

    /// Uploads new weights and/or biases (host, row-major) and swaps them in under one lock;
    /// a part not given keeps its tensor.
    fn set(&self, py: Python<'_>, w: Option<&[f32]>, b: Option<&[f32]>) -> PyResult<()> {
        let gpu = gpu(py)?;
        py.detach(|| {
            let mut l = self.h.layer.lock();
            let (k, n) = (l.in_features(), l.out_features());
            let w = match w {
                Some(w) => Tensor::from_slice(&gpu, w, &[k, n])?,
                None => l.weight().clone(),
            };
            let b = match b {
                Some(b) => Tensor::from_slice(&gpu, b, &[n])?,
                None => l.bias().clone(),
            };
            l.set_parameters(w, b)
        })
        .py()
    }

    /// The host copy of `value` if its shape is `want`, else a `ValueError` naming `what`.
    fn expect(&self, what: &str, value: &ArrayIn<'_>, want: &[usize]) -> PyResult<Host> {
        let v = Host::of(value);
        if v.shape == want {
            return Ok(v);
        }
        Err(value_error(format!(
            "Linear.{what}: expected an array of shape {}, got {}",
            py_shape(want),
            py_shape(&v.shape)
        )))
    }
}

/// Reads the lab's dims: the input declaration and n_out, with a batch only where a tuple says.
fn parse_dims(input: &Bound<'_, PyAny>, output: &Bound<'_, PyAny>) -> PyResult<(Declared, usize)> {
    let i = Declared::parse("Linear", "input_dim", Some(input))?;
    let o = Declared::parse("Linear", "output_dim", Some(output))?;
    let (Some(k), Some(n)) = (i.width(), o.width()) else {
        return Err(value_error("Linear: input_dim and output_dim are required"));
    };
    let declared = match (i.batch(), o.batch()) {
        (Some(a), Some(b)) if a != b => {
            return Err(value_error(format!(
                "Linear: input_dim {} and output_dim {} disagree on the batch ({a} vs {b})",
                i.repr(),
                o.repr()
            )))
        }
        (Some(batch), _) | (None, Some(batch)) => Declared::Exact(vec![batch, k]),
        (None, None) => i,
    };
    Ok((declared, n))
}

#[pymethods]
impl PyLinear {
    #[new]
    #[pyo3(signature = (input_dim, output_dim, seed = None))]
    fn new(
        py: Python<'_>,
        input_dim: &Bound<'_, PyAny>,
        output_dim: &Bound<'_, PyAny>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let (declared, n) = parse_dims(input_dim, output_dim)?;
        let k = declared.width().unwrap_or(0);
        let gpu = gpu(py)?;
        let seed = seed.unwrap_or_else(Rng::random_seed);
        let layer = py.detach(|| Linear::with_seed(&gpu, k, n, seed)).py()?;
        Ok(PyLinear {
            h: Handle::new("Linear", declared, layer),
        })
    }

    /// Y = X·weight + bias as float32; a vector input is one row and gives a vector.
    fn forward<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<ArrayOut<'py>> {
        self.h.forward(py, x)
    }

    /// dL/dX from dL/dY; also stores dL/dW and dL/db (``_W_pd``, ``weight_grad``,
    /// ``bias_grad``). ``use_jacobian=True`` computes all three through explicit Jacobians.
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

    /// ∂Y/∂X of the last forward, (batch·n_out, batch·n_in).
    fn jacobian<'py>(&self, py: Python<'py>) -> PyResult<ArrayOut<'py>> {
        self.h.jacobian(py)
    }

    #[getter]
    fn in_features(&self) -> usize {
        self.dims().0
    }

    #[getter]
    fn out_features(&self) -> usize {
        self.dims().1
    }

    /// The lab's W: the bias as the first row over the weights, (n_in + 1, n_out).
    #[getter(W)]
    fn w<'py>(&self, py: Python<'py>) -> PyResult<Option<ArrayOut<'py>>> {
        self.folded(py, |l| Some((l.bias().clone(), l.weight().clone())))
    }

    #[setter(W)]
    fn set_w(&self, py: Python<'_>, value: ArrayIn<'_>) -> PyResult<()> {
        let (k, n) = self.dims();
        let v = self.expect("W", &value, &[k + 1, n])?;
        self.set(py, Some(&v.data[n..]), Some(&v.data[..n]))
    }

    /// dL/dW of the last backward in W's layout (bias row first), or None before any.
    #[getter(_W_pd)]
    fn w_pd<'py>(&self, py: Python<'py>) -> PyResult<Option<ArrayOut<'py>>> {
        self.folded(py, |l| {
            Some((l.bias_grad()?.clone(), l.weight_grad()?.clone()))
        })
    }

    /// The weights alone, (n_in, n_out).
    #[getter]
    fn weight<'py>(&self, py: Python<'py>) -> PyResult<Option<ArrayOut<'py>>> {
        let (k, n) = self.dims();
        self.one(py, &[k, n], |l| Some(l.weight().clone()))
    }

    #[setter]
    fn set_weight(&self, py: Python<'_>, value: ArrayIn<'_>) -> PyResult<()> {
        let (k, n) = self.dims();
        let v = self.expect("weight", &value, &[k, n])?;
        self.set(py, Some(&v.data), None)
    }

    /// The biases, (n_out,).
    #[getter]
    fn bias<'py>(&self, py: Python<'py>) -> PyResult<Option<ArrayOut<'py>>> {
        let n = self.dims().1;
        self.one(py, &[n], |l| Some(l.bias().clone()))
    }

    #[setter]
    fn set_bias(&self, py: Python<'_>, value: ArrayIn<'_>) -> PyResult<()> {
        let n = self.dims().1;
        let v = self.expect("bias", &value, &[n])?;
        self.set(py, None, Some(&v.data))
    }

    /// dL/dweight of the last backward, (n_in, n_out), or None before any.
    #[getter]
    fn weight_grad<'py>(&self, py: Python<'py>) -> PyResult<Option<ArrayOut<'py>>> {
        let (k, n) = self.dims();
        self.one(py, &[k, n], |l| l.weight_grad().cloned())
    }

    /// dL/dbias of the last backward, (n_out,), or None before any.
    #[getter]
    fn bias_grad<'py>(&self, py: Python<'py>) -> PyResult<Option<ArrayOut<'py>>> {
        let n = self.dims().1;
        self.one(py, &[n], |l| l.bias_grad().cloned())
    }

    fn __repr__(&self) -> String {
        let (k, n) = self.dims();
        match &self.h.declared {
            Declared::Exact(s) if s.len() == 2 => {
                format!("Linear(({}, {k}), ({}, {n}))", s[0], s[0])
            }
            _ => format!("Linear({k}, {n})"),
        }
    }
}
