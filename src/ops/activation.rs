//! Element-wise activations on one generic kernel (`shaders/elementwise.wgsl`: forward,
//! backward and the diagonal Jacobian over vec4s). An activation is its `f` and `f'` in WGSL
//! (`shaders/activations/<name>.wgsl`) and one entry in the table at the end of this file: its
//! names, its parameter, and its f64 reference, from which come its kernels, its layer
//! ([`crate::nodes::Activation`], and a constructor such as `nodes::Sigmoid::new()`), its
//! config name in saved models and model strings, and its Python class.

use crate::error::{Error, Result};
use crate::kernels::{uniform, Decl, Kernel, Work};
use crate::ops::{expect_shape, same_gpu, u32_of, MAX_JACOBIAN_ELEMENTS};
use crate::reference;
use crate::tensor::Tensor;

/// The generic part every activation's source ends with.
const ELEMENTWISE: &str = include_str!("../../shaders/elementwise.wgsl");

uniform! {
    /// `elementwise.wgsl`: `n` elements; `alpha`, the activation's parameter (if it has one).
    ActivationParams { n: u32, alpha: f32, _pad0: u32, _pad1: u32 }
}

/// An activation's kernel: bindings x, g (backward; unused otherwise), out.
type Elementwise = Decl<ActivationParams, (), 3>;

/// One element-wise activation: its names, its parameter, its f64 reference, its kernels.
#[derive(Debug)]
pub struct ActivationKind {
    /// The name in configs, saved models and model strings, e.g. `"leaky_relu"`.
    pub name: &'static str,
    /// The layer's name, e.g. `"LeakyReLU"`.
    pub layer: &'static str,
    /// The parameter's name and default (LeakyReLU's `slope` 0.01, ELU's `alpha` 1.0), if any.
    pub param: Option<(&'static str, f32)>,
    /// y = f(x; param) in f64: the reference.
    pub f: fn(f64, f64) -> f64,
    /// f'(x; param) in f64: the reference.
    pub df: fn(f64, f64) -> f64,
    /// Forward, backward, Jacobian.
    kernels: [&'static Elementwise; 3],
}

impl ActivationKind {
    /// The activation named `name` in configs (`"sigmoid"`, `"gelu_tanh"`, …), if any.
    pub fn by_name(name: &str) -> Option<&'static ActivationKind> {
        ACTIVATIONS.iter().copied().find(|a| a.name == name)
    }

    /// How far an f32 result may be from the f64 reference at `x`, for a result (or, for a
    /// sum, terms) of magnitude `size`: 16 ulp, times the rounding of an exponent that grows
    /// with |x| (exp's argument carries |x|·2^-24; GELU's grows with x² and x³), plus the flush
    /// of results below the smallest normal float (a floor that grows with what multiplies
    /// them). The tests and the self-check hold every activation to it.
    pub fn tolerance(&self, x: f64, size: f64) -> f64 {
        const U: f64 = 5.96e-8; // 2^-24
        let a = x.abs().min(1e6);
        let growth = if self.name.starts_with("gelu") {
            1.0 + a + a * a + 0.1 * a * a * a
        } else {
            1.0 + a
        };
        let floor = 4.0 * f64::from(f32::MIN_POSITIVE) * (1.0 + a).powi(3);
        floor + 16.0 * U * growth * size
    }

    /// The size of the terms f'(x) is a sum of, for [`ActivationKind::tolerance`]: GELU and
    /// SiLU have a minimum, where f' crosses 0, and a sum's rounding is relative to its terms,
    /// not to the sum; |f'(x)| for the others.
    pub fn derivative_terms(&self, x: f64, param: f64) -> f64 {
        use reference::{gelu_tanh, normal_cdf, normal_pdf, sigmoid, times};
        match self.name {
            "gelu" => normal_cdf(x) + times(x.abs(), normal_pdf(x)),
            "gelu_tanh" => 2.0 * gelu_tanh(x.abs()).1.abs() + sigmoid(x),
            "silu" => sigmoid(x) + times(x.abs(), sigmoid(x) * sigmoid(-x)),
            _ => (self.df)(x, param).abs(),
        }
    }

    /// The forward kernel (for tests that need any one kernel).
    pub(crate) fn forward_kernel(&self) -> &'static Kernel {
        &self.kernels[0].kernel
    }

    /// The parameter to run with: `param`, or the default (0 where there is none).
    fn alpha(&self, param: Option<f32>) -> f32 {
        param.or(self.param.map(|p| p.1)).unwrap_or(0.0)
    }

    fn launch(
        &'static self,
        which: usize,
        op: &'static str,
        x: &Tensor,
        g: &Tensor,
        out: &Tensor,
        alpha: Option<f32>,
    ) -> Result<()> {
        let params = ActivationParams {
            n: u32_of(op, x.len())?,
            alpha: self.alpha(alpha),
            ..Default::default()
        };
        let buffers = [x.buffer(), g.buffer(), out.buffer()];
        let work = if which == 2 {
            Work::Items(out.len().div_ceil(4))
        } else {
            Work::Items(x.len().div_ceil(4))
        };
        self.kernels[which].launch(x.gpu(), op, ((), params), buffers, work)
    }

    /// y = f(x) element-wise, with the parameter `param` (`None`: the default).
    pub fn forward(&'static self, x: &Tensor, param: Option<f32>) -> Result<Tensor> {
        let out = Tensor::empty(x.gpu(), self.layer, x.shape())?;
        self.launch(0, self.layer, x, x, &out, param)?;
        Ok(out)
    }

    /// dL/dx = g · f'(x) element-wise from the forward input `x` and `g` = dL/dy; where
    /// f'(x) = 0 no gradient passes at all (not even NaN).
    pub fn backward(&'static self, x: &Tensor, g: &Tensor, param: Option<f32>) -> Result<Tensor> {
        let op = self.layer;
        same_gpu(op, &[x, g])?;
        expect_shape(op, g, x.shape())?;
        let out = Tensor::empty(x.gpu(), op, x.shape())?;
        self.launch(1, op, x, g, &out, param)?;
        Ok(out)
    }

    /// J = ∂y/∂x = diag(f'(x)), shape [n, n] for n = x.len().
    pub fn jacobian(&'static self, x: &Tensor, param: Option<f32>) -> Result<Tensor> {
        let op = self.layer;
        let n = x.len();
        let total = n.saturating_mul(n);
        if total > MAX_JACOBIAN_ELEMENTS {
            return Err(Error::TooLarge {
                op,
                what: "elements in the explicit Jacobian",
                requested: total as u64,
                limit: MAX_JACOBIAN_ELEMENTS as u64,
            });
        }
        let jac = Tensor::empty(x.gpu(), op, &[n, n])?;
        self.launch(2, op, x, x, &jac, param)?;
        Ok(jac)
    }
}

/// Declares the activations: for each, its source (the prelude, its file, the generic kernel),
/// its three kernels, its [`ActivationKind`] and a constructor type for `nodes`.
macro_rules! activations {
    ($($(#[$doc:meta])* $ty:ident ($module:ident, $layer:literal): $name:literal, $file:literal,
        param: $param:expr, f: $f:expr, df: $df:expr;)*) => {
        $(
            mod $module {
                use super::*;
                use crate::kernels::{kernels, Source, PRELUDE};

                static SOURCE: Source = Source::of(
                    concat!("activation_", $name),
                    &[PRELUDE, include_str!(concat!("../../shaders/activations/", $file)), ELEMENTWISE],
                );

                kernels! {
                    static FORWARD: ActivationParams, () = SOURCE, "forward", [R, R, RW], [256, 1, 1];
                    static BACKWARD: ActivationParams, () = SOURCE, "backward", [R, R, RW], [256, 1, 1];
                    static JACOBIAN: ActivationParams, () = SOURCE, "jacobian", [R, R, RW], [256, 1, 1];
                }

                $(#[$doc])*
                pub(crate) static KIND: ActivationKind = ActivationKind {
                    name: $name,
                    layer: $layer,
                    param: $param,
                    f: $f,
                    df: $df,
                    kernels: [&FORWARD, &BACKWARD, &JACOBIAN],
                };
            }
        )*

        /// Every activation, in the order declared.
        pub static ACTIVATIONS: &[&ActivationKind] = &[$(&$module::KIND),*];

        /// Every activation's kernels, for `ops::inventory`.
        pub(crate) fn kernels() -> Vec<&'static Kernel> {
            [$($module::KERNELS),*].concat()
        }

        /// One constructor per activation: `Sigmoid::new()` is the layer with the default
        /// parameter, `LeakyReLU::with(0.2)` with another.
        pub mod layers {
            $(
                $(#[$doc])*
                #[derive(Debug, Clone, Copy)]
                #[allow(clippy::upper_case_acronyms)]
                pub struct $ty;

                // A namespace for the lab's `Sigmoid::new()`: the layer is an `Activation`.
                #[allow(clippy::new_ret_no_self)]
                impl $ty {
                    /// The layer, with the default parameter (if it has one).
                    pub fn new() -> crate::nodes::Activation {
                        crate::nodes::Activation::new(&super::$module::KIND)
                    }

                    /// The layer with its parameter set to `param`.
                    pub fn with(param: f32) -> crate::nodes::Activation {
                        crate::nodes::Activation::with_param(&super::$module::KIND, param)
                    }
                }
            )*
        }
    };
}

/// ReLU's kind: `ops::relu_forward` and the `ReLU` node run on it.
pub(crate) fn relu() -> &'static ActivationKind {
    &relu::KIND
}

activations! {
    /// ReLU: max(x, 0) (NaN stays NaN), ReLU'(0) = 0. Its layer is `nodes::ReLU`.
    #[doc(hidden)]
    ReLUActivation (relu, "ReLU"): "relu", "relu.wgsl", param: None,
        f: |x, _| if x > 0.0 || x.is_nan() { x } else { 0.0 },
        df: |x, _| if x > 0.0 { 1.0 } else { 0.0 };
    /// Sigmoid: 1 / (1 + e^-x).
    Sigmoid (sigmoid, "Sigmoid"): "sigmoid", "sigmoid.wgsl", param: None,
        f: |x, _| reference::sigmoid(x),
        df: |x, _| reference::sigmoid(x) * reference::sigmoid(-x);
    /// Tanh.
    Tanh (tanh, "Tanh"): "tanh", "tanh.wgsl", param: None,
        f: |x, _| x.tanh(),
        df: |x, _| 1.0 / (x.cosh() * x.cosh());
    /// GELU, exact: x Φ(x).
    GELU (gelu, "GELU"): "gelu", "gelu.wgsl", param: None,
        f: |x, _| reference::times(x, reference::normal_cdf(x)),
        df: |x, _| reference::normal_cdf(x) + reference::times(x, reference::normal_pdf(x));
    /// GELU, tanh approximation (PyTorch's `approximate="tanh"`).
    GELUTanh (gelu_tanh, "GELUTanh"): "gelu_tanh", "gelu_tanh.wgsl", param: None,
        f: |x, _| reference::gelu_tanh(x).0,
        df: |x, _| reference::gelu_tanh(x).1;
    /// SiLU (swish): x σ(x).
    SiLU (silu, "SiLU"): "silu", "silu.wgsl", param: None,
        f: |x, _| reference::times(x, reference::sigmoid(x)),
        df: |x, _| {
            let s = reference::sigmoid(x);
            s + reference::times(x, s * reference::sigmoid(-x))
        };
    /// LeakyReLU(slope): x where x > 0, else slope · x (slope 0.01 by default).
    LeakyReLU (leaky_relu, "LeakyReLU"): "leaky_relu", "leaky_relu.wgsl", param: Some(("slope", 0.01)),
        f: |x, a| if x > 0.0 || x.is_nan() { x } else { a * x },
        df: |x, a| if x > 0.0 { 1.0 } else { a };
    /// ELU(alpha): x where x > 0, else alpha (e^x - 1) (alpha 1 by default).
    ELU (elu, "ELU"): "elu", "elu.wgsl", param: Some(("alpha", 1.0)),
        f: |x, a| if x > 0.0 || x.is_nan() { x } else { a * x.exp_m1() },
        df: |x, a| if x > 0.0 { 1.0 } else { a * x.exp() };
    /// Softplus: log(1 + e^x).
    Softplus (softplus, "Softplus"): "softplus", "softplus.wgsl", param: None,
        f: |x, _| x.max(0.0) + (-x.abs()).exp().ln_1p(),
        df: |x, _| reference::sigmoid(x);
}
