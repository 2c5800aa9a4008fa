//! Optimizers that update parameters in place on the GPU (`shaders/optim.wgsl`): [`Sgd`] with
//! momentum and [`Adam`] with bias correction. Their state (velocities, moments) lives on the
//! GPU too, one tensor per parameter, matched by position.

use crate::error::{Error, Result};
use crate::kernels::{params, Dispatch, Kernel, ADAM, SGD};
use crate::layer::Parameter;
use crate::ops::u32_of;
use crate::tensor::Tensor;

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of every parameter from its gradient (recorded, not waited for). The same
    /// parameters, in the same order, must be passed at every step.
    fn step(&mut self, params: &[Parameter<'_>]) -> Result<()>;
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
    fn step(&mut self, params: &[Parameter<'_>]) -> Result<()> {
        const OP: &str = "Sgd::step";
        ensure_state(OP, &mut self.velocity, params)?;
        let words = [
            0,
            self.lr.to_bits(),
            self.momentum.to_bits(),
            0,
            0,
            0,
            0,
            self.weight_decay.to_bits(),
        ];
        for (p, v) in params.iter().zip(&self.velocity) {
            update(OP, &SGD, p, &[v], words)?;
        }
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
    fn step(&mut self, params: &[Parameter<'_>]) -> Result<()> {
        const OP: &str = "Adam::step";
        ensure_state(OP, &mut self.m, params)?;
        ensure_state(OP, &mut self.v, params)?;
        self.t += 1;
        let t = self.t as i32;
        let c1 = 1.0 / (1.0 - f64::from(self.beta1).powi(t));
        let c2 = 1.0 / (1.0 - f64::from(self.beta2).powi(t));
        let words = [
            0,
            self.lr.to_bits(),
            self.beta1.to_bits(),
            self.beta2.to_bits(),
            self.eps.to_bits(),
            (c1 as f32).to_bits(),
            (c2 as f32).to_bits(),
            self.weight_decay.to_bits(),
        ];
        for ((p, m), v) in params.iter().zip(&self.m).zip(&self.v) {
            update(OP, &ADAM, p, &[m, v], words)?;
        }
        Ok(())
    }
}

/// Creates zeroed state on the first step; afterwards checks that the parameters still match.
fn ensure_state(op: &'static str, state: &mut Vec<Tensor>, params: &[Parameter<'_>]) -> Result<()> {
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

/// Records one in-place update of `p.value` with its gradient and optimizer state.
fn update(
    op: &'static str,
    kernel: &'static Kernel,
    p: &Parameter<'_>,
    state: &[&Tensor],
    mut words: [u32; 8],
) -> Result<()> {
    let grad = p.grad.ok_or(Error::BackwardBeforeForward { op })?;
    grad.check_gpu(op, p.value.gpu())?;
    p.value.check_not_aliased(op, grad)?;
    for s in state {
        p.value.check_not_aliased(op, s)?;
    }
    crate::ops::expect_shape(op, grad, p.value.shape())?;
    let gpu = p.value.gpu();
    words[0] = u32_of(p.value.len());
    let mut buffers = vec![p.value.buffer(), grad.buffer()];
    buffers.extend(state.iter().map(|s| s.buffer()));
    let grid = gpu.grid_1d(op, p.value.len().div_ceil(256) as u64)?;
    gpu.launch(
        op,
        Dispatch {
            kernel,
            spec: 0,
            params: params(&words),
            buffers: &buffers,
            grid,
        },
    )
}
