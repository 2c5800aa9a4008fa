//! `wgpu-backprop selftest`: every kernel variant and `Auto` choice against the f64 reference
//! on this adapter (the library's `selftest` module), as a table or JSON; exits non-zero on
//! any failure, so its output is what to attach to a bug report.

use clap::Args;
use wgpu_backprop::{selftest, Gpu};

#[derive(Args, Clone, Debug)]
pub struct SelftestArgs {
    /// One JSON object instead of the table
    #[arg(long)]
    pub json: bool,
    /// A subset: fewer shapes, no 1024³ products, no rows of a million (about a minute on a
    /// CPU device)
    #[arg(long)]
    pub quick: bool,
    /// Open the device with WebGPU's default limits instead of the adapter's (what a browser
    /// gives)
    #[arg(long)]
    pub webgpu_limits: bool,
}

/// Runs the self-check; `Ok(true)` when every row passed.
pub fn run(gpu: &Gpu, args: &SelftestArgs) -> bool {
    let report = selftest::run(gpu, &selftest::Options { quick: args.quick });
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
        if args.webgpu_limits {
            println!("(device opened with WebGPU's default limits)");
        }
    }
    report.passed()
}
