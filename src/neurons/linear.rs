//! `Linear`: Y = X·W + b with W (in, out) and b [out]. A vector input is one row (1 × in) and
//! its results come back as vectors. Backward stores dL/dW and dL/db.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::{check_grad, saved, weight_and_bias, weight_and_bias_mut, Layer};
use crate::layer::{Parameter, ParameterMut};
use crate::ops::{self, Transpose};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// A fully connected layer.
///
/// ```no_run
/// use wgpu_backprop::{neurons::Linear, Gpu, Layer, Tensor};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// let mut lin = Linear::from_parts(&gpu, 2, 1, &[1.0, 2.0], &[0.5])?; // W (2, 1), b [1]
/// let y = lin.forward(&Tensor::from_slice(&gpu, &[3.0, 4.0], &[2])?)?; // a vector is one row
/// assert_eq!(y.to_vec()?, vec![11.5]);
/// lin.backward(&Tensor::from_slice(&gpu, &[1.0], &[1])?)?;
/// assert_eq!(lin.weight_grad().map(|g| g.to_vec()).transpose()?, Some(vec![3.0, 4.0]));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Linear {
    w: Tensor,
    b: Tensor,
    /// The last input as a matrix (B, K).
    x: Option<Tensor>,
    /// The shape the last input came in (`[K]` or `[B, K]`).
    x_shape: Vec<usize>,
    gw: Option<Tensor>,
    gb: Option<Tensor>,
    /// The matmul kernel of all three products (`Auto` unless set).
    kernel: ops::MatmulKernel,
}

impl Linear {
    /// A layer with random weights and biases, U(−1/√in, 1/√in) as PyTorch initialises them.
    pub fn new(gpu: &Gpu, in_features: usize, out_features: usize) -> Result<Linear> {
        Self::with_seed(gpu, in_features, out_features, Rng::random_seed())
    }

    /// Like [`Linear::new`] with a seed, for reproducible weights.
    pub fn with_seed(
        gpu: &Gpu,
        in_features: usize,
        out_features: usize,
        seed: u64,
    ) -> Result<Linear> {
        const OP: &str = "Linear::new";
        if in_features == 0 || out_features == 0 {
            return Err(Error::ZeroSize {
                op: OP,
                shape: vec![in_features, out_features],
            });
        }
        let bound = 1.0 / (in_features as f32).sqrt();
        let mut rng = Rng::new(seed);
        let w: Vec<f32> = (0..in_features * out_features)
            .map(|_| rng.uniform(-bound, bound))
            .collect();
        let b: Vec<f32> = (0..out_features)
            .map(|_| rng.uniform(-bound, bound))
            .collect();
        Self::from_parameters(
            Tensor::from_slice(gpu, &w, &[in_features, out_features])?,
            Tensor::from_slice(gpu, &b, &[out_features])?,
        )
    }

    /// A layer from host data: `w` holds W (in, out) row-major, `b` the `out` biases.
    pub fn from_parts(
        gpu: &Gpu,
        in_features: usize,
        out_features: usize,
        w: &[f32],
        b: &[f32],
    ) -> Result<Linear> {
        Self::from_parameters(
            Tensor::from_slice(gpu, w, &[in_features, out_features])?,
            Tensor::from_slice(gpu, b, &[out_features])?,
        )
    }

    /// A layer with the given weights W (in, out) and biases b `[out]`, already on the GPU.
    pub fn from_parameters(w: Tensor, b: Tensor) -> Result<Linear> {
        const OP: &str = "Linear::from_parameters";
        let [_, n] = w.shape()[..] else {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: "weights [in, out]".into(),
                got: w.shape().to_vec(),
            });
        };
        b.check_gpu(OP, w.gpu())?;
        ops::expect_shape(OP, &b, &[n])?;
        Ok(Linear {
            w,
            b,
            x: None,
            x_shape: Vec::new(),
            gw: None,
            gb: None,
            kernel: ops::MatmulKernel::Auto,
        })
    }

    /// Replaces W (in, out) and b `[out]` with tensors of the same shapes on the same GPU. The
    /// saved input and the last gradients stay: dL/dW and dL/db do not depend on W.
    pub fn set_parameters(&mut self, w: Tensor, b: Tensor) -> Result<()> {
        const OP: &str = "Linear::set_parameters";
        w.check_gpu(OP, self.w.gpu())?;
        b.check_gpu(OP, self.w.gpu())?;
        ops::expect_shape(OP, &w, self.w.shape())?;
        ops::expect_shape(OP, &b, self.b.shape())?;
        self.w = w;
        self.b = b;
        Ok(())
    }

    /// Inputs per row (W's rows).
    pub fn in_features(&self) -> usize {
        self.w.shape()[0]
    }

    /// Outputs per row (W's columns).
    pub fn out_features(&self) -> usize {
        self.w.shape()[1]
    }

    /// W, shape (in, out).
    pub fn weight(&self) -> &Tensor {
        &self.w
    }

    /// b, shape `[out]`.
    pub fn bias(&self) -> &Tensor {
        &self.b
    }

    /// dL/dW of the last backward, shape (in, out).
    pub fn weight_grad(&self) -> Option<&Tensor> {
        self.gw.as_ref()
    }

    /// dL/db of the last backward, shape `[out]`.
    pub fn bias_grad(&self) -> Option<&Tensor> {
        self.gb.as_ref()
    }

    /// ∂Y/∂W of the last forward, [B·out, in·out].
    pub fn weight_jacobian(&self) -> Result<Tensor> {
        let x = saved("Linear::weight_jacobian", &self.x)?;
        ops::linear_weight_jacobian(x, self.out_features())
    }

    /// ∂Y/∂b of the last forward, [B·out, out].
    pub fn bias_jacobian(&self) -> Result<Tensor> {
        let x = saved("Linear::bias_jacobian", &self.x)?;
        ops::linear_bias_jacobian(&self.w, x.rows_cols().0)
    }

    /// The forward output's shape for the saved input: `[out]` or `[B, out]`.
    fn out_shape(&self) -> Vec<usize> {
        match self.x_shape[..] {
            [b, _] => vec![b, self.out_features()],
            _ => vec![self.out_features()],
        }
    }

    /// The saved input (B, K) and dy as a matrix (B, N), after checking dy.
    fn grad_inputs(&self, op: &'static str, dy: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = saved(op, &self.x)?;
        check_grad(op, dy, &self.out_shape(), x)?;
        let dy2 = dy.reshape(&[x.rows_cols().0, self.out_features()])?;
        Ok((x.clone(), dy2))
    }
}

impl Linear {
    /// Runs this layer's three products (Y, dX, dW) on `kernel` instead of the autotuned
    /// choice: for comparing kernels inside a model.
    pub fn set_kernel(&mut self, kernel: ops::MatmulKernel) {
        self.kernel = kernel;
    }

    /// Y = X·W + b, then ReLU when `relu` (fused into the matmul where the kernel can).
    fn forward_with(&mut self, x: &Tensor, relu: bool) -> Result<Tensor> {
        const OP: &str = "Linear::forward";
        x.check_gpu(OP, self.w.gpu())?;
        let k = self.in_features();
        let x2 = match x.shape() {
            [n] if *n == k => x.reshape(&[1, k])?,
            [_, n] if *n == k => x.clone(),
            s => {
                return Err(Error::ShapeMismatch {
                    op: OP,
                    expected: format!("[{k}] or [batch, {k}]"),
                    got: s.to_vec(),
                })
            }
        };
        let product = if relu {
            ops::gemm_relu_with
        } else {
            ops::gemm_with
        };
        let (no, w) = (Transpose::No, &self.w);
        let y = product(self.kernel, (&x2, no), (w, no), Some(&self.b))?;
        self.x = Some(x2);
        self.x_shape = x.shape().to_vec();
        y.reshape(&self.out_shape())
    }
}

impl Layer for Linear {
    fn name(&self) -> &'static str {
        "Linear"
    }

    // X: (B, K) or [K], W: (K, N), b: [N] → Y: (B, N) or [N].
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        self.forward_with(x, false)
    }

    // ReLU(X·W + b), the ReLU in the matmul's epilogue.
    fn forward_relu(&mut self, x: &Tensor) -> Result<Option<Tensor>> {
        self.forward_with(x, true).map(Some)
    }

    // dX = dY·Wᵀ (B, K); dW = Xᵀ·dY (K, N); db = Σ_rows dY [N].
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        let (x, dy2) = self.grad_inputs("Linear::backward", dy)?;
        let (no, yes) = (Transpose::No, Transpose::Yes);
        let dx = ops::gemm_with(self.kernel, (&dy2, no), (&self.w, yes), None)?;
        self.gw = Some(ops::gemm_with(self.kernel, (&x, yes), (&dy2, no), None)?);
        self.gb = Some(ops::column_sum(&dy2)?);
        dx.reshape(&self.x_shape)
    }

    // dX = dy·∂Y/∂X, dW = dy·∂Y/∂W, db = dy·∂Y/∂b with dy flattened to one row.
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        let (x, _) = self.grad_inputs("Linear::backward_jacobian", dy)?;
        let (k, n) = (self.in_features(), self.out_features());
        let dx = ops::vjp(dy, &self.jacobian()?, &self.x_shape)?;
        self.gw = Some(ops::vjp(dy, &ops::linear_weight_jacobian(&x, n)?, &[k, n])?);
        self.gb = Some(ops::vjp(dy, &self.bias_jacobian()?, &[n])?);
        Ok(dx)
    }

    // ∂Y/∂X: [B·N, B·K].
    fn jacobian(&self) -> Result<Tensor> {
        let x = saved("Linear::jacobian", &self.x)?;
        ops::linear_input_jacobian(&self.w, x.rows_cols().0)
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
        format!("linear({},{})", self.in_features(), self.out_features())
    }
}
