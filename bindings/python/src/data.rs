//! Data from numpy for training: rows of features, integer class labels checked one by one,
//! the optimizer named by a string, and the digits set shipped inside the crate.

use numpy::{PyArray1, PyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use wgpu_backprop::data::Dataset;
use wgpu_backprop::optim::{Adam, Optimizer, Sgd};
use wgpu_backprop::train::DEFAULT_LR;

use crate::convert::{py_shape, to_numpy, ArrayIn, Host};
use crate::errors::{value_error, PyResultExt};

/// SGD's learning rate when none is given.
const DEFAULT_SGD_LR: f32 = 0.05;

/// `(x, y)` of a data set as numpy arrays.
type XY<'py> = (Bound<'py, PyArrayDyn<f32>>, Bound<'py, PyArray1<i64>>);

/// Samples: a matrix (samples, features) or images (samples, channels, height, width) as
/// (data, rows, features per sample, image shape); `op` names the call in errors.
#[allow(clippy::type_complexity)]
pub fn rows_of(
    op: &str,
    x: &ArrayIn<'_>,
) -> PyResult<(Vec<f32>, usize, usize, Option<[usize; 3]>)> {
    let h = Host::of(x);
    if h.shape.contains(&0) {
        return Err(value_error(format!(
            "{op}: x has no samples: shape {}",
            py_shape(&h.shape)
        )));
    }
    match h.shape[..] {
        [rows, dim] => Ok((h.data, rows, dim, None)),
        [rows, c, height, w] => Ok((h.data, rows, c * height * w, Some([c, height, w]))),
        _ => Err(value_error(format!(
            "{op}: x must be a non-empty matrix (samples, features) or images (samples, channels, \
             height, width), got shape {}",
            py_shape(&h.shape)
        ))),
    }
}

/// Class labels: a vector of `rows` non-negative integers (any numeric dtype holding them).
pub fn labels_of(op: &str, y: &Bound<'_, PyAny>, rows: usize) -> PyResult<Vec<u32>> {
    let y: numpy::PyArrayLike<'_, f64, numpy::IxDyn, numpy::AllowTypeChange> = y.extract()?;
    if y.shape() != [rows] {
        return Err(value_error(format!(
            "{op}: y must be a vector of {rows} class labels (one per row of x), got shape {}",
            py_shape(y.shape())
        )));
    }
    y.as_array()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                Ok(v as u32)
            } else {
                Err(value_error(format!(
                    "{op}: labels must be non-negative integers, but y[{i}] = {v}"
                )))
            }
        })
        .collect()
}

/// A data set from (x, y); `op` names the call in errors.
pub fn dataset_of(op: &str, x: ArrayIn<'_>, y: &Bound<'_, PyAny>) -> PyResult<Dataset> {
    let (features, rows, dim, image) = rows_of(op, &x)?;
    let labels = labels_of(op, y, rows)?;
    let data = Dataset::new(features, labels, dim).py()?;
    match image {
        Some(image) => data.with_image_shape(image).py(),
        None => Ok(data),
    }
}

/// The optimizer `name` names, with `lr` or its default.
pub fn optimizer_of(
    name: &str,
    lr: Option<f32>,
    momentum: f32,
) -> PyResult<Box<dyn Optimizer + Send>> {
    if let Some(lr) = lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
        return Err(value_error(format!(
            "fit: lr must be a positive number, got {lr}"
        )));
    }
    match name.to_ascii_lowercase().as_str() {
        "adam" => Ok(Box::new(Adam::new(lr.unwrap_or(DEFAULT_LR)))),
        "sgd" => Ok(Box::new(Sgd::new(lr.unwrap_or(DEFAULT_SGD_LR), momentum))),
        other => Err(value_error(format!(
            "fit: optimizer must be \"adam\" or \"sgd\", got \"{other}\""
        ))),
    }
}

/// The digits data set shipped inside the library (1,797 images of 8×8 pixels scaled to
/// [0, 1], 10 classes): ``(x, y)`` with x float32 (1797, 64) and y int64 (1797,).
#[pyfunction]
pub fn load_digits(py: Python<'_>) -> PyResult<XY<'_>> {
    let data = Dataset::digits().py()?;
    let x = to_numpy(py, &[data.len(), data.dim()], data.features().to_vec())?;
    let y = data
        .labels()
        .iter()
        .map(|&l| i64::from(l))
        .collect::<Vec<_>>();
    Ok((x, PyArray1::from_vec(py, y)))
}
