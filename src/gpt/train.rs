//! Training a [`Gpt`] as nanoGPT's `train.py` does: random windows of the training split,
//! AdamW (decoupled decay on matrices and embeddings, β2 0.99), the gradients clipped to a
//! global norm of 1, the learning rate warmed up linearly then decayed by a cosine to a tenth;
//! every `eval_interval` steps the mean loss of `eval_iters` batches of each split. A run
//! saves checkpoints (model, tokenizer, AdamW's state, the step, the batch RNG's state and the
//! kernels in use) and resumes from one bit for bit. Model files are safetensors with the
//! sizes and the vocabulary in the metadata.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::gpt::{windows, CharTokenizer, Corpus, Gpt, GptConfig};
use crate::gpu::Gpu;
use crate::graph::{self, AdamW};
use crate::indices::Indices;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The run's hyperparameters (nanoGPT's defaults for `shakespeare_char` on a laptop).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Optimizer steps.
    pub iters: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f32,
    /// The learning rate after the decay.
    pub min_lr: f32,
    /// Steps of linear warm-up.
    pub warmup: usize,
    /// Step at which the cosine decay reaches `min_lr`.
    pub decay_iters: usize,
    /// Steps between loss estimates (and at the last step).
    pub eval_interval: usize,
    /// Batches per loss estimate and split.
    pub eval_iters: usize,
    /// Steps between reads of the training loss (each read waits for the GPU).
    pub log_interval: usize,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f32,
    /// AdamW's β2.
    pub beta2: f32,
    /// Clip the global gradient norm to this (`None`: no clipping).
    pub grad_clip: Option<f32>,
    /// Seeds the batches (and, with the model's seed, dropout).
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            iters: 2000,
            batch: 12,
            lr: 1e-3,
            min_lr: 1e-4,
            warmup: 100,
            decay_iters: 2000,
            eval_interval: 250,
            eval_iters: 20,
            log_interval: 10,
            weight_decay: 0.1,
            beta2: 0.99,
            grad_clip: Some(1.0),
            seed: 1337,
        }
    }
}

impl TrainOptions {
    /// The learning rate of step `it`: linear warm-up, cosine decay, then `min_lr`.
    pub fn lr_at(&self, it: usize) -> f32 {
        if it < self.warmup {
            return self.lr * (it + 1) as f32 / (self.warmup + 1) as f32;
        }
        if it > self.decay_iters {
            return self.min_lr;
        }
        let ratio = (it - self.warmup) as f64 / (self.decay_iters - self.warmup).max(1) as f64;
        let coeff = 0.5 * (1.0 + (std::f64::consts::PI * ratio).cos());
        (f64::from(self.min_lr) + coeff * f64::from(self.lr - self.min_lr)) as f32
    }
}

/// Where checkpoints go and how often.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The checkpoint file.
    pub path: PathBuf,
    /// Steps between checkpoints (and one at the end).
    pub every: usize,
}

/// What a run reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A step was recorded; `loss` is read every `log_interval` steps.
    Step {
        /// Steps done.
        iter: usize,
        /// The batch's loss, when read.
        loss: Option<f32>,
        /// The learning rate it used.
        lr: f32,
    },
    /// Loss estimates over both splits.
    Eval {
        /// Steps done.
        iter: usize,
        /// Mean loss on training batches.
        train_loss: f32,
        /// Mean loss on validation batches.
        val_loss: f32,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Steps done.
        iter: usize,
    },
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Steps done in all (with those before a resume).
    pub iters: usize,
    /// The last estimates.
    pub train_loss: f32,
    /// The last validation estimate.
    pub val_loss: f32,
}

/// Mean loss over `n` batches of `data`, with no graph and one read.
fn estimate(gpt: &Gpt, data: &[u32], batch: usize, n: usize, rng: &mut Rng) -> Result<f32> {
    let t = gpt.config.block;
    let mut total: Option<Tensor> = None;
    for _ in 0..n {
        let (x, y) = windows(data, batch, t, rng)?;
        let (x, y) = (Indices::new(gpt.gpu(), &x)?, Indices::new(gpt.gpu(), &y)?);
        let loss = graph::no_grad(|| gpt.loss(&x, &y, (batch, t), None))?.value();
        total = Some(match total {
            Some(s) => crate::ops::add(&s, &loss)?,
            None => loss,
        });
    }
    let total = total.ok_or(Error::InvalidArgument {
        op: "gpt::train",
        message: "eval_iters must be at least 1".into(),
    })?;
    Ok(total.to_vec()?[0] / n as f32)
}

/// Trains `gpt` on `corpus` for `opts.iters` steps (in all: a run resumed from a checkpoint
/// at step s does the rest), reporting to `on_event`.
pub fn train(
    gpt: &mut Gpt,
    corpus: &Corpus,
    opts: &TrainOptions,
    checkpoints: Option<&Checkpointing>,
    on_event: &mut dyn FnMut(&Event),
) -> Result<TrainReport> {
    let (b, t) = (opts.batch, gpt.config.block);
    let mut opt = AdamW::default();
    opt.weight_decay = opts.weight_decay;
    opt.beta2 = opts.beta2;
    opt.clip = opts.grad_clip;
    let mut rng = Rng::new(opts.seed);
    let mut start = 0;
    if let Some(c) = checkpoints.filter(|c| c.path.exists()) {
        let state = load_checkpoint(gpt, &c.path)?;
        opt.load_state(state.adam_t, &state.adam)?;
        rng = Rng::new(state.rng);
        start = state.iter;
    }
    let mut report = TrainReport {
        iters: start,
        train_loss: f32::NAN,
        val_loss: f32::NAN,
    };
    for it in start..opts.iters {
        let (x, y) = windows(&corpus.train, b, t, &mut rng)?;
        let (x, y) = (Indices::new(gpt.gpu(), &x)?, Indices::new(gpt.gpu(), &y)?);
        gpt.params.zero_grad();
        let loss = gpt.loss(&x, &y, (b, t), Some(it as u64))?;
        loss.backward()?;
        let lr = opts.lr_at(it);
        opt.step(&mut gpt.params, lr, Gpt::decays)?;
        let done = it + 1;
        let read = done % opts.log_interval.max(1) == 0 || done == opts.iters;
        let loss = if read {
            Some(loss.value().to_vec()?[0])
        } else {
            None
        };
        on_event(&Event::Step {
            iter: done,
            loss,
            lr,
        });
        if done % opts.eval_interval.max(1) == 0 || done == opts.iters {
            // Its own generator: a resumed run draws the same training batches.
            let mut eval_rng =
                Rng::new(opts.seed ^ (done as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let train_loss = estimate(gpt, &corpus.train, b, opts.eval_iters, &mut eval_rng)?;
            let val_loss = estimate(gpt, &corpus.val, b, opts.eval_iters, &mut eval_rng)?;
            report = TrainReport {
                iters: done,
                train_loss,
                val_loss,
            };
            on_event(&Event::Eval {
                iter: done,
                train_loss,
                val_loss,
            });
        }
        if let Some(c) = checkpoints.filter(|c| done % c.every.max(1) == 0 || done == opts.iters) {
            save_checkpoint(gpt, &corpus.tokenizer, (&opt, rng.state(), done), &c.path)?;
            on_event(&Event::Checkpoint { iter: done });
        }
    }
    report.iters = opts.iters.max(start);
    Ok(report)
}

const FORMAT: &str = "wgpu-backprop gpt";

fn metadata(gpt: &Gpt, tokenizer: &CharTokenizer) -> HashMap<String, String> {
    let c = gpt.config;
    HashMap::from([
        ("format".into(), FORMAT.into()),
        ("vocab".into(), tokenizer.vocab()),
        ("block".into(), c.block.to_string()),
        ("layers".into(), c.layers.to_string()),
        ("heads".into(), c.heads.to_string()),
        ("embd".into(), c.embd.to_string()),
        ("dropout".into(), c.dropout.to_string()),
        ("seed".into(), gpt.seed.to_string()),
    ])
}

fn write(
    path: &Path,
    gpt: &Gpt,
    tokenizer: &CharTokenizer,
    extra: Vec<crate::checkpoint::NamedTensor>,
    meta: HashMap<String, String>,
) -> Result<()> {
    const OP: &str = "gpt::save";
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, shape, values) in gpt.params.to_host()?.into_iter().chain(extra) {
        tensors.push((
            name,
            shape,
            bytemuck::cast_slice::<f32, u8>(&values).to_vec(),
        ));
    }
    let mut all = metadata(gpt, tokenizer);
    all.extend(meta);
    let bytes = crate::model::serialize(OP, &tensors, all)?;
    crate::files::write_atomically(path, &bytes).map_err(|e| Error::Io {
        op: OP,
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Saves the model and its tokenizer as safetensors (parameters by name; sizes and vocabulary
/// in the metadata).
pub fn save(path: &Path, gpt: &Gpt, tokenizer: &CharTokenizer) -> Result<()> {
    write(path, gpt, tokenizer, Vec::new(), HashMap::new())
}

/// The tensors and metadata of a model file.
fn read(gpu: &Gpu, path: &Path) -> Result<(HashMap<String, Tensor>, HashMap<String, String>)> {
    const OP: &str = "gpt::load";
    let format = |message: String| Error::Format { op: OP, message };
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        op: OP,
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let (_, meta) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| format(e.to_string()))?;
    let meta: HashMap<String, String> = meta.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(format(format!(
            "{} is not a GPT saved by this library",
            path.display()
        )));
    }
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(format(format!("tensor '{name}' is not f32")));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.insert(
            name.to_string(),
            Tensor::from_slice(gpu, &values, view.shape())?,
        );
    }
    Ok((tensors, meta))
}

fn meta_num<T: std::str::FromStr>(meta: &HashMap<String, String>, key: &str) -> Result<T> {
    meta.get(key)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Error::Format {
            op: "gpt::load",
            message: format!("the metadata's '{key}' is missing or not a number"),
        })
}

/// A model and its tokenizer from [`save`] (or a checkpoint).
pub fn load(gpu: &Gpu, path: &Path) -> Result<(Gpt, CharTokenizer)> {
    let (tensors, meta) = read(gpu, path)?;
    model_from(gpu, &tensors, &meta)
}

fn model_from(
    gpu: &Gpu,
    tensors: &HashMap<String, Tensor>,
    meta: &HashMap<String, String>,
) -> Result<(Gpt, CharTokenizer)> {
    let tokenizer = CharTokenizer::from_vocab(meta.get("vocab").map(String::as_str).unwrap_or(""));
    let config = GptConfig {
        vocab: tokenizer.len(),
        block: meta_num(meta, "block")?,
        layers: meta_num(meta, "layers")?,
        heads: meta_num(meta, "heads")?,
        embd: meta_num(meta, "embd")?,
        dropout: meta_num(meta, "dropout")?,
    };
    let mut gpt = Gpt::new(gpu, config, meta_num(meta, "seed")?)?;
    gpt.params.load(tensors)?;
    Ok((gpt, tokenizer))
}

/// A checkpoint's training state.
struct Resumed {
    iter: usize,
    rng: u64,
    adam_t: u32,
    adam: HashMap<String, Tensor>,
}

fn save_checkpoint(
    gpt: &Gpt,
    tokenizer: &CharTokenizer,
    (opt, rng, iter): (&AdamW, u64, usize),
    path: &Path,
) -> Result<()> {
    let (t, state) = opt.state()?;
    let extra = state
        .into_iter()
        .map(|(n, s, v)| (format!("adamw.{n}"), s, v))
        .collect();
    let kernels: Vec<String> = gpt
        .gpu()
        .tuned()
        .iter()
        .map(|k| format!("{}\t{}", k.class, k.variant))
        .collect();
    let meta = HashMap::from([
        ("checkpoint.iter".into(), iter.to_string()),
        ("checkpoint.rng".into(), rng.to_string()),
        ("checkpoint.adamw_t".into(), t.to_string()),
        ("checkpoint.kernels".into(), kernels.join("\n")),
    ]);
    write(path, gpt, tokenizer, extra, meta)
}

fn load_checkpoint(gpt: &mut Gpt, path: &Path) -> Result<Resumed> {
    let (tensors, meta) = read(gpt.gpu(), path)?;
    let (saved, _) = model_from(gpt.gpu(), &tensors, &meta)?;
    if saved.config != gpt.config {
        return Err(Error::InvalidArgument {
            op: "gpt::train",
            message: format!("the checkpoint is of another model: {:?}", saved.config),
        });
    }
    *gpt = saved; // its parameters and its dropout seed
    let kernels: Vec<(String, String)> = meta
        .get("checkpoint.kernels")
        .map(|k| {
            k.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        })
        .unwrap_or_default();
    gpt.gpu().pin_tuned(&kernels);
    let adam = tensors
        .into_iter()
        .filter_map(|(n, t)| n.strip_prefix("adamw.").map(|s| (s.to_string(), t)))
        .collect();
    Ok(Resumed {
        iter: meta_num(&meta, "checkpoint.iter")?,
        rng: meta_num(&meta, "checkpoint.rng")?,
        adam_t: meta_num(&meta, "checkpoint.adamw_t")?,
        adam,
    })
}
