//! The training stack for numpy data: `Sequential` (a list of the layer objects, shared with
//! Python, so `model.layers[0].W` shows what training did), `mlp`, `fit`, `predict`,
//! `evaluate`, `save`/`load` (the Rust demo's safetensors files) and the digits data set.
//!
//! For a call, the model locks its layers (in address order, so two models that share a layer
//! cannot deadlock) into a temporary Rust `Sequential` and runs the crate's own code on it.

use std::path::PathBuf;

use numpy::PyArray1;
use parking_lot::{ArcMutexGuard, RawMutex};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use wgpu_backprop::model::Sequential;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::train::{self, TrainConfig};
use wgpu_backprop::{Layer, Parameter, ParameterMut, Tensor};

use crate::activation::PyActivation;
use crate::convert::{ArrayIn, Declared, Host};
use crate::data::{dataset_of, optimizer_of};
use crate::errors::{value_error, PyResultExt};
use crate::generic::PyLayer;
use crate::gpu;
use crate::layers::{backward_of, on_gpu, ArrayOut, PyReLU, PySoftMax, Shared};
use crate::linear::PyLinear;
use wgpu_backprop::model::registry;
use wgpu_backprop::ops::ActivationKind;

/// A layer of a model while the model holds its lock.
struct Held(ArcMutexGuard<RawMutex, dyn Layer>);

impl Layer for Held {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn forward(&mut self, x: &Tensor) -> wgpu_backprop::Result<Tensor> {
        self.0.forward(x)
    }
    fn backward(&mut self, dy: &Tensor) -> wgpu_backprop::Result<Tensor> {
        self.0.backward(dy)
    }
    fn backward_jacobian(&mut self, dy: &Tensor) -> wgpu_backprop::Result<Tensor> {
        self.0.backward_jacobian(dy)
    }
    fn jacobian(&self) -> wgpu_backprop::Result<Tensor> {
        self.0.jacobian()
    }
    fn parameters(&self) -> Vec<Parameter<'_>> {
        self.0.parameters()
    }
    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        self.0.parameters_mut()
    }
    fn config(&self) -> String {
        self.0.config()
    }
    fn forward_relu(&mut self, x: &Tensor) -> wgpu_backprop::Result<Option<Tensor>> {
        self.0.forward_relu(x)
    }
    fn takes_relu_output(&self) -> bool {
        self.0.takes_relu_output()
    }
    fn take_relu_output(&mut self, y: &Tensor) {
        self.0.take_relu_output(y)
    }
    fn backward_params(&mut self, dy: &Tensor) -> wgpu_backprop::Result<()> {
        self.0.backward_params(dy)
    }
    fn takes_images(&self) -> bool {
        self.0.takes_images()
    }
    fn set_training(&mut self, training: bool) {
        self.0.set_training(training)
    }
    fn set_step(&mut self, step: u64) {
        self.0.set_step(step)
    }
}

/// One layer of a model: the Python object (what `layers` returns) and its Rust layer.
struct Entry {
    object: Py<PyAny>,
    layer: Shared<dyn Layer>,
}

/// Layers applied in order, trained as one.
///
/// ``Sequential(layers)`` or ``Sequential(layer, layer, ...)`` takes SoftMax, ReLU and Linear
/// objects. The model shares them: training changes ``layer.W``, and a layer used on its own
/// still works. A layer may appear in a model only once.
#[pyclass(frozen, module = "wgpu_backprop", name = "Sequential")]
pub struct PySequential {
    entries: Vec<Entry>,
}

/// The shared Rust layer of a Python layer object, or `TypeError`.
fn shared_of(obj: &Bound<'_, PyAny>) -> PyResult<Shared<dyn Layer>> {
    if let Ok(l) = obj.cast::<PyLinear>() {
        return Ok(l.get().h.shared());
    }
    if let Ok(l) = obj.cast::<PyReLU>() {
        return Ok(l.get().h.shared());
    }
    if let Ok(l) = obj.cast::<PySoftMax>() {
        return Ok(l.get().h.shared());
    }
    if let Ok(l) = obj.cast::<PyActivation>() {
        return Ok(l.get().h.shared());
    }
    if let Ok(l) = obj.cast::<PyLayer>() {
        return Ok(l.get().layer.clone());
    }
    Err(PyTypeError::new_err(format!(
        "Sequential: expected SoftMax, ReLU or Linear layers, got {}; the activations of \
         wgpu_backprop.nodes (Sigmoid, GELU, …) are layers too",
        obj.get_type().name()?
    )))
}

impl PySequential {
    fn from_objects(objects: Vec<Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut entries: Vec<Entry> = Vec::with_capacity(objects.len());
        for (i, obj) in objects.into_iter().enumerate() {
            let layer = shared_of(&obj)?;
            if let Some(j) = entries
                .iter()
                .position(|e| std::ptr::addr_eq(e.layer.as_ref(), layer.as_ref()))
            {
                return Err(value_error(format!(
                    "Sequential: layer {i} is the same object as layer {j}; a model holds a \
                     layer once (make another for a second use)"
                )));
            }
            entries.push(Entry {
                object: obj.unbind(),
                layer,
            });
        }
        Ok(PySequential { entries })
    }

    /// A Rust model over this model's layers, locked until it is dropped.
    fn lock(&self) -> Sequential {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order
            .sort_by_key(|&i| std::sync::Arc::as_ptr(&self.entries[i].layer) as *const () as usize);
        let mut held: Vec<Option<Held>> = (0..self.entries.len()).map(|_| None).collect();
        for i in order {
            held[i] = Some(Held(self.entries[i].layer.lock_arc()));
        }
        let mut model = Sequential::new();
        for h in held.into_iter().flatten() {
            model.push(Box::new(h));
        }
        model
    }

    /// Python objects for the layers of a Rust model (built by `mlp` or read from a file).
    fn from_rust(py: Python<'_>, model: &Sequential) -> PyResult<Self> {
        let mut objects = Vec::with_capacity(model.len());
        for layer in model.layers() {
            let config = layer.config();
            let spec = registry::parse("Sequential", &config).py()?;
            let name = spec.first().map_or("", |s| s.name.as_str());
            let obj: Bound<'_, PyAny> = match name {
                "relu" => Bound::new(py, PyReLU::with_shape(Declared::Any))?.into_any(),
                "softmax" => Bound::new(py, PySoftMax::with_shape(Declared::Any))?.into_any(),
                "linear" => {
                    let p = layer.parameters();
                    let [w, b] = &p[..] else {
                        return Err(value_error(format!("{config}: no weight and bias")));
                    };
                    let linear = Linear::from_parameters(w.value.clone(), b.value.clone()).py()?;
                    Bound::new(py, PyLinear::from_rust(linear))?.into_any()
                }
                name if ActivationKind::by_name(name).is_none() => {
                    let layer = layer.boxed_clone().ok_or_else(|| {
                        value_error(format!("{config}: this layer cannot be copied"))
                    })?;
                    Bound::new(py, PyLayer::from_rust(layer))?.into_any()
                }
                _ => {
                    let param = spec[0].args.first().and_then(|a| a.parse().ok());
                    let act = wgpu_backprop::nodes::Activation::by_name(name, param).py()?;
                    Bound::new(py, PyActivation::from_rust(act))?.into_any()
                }
            };
            objects.push(obj);
        }
        Self::from_objects(objects)
    }
}

#[pymethods]
impl PySequential {
    #[new]
    #[pyo3(signature = (*layers))]
    fn new(layers: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let mut objects: Vec<Bound<'_, PyAny>> = layers.iter().collect();
        if let [only] = &objects[..] {
            if shared_of(only).is_err() {
                objects = only.try_iter()?.collect::<PyResult<_>>()?;
            }
        }
        Self::from_objects(objects)
    }

    /// The layer objects, in order (the same objects the model was built from).
    #[getter]
    fn layers(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        self.entries
            .iter()
            .map(|e| e.object.clone_ref(py))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.entries.len()
    }

    fn __getitem__(&self, py: Python<'_>, i: isize) -> PyResult<Py<PyAny>> {
        let n = self.entries.len() as isize;
        let j = if i < 0 { i + n } else { i };
        if !(0..n).contains(&j) {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "Sequential: layer index {i} out of range for {n} layers"
            )));
        }
        Ok(self.entries[j as usize].object.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let parts = self
            .entries
            .iter()
            .map(|e| Ok(e.object.bind(py).repr()?.to_string()))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(format!("Sequential({})", parts.join(", ")))
    }

    /// The model's output for x (a vector or a batch of rows), float32.
    fn forward<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<ArrayOut<'py>> {
        let x = Host::checked_rank("Sequential.forward", "input", &x, 4)?;
        on_gpu(py, &x, |x| self.lock().forward(x))
    }

    /// dL/dx through every layer in reverse, from dL/dy of the last forward; each Linear keeps
    /// its gradients.
    #[pyo3(signature = (dL_dy, use_jacobian = false))]
    #[allow(non_snake_case)]
    fn backward<'py>(
        &self,
        py: Python<'py>,
        dL_dy: ArrayIn<'py>,
        use_jacobian: bool,
    ) -> PyResult<ArrayOut<'py>> {
        let dy = Host::checked_rank("Sequential.backward", "dL_dy", &dL_dy, 4)?;
        on_gpu(py, &dy, |dy| {
            backward_of(&mut self.lock(), dy, use_jacobian)
        })
    }

    /// The class (index of the largest output) of each row of x, as int64; an int for a vector.
    fn predict<'py>(&self, py: Python<'py>, x: ArrayIn<'py>) -> PyResult<Bound<'py, PyAny>> {
        let x = Host::checked_rank("Sequential.predict", "input", &x, 4)?;
        let gpu = gpu(py)?;
        // A vector is one row; rows go through in passes that fit the device.
        let shape = match x.shape.len() {
            1 => vec![1, x.shape[0]],
            _ => x.shape.clone(),
        };
        let classes = py
            .detach(|| self.lock().predict_rows(&gpu, &x.data, &shape))
            .py()?;
        let classes: Vec<i64> = classes.into_iter().map(|c| c as i64).collect();
        if x.shape.len() == 1 {
            return Ok(classes[0].into_pyobject(py)?.into_any());
        }
        Ok(PyArray1::from_vec(py, classes).into_any())
    }

    /// The fraction of rows of x whose predicted class is their label in y.
    fn evaluate(&self, py: Python<'_>, x: ArrayIn<'_>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
        let data = dataset_of("evaluate", x, y)?;
        let gpu = gpu(py)?;
        py.detach(|| train::evaluate(&gpu, &mut self.lock(), &data))
            .py()
    }

    /// Trains the model as a classifier (softmax cross-entropy on its outputs) on rows x with
    /// integer labels y, in shuffled batches, for ``epochs`` epochs. ``optimizer`` is
    /// ``"adam"`` (default lr 2e-3) or ``"sgd"`` (default lr 0.05, with ``momentum``); each call
    /// starts a fresh optimizer. Returns ``{"loss": [...], "accuracy": [...],
    /// "seconds": [...]}`` per epoch: the mean training loss, and the accuracy on
    /// ``validation=(x_val, y_val)`` if given, else on the training data.
    #[pyo3(signature = (x, y, epochs = 10, batch = 32, optimizer = "adam", lr = None,
                        momentum = 0.9, seed = 0, validation = None, verbose = false))]
    #[allow(clippy::too_many_arguments)]
    fn fit<'py>(
        &self,
        py: Python<'py>,
        x: ArrayIn<'py>,
        y: &Bound<'py, PyAny>,
        epochs: usize,
        batch: usize,
        optimizer: &str,
        lr: Option<f32>,
        momentum: f32,
        seed: u64,
        validation: Option<(ArrayIn<'py>, Bound<'py, PyAny>)>,
        verbose: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        if batch == 0 {
            return Err(value_error("fit: batch must be at least 1"));
        }
        let train_set = dataset_of("fit", x, y)?;
        let test_set = match validation {
            Some((xv, yv)) => Some(dataset_of("fit (validation)", xv, &yv)?),
            None => None,
        };
        let mut opt = optimizer_of(optimizer, lr, momentum)?;
        let gpu = gpu(py)?;
        let cfg = TrainConfig {
            epochs,
            batch_size: batch,
            seed,
        };
        let reports = py
            .detach(|| {
                let test = test_set.as_ref().unwrap_or(&train_set);
                let mut model = self.lock();
                let mut print = |r: &train::EpochReport| {
                    if verbose {
                        print_epoch(r)
                    }
                };
                train::fit(
                    &gpu,
                    &mut model,
                    opt.as_mut(),
                    (&train_set, test),
                    &cfg,
                    &mut print,
                )
            })
            .py()?;
        history_of(py, &reports)
    }

    /// Writes the model to ``path`` as safetensors (the format of the Rust demo's ``--save``).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.lock().save(&path)).py()
    }

    /// Reads a model written by ``save`` (or the Rust demo).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        load(py, path)
    }
}

/// Prints one epoch's report through Python's `print` (so notebooks show it).
fn print_epoch(r: &train::EpochReport) {
    let line = format!(
        "epoch {}: loss {:.4}, accuracy {:.2}%",
        r.epoch,
        r.loss,
        100.0 * r.test_accuracy
    );
    Python::attach(|py| {
        // A failing print (a closed stdout) must not stop the training.
        let _ = py
            .import("builtins")
            .and_then(|b| b.call_method1("print", (line,)));
    });
}

/// `{"loss": [...], "accuracy": [...], "seconds": [...]}`, one entry per epoch.
fn history_of<'py>(
    py: Python<'py>,
    reports: &[train::EpochReport],
) -> PyResult<Bound<'py, PyDict>> {
    let history = PyDict::new(py);
    let column = |f: fn(&train::EpochReport) -> f64| reports.iter().map(f).collect::<Vec<_>>();
    history.set_item("loss", column(|r| f64::from(r.loss)))?;
    history.set_item("accuracy", column(|r| r.test_accuracy))?;
    history.set_item("seconds", column(|r| r.train_seconds))?;
    Ok(history)
}

/// A multi-layer perceptron: Linear layers of the given sizes with ``activation`` between them
/// (ReLU by default; any activation's name, ``"leaky_relu(0.2)"`` with a parameter), none after
/// the last. ``mlp([64, 128, 10])`` is 64→128→ReLU→10. ``seed`` makes the weights reproducible.
#[pyfunction]
#[pyo3(signature = (sizes, seed = None, activation = "relu"))]
fn mlp(
    py: Python<'_>,
    sizes: Vec<usize>,
    seed: Option<u64>,
    activation: &str,
) -> PyResult<PySequential> {
    let (&[first, .., last], true) = (&sizes[..], sizes.len() >= 2) else {
        let message = format!("mlp: needs at least an input and an output size, got {sizes:?}");
        return Err(value_error(message));
    };
    let mut hidden = Vec::new();
    for width in &sizes[1..sizes.len() - 1] {
        hidden.extend([width.to_string(), activation.to_string()]);
    }
    let config = Sequential::hidden_config(first, &hidden, last).py()?;
    from_config(py, &config, seed)
}

/// A model from a model string, as saved models write it:
/// ``from_config("linear(64,128),gelu,linear(128,10)")``; layers: ``linear(in,out)``,
/// ``relu``, ``softmax``, and every activation by name (``leaky_relu(0.2)``).
#[pyfunction]
#[pyo3(signature = (config, seed = None))]
fn from_config(py: Python<'_>, config: &str, seed: Option<u64>) -> PyResult<PySequential> {
    let gpu = gpu(py)?;
    let seed = seed.unwrap_or_else(wgpu_backprop::rng::Rng::random_seed);
    let model = py
        .detach(|| Sequential::from_config(&gpu, config, seed))
        .py()?;
    PySequential::from_rust(py, &model)
}

/// Reads a model written by ``Sequential.save`` or the Rust demo's ``train --save``.
#[pyfunction]
fn load(py: Python<'_>, path: PathBuf) -> PyResult<PySequential> {
    let gpu = gpu(py)?;
    let model = py.detach(|| Sequential::load(&gpu, &path)).py()?;
    PySequential::from_rust(py, &model)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySequential>()?;
    m.add_function(wrap_pyfunction!(mlp, m)?)?;
    m.add_function(wrap_pyfunction!(from_config, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(crate::data::load_digits, m)?)?;
    Ok(())
}
