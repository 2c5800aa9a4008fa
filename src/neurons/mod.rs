//! Neurons: layers with trainable parameters — [`Linear`] and [`Conv2d`].

mod conv2d;
mod linear;

pub use conv2d::Conv2d;
pub use linear::Linear;
