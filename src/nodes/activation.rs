//! [`Activation`]: the layer of any element-wise activation of the table in
//! `ops/activation.rs` (Sigmoid, Tanh, GELU, SiLU, LeakyReLU, ELU, Softplus, …), forward,
//! backward and the Jacobian path, with its parameter. `nodes::Sigmoid::new()` and the like
//! make one.

use crate::error::{Error, Result};
use crate::layer::{check_grad, saved, Layer};
use crate::ops::{self, ActivationKind};
use crate::tensor::Tensor;

/// An element-wise activation layer: y = f(x), dL/dx = dL/dy · f'(x), J = diag(f'(x)).
#[derive(Debug, Clone)]
pub struct Activation {
    kind: &'static ActivationKind,
    /// The parameter (LeakyReLU's slope, ELU's alpha); `None`: the default.
    param: Option<f32>,
    /// The last forward input.
    x: Option<Tensor>,
}

impl Activation {
    /// The layer of `kind`, with its default parameter.
    pub fn new(kind: &'static ActivationKind) -> Activation {
        Activation {
            kind,
            param: None,
            x: None,
        }
    }

    /// The layer of `kind` with its parameter set to `param` (ignored by activations
    /// without one).
    pub fn with_param(kind: &'static ActivationKind, param: f32) -> Activation {
        Activation {
            param: Some(param),
            ..Activation::new(kind)
        }
    }

    /// The activation named `name` in configs (`"sigmoid"`, `"leaky_relu"`, …), with `param`
    /// (`None`: the default); `Err` naming the known ones otherwise.
    pub fn by_name(name: &str, param: Option<f32>) -> Result<Activation> {
        let kind = ActivationKind::by_name(name).ok_or_else(|| Error::InvalidArgument {
            op: "Activation::by_name",
            message: format!(
                "no activation '{name}'; known: {}",
                ops::ACTIVATIONS
                    .iter()
                    .map(|a| a.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        Ok(match param {
            Some(p) => Activation::with_param(kind, p),
            None => Activation::new(kind),
        })
    }

    /// Which activation this is.
    pub fn kind(&self) -> &'static ActivationKind {
        self.kind
    }

    /// The parameter in use (the default where none was set), if the activation has one.
    pub fn param(&self) -> Option<f32> {
        self.kind
            .param
            .map(|(_, default)| self.param.unwrap_or(default))
    }
}

impl Layer for Activation {
    // The layer's name ("LeakyReLU"), not the config name ("leaky_relu").
    #[allow(clippy::misnamed_getters)]
    fn name(&self) -> &'static str {
        self.kind.layer
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        Some(Box::new(self.clone()))
    }

    // x: any shape → y: same shape.
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let y = self.kind.forward(x, self.param)?;
        self.x = Some(x.clone());
        Ok(y)
    }

    // dx = dy ⊙ f'(x).
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        let x = saved(self.kind.layer, &self.x)?;
        check_grad(self.kind.layer, dy, x.shape(), x)?;
        self.kind.backward(x, dy, self.param)
    }

    // dx = dy · diag(f'(x)).
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        let x = saved(self.kind.layer, &self.x)?;
        check_grad(self.kind.layer, dy, x.shape(), x)?;
        ops::vjp(dy, &self.kind.jacobian(x, self.param)?, x.shape())
    }

    fn jacobian(&self) -> Result<Tensor> {
        self.kind
            .jacobian(saved(self.kind.layer, &self.x)?, self.param)
    }

    // `sigmoid`, `leaky_relu(0.2)`: the registry's syntax, the parameter always written.
    fn config(&self) -> String {
        match self.param() {
            Some(p) => format!("{}({p})", self.kind.name),
            None => self.kind.name.to_string(),
        }
    }
}
