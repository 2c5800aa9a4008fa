//! The demo program: the lab walk-through on the GPU (default), and `info` about the adapter.

mod info;
mod lab;
mod print;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wgpu_backprop::Gpu;

/// Neural-network layers with forward and backward passes as WGSL compute shaders.
///
/// With no command, walks through the "Vector and Matrix Backpropagation" lab on the GPU:
/// SoftMax, ReLU and Linear forward and backward, the explicit-Jacobian path, and the largest
/// difference from a CPU reference computed in f64.
///
/// The adapter is chosen by WGPU_BACKEND (vulkan, metal, dx12, gl) and WGPU_ADAPTER_NAME
/// (a substring of the adapter's name).
#[derive(Parser)]
#[command(name = "wgpu-backprop", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Walk through the lab: SoftMax, ReLU, Linear on the GPU, checked against the CPU (default)
    Lab,
    /// Print the adapter, backend, enabled features and limits
    Info,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Gpu::new().and_then(|gpu| match cli.command.unwrap_or(Command::Lab) {
        Command::Lab => lab::run(&gpu),
        Command::Info => {
            info::run(&gpu);
            Ok(())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
