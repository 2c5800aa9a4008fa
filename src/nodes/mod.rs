//! Nodes: layers without parameters — [`SoftMax`] (row-wise), [`ReLU`] (element-wise, with
//! the fusion hooks of a Linear + ReLU), and every activation of the table in
//! `ops/activation.rs` as an [`Activation`] (`Sigmoid::new()`, `LeakyReLU::with(0.2)`, …);
//! for images [`MaxPool2d`], [`AvgPool2d`] and [`Flatten`]; and [`Dropout`].

mod activation;
mod dropout;
mod pool;

pub use crate::ops::activation::layers::*;
pub use activation::Activation;
pub use dropout::Dropout;
pub use pool::{AvgPool2d, Flatten, MaxPool2d};

use crate::error::Result;
use crate::layer::{check_grad, saved, Layer};
use crate::ops;
use crate::tensor::Tensor;

/// SoftMax along the last axis: a vector as a whole, a matrix row by row.
#[derive(Debug, Default, Clone)]
pub struct SoftMax {
    /// The last forward output y; backward needs only y.
    y: Option<Tensor>,
}

impl SoftMax {
    /// A SoftMax node (it has no parameters).
    ///
    /// ```no_run
    /// use wgpu_backprop::{nodes::SoftMax, Gpu, Layer, Tensor};
    /// # fn main() -> wgpu_backprop::Result<()> {
    /// let gpu = Gpu::new()?;
    /// let mut sm = SoftMax::new();
    /// let y = sm.forward(&Tensor::from_slice(&gpu, &[0.0, 1.0, 2.0], &[3])?)?;
    /// let dx = sm.backward(&Tensor::from_slice(&gpu, &[1.0, 0.0, 0.0], &[3])?)?;
    /// assert!((y.to_vec()?.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl Layer for SoftMax {
    fn name(&self) -> &'static str {
        "SoftMax"
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }

    // x: (R, C) or [C] → y: same shape, each row sums to 1.
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let y = ops::softmax_forward(x)?;
        self.y = Some(y.clone());
        Ok(y)
    }

    // dx = y ⊙ (dy − ⟨dy, y⟩) per row.
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "SoftMax::backward";
        let y = saved(OP, &self.y)?;
        check_grad(OP, dy, y.shape(), y)?;
        ops::softmax_backward(y, dy)
    }

    // dx = dy · J with J = diag(y) − y·yᵀ per row.
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "SoftMax::backward_jacobian";
        let y = saved(OP, &self.y)?;
        check_grad(OP, dy, y.shape(), y)?;
        ops::vjp(dy, &ops::softmax_jacobian(y)?, y.shape())
    }

    fn jacobian(&self) -> Result<Tensor> {
        ops::softmax_jacobian(saved("SoftMax::jacobian", &self.y)?)
    }
}

/// ReLU element-wise: y = max(x, 0), with ReLU'(0) = 0.
#[derive(Debug, Default, Clone)]
#[allow(clippy::upper_case_acronyms)]
pub struct ReLU {
    /// The last forward input x; the derivative is x > 0.
    x: Option<Tensor>,
}

impl ReLU {
    /// A ReLU node (it has no parameters).
    ///
    /// ```no_run
    /// use wgpu_backprop::{nodes::ReLU, Gpu, Layer, Tensor};
    /// # fn main() -> wgpu_backprop::Result<()> {
    /// let gpu = Gpu::new()?;
    /// let mut relu = ReLU::new();
    /// let y = relu.forward(&Tensor::from_slice(&gpu, &[-1.0, 0.0, 2.0], &[3])?)?;
    /// assert_eq!(y.to_vec()?, vec![0.0, 0.0, 2.0]);
    /// let dx = relu.backward(&Tensor::from_slice(&gpu, &[5.0, 5.0, 5.0], &[3])?)?;
    /// assert_eq!(dx.to_vec()?, vec![0.0, 0.0, 5.0]); // ReLU'(0) = 0
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl Layer for ReLU {
    fn name(&self) -> &'static str {
        "ReLU"
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }

    // x: any shape → y: same shape.
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let y = ops::relu_forward(x)?;
        self.x = Some(x.clone());
        Ok(y)
    }

    // A fused Linear + ReLU hands over y = ReLU(x) instead of x. Everything ReLU's backward
    // and Jacobian read of x is where x > 0, and y > 0 exactly there (y = x > 0, or +0, or
    // NaN where x is NaN, which is not > 0 either), so they come out bit for bit the same.
    fn takes_relu_output(&self) -> bool {
        true
    }

    fn take_relu_output(&mut self, y: &Tensor) {
        self.x = Some(y.clone());
    }

    // dx = dy ⊙ (x > 0).
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "ReLU::backward";
        let x = saved(OP, &self.x)?;
        check_grad(OP, dy, x.shape(), x)?;
        ops::relu_backward(x, dy)
    }

    // dx = dy · diag(x > 0).
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "ReLU::backward_jacobian";
        let x = saved(OP, &self.x)?;
        check_grad(OP, dy, x.shape(), x)?;
        ops::vjp(dy, &ops::relu_jacobian(x)?, x.shape())
    }

    fn jacobian(&self) -> Result<Tensor> {
        ops::relu_jacobian(saved("ReLU::jacobian", &self.x)?)
    }
}
