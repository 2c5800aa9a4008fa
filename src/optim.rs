//! Optimizers that update parameters in place on the GPU (`shaders/optim.wgsl`): [`Sgd`] with
//! momentum and [`Adam`] with bias correction. Their state (velocities, moments) lives on the
//! GPU too, one tensor per parameter, matched by position.

use crate::checkpoint::{NamedTensor, OptimizerState};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::kernels::{kernels, uniform, Decl, Source, Work, PRELUDE};
use crate::layer::ParameterMut;
use crate::ops::u32_of;
use crate::tensor::Tensor;

static SOURCE: Source = Source::of("optim", &[PRELUDE, include_str!("../shaders/optim.wgsl")]);

uniform! {
    /// `optim.wgsl`: `n` elements; the optimizer's hyperparameters (SGD: `beta1` = momentum).
    OptimParams {
        n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32,
        correction1: f32, correction2: f32, weight_decay: f32,
    }
}

kernels! {
    /// In-place SGD with momentum: bindings θ, g, v.
    static SGD: OptimParams, () = SOURCE, "sgd", [RW, R, RW], [256, 1, 1];
    /// In-place Adam: bindings θ, g, m, v.
    static ADAM: OptimParams, () = SOURCE, "adam", [RW, R, RW, RW], [256, 1, 1];
    /// acc += x: bindings acc, x (`ops::add_assign`).
    pub(crate) static ACCUMULATE: OptimParams, () = SOURCE, "accumulate", [RW, R], [256, 1, 1];
}

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of every parameter from its gradient (recorded, not waited for), in place:
    /// a parameter whose buffer a clone shares is copied first, so clones keep their values.
    /// The same parameters, in the same order, must be passed at every step
    /// (`opt.step(&mut model.parameters_mut())`).
    fn step(&mut self, params: &mut [ParameterMut<'_>]) -> Result<()>;

    /// The whole state (hyperparameters, step count, state tensors read back from the GPU),
    /// for a checkpoint. The default: `Err`, this optimizer cannot be checkpointed.
    fn state(&self) -> Result<OptimizerState> {
        Err(Error::InvalidArgument {
            op: "Optimizer::state",
            message: "this optimizer does not implement checkpoints".into(),
        })
    }

    /// Restores a state from [`Optimizer::state`] (of the same kind of optimizer).
    fn load_state(&mut self, gpu: &Gpu, state: &OptimizerState) -> Result<()> {
        let _ = (gpu, state);
        Err(Error::InvalidArgument {
            op: "Optimizer::load_state",
            message: "this optimizer does not implement checkpoints".into(),
        })
    }
}

/// Stochastic gradient descent with momentum (PyTorch's rule, no dampening):
/// v = μ·v + g;  θ −= lr·v.
#[derive(Debug, Clone)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
    /// μ; 0 is plain SGD.
    pub momentum: f32,
    /// L2 penalty added to the gradient (g + wd·θ); 0 by default.
    pub weight_decay: f32,
    velocity: Vec<Tensor>,
}

impl Sgd {
    /// SGD with learning rate `lr` and momentum μ, no weight decay.
    pub fn new(lr: f32, momentum: f32) -> Self {
        Sgd {
            lr,
            momentum,
            weight_decay: 0.0,
            velocity: Vec::new(),
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [ParameterMut<'_>]) -> Result<()> {
        const OP: &str = "Sgd::step";
        ensure_state(OP, &mut self.velocity, params)?;
        let words = OptimParams {
            lr: self.lr,
            beta1: self.momentum,
            weight_decay: self.weight_decay,
            ..OptimParams::default()
        };
        for (p, v) in params.iter_mut().zip(&mut self.velocity) {
            update(OP, &SGD, p, [v], words)?;
        }
        Ok(())
    }

    fn state(&self) -> Result<OptimizerState> {
        Ok(OptimizerState {
            kind: "sgd".into(),
            scalars: scalars(&[
                ("lr", self.lr),
                ("momentum", self.momentum),
                ("weight_decay", self.weight_decay),
            ]),
            tensors: named("velocity", &self.velocity)?,
        })
    }

    fn load_state(&mut self, gpu: &Gpu, state: &OptimizerState) -> Result<()> {
        const OP: &str = "Sgd::load_state";
        expect_kind(OP, state, "sgd")?;
        self.lr = state.scalar(OP, "lr")? as f32;
        self.momentum = state.scalar(OP, "momentum")? as f32;
        self.weight_decay = state.scalar(OP, "weight_decay")? as f32;
        self.velocity = unnamed(gpu, state, "velocity")?;
        Ok(())
    }
}

/// Adam (Kingma & Ba), bias-corrected as in PyTorch:
/// m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  θ −= lr·m̂ / (√v̂ + ε).
#[derive(Debug, Clone)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first moment (0.9).
    pub beta1: f32,
    /// Decay of the second moment (0.999).
    pub beta2: f32,
    /// Added to √v̂ (1e-8).
    pub eps: f32,
    /// L2 penalty added to the gradient (g + wd·θ); 0 by default.
    pub weight_decay: f32,
    t: u32,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl Adam {
    /// Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8.
    pub fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.t
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [ParameterMut<'_>]) -> Result<()> {
        const OP: &str = "Adam::step";
        ensure_state(OP, &mut self.m, params)?;
        ensure_state(OP, &mut self.v, params)?;
        self.t += 1;
        let t = self.t as i32;
        let c1 = 1.0 / (1.0 - f64::from(self.beta1).powi(t));
        let c2 = 1.0 / (1.0 - f64::from(self.beta2).powi(t));
        let words = OptimParams {
            n: 0,
            lr: self.lr,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            correction1: c1 as f32,
            correction2: c2 as f32,
            weight_decay: self.weight_decay,
        };
        for ((p, m), v) in params.iter_mut().zip(&mut self.m).zip(&mut self.v) {
            update(OP, &ADAM, p, [m, v], words)?;
        }
        Ok(())
    }

    fn state(&self) -> Result<OptimizerState> {
        let mut state = OptimizerState {
            kind: "adam".into(),
            scalars: scalars(&[
                ("lr", self.lr),
                ("beta1", self.beta1),
                ("beta2", self.beta2),
                ("eps", self.eps),
                ("weight_decay", self.weight_decay),
            ]),
            tensors: named("m", &self.m)?,
        };
        state.scalars.push(("t".into(), f64::from(self.t)));
        state.tensors.extend(named("v", &self.v)?);
        Ok(state)
    }

    fn load_state(&mut self, gpu: &Gpu, state: &OptimizerState) -> Result<()> {
        const OP: &str = "Adam::load_state";
        expect_kind(OP, state, "adam")?;
        let f = |name| state.scalar(OP, name).map(|v| v as f32);
        (self.lr, self.beta1, self.beta2) = (f("lr")?, f("beta1")?, f("beta2")?);
        (self.eps, self.weight_decay) = (f("eps")?, f("weight_decay")?);
        self.t = state.scalar(OP, "t")? as u32;
        (self.m, self.v) = (unnamed(gpu, state, "m")?, unnamed(gpu, state, "v")?);
        if self.m.len() != self.v.len() {
            return Err(Error::Format {
                op: OP,
                message: format!("{} first moments but {} second", self.m.len(), self.v.len()),
            });
        }
        Ok(())
    }
}

/// f32 hyperparameters as exact f64 scalars.
fn scalars(values: &[(&str, f32)]) -> Vec<(String, f64)> {
    values
        .iter()
        .map(|&(n, v)| (n.to_string(), f64::from(v)))
        .collect()
}

/// State tensors read back as `prefix.0`, `prefix.1`, … (zero-padded so names sort in order).
fn named(prefix: &str, tensors: &[Tensor]) -> Result<Vec<NamedTensor>> {
    tensors
        .iter()
        .enumerate()
        .map(|(i, t)| Ok((format!("{prefix}.{i:04}"), t.shape().to_vec(), t.to_vec()?)))
        .collect()
}

/// The tensors `prefix.*` of `state`, uploaded, in order.
fn unnamed(gpu: &Gpu, state: &OptimizerState, prefix: &str) -> Result<Vec<Tensor>> {
    let mut found: Vec<&NamedTensor> = state
        .tensors
        .iter()
        .filter(|(n, _, _)| n.strip_prefix(prefix).is_some_and(|r| r.starts_with('.')))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
        .into_iter()
        .map(|(_, shape, values)| Tensor::from_slice(gpu, values, shape))
        .collect()
}

fn expect_kind(op: &'static str, state: &OptimizerState, kind: &str) -> Result<()> {
    if state.kind == kind {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        op,
        message: format!("the saved state is of a '{}' optimizer", state.kind),
    })
}

/// Creates zeroed state on the first step; afterwards checks that the parameters still match.
fn ensure_state(
    op: &'static str,
    state: &mut Vec<Tensor>,
    params: &[ParameterMut<'_>],
) -> Result<()> {
    if state.is_empty() {
        for p in params {
            state.push(Tensor::zeros(p.value.gpu(), p.value.shape())?);
        }
    }
    let same = state.len() == params.len()
        && state
            .iter()
            .zip(params)
            .all(|(s, p)| s.shape() == p.value.shape());
    if !same {
        return Err(Error::InvalidArgument {
            op,
            message: "the parameters differ from those of the first step".into(),
        });
    }
    Ok(())
}

/// Records one in-place update of `p.value` with its gradient and optimizer state (each made
/// the sole owner of its buffer first); `kernel` binds the value, the gradient and the `S`
/// state tensors (`N` = 2 + `S`).
fn update<const S: usize, const N: usize>(
    op: &'static str,
    kernel: &'static Decl<OptimParams, (), N>,
    p: &mut ParameterMut<'_>,
    mut state: [&mut Tensor; S],
    mut words: OptimParams,
) -> Result<()> {
    let grad = p.grad.ok_or(Error::BackwardBeforeForward { op })?;
    grad.check_gpu(op, p.value.gpu())?;
    crate::ops::expect_shape(op, grad, p.value.shape())?;
    p.value.make_unique(op)?; // the gradient may be a view of the value: it keeps the old one
    for s in state.iter_mut() {
        s.make_unique(op)?;
    }
    words.n = u32_of(op, p.value.len())?;
    let mut buffers = vec![p.value.buffer(), grad.buffer()];
    buffers.extend(state.iter().map(|s| s.buffer()));
    let buffers: [&wgpu::Buffer; N] = buffers.try_into().map_err(|_| Error::InvalidArgument {
        op,
        message: format!(
            "kernel {} binds {N} tensors, not 2 + {S}",
            kernel.kernel.entry
        ),
    })?;
    let work = Work::Items(p.value.len());
    kernel.launch(p.value.gpu(), op, ((), words), buffers, work)
}
