//! Neurons: layers with trainable parameters. Today: [`Linear`].

mod linear;

pub use linear::Linear;
