//! [`Dropout`]: in training, each element is zeroed with probability p and the rest scaled by
//! 1/(1 − p); in evaluation, the identity. The mask is a hash of (seed, step, element)
//! (`ops/dropout.rs`): `fit` sets the step to the optimizer step it is on, so a checkpointed
//! run resumes with the same masks, bit for bit; outside `fit` each training forward moves to
//! the next step.

use crate::error::Result;
use crate::layer::{check_grad, Layer};
use crate::ops;
use crate::tensor::Tensor;

/// Dropout with drop probability `p` in [0, 1).
///
/// ```no_run
/// use wgpu_backprop::{nodes::Dropout, Gpu, Layer, Tensor};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// let mut drop = Dropout::new(0.5, 7)?;
/// let x = Tensor::from_slice(&gpu, &[1.0; 1000], &[1000])?;
/// let kept = drop.forward(&x)?.to_vec()?.iter().filter(|&&v| v == 2.0).count();
/// assert!((400..600).contains(&kept));
/// drop.set_training(false);
/// assert_eq!(drop.forward(&x)?.to_vec()?, vec![1.0; 1000]); // evaluation: the identity
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    p: f32,
    seed: u64,
    training: bool,
    /// The step the next training forward draws its mask for.
    step: u64,
    /// The last forward's input, and the step whose mask it used (`None`: evaluation).
    last: Option<(Tensor, Option<u64>)>,
}

impl Dropout {
    /// Drops with probability `p` (in [0, 1), else `Err`), masks drawn from `seed`; in
    /// training mode.
    pub fn new(p: f32, seed: u64) -> Result<Dropout> {
        ops::check_dropout_p("Dropout::new", p)?;
        Ok(Dropout {
            p,
            seed,
            training: true,
            step: 0,
            last: None,
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f32 {
        self.p
    }

    /// The seed of the masks.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether the layer is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    fn saved(&self, op: &'static str) -> Result<&(Tensor, Option<u64>)> {
        self.last
            .as_ref()
            .ok_or(crate::Error::BackwardBeforeForward { op })
    }
}

impl Layer for Dropout {
    fn name(&self) -> &'static str {
        "Dropout"
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        if !self.training {
            self.last = Some((x.clone(), None));
            return Ok(x.clone());
        }
        let y = ops::dropout(x, self.p, self.seed, self.step)?;
        self.last = Some((x.clone(), Some(self.step)));
        self.step += 1;
        Ok(y)
    }

    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "Dropout::backward";
        let (x, step) = self.saved(OP)?;
        check_grad(OP, dy, x.shape(), x)?;
        match step {
            Some(step) => ops::dropout(dy, self.p, self.seed, *step),
            None => Ok(dy.clone()),
        }
    }

    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "Dropout::backward_jacobian";
        let (x, _) = self.saved(OP)?;
        check_grad(OP, dy, x.shape(), x)?;
        let shape = x.shape().to_vec();
        ops::vjp(dy, &self.jacobian()?, &shape)
    }

    fn jacobian(&self) -> Result<Tensor> {
        let (x, step) = self.saved("Dropout::jacobian")?;
        match step {
            Some(step) => ops::dropout_jacobian(x, self.p, self.seed, *step),
            None => ops::identity_jacobian(x),
        }
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn set_step(&mut self, step: u64) {
        self.step = step;
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }

    fn config(&self) -> String {
        format!("dropout({},{})", self.p, self.seed)
    }
}
