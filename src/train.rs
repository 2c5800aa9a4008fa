//! The training loop for classifiers: shuffled mini-batches → forward → fused softmax
//! cross-entropy → backward → optimizer step, all recorded on the GPU without reading anything
//! back; the epoch's loss (summed on the GPU) and the test accuracy are read once per epoch.

use std::path::PathBuf;
use web_time::Instant;

use crate::checkpoint::{self, Progress};
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
    data: (&Dataset, &Dataset),
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<Vec<EpochReport>> {
    crate::sync::block_on(
        "fit",
        "train::fit_async",
        run(gpu, model, opt, data, cfg, on_epoch, None),
    )
}

/// [`fit`] for a web page: the epoch's loss and the evaluation are awaited there, so the page
/// draws between epochs (natively the reads block, as in `fit`). The same steps and results.
pub async fn fit_async(
    gpu: &Gpu,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    data: (&Dataset, &Dataset),
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<Vec<EpochReport>> {
    run(gpu, model, opt, data, cfg, on_epoch, None).await
}

/// Checkpointing for [`fit_checkpointed`]: where, how often, and where to resume from.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The directory that holds [`checkpoint::FILE_NAME`].
    pub dir: PathBuf,
    /// A checkpoint every this many optimizer steps (and at the end of every epoch).
    pub every: usize,
    /// What the run is (hyperparameters, data); a resumed run must say the same.
    pub run: String,
    /// Where to continue from ([`checkpoint::load`]'s progress); `None` starts afresh.
    pub resume: Option<Progress>,
    /// Ends the process at once (`std::process::abort`: nothing flushed, no further
    /// checkpoint) when this many optimizer steps are done: a `kill -9` at a chosen step, for
    /// tests of resuming. `None` in normal use.
    pub abort_after_steps: Option<u64>,
}

/// [`fit`] that writes checkpoints (model, optimizer state, progress) to `ck.dir` and can
/// resume from one: with the model and optimizer restored from the checkpoint and the same
/// config, the run ends with exactly the weights of a run never stopped (same adapter).
pub fn fit_checkpointed(
    gpu: &Gpu,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    data: (&Dataset, &Dataset),
    cfg: &TrainConfig,
    ck: &Checkpointing,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<Vec<EpochReport>> {
    if let Some(p) = &ck.resume {
        if p.run != ck.run || p.epoch > cfg.epochs {
            return Err(Error::InvalidArgument {
                op: "fit_checkpointed",
                message: format!(
                    "the checkpoint is of another run ('{}' at epoch {}), not of '{}' for {} \
                     epochs",
                    p.run, p.epoch, ck.run, cfg.epochs
                ),
            });
        }
    }
    if let Some(p) = &ck.resume {
        gpu.pin_tuned(&p.kernels);
    }
    crate::sync::block_on(
        "fit_checkpointed",
        "train::fit_async (checkpoints need a file system)",
        run(gpu, model, opt, data, cfg, on_epoch, Some(ck)),
    )
}

/// The kernel variant per shape class on `gpu`, for a checkpoint.
fn kernel_choices(gpu: &Gpu) -> Vec<(String, String)> {
    gpu.tuned()
        .into_iter()
        .map(|t| (t.class, t.variant))
        .collect()
}

/// The loop of [`fit`], [`fit_async`] and [`fit_checkpointed`].
async fn run(
    gpu: &Gpu,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    (train, test): (&Dataset, &Dataset),
    cfg: &TrainConfig,
    on_epoch: &mut dyn FnMut(&EpochReport),
    ck: Option<&Checkpointing>,
) -> Result<Vec<EpochReport>> {
    check_outputs(gpu, model, train)?;
    check_outputs(gpu, model, test)?;
    let mut p = ck.and_then(|c| c.resume.clone()).unwrap_or(Progress {
        epoch: 0,
        step: 0,
        steps: 0,
        epochs: cfg.epochs,
        epoch_rng: Rng::new(cfg.seed).state(),
        loss_sum: 0.0,
        reports: Vec::new(),
        run: ck.map(|c| c.run.clone()).unwrap_or_default(),
        kernels: Vec::new(),
    });
    p.epochs = cfg.epochs;
    while p.epoch < cfg.epochs {
        let start = Instant::now();
        let mut rng = Rng::new(p.epoch_rng);
        let batches = train.batches(cfg.batch_size, &mut rng);
        let shape = batch_shape(model, train, 1)?;
        let sample = &shape[1..];
        let mut loss_sum = Tensor::from_slice(gpu, &[p.loss_sum], &[1])?;
        model.set_training(true);
        for (x, y) in &batches[p.step.min(batches.len())..] {
            // Layers that draw per step (Dropout) draw for the optimizer step: a resumed run
            // draws what the original did.
            model.set_step(p.steps);
            let loss = train_step(gpu, model, opt, x, y, sample)?;
            ops::add_assign(&mut loss_sum, &loss)?;
            (p.step, p.steps) = (p.step + 1, p.steps + 1);
            if ck.and_then(|c| c.abort_after_steps) == Some(p.steps) {
                std::process::abort();
            }
            if let Some(c) = ck.filter(|c| p.steps.is_multiple_of(c.every.max(1) as u64)) {
                p.loss_sum = loss_sum.read().await?[0];
                p.kernels = kernel_choices(gpu);
                checkpoint::save(&c.dir, model, opt, &p)?;
            }
        }
        let loss = loss_sum.read().await?[0] / batches.len() as f32; // the epoch's one sync
        let train_seconds = start.elapsed().as_secs_f64();
        let report = EpochReport {
            epoch: p.epoch + 1,
            loss,
            test_accuracy: evaluate_async(gpu, model, test).await?,
            train_seconds,
            samples: train.len(),
        };
        on_epoch(&report);
        p.reports.push(report);
        (p.epoch, p.step, p.epoch_rng, p.loss_sum) = (p.epoch + 1, 0, rng.state(), 0.0);
        if let Some(c) = ck {
            p.kernels = kernel_choices(gpu);
            checkpoint::save(&c.dir, model, opt, &p)?;
        }
    }
    Ok(p.reports)
}

/// `Err` before any update when `data`'s rows do not fit the model or its labels reach past
/// the model's outputs (one forward of one row), so a bad label cannot stop training midway.
fn check_outputs(gpu: &Gpu, model: &mut Sequential, data: &Dataset) -> Result<()> {
    let shape = batch_shape(model, data, 1)?;
    let x = Tensor::from_slice(gpu, &data.features()[..data.dim()], &shape)?;
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

/// The shape of `n` samples of `data` as `model` takes them: [n, C, H, W] for a model that
/// starts with a layer that takes images, else [n, dim].
pub fn batch_shape(model: &Sequential, data: &Dataset, n: usize) -> Result<Vec<usize>> {
    if !model.takes_images() {
        return Ok(vec![n, data.dim()]);
    }
    let Some(image) = data.image_shape() else {
        return Err(Error::InvalidArgument {
            op: "fit",
            message: format!(
                "the model starts with {} (images [N, C, H, W]) but the data are vectors of \
                 {} values with no image shape (Dataset::with_image_shape)",
                model.layers().first().map_or("?", |l| l.name()),
                data.dim()
            ),
        });
    };
    Ok([&[n][..], &image].concat())
}

/// One step on one batch of samples shaped `sample` (`[dim]` or `[C, H, W]`); returns the
/// batch's mean loss, still on the GPU.
pub fn train_step(
    gpu: &Gpu,
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    x: &[f32],
    labels: &[u32],
    sample: &[usize],
) -> Result<Tensor> {
    let xt = Tensor::from_slice(gpu, x, &[&[labels.len()][..], sample].concat())?;
    let labels = Labels::new(gpu, labels)?;
    let logits = model.forward(&xt)?;
    let (loss, grad) = SoftmaxCrossEntropy.forward_backward(&logits, &labels)?;
    model.backward_params(&grad)?;
    opt.step(&mut model.parameters_mut())?;
    Ok(loss)
}

/// Fraction of `data` whose largest output is its label (in passes that fit the device:
/// [`Sequential::predict_rows`]).
pub fn evaluate(gpu: &Gpu, model: &mut Sequential, data: &Dataset) -> Result<f64> {
    crate::sync::block_on(
        "train::evaluate",
        "train::evaluate_async",
        evaluate_async(gpu, model, data),
    )
}

/// [`evaluate`] for a web page: its readbacks are awaited there (natively they block, as in
/// `evaluate`).
pub async fn evaluate_async(gpu: &Gpu, model: &mut Sequential, data: &Dataset) -> Result<f64> {
    let shape = batch_shape(model, data, data.len())?;
    let pred = model
        .predict_rows_async(gpu, data.features(), &shape)
        .await?;
    let correct = pred
        .iter()
        .zip(data.labels())
        .filter(|(p, l)| **p == **l as usize)
        .count();
    Ok(correct as f64 / data.len() as f64)
}
