//! The image nodes: [`MaxPool2d`] and [`AvgPool2d`] (k×k windows, stride s, no padding, on
//! NCHW; `ops/pool.rs`) and [`Flatten`] ([N, C, H, W] → [N, C·H·W], no copy).

use crate::error::{Error, Result};
use crate::layer::{check_grad, saved, Layer};
use crate::ops::{self, Pool, PoolShape};
use crate::tensor::Tensor;

/// What a pooling layer keeps of its last forward.
#[derive(Debug, Clone)]
struct Pooled {
    x: Tensor,
    /// Max pooling: the winners' indices in their windows.
    arg: Option<Tensor>,
}

/// Max or average pooling, as a layer.
#[derive(Debug, Clone)]
struct Pooling {
    kind: Pool,
    k: usize,
    stride: usize,
    last: Option<Pooled>,
}

impl Pooling {
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let (y, arg) = ops::pool2d(self.kind, x, self.k, self.stride)?;
        self.last = Some(Pooled { x: x.clone(), arg });
        Ok(y)
    }

    fn last(&self, op: &'static str) -> Result<&Pooled> {
        self.last
            .as_ref()
            .ok_or(Error::BackwardBeforeForward { op })
    }

    fn checked(&self, op: &'static str, dy: &Tensor) -> Result<&Pooled> {
        let last = self.last(op)?;
        let out = PoolShape::of(op, last.x.shape(), self.k, self.stride)?.output();
        check_grad(op, dy, &out, &last.x)?;
        Ok(last)
    }

    fn backward(&self, op: &'static str, dy: &Tensor) -> Result<Tensor> {
        let last = self.checked(op, dy)?;
        let (k, s) = (self.k, self.stride);
        ops::pool2d_backward(self.kind, last.x.shape(), dy, last.arg.as_ref(), k, s)
    }

    fn jacobian(&self, op: &'static str) -> Result<Tensor> {
        let last = self.last(op)?;
        ops::pool2d_jacobian(self.kind, &last.x, last.arg.as_ref(), self.k, self.stride)
    }

    fn backward_jacobian(&self, op: &'static str, dy: &Tensor) -> Result<Tensor> {
        let last = self.checked(op, dy)?;
        ops::vjp(dy, &self.jacobian(op)?, last.x.shape())
    }
}

macro_rules! pooling_layer {
    ($(#[$doc:meta])* $ty:ident, $kind:expr, $name:literal, $config:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $ty(Pooling);

        impl $ty {
            /// k×k windows every `stride` (no padding).
            pub fn new(kernel_size: usize, stride: usize) -> Self {
                $ty(Pooling {
                    kind: $kind,
                    k: kernel_size,
                    stride,
                    last: None,
                })
            }

            /// (kernel size, stride).
            pub fn window(&self) -> (usize, usize) {
                (self.0.k, self.0.stride)
            }
        }

        impl Layer for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            fn takes_images(&self) -> bool {
                true
            }

            fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
                self.0.forward(x)
            }

            fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
                self.0.backward(concat!($name, "::backward"), dy)
            }

            fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
                self.0.backward_jacobian(concat!($name, "::backward_jacobian"), dy)
            }

            fn jacobian(&self) -> Result<Tensor> {
                self.0.jacobian(concat!($name, "::jacobian"))
            }

            fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
                Some(Box::new(self.clone()))
            }

            fn config(&self) -> String {
                format!(concat!($config, "({},{})"), self.0.k, self.0.stride)
            }
        }
    };
}

pooling_layer!(
    /// Max pooling: each window's maximum (NaN if the window holds one); the gradient goes to
    /// the first maximum of each window in row-major order.
    ///
    /// ```no_run
    /// use wgpu_backprop::{nodes::MaxPool2d, Gpu, Layer, Tensor};
    /// # fn main() -> wgpu_backprop::Result<()> {
    /// let gpu = Gpu::new()?;
    /// let x = Tensor::from_slice(&gpu, &[1.0, 5.0, 3.0, 2.0], &[1, 1, 2, 2])?;
    /// assert_eq!(MaxPool2d::new(2, 2).forward(&x)?.to_vec()?, vec![5.0]);
    /// # Ok(()) }
    /// ```
    MaxPool2d, Pool::Max, "MaxPool2d", "maxpool2d"
);

pooling_layer!(
    /// Average pooling: each window's mean; the gradient spreads evenly over the window.
    AvgPool2d, Pool::Avg, "AvgPool2d", "avgpool2d"
);

/// [N, C, H, W] (or any rank ≥ 2) → [N, C·H·W]; the gradient is reshaped back. No copy.
#[derive(Debug, Clone, Default)]
pub struct Flatten {
    x: Option<Tensor>,
}

impl Flatten {
    /// A Flatten node.
    pub fn new() -> Self {
        Self::default()
    }

    /// [N, rest…] → [N, Π rest].
    fn flat(shape: &[usize]) -> [usize; 2] {
        [shape[0], shape[1..].iter().product()]
    }
}

impl Layer for Flatten {
    fn name(&self) -> &'static str {
        "Flatten"
    }

    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        if x.shape().len() < 2 {
            return Err(Error::ShapeMismatch {
                op: "Flatten::forward",
                expected: "an input [N, ...] of rank 2 or more".into(),
                got: x.shape().to_vec(),
            });
        }
        let y = x.reshape(&Self::flat(x.shape()))?;
        self.x = Some(x.clone());
        Ok(y)
    }

    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "Flatten::backward";
        let x = saved(OP, &self.x)?;
        check_grad(OP, dy, &Self::flat(x.shape()), x)?;
        dy.reshape(x.shape())
    }

    // dx = dy · I.
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        const OP: &str = "Flatten::backward_jacobian";
        let x = saved(OP, &self.x)?;
        check_grad(OP, dy, &Self::flat(x.shape()), x)?;
        ops::vjp(dy, &self.jacobian()?, x.shape())
    }

    // The identity [n, n] for n input elements.
    fn jacobian(&self) -> Result<Tensor> {
        ops::identity_jacobian(saved("Flatten::jacobian", &self.x)?)
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }
}
