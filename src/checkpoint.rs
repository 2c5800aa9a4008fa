//! Checkpoints of a training run: the model, the optimizer's state and the run's progress
//! (epoch, step, the batch order's RNG state, the epoch's loss so far, the finished epochs'
//! reports) in one safetensors file, written atomically (beside, synced, renamed), so a run
//! killed at any moment resumes from its last checkpoint and ends bit-identical to a run never
//! stopped ([`crate::train::fit_checkpointed`]). The file is a model file too:
//! [`Sequential::load`] and the demo's `eval --model` read it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::SafeTensors;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::model::Sequential;
use crate::optim::Optimizer;
use crate::train::EpochReport;

/// The file a checkpoint directory holds.
pub const FILE_NAME: &str = "checkpoint.safetensors";

/// Where a run stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Epochs finished.
    pub epoch: usize,
    /// Batches of the current epoch done.
    pub step: usize,
    /// Optimizer steps taken in all.
    pub steps: u64,
    /// The epochs the run was asked for (0 in checkpoints written before they were kept): a
    /// run resumed without `--epochs` goes on to these.
    pub epochs: usize,
    /// The RNG state the current epoch's batch order is drawn from.
    pub epoch_rng: u64,
    /// The current epoch's batch losses summed so far.
    pub loss_sum: f32,
    /// Reports of the finished epochs.
    pub reports: Vec<EpochReport>,
    /// What the run is (hyperparameters, data): a resumed run must be the same run.
    pub run: String,
    /// The kernel variant the run used per shape class ([`crate::Gpu::tuned`]): a resumed
    /// run keeps them ([`crate::Gpu::pin_tuned`]), so it continues on the same kernels even
    /// where this process would have timed a class anew.
    pub kernels: Vec<(String, String)>,
}

/// A named tensor on the host: (name, shape, values).
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// An optimizer's state on the host, for a checkpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptimizerState {
    /// `"adam"`, `"sgd"`.
    pub kind: String,
    /// Named numbers (hyperparameters, step count), exact.
    pub scalars: Vec<(String, f64)>,
    /// Named tensors: (name, shape, values).
    pub tensors: Vec<NamedTensor>,
}

impl OptimizerState {
    /// The scalar `name`, or a format error naming it.
    pub fn scalar(&self, op: &'static str, name: &str) -> Result<f64> {
        self.scalars
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, v)| v)
            .ok_or_else(|| format_err(op, format!("optimizer state has no '{name}'")))
    }
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Checkpoint {
    /// The model as it was.
    pub model: Sequential,
    /// The optimizer's state, for [`Optimizer::load_state`].
    pub optimizer: OptimizerState,
    /// Where the run stood.
    pub progress: Progress,
}

fn format_err(op: &'static str, message: impl Into<String>) -> Error {
    Error::Format {
        op,
        message: message.into(),
    }
}

/// The checkpoint file of `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Writes model, optimizer state and progress to `dir` (created if need be), replacing the
/// previous checkpoint atomically. Reads the parameters and state back from the GPU.
pub fn save(
    dir: &Path,
    model: &Sequential,
    opt: &dyn Optimizer,
    progress: &Progress,
) -> Result<()> {
    const OP: &str = "checkpoint::save";
    let state = opt.state()?;
    let mut tensors = model.parameter_tensors()?;
    for (name, shape, values) in &state.tensors {
        let bytes = bytemuck::cast_slice::<f32, u8>(values).to_vec();
        tensors.push((format!("optimizer.{name}"), shape.clone(), bytes));
    }
    let mut meta = model.metadata();
    meta.insert("checkpoint".into(), "1".into());
    meta.insert("optimizer.kind".into(), state.kind.clone());
    let scalars: Vec<String> = state
        .scalars
        .iter()
        .map(|(n, v)| format!("{n}={:016x}", v.to_bits()))
        .collect();
    meta.insert("optimizer.scalars".into(), scalars.join(";"));
    write_progress(&mut meta, progress);
    let bytes = crate::model::serialize(OP, &tensors, meta)?;
    let io_err = |e: std::io::Error| Error::Io {
        op: OP,
        path: path(dir).display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io_err)?;
    crate::files::write_atomically(&path(dir), &bytes).map_err(io_err)
}

/// Reads the checkpoint in `dir`.
pub fn load(gpu: &Gpu, dir: &Path) -> Result<Checkpoint> {
    const OP: &str = "checkpoint::load";
    let file = path(dir);
    let bytes = std::fs::read(&file).map_err(|e| Error::Io {
        op: OP,
        path: file.display().to_string(),
        message: e.to_string(),
    })?;
    let model = Sequential::from_safetensors(gpu, &bytes)?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| format_err(OP, e.to_string()))?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| format_err(OP, e.to_string()))?;
    let empty = HashMap::new();
    let meta = header.metadata().as_ref().unwrap_or(&empty);
    if meta.get("checkpoint").map(String::as_str) != Some("1") {
        return Err(format_err(OP, "a model file, not a checkpoint"));
    }
    let mut optimizer = OptimizerState {
        kind: get(OP, meta, "optimizer.kind")?.to_string(),
        ..OptimizerState::default()
    };
    for item in get(OP, meta, "optimizer.scalars")?
        .split(';')
        .filter(|s| !s.is_empty())
    {
        let (name, bits) = item
            .split_once('=')
            .ok_or_else(|| format_err(OP, format!("bad optimizer scalar '{item}'")))?;
        optimizer.scalars.push((name.into(), f64_bits(OP, bits)?));
    }
    let mut names: Vec<&str> = st.names();
    names.sort();
    for name in names {
        if let Some(short) = name.strip_prefix("optimizer.") {
            let view = st
                .tensor(name)
                .map_err(|e| format_err(OP, format!("{name}: {e}")))?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(format_err(OP, format!("{name}: not F32")));
            }
            let values = bytemuck::pod_collect_to_vec(view.data());
            optimizer
                .tensors
                .push((short.to_string(), view.shape().to_vec(), values));
        }
    }
    let progress = read_progress(OP, meta)?;
    Ok(Checkpoint {
        model,
        optimizer,
        progress,
    })
}

fn write_progress(meta: &mut HashMap<String, String>, p: &Progress) {
    let kernels: Vec<String> = p.kernels.iter().map(|(c, v)| format!("{c}\t{v}")).collect();
    let reports: Vec<String> = p
        .reports
        .iter()
        .map(|r| {
            format!(
                "{}:{:08x}:{:016x}:{:016x}:{}",
                r.epoch,
                r.loss.to_bits(),
                r.test_accuracy.to_bits(),
                r.train_seconds.to_bits(),
                r.samples
            )
        })
        .collect();
    for (k, v) in [
        ("progress.epoch", p.epoch.to_string()),
        ("progress.step", p.step.to_string()),
        ("progress.steps", p.steps.to_string()),
        ("progress.epochs", p.epochs.to_string()),
        ("progress.epoch_rng", format!("{:016x}", p.epoch_rng)),
        ("progress.loss_sum", format!("{:08x}", p.loss_sum.to_bits())),
        ("progress.reports", reports.join(";")),
        ("progress.run", p.run.clone()),
        ("progress.kernels", kernels.join("\n")),
    ] {
        meta.insert(k.into(), v);
    }
}

fn read_progress(op: &'static str, meta: &HashMap<String, String>) -> Result<Progress> {
    let num = |key: &str| -> Result<u64> {
        get(op, meta, key)?
            .parse()
            .map_err(|_| format_err(op, format!("{key} is not a number")))
    };
    let mut reports = Vec::new();
    for item in get(op, meta, "progress.reports")?
        .split(';')
        .filter(|s| !s.is_empty())
    {
        let f: Vec<&str> = item.split(':').collect();
        let [epoch, loss, acc, secs, samples] = f[..] else {
            return Err(format_err(op, format!("bad epoch report '{item}'")));
        };
        let bad = || format_err(op, format!("bad epoch report '{item}'"));
        reports.push(EpochReport {
            epoch: epoch.parse().map_err(|_| bad())?,
            loss: f32_bits(op, loss)?,
            test_accuracy: f64_bits(op, acc)?,
            train_seconds: f64_bits(op, secs)?,
            samples: samples.parse().map_err(|_| bad())?,
        });
    }
    Ok(Progress {
        epoch: num("progress.epoch")? as usize,
        step: num("progress.step")? as usize,
        steps: num("progress.steps")?,
        // Absent from checkpoints written before the planned epochs were kept.
        epochs: meta
            .get("progress.epochs")
            .and_then(|e| e.parse().ok())
            .unwrap_or(0),
        epoch_rng: u64::from_str_radix(get(op, meta, "progress.epoch_rng")?, 16)
            .map_err(|_| format_err(op, "progress.epoch_rng is not hex"))?,
        loss_sum: f32_bits(op, get(op, meta, "progress.loss_sum")?)?,
        reports,
        run: get(op, meta, "progress.run")?.to_string(),
        // Absent from checkpoints written before kernels were kept.
        kernels: meta
            .get("progress.kernels")
            .map(|k| k.lines().filter_map(|l| l.split_once('\t')))
            .into_iter()
            .flatten()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect(),
    })
}

fn get<'a>(op: &'static str, meta: &'a HashMap<String, String>, key: &str) -> Result<&'a str> {
    meta.get(key)
        .map(String::as_str)
        .ok_or_else(|| format_err(op, format!("no '{key}' in the checkpoint")))
}

fn f32_bits(op: &'static str, hex: &str) -> Result<f32> {
    u32::from_str_radix(hex, 16)
        .map(f32::from_bits)
        .map_err(|_| format_err(op, format!("'{hex}' is not a hex f32")))
}

fn f64_bits(op: &'static str, hex: &str) -> Result<f64> {
    u64::from_str_radix(hex, 16)
        .map(f64::from_bits)
        .map_err(|_| format_err(op, format!("'{hex}' is not a hex f64")))
}
