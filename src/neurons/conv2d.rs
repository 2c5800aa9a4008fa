//! `Conv2d`: y = conv2d(x, W) + b on NCHW images, W [out, in, k, k], b [out] (PyTorch's layout
//! and output size; dilation 1, groups 1). Forward and backward run on the tuned matmul
//! (`ops/conv.rs`); backward stores dL/dW and dL/db. The Jacobian path builds ∂y/∂x
//! explicitly (refused above `ops::MAX_JACOBIAN_ELEMENTS`) for dx; dW and db come from the
//! direct path there too.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::{check_grad, saved, weight_and_bias, weight_and_bias_mut, Layer};
use crate::layer::{Parameter, ParameterMut};
use crate::ops::{self, ConvShape};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// A 2-D convolution with square kernels.
///
/// ```no_run
/// use wgpu_backprop::{neurons::Conv2d, Gpu, Layer, Tensor};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// let mut conv = Conv2d::with_seed(&gpu, 1, 4, 3, 1, 1, 7)?; // 1 → 4 channels, 3×3, pad 1
/// let y = conv.forward(&Tensor::zeros(&gpu, &[2, 1, 8, 8])?)?;
/// assert_eq!(y.shape(), &[2, 4, 8, 8]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Conv2d {
    w: Tensor,
    b: Tensor,
    stride: usize,
    padding: usize,
    x: Option<Tensor>,
    gw: Option<Tensor>,
    gb: Option<Tensor>,
}

impl Conv2d {
    /// Weights and bias drawn uniformly from ±1/√(in·k²) (PyTorch's default), from `seed`.
    pub fn with_seed(
        gpu: &Gpu,
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        seed: u64,
    ) -> Result<Conv2d> {
        let fan_in = in_channels * kernel_size * kernel_size;
        if fan_in == 0 || out_channels == 0 {
            return Err(Error::ZeroSize {
                op: "Conv2d::new",
                shape: vec![out_channels, in_channels, kernel_size, kernel_size],
            });
        }
        let bound = 1.0 / (fan_in as f32).sqrt();
        let mut rng = Rng::new(seed);
        let w: Vec<f32> = (0..out_channels * fan_in)
            .map(|_| rng.uniform(-bound, bound))
            .collect();
        let b: Vec<f32> = (0..out_channels)
            .map(|_| rng.uniform(-bound, bound))
            .collect();
        Self::from_parts(
            gpu,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            &w,
            &b,
        )
    }

    /// [`Conv2d::with_seed`] with a random seed.
    pub fn new(
        gpu: &Gpu,
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Conv2d> {
        let seed = Rng::random_seed();
        Self::with_seed(
            gpu,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            seed,
        )
    }

    /// From given weights (`w` row-major `[out, in, k, k]`) and bias `[out]`.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        gpu: &Gpu,
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        w: &[f32],
        b: &[f32],
    ) -> Result<Conv2d> {
        let shape = [out_channels, in_channels, kernel_size, kernel_size];
        Self::from_parameters(
            Tensor::from_slice(gpu, w, &shape)?,
            Tensor::from_slice(gpu, b, &[out_channels])?,
            stride,
            padding,
        )
    }

    /// From weight and bias tensors (`[out, in, k, k]` and `[out]`).
    pub fn from_parameters(w: Tensor, b: Tensor, stride: usize, padding: usize) -> Result<Conv2d> {
        const OP: &str = "Conv2d::from_parameters";
        let &[out, _, k, k2] = w.shape() else {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: "weights [out, in, k, k]".into(),
                got: w.shape().to_vec(),
            });
        };
        if k != k2 || stride == 0 {
            return Err(Error::InvalidArgument {
                op: OP,
                message: format!(
                    "square kernels and a stride of at least 1 (weights {:?}, stride {stride})",
                    w.shape()
                ),
            });
        }
        b.check_gpu(OP, w.gpu())?;
        ops::expect_shape(OP, &b, &[out])?;
        Ok(Conv2d {
            w,
            b,
            stride,
            padding,
            x: None,
            gw: None,
            gb: None,
        })
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.w.shape()[1]
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.w.shape()[0]
    }

    /// The kernel's side k.
    pub fn kernel_size(&self) -> usize {
        self.w.shape()[2]
    }

    /// (stride, padding).
    pub fn stride_padding(&self) -> (usize, usize) {
        (self.stride, self.padding)
    }

    /// W [out, in, k, k].
    pub fn weight(&self) -> &Tensor {
        &self.w
    }

    /// b `[out]`.
    pub fn bias(&self) -> &Tensor {
        &self.b
    }

    /// dL/dW of the last backward.
    pub fn weight_grad(&self) -> Option<&Tensor> {
        self.gw.as_ref()
    }

    /// dL/db of the last backward.
    pub fn bias_grad(&self) -> Option<&Tensor> {
        self.gb.as_ref()
    }

    /// The geometry for input `x`.
    fn shape_of(&self, op: &'static str, x: &Tensor) -> Result<ConvShape> {
        ConvShape::of(op, x.shape(), self.w.shape(), self.stride, self.padding)
    }

    /// Checks dy against the last forward; returns the saved input.
    fn grad_input(&self, op: &'static str, dy: &Tensor) -> Result<Tensor> {
        let x = saved(op, &self.x)?;
        check_grad(op, dy, &self.shape_of(op, x)?.output(), x)?;
        Ok(x.clone())
    }

    /// Stores dW and db; returns dx when asked for.
    fn store_grads(&mut self, dy: &Tensor, x: &Tensor, want_dx: bool) -> Result<Option<Tensor>> {
        let geometry = (self.stride, self.padding);
        let (dx, dw, db) =
            ops::conv2d_gradients(ops::ConvKernel::Auto, x, &self.w, dy, geometry, want_dx)?;
        self.gw = Some(dw);
        self.gb = Some(db);
        Ok(dx)
    }
}

impl Layer for Conv2d {
    fn name(&self) -> &'static str {
        "Conv2d"
    }

    fn takes_images(&self) -> bool {
        true
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        x.check_gpu("Conv2d::forward", self.w.gpu())?;
        let y = ops::conv2d(x, &self.w, Some(&self.b), self.stride, self.padding)?;
        self.x = Some(x.clone());
        Ok(y)
    }

    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "Conv2d::backward";
        let x = self.grad_input(OP, dy)?;
        self.store_grads(dy, &x, true)?
            .ok_or(Error::BackwardBeforeForward { op: OP })
    }

    fn backward_params(&mut self, dy: &Tensor) -> Result<()> {
        let x = self.grad_input("Conv2d::backward", dy)?;
        self.store_grads(dy, &x, false).map(drop)
    }

    // dx = dy · ∂y/∂x (explicit); dW and db as in `backward`.
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        let x = self.grad_input("Conv2d::backward_jacobian", dy)?;
        let dx = ops::vjp(dy, &self.jacobian()?, x.shape())?;
        self.store_grads(dy, &x, false)?;
        Ok(dx)
    }

    // ∂y/∂x: [N·out·Ho·Wo, N·in·H·W].
    fn jacobian(&self) -> Result<Tensor> {
        let x = saved("Conv2d::jacobian", &self.x)?;
        ops::conv2d_input_jacobian(&self.w, x.shape(), self.stride, self.padding)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        weight_and_bias((&self.w, &self.b), (self.gw.as_ref(), self.gb.as_ref()))
    }

    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        weight_and_bias_mut(
            (&mut self.w, &mut self.b),
            (self.gw.as_ref(), self.gb.as_ref()),
        )
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }

    fn config(&self) -> String {
        format!(
            "conv2d({},{},{},{},{})",
            self.in_channels(),
            self.out_channels(),
            self.kernel_size(),
            self.stride,
            self.padding
        )
    }
}
