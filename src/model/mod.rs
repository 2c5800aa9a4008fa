//! `Sequential`: a stack of layers trained as one — forward through all, backward through all
//! in reverse, the parameters of all for an optimizer — and its saved form (`io`).

mod io;
mod predict;
pub mod registry;
pub(crate) use io::serialize;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::layer::{Layer, Parameter, ParameterMut};
use crate::neurons::Linear;
use crate::nodes::ReLU;
use crate::ops;
use crate::tensor::Tensor;

/// Layers applied in order. Gradients follow the layers' rule: each `backward` overwrites the
/// previous gradients (nothing accumulates), so there is no `zero_grad` to call.
pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
    /// Whether `forward` fuses a layer with the ReLU after it (see [`Sequential::set_fusion`]).
    fuse: bool,
    /// Training or evaluation mode (see [`Sequential::set_training`]).
    training: bool,
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential {
            layers: Vec::new(),
            fuse: true,
            training: true,
        }
    }
}

impl Sequential {
    /// An empty model; add layers with [`Sequential::with`] or [`Sequential::push`].
    ///
    /// ```no_run
    /// use wgpu_backprop::{model::Sequential, neurons::Linear, nodes::ReLU, Gpu, Layer, Tensor};
    /// # fn main() -> wgpu_backprop::Result<()> {
    /// let gpu = Gpu::new()?;
    /// let mut model = Sequential::new()
    ///     .with(Linear::with_seed(&gpu, 4, 8, 0)?)
    ///     .with(ReLU::new())
    ///     .with(Linear::with_seed(&gpu, 8, 3, 1)?);
    /// let x = Tensor::from_slice(&gpu, &[0.1; 8], &[2, 4])?;
    /// assert_eq!(model.forward(&x)?.shape(), &[2, 3]);
    /// assert_eq!(model.predict(&x)?.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the model whose parameters never change when this one trains (nor the
    /// other way round): a snapshot, say of the best epoch. Copies are cheap (parameters are
    /// copied on the GPU the first time either side's optimizer writes them). `Err` names a
    /// layer that cannot be copied (a custom layer without [`Layer::boxed_clone`]).
    pub fn try_clone(&self) -> Result<Sequential> {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                l.boxed_clone().ok_or_else(|| Error::InvalidArgument {
                    op: "Sequential::try_clone",
                    message: format!("layer {} does not implement Layer::boxed_clone", l.name()),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Sequential {
            layers,
            fuse: self.fuse,
            training: self.training,
        })
    }

    /// Whether `forward` runs a `Linear` and the `ReLU` after it as one kernel (on by
    /// default). The results are the same bit for bit either way; off is for comparing.
    pub fn set_fusion(&mut self, on: bool) {
        self.fuse = on;
    }

    /// Training mode (`true`, the default: Dropout drops) or evaluation mode (Dropout is the
    /// identity), for every layer. `fit` trains in training mode; `predict` and `evaluate`
    /// always run in evaluation mode and leave the mode as it was.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    /// Whether the model is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Appends a layer (builder style).
    pub fn with(mut self, layer: impl Layer + 'static) -> Self {
        self.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn push(&mut self, mut layer: Box<dyn Layer>) {
        layer.set_training(self.training);
        self.layers.push(layer);
    }

    /// A multi-layer perceptron: Linear layers of the given sizes with ReLU between them and
    /// none after the last (its outputs are logits). `[64, 128, 10]` is 64→128→ReLU→10.
    pub fn mlp(gpu: &Gpu, sizes: &[usize], seed: u64) -> Result<Sequential> {
        if sizes.len() < 2 {
            return Err(Error::InvalidArgument {
                op: "Sequential::mlp",
                message: format!("needs at least an input and an output size, got {sizes:?}"),
            });
        }
        let mut model = Sequential::new();
        for (i, pair) in sizes.windows(2).enumerate() {
            if i > 0 {
                model.push(Box::new(ReLU::new()));
            }
            let layer_seed = seed
                .wrapping_add(i as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
            model.push(Box::new(Linear::with_seed(
                gpu, pair[0], pair[1], layer_seed,
            )?));
        }
        Ok(model)
    }

    /// A model from a model string in the registry's syntax (`model::registry`), as saved
    /// models write it: `"linear(64,128),gelu,linear(128,10)"`, `"leaky_relu(0.2)"`. Linear
    /// layers get fresh weights from `seed` (the same as [`Sequential::mlp`]'s).
    pub fn from_config(gpu: &Gpu, config: &str, seed: u64) -> Result<Sequential> {
        const OP: &str = "Sequential::from_config";
        let mut model = Sequential::new();
        let mut linears = 0u64;
        for (i, spec) in registry::parse(OP, config)?.iter().enumerate() {
            let layer_seed = seed
                .wrapping_add(linears)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
            if spec.name == "linear" {
                linears += 1;
            }
            let layer = registry::build(gpu, spec, &registry::Init::Fresh(layer_seed), i);
            model.push(layer.map_err(|e| match e {
                Error::InvalidArgument { message, .. } => {
                    Error::InvalidArgument { op: OP, message }
                }
                e => e,
            })?);
        }
        Ok(model)
    }

    /// The model string of an MLP from `inputs` to `outputs` through `hidden`: widths, each an
    /// optional activation after it (`relu` unless one follows), e.g. `["256", "tanh", "128"]`
    /// → `linear(in,256),tanh,linear(256,128),relu,linear(128,out)`. `["128"]` is
    /// [`Sequential::mlp`]'s `[in, 128, out]`.
    pub fn hidden_config(inputs: usize, hidden: &[String], outputs: usize) -> Result<String> {
        let mut parts = Vec::new();
        let (mut prev, mut pending): (usize, Option<String>) = (inputs, None);
        for item in hidden.iter().map(|h| h.trim()) {
            match item.parse::<usize>() {
                Ok(width) => {
                    if let Some(act) = pending.take() {
                        parts.push(act);
                    }
                    parts.push(format!("linear({prev},{width})"));
                    (prev, pending) = (width, Some("relu".into()));
                }
                Err(_) if pending.is_some() => pending = Some(item.to_string()),
                Err(_) => {
                    return Err(Error::InvalidArgument {
                        op: "Sequential::hidden_config",
                        message: format!("'{item}' must follow a width (e.g. 128,{item})"),
                    })
                }
            }
        }
        if let Some(act) = pending {
            parts.push(act);
        }
        parts.push(format!("linear({prev},{outputs})"));
        Ok(parts.join(","))
    }

    /// The model string of the small CNN `train --model cnn` trains, for images [C, H, W]
    /// (H, W at least 4): conv2d(C→32, 3×3, pad 1), ReLU, maxpool 2, conv2d(32→32, 3×3,
    /// pad 1), ReLU, maxpool 2, flatten, dropout(0.5), linear(32·⌊H/4⌋·⌊W/4⌋ → outputs).
    pub fn cnn_config([c, h, w]: [usize; 3], outputs: usize) -> Result<String> {
        if h < 4 || w < 4 {
            return Err(Error::InvalidArgument {
                op: "Sequential::cnn_config",
                message: format!("images of {h}×{w} are too small for two 2×2 poolings"),
            });
        }
        let flat = 32 * (h / 4) * (w / 4);
        Ok(format!(
            "conv2d({c},32,3,1,1),relu,maxpool2d(2),conv2d(32,32,3,1,1),relu,maxpool2d(2),\
             flatten,dropout(0.5),linear({flat},{outputs})"
        ))
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    /// How many layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// [`Layer::forward`], and the most elements any layer's output (or x) held.
    fn forward_widest(&mut self, x: &Tensor) -> Result<(Tensor, usize)> {
        let mut widest = x.len();
        let mut h = x.clone();
        let mut i = 0;
        while i < self.layers.len() {
            if self.fuse
                && self
                    .layers
                    .get(i + 1)
                    .is_some_and(|r| r.takes_relu_output())
            {
                if let Some(y) = self.layers[i].forward_relu(&h)? {
                    self.layers[i + 1].take_relu_output(&y);
                    widest = widest.max(y.len());
                    h = y;
                    i += 2;
                    continue;
                }
            }
            h = self.layers[i].forward(&h)?;
            widest = widest.max(h.len());
            i += 1;
        }
        Ok((h, widest))
    }

    fn empty_error(op: &'static str) -> Error {
        Error::InvalidArgument {
            op,
            message: "the model has no layers".into(),
        }
    }
}

impl std::fmt::Debug for Sequential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sequential[{}]", self.config())
    }
}

impl Layer for Sequential {
    fn name(&self) -> &'static str {
        "Sequential"
    }

    fn set_training(&mut self, training: bool) {
        Sequential::set_training(self, training);
    }

    fn set_step(&mut self, step: u64) {
        for layer in &mut self.layers {
            layer.set_step(step);
        }
    }

    // A model takes what its first layer takes.
    fn takes_images(&self) -> bool {
        self.layers.first().is_some_and(|l| l.takes_images())
    }

    // A layer followed by a ReLU that takes its output runs both in one pass where it can
    // (Linear: the ReLU is the matmul's epilogue); the ReLU then keeps the fused output.
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        self.forward_widest(x).map(|(y, _)| y)
    }

    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        let mut g = dy.clone();
        for layer in self.layers.iter_mut().rev() {
            g = layer.backward(&g)?;
        }
        Ok(g)
    }

    // The first layer's dx is not needed.
    fn backward_params(&mut self, dy: &Tensor) -> Result<()> {
        let Some((first, rest)) = self.layers.split_first_mut() else {
            return Err(Self::empty_error("Sequential::backward"));
        };
        let mut g = dy.clone();
        for layer in rest.iter_mut().rev() {
            g = layer.backward(&g)?;
        }
        first.backward_params(&g)
    }

    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        let mut g = dy.clone();
        for layer in self.layers.iter_mut().rev() {
            g = layer.backward_jacobian(&g)?;
        }
        Ok(g)
    }

    // J = J_L · … · J_1 (chain rule), each from the layer's last forward.
    fn jacobian(&self) -> Result<Tensor> {
        let mut layers = self.layers.iter().rev();
        let first = layers
            .next()
            .ok_or(Self::empty_error("Sequential::jacobian"))?;
        let mut j = first.jacobian()?;
        for layer in layers {
            j = ops::matmul(&j, &layer.jacobian()?)?;
        }
        Ok(j)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        self.layers.iter().flat_map(|l| l.parameters()).collect()
    }

    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.parameters_mut())
            .collect()
    }

    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        self.try_clone().ok().map(|m| Box::new(m) as Box<dyn Layer>)
    }

    fn config(&self) -> String {
        self.layers
            .iter()
            .map(|l| l.config())
            .collect::<Vec<_>>()
            .join(",")
    }
}
