//! The training loop for classifiers: shuffled mini-batches → forward → fused softmax
//! cross-entropy → backward → optimizer step, all recorded on the GPU without reading anything
//! back; the epoch's loss (summed on the GPU) and the test accuracy are read once per epoch.

use std::time::Instant;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::Layer;
use crate::loss::{Labels, SoftmaxCrossEntropy};
use crate::model::Sequential;
use crate::ops;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The demo's default learning rate (Adam) for the digits classifier.
pub const DEFAULT_LR: f32 = 2e-3;
/// The demo's default hidden layer size.
pub const DEFAULT_HIDDEN: usize = 128;

/// How long and in what order to train. The defaults are the demo's: 40 epochs of 32.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Rows per step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Seeds the batch order (the model's init has its own seed).
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 40,
            batch_size: 32,
            seed: 0,
        }
    }
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f32,
    /// Fraction of the test set classified correctly after the epoch.
    pub test_accuracy: f64,
    /// Wall time of the epoch's training steps (without the evaluation).
    pub train_seconds: f64,
    /// Training samples seen in the epoch.
    pub samples: usize,
}

/// Trains `model` on `train` for `cfg.epochs` epochs, evaluating on `test` after each and
/// calling `on_epoch` with the report. Returns all reports. Nothing is read back inside an
/// epoch but its summed loss. Before any update it checks that the rows fit the model and that
/// no label reaches past the model's outputs.
///
/// ```no_run
/// use wgpu_backprop::{data::Dataset, model::Sequential, optim::Adam, Gpu};
/// use wgpu_backprop::train::{fit, TrainConfig};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// let (train, test) = Dataset::digits()?.stratified_split(0.2, 0);
/// let mut model = Sequential::mlp(&gpu, &[64, 32, 10], 0)?;
/// let cfg = TrainConfig { epochs: 5, ..TrainConfig::default() };
/// let reports = fit(&gpu, &mut model, &mut Adam::new(2e-3), (&train, &test), &cfg, &mut |r| {
///     println!("epoch {}: loss {:.3}", r.epoch, r.loss)
/// })?;
/// println!("test accuracy {:.1}%", 100.0 * reports[4].test_accuracy);
/// # Ok(()) }
/// ```
pub fn fit(
    gpu: &Gpu,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    (train, test): (&Dataset, &Dataset),
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<Vec<EpochReport>> {
    check_outputs(gpu, model, train)?;
    check_outputs(gpu, model, test)?;
    let mut rng = Rng::new(cfg.seed);
    let mut reports = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        let loss_sum = Tensor::zeros(gpu, &[1])?;
        let batches = train.batches(cfg.batch_size, &mut rng);
        for (x, y) in &batches {
            let loss = train_step(gpu, model, opt, x, y, train.dim())?;
            ops::add_assign(&loss_sum, &loss)?;
        }
        let loss = loss_sum.to_vec()?[0] / batches.len() as f32; // the epoch's one sync
        let train_seconds = start.elapsed().as_secs_f64();
        let report = EpochReport {
            epoch,
            loss,
            test_accuracy: evaluate(gpu, model, test)?,
            train_seconds,
            samples: train.len(),
        };
        on_epoch(&report);
        reports.push(report);
    }
    Ok(reports)
}

/// `Err` before any update when `data`'s rows do not fit the model or its labels reach past
/// the model's outputs (one forward of one row), so a bad label cannot stop training midway.
fn check_outputs(gpu: &Gpu, model: &mut Sequential, data: &Dataset) -> Result<()> {
    let x = Tensor::from_slice(gpu, &data.features()[..data.dim()], &[1, data.dim()])?;
    let outputs = model.forward(&x)?.rows_cols().1;
    if data.classes() > outputs {
        return Err(Error::InvalidArgument {
            op: "fit",
            message: format!(
                "labels go up to {} but the model has {outputs} outputs",
                data.classes() - 1
            ),
        });
    }
    Ok(())
}

/// One step on one batch; returns the batch's mean loss, still on the GPU.
pub fn train_step(
    gpu: &Gpu,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    x: &[f32],
    labels: &[u32],
    dim: usize,
) -> Result<Tensor> {
    let xt = Tensor::from_slice(gpu, x, &[labels.len(), dim])?;
    let labels = Labels::new(gpu, labels)?;
    let logits = model.forward(&xt)?;
    let (loss, grad) = SoftmaxCrossEntropy.forward_backward(&logits, &labels)?;
    model.backward(&grad)?;
    opt.step(&model.parameters())?;
    Ok(loss)
}

/// Fraction of `data` whose largest output is its label.
pub fn evaluate(gpu: &Gpu, model: &mut Sequential, data: &Dataset) -> Result<f64> {
    const CHUNK: usize = 4096;
    let mut correct = 0usize;
    for (i, labels) in data.labels().chunks(CHUNK).enumerate() {
        let rows = &data.features()[i * CHUNK * data.dim()..][..labels.len() * data.dim()];
        let x = Tensor::from_slice(gpu, rows, &[labels.len(), data.dim()])?;
        let pred = model.predict(&x)?;
        correct += pred
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p == **l as usize)
            .count();
    }
    Ok(correct as f64 / data.len() as f64)
}
