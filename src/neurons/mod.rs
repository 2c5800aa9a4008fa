//! Neurons: layers with trainable parameters — [`Linear`], [`Conv2d`] and [`LayerNorm`].

mod conv2d;
mod layernorm;
mod linear;

pub use conv2d::Conv2d;
pub use layernorm::LayerNorm;
pub use linear::Linear;
