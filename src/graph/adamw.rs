//! AdamW over named [`Parameters`] (`shaders/adamw.wgsl`): decoupled weight decay (θ shrinks by
//! lr·wd before the Adam step, PyTorch's `AdamW`), bias-corrected moments, and clipping of
//! the gradients by their global norm (`shaders/grad_norm.wgsl`), computed and applied on the
//! GPU: a step records its dispatches and reads nothing back. State is kept by parameter name.

use std::collections::HashMap;

use crate::checkpoint::NamedTensor;
use crate::error::{Error, Result};
use crate::graph::Parameters;
use crate::kernels::{kernels, uniform, Source, Work, PRELUDE};
use crate::ops::u32_of;
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "adamw",
    &[PRELUDE, include_str!("../../shaders/adamw.wgsl")],
);
static NORM_SOURCE: Source = Source::of(
    "grad_norm",
    &[PRELUDE, include_str!("../../shaders/grad_norm.wgsl")],
);

uniform! {
    /// `adamw.wgsl`: `n` elements and the step's hyperparameters.
    AdamWParams {
        n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32,
        correction1: f32, correction2: f32, weight_decay: f32,
    }
}

uniform! {
    /// `grad_norm.wgsl`: a gradient's elements and its partials' offset; the partials in all
    /// and the clipping norm.
    NormParams { n: u32, offset: u32, count: u32, max_norm: f32 }
}

kernels! {
    /// In place: bindings θ, g, m, v, clip (scale, norm).
    static ADAMW: AdamWParams, () = SOURCE, "adamw", [RW, R, RW, RW, R], [256, 1, 1];
    /// Σ g² per chunk: bindings partials, g.
    static SUMSQ: NormParams, () = NORM_SOURCE, "sumsq", [RW, R], [256, 1, 1];
    /// (scale, norm) from the partials: bindings out, partials.
    static CLIP_SCALE: NormParams, () = NORM_SOURCE, "clip_scale", [RW, R], [1, 1, 1];
}

/// Elements one `sumsq` workgroup sums (`CHUNK` in the shader).
const CHUNK: usize = 4096;

/// The clipping of the last step: `[scale, norm]` on the GPU, read only when asked.
#[derive(Debug, Clone)]
pub struct ClipReport(Tensor);

impl ClipReport {
    /// The global gradient norm before clipping (reads the GPU).
    pub fn norm(&self) -> Result<f32> {
        Ok(self.0.to_vec()?[1])
    }
}

/// AdamW (Loshchilov & Hutter) as PyTorch's, with an optional clip of the global gradient norm.
#[derive(Debug, Clone)]
pub struct AdamW {
    /// Decay of the first moment (0.9).
    pub beta1: f32,
    /// Decay of the second moment (0.99, nanoGPT's).
    pub beta2: f32,
    /// Added to √v̂ (1e-8).
    pub eps: f32,
    /// Decoupled weight decay (0.1), applied to the parameters `decays` says.
    pub weight_decay: f32,
    /// Clip the gradients' global norm to this (1.0); `None`: no clipping.
    pub clip: Option<f32>,
    t: u32,
    state: HashMap<String, (Tensor, Tensor)>,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW {
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
            clip: Some(1.0),
            t: 0,
            state: HashMap::new(),
        }
    }
}

impl AdamW {
    /// Steps taken.
    pub fn steps(&self) -> u32 {
        self.t
    }

    /// One update of every parameter that has a gradient, at learning rate `lr`; `decays(name)`
    /// says which take weight decay (nanoGPT: matrices and embeddings, not biases or norms).
    pub fn step(
        &mut self,
        params: &mut Parameters,
        lr: f32,
        decays: impl Fn(&str) -> bool,
    ) -> Result<ClipReport> {
        const OP: &str = "AdamW::step";
        let with_grad: Vec<(String, Tensor)> = params
            .iter()
            .filter_map(|(n, v)| v.grad().map(|g| (n.to_string(), g)))
            .collect();
        let Some((_, first)) = with_grad.first() else {
            return Err(Error::BackwardBeforeForward { op: OP });
        };
        let gpu = first.gpu().clone();
        let clip = self.clip_scale(&with_grad)?;
        self.t += 1;
        let t = self.t as i32;
        for (name, grad) in &with_grad {
            let var = params
                .get(name)
                .ok_or(Error::BackwardBeforeForward { op: OP })?;
            crate::ops::expect_shape(OP, grad, var.shape())?;
            let (mut m, mut v) = match self.state.remove(name) {
                Some(s) => s,
                None => (
                    Tensor::zeros(&gpu, var.shape())?,
                    Tensor::zeros(&gpu, var.shape())?,
                ),
            };
            m.make_unique(OP)?;
            v.make_unique(OP)?;
            let words = AdamWParams {
                n: u32_of(OP, var.len())?,
                lr,
                beta1: self.beta1,
                beta2: self.beta2,
                eps: self.eps,
                correction1: (1.0 / (1.0 - f64::from(self.beta1).powi(t))) as f32,
                correction2: (1.0 / (1.0 - f64::from(self.beta2).powi(t))) as f32,
                weight_decay: if decays(name) { self.weight_decay } else { 0.0 },
            };
            // In place on the var's own tensor; a snapshot taken before keeps its values.
            var.with_value_mut(|value| -> Result<()> {
                value.make_unique(OP)?;
                let buffers = [
                    value.buffer(),
                    grad.buffer(),
                    m.buffer(),
                    v.buffer(),
                    clip.0.buffer(),
                ];
                ADAMW.launch(&gpu, OP, ((), words), buffers, Work::Items(value.len()))
            })?;
            self.state.insert(name.clone(), (m, v));
        }
        Ok(clip)
    }

    /// `[scale, norm]` on the GPU: the factor that clips the gradients' global norm to
    /// `self.clip` (1 without clipping), and the norm.
    fn clip_scale(&self, grads: &[(String, Tensor)]) -> Result<ClipReport> {
        const OP: &str = "AdamW::clip";
        let gpu = grads[0].1.gpu();
        let max_norm = self.clip.unwrap_or(f32::MAX);
        let count: usize = grads.iter().map(|(_, g)| g.len().div_ceil(CHUNK)).sum();
        let partials = Tensor::empty(gpu, OP, &[count])?;
        let mut offset = 0;
        for (_, g) in grads {
            let chunks = g.len().div_ceil(CHUNK);
            let words = NormParams {
                n: u32_of(OP, g.len())?,
                offset: u32_of(OP, offset)?,
                ..Default::default()
            };
            SUMSQ.launch(
                gpu,
                OP,
                ((), words),
                [partials.buffer(), g.buffer()],
                Work::Groups(chunks),
            )?;
            offset += chunks;
        }
        let out = Tensor::empty(gpu, OP, &[2])?;
        let words = NormParams {
            count: u32_of(OP, count)?,
            max_norm,
            ..Default::default()
        };
        CLIP_SCALE.launch(
            gpu,
            OP,
            ((), words),
            [out.buffer(), partials.buffer()],
            Work::Groups(1),
        )?;
        Ok(ClipReport(out))
    }

    /// The state by name (`m.<name>`, `v.<name>`) and the step count, for checkpoints.
    pub fn state(&self) -> Result<(u32, Vec<NamedTensor>)> {
        let mut out = Vec::new();
        let mut names: Vec<&String> = self.state.keys().collect();
        names.sort();
        for name in names {
            let (m, v) = &self.state[name];
            out.push((format!("m.{name}"), m.shape().to_vec(), m.to_vec()?));
            out.push((format!("v.{name}"), v.shape().to_vec(), v.to_vec()?));
        }
        Ok((self.t, out))
    }

    /// Restores [`AdamW::state`].
    pub fn load_state(&mut self, t: u32, tensors: &HashMap<String, Tensor>) -> Result<()> {
        self.t = t;
        self.state.clear();
        for (key, m) in tensors {
            if let Some(name) = key.strip_prefix("m.") {
                let v = tensors
                    .get(&format!("v.{name}"))
                    .ok_or_else(|| Error::Format {
                        op: "AdamW::load_state",
                        message: format!("'{key}' has no 'v.{name}'"),
                    })?;
                self.state.insert(name.to_string(), (m.clone(), v.clone()));
            }
        }
        Ok(())
    }
}
