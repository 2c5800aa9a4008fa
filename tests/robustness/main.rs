//! Bad input and bad days: typed errors, device errors, the edges of the number line
//! and of memory, aliasing and copy-on-write, every fuzz seed and found input.
//! One test binary of several modules (linking each file as its own binary cost minutes on two
//! cores); `cargo test --test robustness <module>::` runs one module.

#[path = "../common/mod.rs"]
mod common;

mod aliasing;
mod device_errors;
mod edges;
mod errors;
mod fuzz_regressions;
