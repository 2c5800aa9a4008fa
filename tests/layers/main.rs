//! The lab's layers and their portability: the lab's numbers, Linear, what runs where.
//! One test binary of several modules (linking each file as its own binary cost minutes on two
//! cores); `cargo test --test layers <module>::` runs one module.

#[path = "../common/mod.rs"]
mod common;

mod lab;
mod linear;
mod portability;
