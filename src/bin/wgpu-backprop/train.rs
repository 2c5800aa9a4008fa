//! `wgpu-backprop train` and `eval`: train an MLP or CNN classifier on the GPU with a progress bar,
//! optionally plot the curves and save the model; evaluate a saved model.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wgpu_backprop::checkpoint;
use wgpu_backprop::data::Dataset;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::optim::{Adam, Optimizer, Sgd};
use wgpu_backprop::train::{
    evaluate, fit, fit_checkpointed, Checkpointing, EpochReport, TrainConfig, DEFAULT_HIDDEN,
    DEFAULT_LR,
};
use wgpu_backprop::{Error, Gpu, Layer, Result};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OptimizerKind {
    Sgd,
    Adam,
}

#[derive(Parser, Clone, Debug)]
pub struct TrainArgs {
    /// Passes over the training set
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    pub epochs: usize,
    /// Mini-batch size [default: 32; 64 with --model cnn]
    #[arg(long)]
    pub batch: Option<usize>,
    /// Learning rate [default: 0.002; 0.004 with --model cnn]
    #[arg(long)]
    pub lr: Option<f32>,
    /// Hidden layers, comma-separated: widths, each optionally followed by its activation
    /// (relu unless given): 128, or 256,128, or 256,tanh,128,gelu, or 64,leaky_relu(0.2).
    /// Activations: relu, sigmoid, tanh, gelu, gelu_tanh, silu, leaky_relu(slope),
    /// elu(alpha), softplus
    #[arg(long, default_values_t = [DEFAULT_HIDDEN.to_string()], value_delimiter = ',')]
    pub hidden: Vec<String>,
    /// The model: `mlp` (Linear layers as --hidden says), `cnn` (conv 3×3 →32, ReLU, maxpool
    /// 2, conv 3×3 →32, ReLU, maxpool 2, flatten, dropout 0.5, linear), or a layer string such as
    /// "conv2d(1,8,3,1,1),relu,maxpool2d(2),flatten,linear(128,10)"
    #[arg(long, default_value = "mlp")]
    pub model: String,
    /// Optimizer
    #[arg(long, value_enum, default_value_t = OptimizerKind::Adam)]
    pub optimizer: OptimizerKind,
    /// Momentum (sgd only)
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f32,
    /// Seed of the train/test split, the initial weights and the batch order
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Directory of MNIST-style IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz); default: the embedded
    /// digits set, split 80/20
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Save the trained model here (safetensors)
    #[arg(long)]
    pub save: Option<PathBuf>,
    /// Write the loss and accuracy curves here (PNG)
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Keep a checkpoint (model, optimizer state, progress) in this directory, replaced
    /// atomically every --checkpoint-every steps and at the end of every epoch
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Optimizer steps between checkpoints
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: u64,
    /// Continue the run whose checkpoint is in this directory, with its options (those given
    /// must match them; --epochs may grow); it keeps checkpointing there unless --checkpoint
    /// says elsewhere
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// The options given on the command line (filled by `main`): on --resume, the others
    /// come from the checkpoint
    #[arg(skip)]
    pub given: Vec<String>,
    /// Abort the process once this many steps are done (a `kill -9` at a chosen step, for
    /// tests of --resume)
    #[arg(long, hide = true)]
    pub abort_after_steps: Option<u64>,
}

#[derive(Args, Clone, Debug)]
pub struct EvalArgs {
    /// A model saved by `train --save`
    #[arg(long)]
    pub model: PathBuf,
    /// Directory of MNIST-style IDX files (evaluates on the t10k files); default: digits
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed of the digits train/test split (the one used for training)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// How a run on the embedded digits names its data.
pub(crate) const DIGITS_SOURCE: &str = "digits (embedded, 80/20 stratified split)";

/// (train, test) from `--data` or the embedded digits set.
fn load_data(dir: &Option<PathBuf>, seed: u64) -> Result<(Dataset, Dataset, String)> {
    match dir {
        Some(dir) => {
            let (train, test) = Dataset::load_mnist_dir(dir)?;
            Ok((train, test, dir.display().to_string()))
        }
        None => {
            let (train, test) = Dataset::digits()?.stratified_split(0.2, seed);
            Ok((train, test, DIGITS_SOURCE.into()))
        }
    }
}

/// The model string `--model` (and `--hidden`) ask for.
fn model_config(args: &TrainArgs, train: &Dataset, outputs: usize) -> Result<String> {
    match args.model.as_str() {
        "mlp" => Sequential::hidden_config(train.dim(), &args.hidden, outputs),
        "cnn" => {
            let image = train.image_shape().ok_or_else(|| Error::InvalidArgument {
                op: "train --model cnn",
                message: format!("the data are vectors of {} values, not images", train.dim()),
            })?;
            Sequential::cnn_config(image, outputs)
        }
        layers => Ok(layers.to_string()),
    }
}

impl TrainArgs {
    /// The learning rate: as given, or the default for the model.
    fn lr(&self) -> f32 {
        self.lr.unwrap_or(if self.model == "cnn" {
            CNN_LR
        } else {
            DEFAULT_LR
        })
    }

    /// The batch size: as given, or the default for the model.
    fn batch(&self) -> usize {
        let default = TrainConfig::default().batch_size;
        self.batch.unwrap_or(if self.model == "cnn" {
            CNN_BATCH
        } else {
            default
        })
    }
}

/// `--model cnn`'s learning rate and batch size (measured on the digits: 98.9 % in 40 epochs).
const CNN_LR: f32 = 0.004;
const CNN_BATCH: usize = 64;

pub fn run(gpu: &Gpu, args: &TrainArgs) -> Result<()> {
    // The checkpoint to resume, read once: its options fill what the command line leaves out,
    // then its model, optimizer state and progress continue the run.
    let loaded = match &args.resume {
        Some(dir) => Some(checkpoint::load(gpu, dir)?),
        None => None,
    };
    let resumed;
    let args = match &loaded {
        Some(ck) => {
            resumed = crate::resume::with_stored_options(args, &ck.progress);
            &resumed
        }
        None => args,
    };
    let (train, test, source) = load_data(&args.data, args.seed)?;
    let outputs = train.classes().max(test.classes());
    let config = model_config(args, &train, outputs)?;
    let mut model = Sequential::from_config(gpu, &config, args.seed)?;
    let mut opt: Box<dyn Optimizer> = match args.optimizer {
        OptimizerKind::Adam => Box::new(Adam::new(args.lr())),
        OptimizerKind::Sgd => Box::new(Sgd::new(args.lr(), args.momentum)),
    };
    print_banner(gpu, args, (&train, &test, &source), &model, outputs);
    let bar = progress_bar(args.epochs)?;
    let cfg = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch(),
        seed: args.seed.wrapping_add(1),
    };
    let start = Instant::now();
    let mut on_epoch = |r: &EpochReport| {
        let msg = format!(
            "loss {:.4}  test accuracy {:.2}%",
            r.loss,
            100.0 * r.test_accuracy
        );
        if bar.is_hidden() {
            println!("epoch {:>3}/{}: {msg}", r.epoch, args.epochs);
        }
        bar.set_message(msg);
        bar.inc(1);
    };
    let data = (&train, &test);
    let run = run_name(args, &train, &source);
    let reports = match checkpointing(args, &run, &mut model, loaded)? {
        Some((ck, state)) => {
            if let Some(state) = state {
                opt.load_state(gpu, &state)?;
            }
            if let Some(p) = &ck.resume {
                bar.inc(p.epoch as u64);
            }
            fit_checkpointed(
                gpu,
                &mut model,
                opt.as_mut(),
                data,
                &cfg,
                &ck,
                &mut on_epoch,
            )?
        }
        None => fit(gpu, &mut model, opt.as_mut(), data, &cfg, &mut on_epoch)?,
    };
    bar.finish();
    print_summary(&reports, test.len(), start.elapsed().as_secs_f64());
    print_tuned(gpu);
    if let Some(path) = &args.save {
        model.save(path)?;
        println!("saved model to {}", path.display());
    }
    if let Some(path) = &args.plot {
        crate::plot::curves(path, &reports, &model.config())?;
        println!("wrote plot to {}", path.display());
    }
    Ok(())
}

/// What is about to run: data, model, adapter.
fn print_banner(
    gpu: &Gpu,
    args: &TrainArgs,
    (train, test, source): (&Dataset, &Dataset, &str),
    model: &Sequential,
    classes: usize,
) {
    println!(
        "data:      {source}: {} train, {} test, {} features, {classes} classes",
        train.len(),
        test.len(),
        train.dim(),
    );
    println!(
        "model:     {} ({:?}, lr {}, batch {})",
        model.config(),
        args.optimizer,
        args.lr(),
        args.batch()
    );
    println!(
        "adapter:   {} ({:?})",
        gpu.adapter_name(),
        gpu.adapter_info().backend
    );
}

fn progress_bar(epochs: usize) -> Result<ProgressBar> {
    let bar = ProgressBar::new(epochs as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] epoch {pos}/{len} {msg}")
            .map_err(|e| Error::InvalidArgument {
                op: "train",
                message: e.to_string(),
            })?
            .progress_chars("=> "),
    );
    Ok(bar)
}

/// The last epoch's accuracy, the wall time and the training throughput.
fn print_summary(reports: &[EpochReport], test_len: usize, wall: f64) {
    let train_secs: f64 = reports.iter().map(|r| r.train_seconds).sum();
    let samples: usize = reports.iter().map(|r| r.samples).sum();
    let acc = reports.last().map_or(0.0, |r| r.test_accuracy);
    println!(
        "test accuracy {:.2}% ({} of {}) after {} epochs, {:.1} s; {:.0} samples/s training",
        100.0 * acc,
        (acc * test_len as f64).round(),
        test_len,
        reports.len(),
        wall,
        samples as f64 / train_secs.max(1e-9)
    );
}

/// The autotuner's work in this run: what it timed (a first run on an adapter), in how long.
fn print_tuned(gpu: &Gpu) {
    let tuned = gpu.tuned();
    let timed: Vec<_> = tuned.iter().filter(|t| !t.timings_ms.is_empty()).collect();
    if timed.is_empty() {
        return;
    }
    println!(
        "autotuned: {} of {} shape classes timed in {:.0} ms (complete ones kept for the next run):",
        timed.len(),
        tuned.len(),
        gpu.tuning_time().as_secs_f64() * 1e3
    );
    for t in timed {
        let ms: Vec<String> = t
            .timings_ms
            .iter()
            .map(|(v, ms)| format!("{v} {ms:.3} ms"))
            .collect();
        println!("  {} -> {} ({})", t.class, t.variant, ms.join(", "));
    }
}

/// `--hidden` as the run name writes it: `[128]`, `[256, 128]` (as the widths alone always
/// were, so earlier checkpoints still resume), `[256, tanh, 128]`.
struct HiddenList<'a>(&'a [String]);

impl std::fmt::Debug for HiddenList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}]", self.0.join(", "))
    }
}

/// What makes two runs the same run (a resumed one must match its checkpoint).
fn run_name(args: &TrainArgs, train: &Dataset, source: &str) -> String {
    let model = if args.model == "mlp" {
        String::new()
    } else {
        format!(" model={}", args.model)
    };
    format!(
        "data={source} rows={} dim={} hidden={:?} optimizer={:?} lr={} momentum={} batch={} \
         seed={}{model}",
        train.len(),
        train.dim(),
        HiddenList(&args.hidden),
        args.optimizer,
        args.lr(),
        args.momentum,
        args.batch(),
        args.seed
    )
}

/// The checkpointing `args` ask for; on `--resume`, `model` becomes the `loaded` checkpoint's
/// and the optimizer state to restore comes back too.
fn checkpointing(
    args: &TrainArgs,
    run: &str,
    model: &mut Sequential,
    loaded: Option<checkpoint::Checkpoint>,
) -> Result<Option<(Checkpointing, Option<checkpoint::OptimizerState>)>> {
    let Some(dir) = args.checkpoint.as_ref().or(args.resume.as_ref()) else {
        return Ok(None);
    };
    let (resume, state) = match (&args.resume, loaded) {
        (Some(from), Some(ck)) => {
            println!(
                "resumed:   {} at epoch {}, step {} ({} steps in all)",
                checkpoint::path(from).display(),
                ck.progress.epoch,
                ck.progress.step,
                ck.progress.steps
            );
            *model = ck.model;
            (Some(ck.progress), Some(ck.optimizer))
        }
        _ => (None, None),
    };
    let ck = Checkpointing {
        dir: dir.clone(),
        every: usize::try_from(args.checkpoint_every).unwrap_or(usize::MAX),
        run: run.to_string(),
        resume,
        abort_after_steps: args.abort_after_steps,
    };
    Ok(Some((ck, state)))
}

pub fn eval(gpu: &Gpu, args: &EvalArgs) -> Result<()> {
    let mut model = Sequential::load(gpu, &args.model)?;
    let (_, test, source) = load_data(&args.data, args.seed)?;
    let acc = evaluate(gpu, &mut model, &test)?;
    println!("model:     {} ({})", model.config(), args.model.display());
    println!("data:      {source}: {} test samples", test.len());
    println!("test accuracy {:.2}%", 100.0 * acc);
    Ok(())
}
