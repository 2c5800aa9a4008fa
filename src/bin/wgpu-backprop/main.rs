//! The demo program: the lab walk-through on the GPU (default), and `info` about the adapter.

mod bench;
mod gpt;
mod info;
mod lab;
mod plot;
mod print;
mod report;
mod report_why;
mod resume;
mod selftest;
mod train;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{Parser, Subcommand};
use wgpu_backprop::{Gpu, GpuOptions};

/// Neural-network layers with forward and backward passes as WGSL compute shaders.
///
/// With no command, walks through the "Vector and Matrix Backpropagation" lab on the GPU —
/// SoftMax, ReLU and Linear forward and backward, the explicit-Jacobian path, and the largest
/// difference from a CPU reference computed in f64 — then trains a small classifier on the
/// embedded digits set (64→128→ReLU→10, Adam).
///
/// The adapter is chosen by WGPU_BACKEND (vulkan, metal, dx12, gl), WGPU_POWER_PREF (low, high)
/// and WGPU_ADAPTER_NAME (a substring of the adapter's name); `info --all` lists them all.
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
    /// Train an MLP or CNN classifier on the GPU (digits by default, or MNIST-style IDX files)
    Train(Box<train::TrainArgs>),
    /// Evaluate a saved model on the test set
    Eval(train::EvalArgs),
    /// A character-level GPT: `gpt train` on tiny Shakespeare (or --data FILE), `gpt sample`
    #[command(subcommand)]
    Gpt(gpt::GptCommand),
    /// Measure every kernel's GPU time (GFLOP/s, GB/s) on this adapter
    Bench(bench::BenchArgs),
    /// Check every kernel variant and automatic choice against an f64 CPU reference on this
    /// adapter (run it first on an unusual GPU; attach its output to a bug report)
    Selftest(selftest::SelftestArgs),
    /// Print the adapter, backend, enabled features and limits
    Info(info::InfoArgs),
    /// Print every pipeline, composed for Tint, as JSON (for scripts/tint/check.mjs)
    #[command(hide = true)]
    Kernels,
    /// Write the summary.md of a GPU report kit run from the files its run.sh left in DIR
    #[command(hide = true)]
    ReportSummary {
        /// The kit run's working directory
        dir: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // `train --resume DIR` takes from the checkpoint what the command line leaves out.
    if let (Some(Command::Train(args)), Some(("train", sub))) =
        (&mut cli.command, matches.subcommand())
    {
        args.given = sub
            .ids()
            .filter(|id| sub.value_source(id.as_str()) == Some(ValueSource::CommandLine))
            .map(|id| id.as_str().to_string())
            .collect();
    }
    match &cli.command {
        Some(Command::Info(info::InfoArgs { all: true })) => {
            info::list_all();
            return ExitCode::SUCCESS;
        }
        Some(Command::Kernels) => {
            print!("{}", wgpu_backprop::inventory::tint_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::ReportSummary { dir }) => {
            print!("{}", report::summary(dir));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let options = GpuOptions {
        webgpu_limits: matches!(&cli.command, Some(Command::Selftest(a)) if a.webgpu_limits),
        ..GpuOptions::default()
    };
    let mut failed = false;
    let result = Gpu::with_options(&options).and_then(|gpu| match cli.command {
        None => lab::run(&gpu).and_then(|()| {
            println!(
                "Part 4: training a classifier on the digits set (wgpu-backprop train --help)"
            );
            train::run(&gpu, &default_training())
        }),
        Some(Command::Lab) => lab::run(&gpu),
        Some(Command::Train(args)) => train::run(&gpu, &args),
        Some(Command::Eval(args)) => train::eval(&gpu, &args),
        Some(Command::Gpt(command)) => gpt::run(&gpu, &command),
        Some(Command::Bench(args)) => bench::run(&gpu, &args, started),
        Some(Command::Info(_)) => {
            info::run(&gpu);
            Ok(())
        }
        Some(Command::Kernels | Command::ReportSummary { .. }) => Ok(()), // done above
        Some(Command::Selftest(args)) => {
            failed = !selftest::run(&gpu, &args);
            Ok(())
        }
    });
    match result {
        Ok(()) if failed => ExitCode::FAILURE,
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `train` with its defaults, for the no-command run.
fn default_training() -> train::TrainArgs {
    <train::TrainArgs as clap::Parser>::parse_from(["train"])
}
