//! The graph from Python: `Tensor`, a tensor that stays on the GPU (a `graph::Var`), with
//! numpy-like ops that record their backward, `.backward()` and `.grad` as a numpy array;
//! `no_grad()`, the functional ops (`linear`, `layer_norm`, `embedding`, `cross_entropy`,
//! `attention`, …) and `AdamW` over a dict of named parameters. Every call releases the GIL
//! while the crate records its kernels.

use numpy::ndarray::IxDyn;
use numpy::{AllowTypeChange, PyArrayDyn, PyArrayLike, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use wgpu_backprop::graph::{self, AdamW, Parameters, Var};
use wgpu_backprop::{Indices, Tensor};

use crate::convert::{to_numpy, ArrayIn, Host};
use crate::errors::{value_error, PyResultExt};

/// A tensor on the GPU that may take part in a graph (requires_grad), as PyTorch's.
#[pyclass(name = "Tensor", module = "wgpu_backprop", frozen)]
pub struct PyTensor {
    pub var: Var,
}

fn wrap(var: Var) -> PyTensor {
    PyTensor { var }
}

/// `tensor(data, requires_grad=False)`: uploads an array-like as a float32 GPU tensor.
#[pyfunction]
#[pyo3(signature = (data, requires_grad = false))]
pub fn tensor(py: Python<'_>, data: ArrayIn<'_>, requires_grad: bool) -> PyResult<PyTensor> {
    let host = Host::checked_rank("tensor", "data", &data, 4)?;
    let gpu = crate::gpu(py)?;
    let t = py
        .detach(|| Tensor::from_slice(&gpu, &host.data, &host.shape))
        .py()?;
    Ok(wrap(if requires_grad {
        Var::parameter(t)
    } else {
        Var::constant(t)
    }))
}

/// Integer indices (token ids, class targets) from an array-like of non-negative ints.
fn indices(
    py: Python<'_>,
    op: &str,
    data: PyArrayLike<'_, i64, IxDyn, AllowTypeChange>,
) -> PyResult<Indices> {
    let values: Vec<u32> = data
        .as_array()
        .iter()
        .map(|&v| {
            u32::try_from(v).map_err(|_| {
                value_error(format!("{op}: index {v} is not a non-negative 32-bit int"))
            })
        })
        .collect::<PyResult<_>>()?;
    if values.is_empty() || data.shape().is_empty() && values.len() != 1 {
        return Err(value_error(format!("{op}: at least one index is needed")));
    }
    let gpu = crate::gpu(py)?;
    py.detach(|| Indices::new(&gpu, &values)).py()
}

/// A float or a tensor on the right of an operator.
#[derive(FromPyObject)]
pub enum Operand<'py> {
    Tensor(PyRef<'py, PyTensor>),
    Scalar(f32),
}

impl PyTensor {
    fn binary(
        &self,
        py: Python<'_>,
        other: Operand<'_>,
        op: fn(&Var, &Var) -> wgpu_backprop::Result<Var>,
        scalar: fn(f32) -> (f32, f32),
    ) -> PyResult<PyTensor> {
        match other {
            Operand::Tensor(o) => {
                let b = o.var.clone();
                py.detach(|| op(&self.var, &b)).py().map(wrap)
            }
            Operand::Scalar(s) => {
                // x ∘ s as scale · x + shift: a constant shift is a broadcast add of one element.
                let (mul, add) = scalar(s);
                let gpu = self.var.value().gpu().clone();
                py.detach(|| -> wgpu_backprop::Result<Var> {
                    let scaled = graph::scale(&self.var, mul)?;
                    if add == 0.0 {
                        return Ok(scaled);
                    }
                    let c = Var::constant(Tensor::from_slice(&gpu, &[add], &[1])?);
                    graph::add(&scaled, &c)
                })
                .py()
                .map(wrap)
            }
        }
    }
}

#[pymethods]
impl PyTensor {
    /// The shape, as a tuple.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.var.shape())
    }

    /// Whether gradients flow to this tensor.
    #[getter]
    fn requires_grad(&self) -> bool {
        self.var.requires_grad()
    }

    /// The values, copied to a float32 numpy array (waits for the GPU).
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let t = self.var.value();
        let data = py.detach(|| t.to_vec()).py()?;
        to_numpy(py, t.shape(), data)
    }

    /// dL/d(this) summed by the backward passes since `zero_grad()`, as numpy; None before any.
    #[getter]
    fn grad<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArrayDyn<f32>>>> {
        let Some(g) = self.var.grad() else {
            return Ok(None);
        };
        let data = py.detach(|| g.to_vec()).py()?;
        to_numpy(py, g.shape(), data).map(Some)
    }

    /// Forgets the gradient.
    fn zero_grad(&self) {
        self.var.zero_grad();
    }

    /// Backpropagates from this scalar loss.
    fn backward(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.var.backward()).py()
    }

    /// The scalar's value as a float (one element; waits for the GPU).
    fn item(&self, py: Python<'_>) -> PyResult<f32> {
        if self.var.len() != 1 {
            return Err(value_error(format!(
                "item: the tensor has {} elements, not one",
                self.var.len()
            )));
        }
        let t = self.var.value();
        Ok(py.detach(|| t.to_vec()).py()?[0])
    }

    fn __add__(&self, py: Python<'_>, other: Operand<'_>) -> PyResult<PyTensor> {
        self.binary(py, other, graph::add, |s| (1.0, s))
    }
    fn __radd__(&self, py: Python<'_>, other: Operand<'_>) -> PyResult<PyTensor> {
        self.binary(py, other, graph::add, |s| (1.0, s))
    }
    fn __sub__(&self, py: Python<'_>, other: Operand<'_>) -> PyResult<PyTensor> {
        self.binary(py, other, graph::sub, |s| (1.0, -s))
    }
    fn __rsub__(&self, py: Python<'_>, other: Operand<'_>) -> PyResult<PyTensor> {
        self.binary(py, other, |a, b| graph::sub(b, a), |s| (-1.0, s))
    }
    fn __mul__(&self, py: Python<'_>, other: Operand<'_>) -> PyResult<PyTensor> {
        self.binary(py, other, graph::mul, |s| (s, 0.0))
    }
    fn __rmul__(&self, py: Python<'_>, other: Operand<'_>) -> PyResult<PyTensor> {
        self.binary(py, other, graph::mul, |s| (s, 0.0))
    }
    fn __truediv__(&self, py: Python<'_>, other: f32) -> PyResult<PyTensor> {
        self.binary(py, Operand::Scalar(other), graph::mul, |s| (1.0 / s, 0.0))
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        py.detach(|| graph::scale(&self.var, -1.0)).py().map(wrap)
    }
    fn __matmul__(&self, py: Python<'_>, other: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        let b = other.var.clone();
        py.detach(|| graph::matmul(&self.var, &b)).py().map(wrap)
    }

    /// The same data with another shape (`x.reshape(2, 3)` or `x.reshape((2, 3))`).
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: Vec<Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let shape = dims(&shape)?;
        py.detach(|| graph::reshape(&self.var, &shape))
            .py()
            .map(wrap)
    }

    /// Dimensions reordered, as numpy's `transpose(axes)`.
    #[pyo3(signature = (*dims_))]
    fn permute(&self, py: Python<'_>, dims_: Vec<Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        let perm = dims(&dims_)?;
        py.detach(|| graph::permute(&self.var, &perm))
            .py()
            .map(wrap)
    }

    /// The last two dimensions swapped.
    #[getter(T)]
    fn transposed(&self, py: Python<'_>) -> PyResult<PyTensor> {
        py.detach(|| graph::transpose(&self.var)).py().map(wrap)
    }

    /// The sum of every element (a one-element tensor).
    fn sum(&self, py: Python<'_>) -> PyResult<PyTensor> {
        py.detach(|| graph::sum(&self.var)).py().map(wrap)
    }

    /// The mean of every element.
    fn mean(&self, py: Python<'_>) -> PyResult<PyTensor> {
        py.detach(|| graph::mean(&self.var)).py().map(wrap)
    }

    /// An element-wise activation by name: "relu", "gelu", "tanh", "sigmoid", …
    fn activation(&self, py: Python<'_>, name: &str) -> PyResult<PyTensor> {
        py.detach(|| graph::activation(&self.var, name))
            .py()
            .map(wrap)
    }

    fn relu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.activation(py, "relu")
    }

    fn gelu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.activation(py, "gelu")
    }

    fn tanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.activation(py, "tanh")
    }

    /// Softmax over the last dimension.
    fn softmax(&self, py: Python<'_>) -> PyResult<PyTensor> {
        py.detach(|| graph::softmax(&self.var)).py().map(wrap)
    }

    fn __repr__(&self) -> String {
        format!(
            "Tensor(shape={:?}, requires_grad={})",
            self.var.shape(),
            self.var.requires_grad()
        )
    }
}

/// Dimensions given as `f(2, 3)` or `f((2, 3))`.
fn dims(args: &[Bound<'_, PyAny>]) -> PyResult<Vec<usize>> {
    if let [one] = args {
        if let Ok(v) = one.extract::<Vec<usize>>() {
            return Ok(v);
        }
    }
    args.iter().map(|a| a.extract::<usize>()).collect()
}

/// `linear(x, weight, bias=None)`: x·W (+ b) over the last dimension; W is `[in, out]`.
#[pyfunction]
#[pyo3(signature = (x, weight, bias = None))]
pub fn linear(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    weight: PyRef<'_, PyTensor>,
    bias: Option<PyRef<'_, PyTensor>>,
) -> PyResult<PyTensor> {
    let (x, w, b) = (
        x.var.clone(),
        weight.var.clone(),
        bias.map(|b| b.var.clone()),
    );
    py.detach(|| graph::linear(&x, &w, b.as_ref()))
        .py()
        .map(wrap)
}

/// `layer_norm(x, weight, bias)` over the last dimension.
#[pyfunction]
pub fn layer_norm(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    weight: PyRef<'_, PyTensor>,
    bias: PyRef<'_, PyTensor>,
) -> PyResult<PyTensor> {
    let (x, w, b) = (x.var.clone(), weight.var.clone(), bias.var.clone());
    py.detach(|| graph::layer_norm(&x, &w, &b)).py().map(wrap)
}

/// `embedding(table, ids)`: rows of `table` `[V, C]` for integer `ids` (flattened) → `[n, C]`.
#[pyfunction]
pub fn embedding(
    py: Python<'_>,
    table: PyRef<'_, PyTensor>,
    ids: PyArrayLike<'_, i64, IxDyn, AllowTypeChange>,
) -> PyResult<PyTensor> {
    let idx = indices(py, "embedding", ids)?;
    let t = table.var.clone();
    py.detach(|| graph::embedding(&t, &idx)).py().map(wrap)
}

/// `cross_entropy(logits, targets)`: the mean cross-entropy of logits `[N, V]` against N
/// integer targets.
#[pyfunction]
pub fn cross_entropy(
    py: Python<'_>,
    logits: PyRef<'_, PyTensor>,
    targets: PyArrayLike<'_, i64, IxDyn, AllowTypeChange>,
) -> PyResult<PyTensor> {
    let idx = indices(py, "cross_entropy", targets)?;
    let l = logits.var.clone();
    py.detach(|| graph::cross_entropy(&l, &idx)).py().map(wrap)
}

/// `attention(q, k, v, causal=True)`: scaled dot-product attention over heads, `[B, H, T, D]`.
#[pyfunction]
#[pyo3(signature = (q, k, v, causal = true))]
pub fn attention(
    py: Python<'_>,
    q: PyRef<'_, PyTensor>,
    k: PyRef<'_, PyTensor>,
    v: PyRef<'_, PyTensor>,
    causal: bool,
) -> PyResult<PyTensor> {
    let (q, k, v) = (q.var.clone(), k.var.clone(), v.var.clone());
    py.detach(|| graph::attention(&q, (&k, &v), causal))
        .py()
        .map(wrap)
}

/// `dropout(x, p, seed, step)`: the mask drawn from (seed, step).
#[pyfunction]
pub fn dropout(
    py: Python<'_>,
    x: PyRef<'_, PyTensor>,
    p: f32,
    seed: u64,
    step: u64,
) -> PyResult<PyTensor> {
    let x = x.var.clone();
    py.detach(|| graph::dropout(&x, p, seed, step))
        .py()
        .map(wrap)
}

/// `with no_grad():` records nothing (evaluation, sampling).
#[pyclass(name = "no_grad", module = "wgpu_backprop")]
pub struct NoGrad {
    before: Option<bool>,
}

#[pymethods]
impl NoGrad {
    #[new]
    fn new() -> Self {
        NoGrad { before: None }
    }
    fn __enter__(mut slf: PyRefMut<'_, Self>) -> PyRefMut<'_, Self> {
        slf.before = Some(graph::set_grad_enabled(false));
        slf
    }
    fn __exit__(
        &mut self,
        _a: Option<Bound<'_, PyAny>>,
        _b: Option<Bound<'_, PyAny>>,
        _c: Option<Bound<'_, PyAny>>,
    ) -> bool {
        graph::set_grad_enabled(self.before.take().unwrap_or(true));
        false
    }
}

/// `AdamW(params, lr=1e-3, weight_decay=0.1, betas=(0.9, 0.99), clip=1.0)` over a dict of
/// named tensors; matrices and embeddings (rank ≥ 2) take the weight decay.
#[pyclass(name = "AdamW", module = "wgpu_backprop")]
pub struct PyAdamW {
    params: Parameters,
    opt: AdamW,
    /// The learning rate `step()` uses unless given one.
    #[pyo3(get, set)]
    lr: f32,
}

#[pymethods]
impl PyAdamW {
    #[new]
    #[pyo3(signature = (params, lr = 1e-3, weight_decay = 0.1, betas = (0.9, 0.99), clip = Some(1.0)))]
    fn new(
        params: &Bound<'_, PyDict>,
        lr: f32,
        weight_decay: f32,
        betas: (f32, f32),
        clip: Option<f32>,
    ) -> PyResult<Self> {
        let mut named = Parameters::new();
        for (k, v) in params.iter() {
            let name: String = k.extract()?;
            let t: PyRef<'_, PyTensor> = v.extract()?;
            named.insert(&name, t.var.clone()).py()?;
        }
        let mut opt = AdamW::default();
        (opt.weight_decay, opt.beta1, opt.beta2, opt.clip) = (weight_decay, betas.0, betas.1, clip);
        Ok(PyAdamW {
            params: named,
            opt,
            lr,
        })
    }

    /// One update from the gradients (at `lr`, or the optimizer's); returns nothing and reads
    /// nothing back.
    #[pyo3(signature = (lr = None))]
    fn step(&mut self, py: Python<'_>, lr: Option<f32>) -> PyResult<()> {
        let lr = lr.unwrap_or(self.lr);
        let (params, opt) = (&mut self.params, &mut self.opt);
        let ranks: std::collections::HashMap<String, usize> = params
            .iter()
            .map(|(n, v)| (n.to_string(), v.shape().len()))
            .collect();
        py.detach(|| opt.step(params, lr, |n| ranks.get(n).is_some_and(|&r| r >= 2)))
            .py()
            .map(drop)
    }

    /// Forgets every parameter's gradient.
    fn zero_grad(&self) {
        self.params.zero_grad();
    }
}

/// The text of tiny Shakespeare (embedded in the library).
#[pyfunction]
pub fn shakespeare() -> String {
    wgpu_backprop::gpt::shakespeare()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTensor>()?;
    m.add_class::<NoGrad>()?;
    m.add_class::<PyAdamW>()?;
    for f in [
        wrap_pyfunction!(tensor, m)?,
        wrap_pyfunction!(linear, m)?,
        wrap_pyfunction!(layer_norm, m)?,
        wrap_pyfunction!(embedding, m)?,
        wrap_pyfunction!(cross_entropy, m)?,
        wrap_pyfunction!(attention, m)?,
        wrap_pyfunction!(dropout, m)?,
        wrap_pyfunction!(shakespeare, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
