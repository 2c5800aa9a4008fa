//! Training: losses, optimizers, fit, and checkpoints resumed bit for bit.
//! One test binary of several modules (linking each file as its own binary cost minutes on two
//! cores); `cargo test --test training <module>::` runs one module.

#[path = "../common/mod.rs"]
mod common;

mod checkpoint;
mod gpt;
mod graph;
mod training;
