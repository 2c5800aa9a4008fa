//! numpy ↔ host data: any array-like of any numeric dtype in (as float32, C order), float32
//! arrays out; the shapes a layer was declared with (`5`, `(2, 5)`) and the check against them.

use numpy::ndarray::{ArrayD, IxDyn};
use numpy::{AllowTypeChange, PyArrayDyn, PyArrayLike, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::value_error;

/// Any array-like (list, tuple, numpy array of any numeric dtype), converted to float32.
pub type ArrayIn<'py> = PyArrayLike<'py, f32, IxDyn, AllowTypeChange>;

/// Host copy of an input: its shape and its values in C (row-major) order.
pub struct Host {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Host {
    /// The host copy of `x` if it is a non-empty vector or matrix, else a `ValueError` naming
    /// `op` (e.g. `SoftMax.forward`) and `what` (e.g. `input`).
    pub fn checked(op: &str, what: &str, x: &ArrayIn<'_>) -> PyResult<Host> {
        Self::checked_rank(op, what, x, 2)
    }

    /// [`Host::checked`] for inputs of rank 1 to `max_rank` (4: images [N, C, H, W]).
    pub fn checked_rank(op: &str, what: &str, x: &ArrayIn<'_>, max_rank: usize) -> PyResult<Host> {
        let shape = x.shape();
        if shape.is_empty() || shape.len() > max_rank || shape.contains(&0) {
            let kind = if max_rank == 2 {
                "a non-empty vector or matrix".to_string()
            } else {
                format!("a non-empty array of rank 1 to {max_rank}")
            };
            return Err(value_error(format!(
                "{op}: {what} must be {kind}, got shape {}",
                py_shape(shape)
            )));
        }
        Ok(Host::of(x))
    }

    pub fn of(x: &ArrayIn<'_>) -> Host {
        let view = x.as_array();
        let data = match view.as_slice() {
            Some(s) => s.to_vec(),
            None => view.iter().copied().collect(),
        };
        Host {
            shape: x.shape().to_vec(),
            data,
        }
    }
}

/// A float32 numpy array of `shape` holding `data`.
pub fn to_numpy<'py>(
    py: Python<'py>,
    shape: &[usize],
    data: Vec<f32>,
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    let array = ArrayD::from_shape_vec(IxDyn(shape), data)
        .map_err(|e| value_error(format!("result of shape {shape:?}: {e}")))?;
    Ok(PyArrayDyn::from_owned_array(py, array))
}

/// A shape as Python prints it: `(5,)`, `(2, 5)`.
pub fn py_shape(shape: &[usize]) -> String {
    match shape {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// The input shape a layer was declared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Declared {
    /// No shape given: any vector or matrix.
    Any,
    /// An int n: a vector of n, or a batch of them (rows of n).
    Vector(usize),
    /// A tuple: exactly that shape.
    Exact(Vec<usize>),
}

impl Declared {
    /// Reads `5`, `(5,)`, `(2, 5)` or `None`; `layer` and `what` name it in errors.
    pub fn parse(layer: &str, what: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Declared> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(Declared::Any);
        };
        let positive = |d: i64| -> PyResult<usize> {
            usize::try_from(d).ok().filter(|&d| d > 0).ok_or_else(|| {
                value_error(format!("{layer}: {what} must be positive sizes, got {obj}"))
            })
        };
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Declared::Vector(positive(n)?));
        }
        let dims: Vec<i64> = obj.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "{layer}: {what} must be an int or a tuple of ints, got {obj}"
            ))
        })?;
        if dims.is_empty() || dims.len() > 2 {
            return Err(value_error(format!(
                "{layer}: {what} must be a vector (n,) or a matrix (rows, n), got {obj}"
            )));
        }
        let dims = dims.into_iter().map(positive).collect::<PyResult<_>>()?;
        Ok(Declared::Exact(dims))
    }

    /// The width of one row: the last dimension.
    pub fn width(&self) -> Option<usize> {
        match self {
            Declared::Any => None,
            Declared::Vector(n) => Some(*n),
            Declared::Exact(s) => s.last().copied(),
        }
    }

    /// The batch a tuple fixes, if any.
    pub fn batch(&self) -> Option<usize> {
        match self {
            Declared::Exact(s) if s.len() == 2 => Some(s[0]),
            _ => None,
        }
    }

    pub fn fits(&self, shape: &[usize]) -> bool {
        match self {
            Declared::Any => true,
            Declared::Vector(n) => matches!(shape, [m] | [_, m] if m == n),
            Declared::Exact(s) => s == shape,
        }
    }

    /// How the shape reads in a message: `(5,) or (batch, 5)`, `(2, 5)`, `any`.
    pub fn describe(&self) -> String {
        match self {
            Declared::Any => "any vector or matrix".into(),
            Declared::Vector(n) => format!("({n},) or (batch, {n})"),
            Declared::Exact(s) => py_shape(s),
        }
    }

    /// How the shape reads in a constructor call: `5`, `(2, 5)`, or nothing.
    pub fn repr(&self) -> String {
        match self {
            Declared::Any => String::new(),
            Declared::Vector(n) => n.to_string(),
            Declared::Exact(s) => py_shape(s),
        }
    }

    /// `ValueError` unless an input of `shape` fits; `layer` names the layer.
    pub fn check(&self, layer: &str, shape: &[usize]) -> PyResult<()> {
        if self.fits(shape) {
            return Ok(());
        }
        Err(value_error(format!(
            "{layer}.forward: input of shape {} does not fit the layer's input shape {}",
            py_shape(shape),
            self.describe()
        )))
    }
}
