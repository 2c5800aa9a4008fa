//! The `Layer` trait that SoftMax, ReLU and Linear share, so models can hold `Box<dyn Layer>`.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A differentiable layer: a forward pass that remembers what its backward pass needs, and two
/// backward paths — the fused kernels, and the explicit Jacobian — that must agree.
pub trait Layer: Send + Sync {
    /// A short name for messages, e.g. `"SoftMax"`.
    fn name(&self) -> &'static str;

    /// y = f(x). Keeps what `backward` needs; the input tensor itself is never modified.
    fn forward(&mut self, x: &Tensor) -> Result<Tensor>;

    /// dL/dx from dL/dy (shaped like the last forward's output). Layers with parameters
    /// also store their gradients (overwriting those of the previous backward).
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor>;

    /// [`Layer::backward`] where dL/dx is not wanted (the first layer of a model being
    /// trained): the gradients of the parameters only. Layers whose dx costs work skip it
    /// (Conv2d); the default runs `backward`.
    fn backward_params(&mut self, dy: &Tensor) -> Result<()> {
        self.backward(dy).map(drop)
    }

    /// The same as [`Layer::backward`], computed through explicit Jacobians.
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor>;

    /// ∂y/∂x of the last forward as a matrix [output elements, input elements].
    fn jacobian(&self) -> Result<Tensor>;

    /// Trainable parameters with the gradients of the last backward (`None` before any), to
    /// read. Empty for nodes.
    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }

    /// The same parameters, for an optimizer to update in place: the only way to write
    /// them. A layer with parameters implements both, in the same order.
    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        Vec::new()
    }

    /// A copy of this layer as a box, for [`crate::model::Sequential::try_clone`]; `None`
    /// (the default) if the layer cannot be copied. The copy never changes when the original
    /// is trained, nor the other way round.
    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        None
    }

    /// Fusion, for [`crate::model::Sequential`]: this layer's `forward(x)` followed by a
    /// ReLU, in one pass where the layer can (Linear: the matmul's epilogue). `Ok(None)` (the
    /// default) when it cannot; then nothing was done. The layer remembers what its own
    /// backward needs, as after `forward`.
    fn forward_relu(&mut self, _x: &Tensor) -> Result<Option<Tensor>> {
        Ok(None)
    }

    /// Fusion, for [`crate::model::Sequential`]: whether this layer is a ReLU that can take
    /// the output of the layer before's [`Layer::forward_relu`] as its own forward
    /// ([`Layer::take_relu_output`]). The default is `false`.
    fn takes_relu_output(&self) -> bool {
        false
    }

    /// Records `y` = ReLU(x), computed by the layer before, as this layer's last forward.
    /// Only called on a layer whose [`Layer::takes_relu_output`] is `true`.
    fn take_relu_output(&mut self, _y: &Tensor) {}

    /// Whether the layer takes images [N, C, H, W] (Conv2d, the poolings): training feeds a
    /// model that starts with one its samples as images. The default is `false`.
    fn takes_images(&self) -> bool {
        false
    }

    /// Training (`true`) or evaluation mode, for layers that differ (Dropout is the identity
    /// in evaluation). The default ignores it.
    fn set_training(&mut self, _training: bool) {}

    /// The training step the next forward belongs to, for layers that draw from it (Dropout's
    /// masks): `fit` sets it to the optimizer step, so a resumed run draws what the original
    /// did. The default ignores it.
    fn set_step(&mut self, _step: u64) {}

    /// How the layer is written in a saved model: `relu`, `softmax`, `linear(64,128)`.
    fn config(&self) -> String {
        self.name().to_lowercase()
    }
}

/// A trainable tensor of a layer and its gradient.
#[derive(Debug, Clone, Copy)]
pub struct Parameter<'a> {
    /// `"weight"`, `"bias"`, …
    pub name: &'static str,
    /// The parameter itself (optimizers update it in place).
    pub value: &'a Tensor,
    /// dL/d(value) from the last backward; overwritten (not accumulated) by each backward.
    pub grad: Option<&'a Tensor>,
}

/// A trainable tensor of a layer, writable, and its gradient: what optimizers take.
#[derive(Debug)]
pub struct ParameterMut<'a> {
    /// `"weight"`, `"bias"`, …
    pub name: &'static str,
    /// The parameter itself, updated in place (copied first if a clone shares it).
    pub value: &'a mut Tensor,
    /// dL/d(value) from the last backward.
    pub grad: Option<&'a Tensor>,
}

/// A layer's `weight` and `bias` with their gradients, for [`Layer::parameters`].
pub(crate) fn weight_and_bias<'a>(
    (w, b): (&'a Tensor, &'a Tensor),
    (gw, gb): (Option<&'a Tensor>, Option<&'a Tensor>),
) -> Vec<Parameter<'a>> {
    vec![
        Parameter {
            name: "weight",
            value: w,
            grad: gw,
        },
        Parameter {
            name: "bias",
            value: b,
            grad: gb,
        },
    ]
}

/// The same, writable, for [`Layer::parameters_mut`].
pub(crate) fn weight_and_bias_mut<'a>(
    (w, b): (&'a mut Tensor, &'a mut Tensor),
    (gw, gb): (Option<&'a Tensor>, Option<&'a Tensor>),
) -> Vec<ParameterMut<'a>> {
    vec![
        ParameterMut {
            name: "weight",
            value: w,
            grad: gw,
        },
        ParameterMut {
            name: "bias",
            value: b,
            grad: gb,
        },
    ]
}

/// The tensor a layer saved in `forward`, or the error for calling too early.
pub(crate) fn saved<'a>(op: &'static str, t: &'a Option<Tensor>) -> Result<&'a Tensor> {
    t.as_ref().ok_or(Error::BackwardBeforeForward { op })
}

/// `Err` unless `dy` lives on the same GPU as `like` and has its shape.
pub(crate) fn check_grad(
    op: &'static str,
    dy: &Tensor,
    like_shape: &[usize],
    like: &Tensor,
) -> Result<()> {
    dy.check_gpu(op, like.gpu())?;
    if dy.shape() != like_shape {
        return Err(Error::ShapeMismatch {
            op,
            expected: format!("dL/dy shaped like the forward output {like_shape:?}"),
            got: dy.shape().to_vec(),
        });
    }
    Ok(())
}

/// A boxed layer is a layer (every call goes to the box's contents): models and bindings can
/// hold `Box<dyn Layer>` where a `Layer` is asked for.
impl<L: Layer + ?Sized> Layer for Box<L> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        (**self).forward(x)
    }
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        (**self).backward(dy)
    }
    fn backward_params(&mut self, dy: &Tensor) -> Result<()> {
        (**self).backward_params(dy)
    }
    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        (**self).backward_jacobian(dy)
    }
    fn jacobian(&self) -> Result<Tensor> {
        (**self).jacobian()
    }
    fn parameters(&self) -> Vec<Parameter<'_>> {
        (**self).parameters()
    }
    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        (**self).parameters_mut()
    }
    fn boxed_clone(&self) -> Option<Box<dyn Layer>> {
        (**self).boxed_clone()
    }
    fn forward_relu(&mut self, x: &Tensor) -> Result<Option<Tensor>> {
        (**self).forward_relu(x)
    }
    fn takes_relu_output(&self) -> bool {
        (**self).takes_relu_output()
    }
    fn take_relu_output(&mut self, y: &Tensor) {
        (**self).take_relu_output(y)
    }
    fn takes_images(&self) -> bool {
        (**self).takes_images()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn set_step(&mut self, step: u64) {
        (**self).set_step(step)
    }
    fn config(&self) -> String {
        (**self).config()
    }
}
