//! A character-level GPT on the graph (nanoGPT's model, plainly written): token and position
//! embeddings, `layers` pre-LayerNorm blocks — causal multi-head attention and a GELU MLP,
//! each added back to the residual stream — a final LayerNorm and a head tied to the token
//! embedding; dropout after the embeddings, the attention's projection and the MLP. Training
//! (`train.rs`: AdamW, clipping, warm-up and cosine decay, checkpoints), sampling
//! (`sample.rs`) and the corpus (`corpus.rs`) live beside it.
//!
//! Shapes: tokens `[B·T]` → x `[B·T, C]`; per block q, k, v `[B, H, T, D]` (C = H·D); logits
//! `[B·T, V]`.

mod corpus;
mod sample;
mod train;

pub use corpus::{shakespeare, windows, CharTokenizer, Corpus};
pub use sample::{sample, SampleOptions};
pub use train::{load, save, train, Checkpointing, Event, TrainOptions, TrainReport};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::graph::{self, Parameters, Var};
use crate::indices::Indices;
use crate::ops::Transpose;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The model's sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GptConfig {
    /// Tokens in the vocabulary.
    pub vocab: usize,
    /// The longest context (T).
    pub block: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Embedding width C (a multiple of `heads`; C / heads ≤ 128).
    pub embd: usize,
    /// Dropout probability while training.
    pub dropout: f32,
}

impl GptConfig {
    /// nanoGPT's laptop configuration for `shakespeare_char`: 4 layers, 4 heads, 128 wide,
    /// block 64, no dropout.
    pub fn laptop(vocab: usize) -> GptConfig {
        GptConfig {
            vocab,
            block: 64,
            layers: 4,
            heads: 4,
            embd: 128,
            dropout: 0.0,
        }
    }

    fn check(&self) -> Result<()> {
        let ok = self.vocab > 0
            && self.block > 0
            && self.layers > 0
            && self.heads > 0
            && self.embd.is_multiple_of(self.heads)
            && self.embd / self.heads <= crate::ops::MAX_ATTENTION_HEAD
            && (0.0..1.0).contains(&self.dropout);
        if ok {
            return Ok(());
        }
        Err(Error::InvalidArgument {
            op: "Gpt::new",
            message: format!(
                "{self:?}: sizes must be positive, embd a multiple of heads with a head of at \
                 most {} and dropout in [0, 1)",
                crate::ops::MAX_ATTENTION_HEAD
            ),
        })
    }
}

/// The model: its sizes and its named parameters (`wte`, `wpe`, `blocks.{i}.attn.q.weight`, …).
#[derive(Debug, Clone)]
pub struct Gpt {
    /// Sizes.
    pub config: GptConfig,
    /// Parameters by name.
    pub params: Parameters,
    gpu: Gpu,
    /// Dropout's masks derive from this and the step.
    seed: u64,
}

/// The weights of one linear map: `{name}.weight` `[in, out]`, `{name}.bias` `[out]`.
const LINEARS: [(&str, usize, usize); 6] = [
    ("attn.q", 1, 1),
    ("attn.k", 1, 1),
    ("attn.v", 1, 1),
    ("attn.proj", 1, 1),
    ("mlp.fc", 1, 4),
    ("mlp.proj", 4, 1),
];

/// N(0, std) by Box–Muller.
fn normal(rng: &mut Rng, n: usize, std: f64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u1 = rng.next_f64().max(1e-300);
            let u2 = rng.next_f64();
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * std) as f32
        })
        .collect()
}

impl Gpt {
    /// A model initialised as nanoGPT's: weights N(0, 0.02), the residual projections
    /// N(0, 0.02/√(2L)), biases 0, LayerNorms γ = 1, β = 0.
    pub fn new(gpu: &Gpu, config: GptConfig, seed: u64) -> Result<Gpt> {
        config.check()?;
        let mut rng = Rng::new(seed);
        let mut params = Parameters::new();
        let c = config.embd;
        let add = |params: &mut Parameters, name: String, shape: &[usize], data: Vec<f32>| {
            params
                .add(&name, Tensor::from_slice(gpu, &data, shape)?)
                .map(drop)
        };
        add(
            &mut params,
            "wte".into(),
            &[config.vocab, c],
            normal(&mut rng, config.vocab * c, 0.02),
        )?;
        add(
            &mut params,
            "wpe".into(),
            &[config.block, c],
            normal(&mut rng, config.block * c, 0.02),
        )?;
        let proj_std = 0.02 / (2.0 * config.layers as f64).sqrt();
        for l in 0..config.layers {
            for ln in ["ln1", "ln2"] {
                add(
                    &mut params,
                    format!("blocks.{l}.{ln}.weight"),
                    &[c],
                    vec![1.0; c],
                )?;
                add(
                    &mut params,
                    format!("blocks.{l}.{ln}.bias"),
                    &[c],
                    vec![0.0; c],
                )?;
            }
            for (name, i, o) in LINEARS {
                let std = if name.ends_with("proj") {
                    proj_std
                } else {
                    0.02
                };
                let (i, o) = (i * c, o * c);
                add(
                    &mut params,
                    format!("blocks.{l}.{name}.weight"),
                    &[i, o],
                    normal(&mut rng, i * o, std),
                )?;
                add(
                    &mut params,
                    format!("blocks.{l}.{name}.bias"),
                    &[o],
                    vec![0.0; o],
                )?;
            }
        }
        add(&mut params, "ln_f.weight".into(), &[c], vec![1.0; c])?;
        add(&mut params, "ln_f.bias".into(), &[c], vec![0.0; c])?;
        Ok(Gpt {
            config,
            params,
            gpu: gpu.clone(),
            seed,
        })
    }

    /// The `Gpu` the model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    fn p(&self, name: &str) -> Result<&Var> {
        self.params.get(name).ok_or_else(|| Error::InvalidArgument {
            op: "Gpt",
            message: format!("the model has no parameter '{name}'"),
        })
    }

    fn linear(&self, x: &Var, name: &str) -> Result<Var> {
        let w = self.p(&format!("{name}.weight"))?;
        let b = self.p(&format!("{name}.bias"))?;
        graph::linear(x, w, Some(b))
    }

    fn norm(&self, x: &Var, name: &str) -> Result<Var> {
        graph::layer_norm(
            x,
            self.p(&format!("{name}.weight"))?,
            self.p(&format!("{name}.bias"))?,
        )
    }

    /// Dropout at site `site` of training step `step`; the identity in evaluation (`None`).
    fn drop(&self, x: &Var, step: Option<u64>, site: u64) -> Result<Var> {
        match step {
            Some(step) if self.config.dropout > 0.0 => {
                graph::dropout(x, self.config.dropout, self.seed ^ (site << 32), step)
            }
            _ => Ok(x.clone()),
        }
    }

    /// `[B·T, C]` → q, k or v `[B, H, T, D]`.
    fn heads(&self, x: &Var, b: usize, t: usize) -> Result<Var> {
        let (h, c) = (self.config.heads, self.config.embd);
        graph::permute(&graph::reshape(x, &[b, t, h, c / h])?, &[0, 2, 1, 3])
    }

    fn block(&self, x: &Var, l: usize, (b, t): (usize, usize), step: Option<u64>) -> Result<Var> {
        let c = self.config.embd;
        let pre = format!("blocks.{l}");
        let h = self.norm(x, &format!("{pre}.ln1"))?;
        let q = self.heads(&self.linear(&h, &format!("{pre}.attn.q"))?, b, t)?;
        let k = self.heads(&self.linear(&h, &format!("{pre}.attn.k"))?, b, t)?;
        let v = self.heads(&self.linear(&h, &format!("{pre}.attn.v"))?, b, t)?;
        let a = graph::attention(&q, (&k, &v), true)?;
        let a = graph::reshape(&graph::permute(&a, &[0, 2, 1, 3])?, &[b * t, c])?;
        let a = self.drop(
            &self.linear(&a, &format!("{pre}.attn.proj"))?,
            step,
            3 * l as u64 + 1,
        )?;
        let x = graph::add(x, &a)?;
        let h = self.norm(&x, &format!("{pre}.ln2"))?;
        let h = graph::gelu(&self.linear(&h, &format!("{pre}.mlp.fc"))?)?;
        let h = self.drop(
            &self.linear(&h, &format!("{pre}.mlp.proj"))?,
            step,
            3 * l as u64 + 2,
        )?;
        graph::add(&x, &h)
    }

    /// Logits `[B·T, V]` for `tokens` (B rows of T ids, row by row; T ≤ block). `step`: the
    /// training step dropout draws its masks for; `None` evaluates (no dropout).
    pub fn forward(
        &self,
        tokens: &Indices,
        (b, t): (usize, usize),
        step: Option<u64>,
    ) -> Result<Var> {
        if t == 0 || t > self.config.block || tokens.len() != b * t {
            return Err(Error::InvalidArgument {
                op: "Gpt::forward",
                message: format!(
                    "{} tokens as {b} rows of {t} (the block is {})",
                    tokens.len(),
                    self.config.block
                ),
            });
        }
        let c = self.config.embd;
        let positions: Vec<u32> = (0..t as u32).collect();
        let pos = graph::embedding(self.p("wpe")?, &Indices::new(&self.gpu, &positions)?)?;
        let tok = graph::reshape(&graph::embedding(self.p("wte")?, tokens)?, &[b, t, c])?;
        let x = graph::reshape(&graph::add(&tok, &pos)?, &[b * t, c])?;
        let mut x = self.drop(&x, step, 0)?;
        for l in 0..self.config.layers {
            x = self.block(&x, l, (b, t), step)?;
        }
        let x = self.norm(&x, "ln_f")?;
        graph::matmul_t(&x, Transpose::No, self.p("wte")?, Transpose::Yes)
    }

    /// The mean cross-entropy of predicting `targets` from `tokens` (`[1]`).
    pub fn loss(
        &self,
        tokens: &Indices,
        targets: &Indices,
        bt: (usize, usize),
        step: Option<u64>,
    ) -> Result<Var> {
        graph::cross_entropy(&self.forward(tokens, bt, step)?, targets)
    }

    /// Whether AdamW decays `name`: matrices and embeddings (nanoGPT's rule: every tensor of
    /// rank ≥ 2), not biases or LayerNorm.
    pub fn decays(name: &str) -> bool {
        !(name.ends_with(".bias") || name.contains("ln"))
    }
}
