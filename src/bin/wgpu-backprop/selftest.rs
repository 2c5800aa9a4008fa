//! `wgpu-backprop selftest`: every kernel variant and `Auto` choice against the f64 reference
//! on this adapter (the library's `selftest` module), as a table or JSON lines, each row as it
//! is done; exits non-zero on any failure, so its output is what to attach to a bug report.

use clap::Args;
use std::io::Write as _;

use wgpu_backprop::selftest::{self, Row};
use wgpu_backprop::Gpu;

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

/// Runs the self-check, printing each row as it is done (`--json`: a JSON object per row, then
/// the whole report as one object on the last line); `true` when every row passed.
pub fn run(gpu: &Gpu, args: &SelftestArgs) -> bool {
    let options = selftest::Options { quick: args.quick };
    let info = gpu.adapter_info();
    if !args.json {
        print!(
            "selftest on {} ({:?})\nshaders: {}\n{}",
            info.name,
            info.backend,
            gpu.profile().shader_compiler,
            Row::header()
        );
    }
    let mut print_row = |row: &Row| {
        if args.json {
            println!("{}", row.json());
        } else {
            print!("{}", row.line());
        }
        let _ = std::io::stdout().flush(); // progress survives a time limit
    };
    let report = selftest::run_with(gpu, &options, &mut print_row);
    if args.json {
        println!("{}", report.json());
    } else {
        // The table's tail: what Auto chose, and the verdict.
        let table = report.table();
        let tail = table.lines().skip(3 + report.rows.len());
        tail.for_each(|l| println!("{l}"));
        if args.webgpu_limits {
            println!("(device opened with WebGPU's default limits)");
        }
    }
    report.passed()
}
