//! # wgpu-backprop
//!
//! Neural-network layers — [`nodes::SoftMax`], [`nodes::ReLU`] and [`neurons::Linear`] — whose
//! forward and backward passes run as WGSL compute shaders on any GPU wgpu reaches (Vulkan,
//! Metal, DX12), or on a CPU through Mesa's software Vulkan device (lavapipe).
//!
//! ```no_run
//! use wgpu_backprop::{Gpu, Layer, Tensor};
//! use wgpu_backprop::nodes::SoftMax;
//!
//! # fn main() -> wgpu_backprop::Result<()> {
//! let gpu = Gpu::new()?;
//! let x = Tensor::from_slice(&gpu, &[0.0, 1.0, 2.0, 3.0, 4.0], &[5])?;
//! let mut sm = SoftMax::new();
//! let y = sm.forward(&x)?;
//! let dy = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 2.0, 1.0], &[5])?;
//! let dx = sm.backward(&dy)?;
//! println!("y = {:?}\ndL/dx = {:?}", y.to_vec()?, dx.to_vec()?);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod files;
mod gpu;
mod indices;
#[cfg(feature = "ndarray")]
mod interop;
mod json;
mod kernels;
mod layer;
mod pool;
mod sync;
mod tensor;

/// GPU-timed benchmark cases for the demo's `bench` and `cargo bench`; not a stable API.
#[doc(hidden)]
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod gpt;
pub mod gradcheck;
pub mod graph;
pub mod loss;
pub mod model;
pub mod neurons;
pub mod nodes;
pub mod ops;
pub mod optim;
/// The f64 CPU reference the tests and the demo compare with; not a stable API.
#[doc(hidden)]
pub mod reference;
/// The small seeded generator behind weight init and shuffling; not a stable API.
#[doc(hidden)]
pub mod rng;
pub mod selftest;
pub mod train;

pub use error::{Error, Result, INSTALL_HINT, WEBGPU_HINT};
pub use gpu::{cards, DeviceClock, Gpu, GpuOptions, Profile, TuneClock, DEFAULT_TIMEOUT};
pub use gradcheck::gradcheck;
pub use indices::Indices;
/// Every pipeline the crate builds, as JSON for other WGSL compilers; not a stable API.
#[doc(hidden)]
pub use kernels::inventory;
pub use kernels::{TuneSource, Tuned};
pub use layer::{Layer, Parameter, ParameterMut};
pub use pool::MemoryStats;
pub use tensor::Tensor;

/// The README's examples run as doctests, so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
