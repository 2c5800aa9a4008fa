//! GPU ops against their f64 references: matmul on every kernel, reductions, softmax and
//! ReLU, the element-wise activations, convolutions and poolings, the Jacobians, long loops, fused epilogues, folded grids,
//! the host path, and property sweeps.
//! One test binary of several modules (linking each file as its own binary cost minutes on two
//! cores); `cargo test --test ops <module>::` runs one module.

#[path = "../common/mod.rs"]
mod common;

mod activations;
mod attention;
mod conv;
mod fusion;
mod grids;
mod host_path;
mod jacobian;
mod layernorm;
mod long_loops;
mod matmul;
mod properties;
mod reductions;
mod softmax_relu;
