//! `LayerNorm`: normalisation over the last dimension with learnable γ (ones) and β (zeros),
//! ε = 1e-5 as in PyTorch (`ops/layernorm.rs`). Trainable, so a neuron in the lab's terms;
//! backward stores dL/dγ and dL/dβ.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::{check_grad, weight_and_bias, weight_and_bias_mut, Layer};
use crate::layer::{Parameter, ParameterMut};
use crate::ops;
use crate::tensor::Tensor;

/// LayerNorm over `features` (the input's last dimension; any rank).
///
/// ```no_run
/// use wgpu_backprop::{neurons::LayerNorm, Gpu, Layer, Tensor};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// let mut norm = LayerNorm::new(&gpu, 4)?;
/// let y = norm.forward(&Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[1, 4])?)?;
/// assert!(y.to_vec()?.iter().sum::<f32>().abs() < 1e-5); // mean 0
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LayerNorm {
    gamma: Tensor,
    beta: Tensor,
    /// The last forward's input and its per-row statistics.
    last: Option<(Tensor, Tensor)>,
    grads: Option<(Tensor, Tensor)>,
}

impl LayerNorm {
    /// γ = 1, β = 0 over `features`.
    pub fn new(gpu: &Gpu, features: usize) -> Result<LayerNorm> {
        if features == 0 {
            return Err(Error::ZeroSize {
                op: "LayerNorm::new",
                shape: vec![features],
            });
        }
        Self::from_parameters(
            Tensor::from_slice(gpu, &vec![1.0; features], &[features])?,
            Tensor::zeros(gpu, &[features])?,
        )
    }

    /// From γ and β, both `[features]`.
    pub fn from_parameters(gamma: Tensor, beta: Tensor) -> Result<LayerNorm> {
        const OP: &str = "LayerNorm::from_parameters";
        let [n] = gamma.shape()[..] else {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: "γ [features]".into(),
                got: gamma.shape().to_vec(),
            });
        };
        beta.check_gpu(OP, gamma.gpu())?;
        ops::expect_shape(OP, &beta, &[n])?;
        Ok(LayerNorm {
            gamma,
            beta,
            last: None,
            grads: None,
        })
    }

    /// The number of features.
    pub fn features(&self) -> usize {
        self.gamma.len()
    }

    /// γ.
    pub fn weight(&self) -> &Tensor {
        &self.gamma
    }

    /// β.
    pub fn bias(&self) -> &Tensor {
        &self.beta
    }

    fn saved(&self, op: &'static str) -> Result<&(Tensor, Tensor)> {
        self.last
            .as_ref()
            .ok_or(Error::BackwardBeforeForward { op })
    }
}

impl Layer for LayerNorm {
    fn name(&self) -> &'static str {
        "LayerNorm"
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let (y, stats) = ops::layer_norm(x, &self.gamma, &self.beta)?;
        self.last = Some((x.clone(), stats));
        Ok(y)
    }

    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "LayerNorm::backward";
        let (x, stats) = self.saved(OP)?;
        check_grad(OP, dy, x.shape(), x)?;
        let (dx, dg, db) = ops::layer_norm_backward(x, &self.gamma, dy, stats)?;
        self.grads = Some((dg, db));
        Ok(dx)
    }

    // dx = dy · J; dγ and dβ as in `backward`.
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "LayerNorm::backward_jacobian";
        let (x, stats) = self.saved(OP)?.clone();
        check_grad(OP, dy, x.shape(), &x)?;
        let dx = ops::vjp(dy, &self.jacobian()?, x.shape())?;
        let (_, dg, db) = ops::layer_norm_backward(&x, &self.gamma, dy, &stats)?;
        self.grads = Some((dg, db));
        Ok(dx)
    }

    fn jacobian(&self) -> Result<Tensor> {
        let (x, stats) = self.saved("LayerNorm::jacobian")?;
        ops::layer_norm_jacobian(x, &self.gamma, stats)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        let grads = self.grads.as_ref().map(|(g, b)| (g, b)).unzip();
        weight_and_bias((&self.gamma, &self.beta), grads)
    }

    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        let grads = self.grads.as_ref().map(|(g, b)| (g, b)).unzip();
        weight_and_bias_mut((&mut self.gamma, &mut self.beta), grads)
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }

    fn config(&self) -> String {
        format!("layernorm({})", self.features())
    }
}
