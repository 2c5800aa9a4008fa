//! `wgpu-backprop bench`: GPU time of every kernel on the chosen adapter, as a table or as one
//! JSON object per line (`--json`), with GFLOP/s or GB/s and the adapter on every line.

use std::time::Instant;

use clap::Args;
use wgpu_backprop::bench::{
    calibrate, measure_auto, measure_host, suite, Measurement, Method, Work,
};
use wgpu_backprop::{ops, Gpu, Result, Tensor};

#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// One JSON object per line instead of a table
    #[arg(long)]
    pub json: bool,
    /// Add the big sizes (matmul 4096³ and 8192³, Linear 1024×4096→4096)
    #[arg(long)]
    pub large: bool,
    /// Timed runs per case (the median is reported)
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Only cases whose op contains this text (e.g. matmul, softmax)
    #[arg(long)]
    pub only: Option<String>,
    /// After each case of several dispatches (Linear, conv2d, chunked softmax, split-K and its
    /// sum, LayerNorm), the GPU time of each dispatch of one call (a pass per dispatch; needs
    /// TIMESTAMP_QUERY)
    #[arg(long)]
    pub dispatches: bool,
    /// Only the calibration: a vec4 copy (bandwidth) and an FMA loop (f32 peak), which every
    /// run measures first
    #[arg(long)]
    pub calibrate: bool,
}

struct Row<'a> {
    op: &'a str,
    shape: &'a str,
    m: &'a Measurement,
    /// ("gflops" | "gbps" | "tokens_per_s" | "us", value)
    rate: (&'static str, f64),
}

pub fn run(gpu: &Gpu, args: &BenchArgs, started: Instant) -> Result<()> {
    let adapter = format!("{} ({:?})", gpu.adapter_name(), gpu.adapter_info().backend);
    if !args.json {
        println!(
            "{:<16} {:<16} {:>11} {:>11} {:>12}  method, adapter",
            "op", "shape", "median ms", "min ms", "rate"
        );
    }
    let matches = |op: &str| args.only.as_ref().is_none_or(|f| op.contains(f.as_str()));
    let wanted = |op: &str| !args.calibrate && matches(op);
    if wanted("startup") {
        first_result(gpu, args, &adapter, started)?;
    }
    if wanted("roundtrip") {
        let x = Tensor::from_slice(gpu, &[0.0, -1.0, 2.0, -1.0, 4.0], &[5])?;
        let m = measure_host(args.runs.max(1000), || {
            ops::relu_forward(&x)?.to_vec().map(drop)
        })?;
        print_row(
            args.json,
            &adapter,
            &Row {
                op: "roundtrip",
                shape: "5",
                m: &m,
                rate: ("us", m.median_s * 1e6),
            },
        );
    }
    if wanted("op_chain") || wanted("op_record") {
        op_chain(gpu, args, &adapter)?;
    }
    let mut compiled = gpu.compile_times().len();
    // What this device reaches at best, first: the rest read as fractions of it.
    let cases = calibrate::cases(gpu).into_iter().chain(if args.calibrate {
        Vec::new()
    } else {
        suite(gpu, args.large)
    });
    for case in cases {
        let mut case = match case {
            Ok(case) => case,
            Err(e) => {
                eprintln!("skipped a case: {e}");
                continue;
            }
        };
        if !args.calibrate && !matches(&case.op) {
            continue;
        }
        match measure_auto(gpu, args.runs, &mut case.run) {
            Ok(m) => {
                let rate = match case.work {
                    Work::Flops(f) => ("gflops", f / m.median_s * 1e-9),
                    Work::Bytes(b) => ("gbps", b / m.median_s * 1e-9),
                    Work::Tokens(t) => ("tokens_per_s", t / m.median_s),
                };
                print_row(
                    args.json,
                    &adapter,
                    &Row {
                        op: &case.op,
                        shape: &case.shape,
                        m: &m,
                        rate,
                    },
                );
            }
            Err(e) => eprintln!("{} {}: {e}", case.op, case.shape),
        }
        if args.json {
            // The pipelines this case built, now: a cold run cut short keeps them.
            let times = gpu.compile_times();
            print_compiles_json(&adapter, &times[compiled..]);
            compiled = times.len();
        }
        if args.dispatches {
            match gpu.dispatch_times("bench::dispatches", &mut case.run) {
                Ok(Some(times)) if times.len() > 1 => {
                    print_dispatches(args.json, &adapter, &case.op, &case.shape, &times);
                }
                Ok(_) => {}
                Err(e) => eprintln!("{} {} dispatches: {e}", case.op, case.shape),
            }
        }
    }
    print_tuned(gpu, args.json, &adapter);
    if !args.json {
        print_compiles(gpu);
    }
    Ok(())
}

/// Pipelines built and how long each creation took, as JSON lines.
fn print_compiles_json(adapter: &str, times: &[(String, f64)]) {
    for (label, s) in times {
        println!(
            "{{\"adapter\":\"{}\",\"compiled\":\"{label}\",\"ms\":{:.3}}}",
            escape(adapter),
            s * 1e3
        );
    }
}

/// The total time of the pipelines built in this run, and the five slowest.
fn print_compiles(gpu: &Gpu) {
    let mut times = gpu.compile_times();
    let total: f64 = times.iter().map(|t| t.1).sum();
    times.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("pipelines built: {}, {:.2} s in all", times.len(), total);
    for (label, s) in times.iter().take(5) {
        println!("  {label}: {:.1} ms", s * 1e3);
    }
}

/// Per-op cost: 1,000 dependent ReLUs of 5 floats recorded and run, then one readback,
/// reported per op (`op_chain`, host and device together), and the recording alone
/// (`op_record`: this crate, wgpu and the driver on the host, up to the last op recorded).
fn op_chain(gpu: &Gpu, args: &BenchArgs, adapter: &str) -> Result<()> {
    const OPS: usize = 1000;
    let x = Tensor::from_slice(gpu, &[0.0, -1.0, 2.0, -1.0, 4.0], &[5])?;
    let mut recording = Vec::new();
    let m = measure_host(args.runs.clamp(3, 20), || {
        let start = std::time::Instant::now();
        let mut y = x.clone();
        for _ in 0..OPS {
            y = ops::relu_forward(&y)?;
        }
        recording.push(start.elapsed().as_secs_f64());
        y.to_vec().map(drop)
    })?;
    recording.sort_by(f64::total_cmp);
    let record = Measurement {
        median_s: recording[recording.len() / 2] / OPS as f64,
        min_s: recording[0] / OPS as f64,
        ..m
    };
    let per_op = Measurement {
        median_s: m.median_s / OPS as f64,
        min_s: m.min_s / OPS as f64,
        ..m
    };
    for (op, m) in [("op_chain", &per_op), ("op_record", &record)] {
        let row = Row {
            op,
            shape: "1000 x relu[5]",
            m,
            rate: ("us", m.median_s * 1e6),
        };
        print_row(args.json, adapter, &row);
    }
    Ok(())
}

/// The autotuner's choices on this run (or read from its file), one line each: how each was
/// made, the timings, and any candidate that failed while timed.
fn print_tuned(gpu: &Gpu, json: bool, adapter: &str) {
    for t in gpu.tuned() {
        let how = format!("{:?}", t.source).to_lowercase();
        if json {
            let timings: Vec<String> = t
                .timings_ms
                .iter()
                .map(|(v, ms)| format!("\"{v}\":{ms:.6}"))
                .collect();
            let skipped: Vec<String> = t
                .skipped
                .iter()
                .map(|(v, e)| format!("\"{v}\":\"{}\"", escape(e)))
                .collect();
            println!(
                "{{\"adapter\":\"{}\",\"tuned\":\"{}\",\"variant\":\"{}\",\"source\":\"{how}\",\
                 \"timings_ms\":{{{}}},\"skipped\":{{{}}}}}",
                escape(adapter),
                t.class,
                t.variant,
                timings.join(","),
                skipped.join(",")
            );
            continue;
        }
        let timings: Vec<String> = t
            .timings_ms
            .iter()
            .map(|(v, ms)| format!("{v} {ms:.4} ms"))
            .collect();
        let skipped: Vec<String> = t
            .skipped
            .iter()
            .map(|(v, e)| format!("{v} failed: {e}"))
            .collect();
        let detail = [timings, skipped].concat().join(", ");
        println!(
            "autotuned: {} -> {} ({how}{}{detail})",
            t.class,
            t.variant,
            if detail.is_empty() { "" } else { ": " }
        );
    }
}

/// One call's dispatches, each with its GPU time: a JSON line, or an indented line each.
fn print_dispatches(json: bool, adapter: &str, op: &str, shape: &str, times: &[(String, f64)]) {
    if json {
        let list: Vec<String> = times
            .iter()
            .map(|(k, s)| format!("[\"{k}\",{:.6}]", s * 1e3))
            .collect();
        println!(
            "{{\"adapter\":\"{}\",\"dispatches\":\"{op}\",\"shape\":\"{shape}\",\"ms\":[{}]}}",
            escape(adapter),
            list.join(",")
        );
        return;
    }
    let total: f64 = times.iter().map(|t| t.1).sum();
    for (kernel, s) in times {
        println!(
            "  {op} {shape}: {kernel:<28} {:>10.4} ms ({:.0} %)",
            s * 1e3,
            100.0 * s / total.max(1e-12)
        );
    }
}

/// Time from process start to the first op's result on the host (device creation, shader
/// compilation, one softmax, readback).
fn first_result(gpu: &Gpu, args: &BenchArgs, adapter: &str, started: Instant) -> Result<()> {
    let x = Tensor::from_slice(gpu, &[0.0, 1.0, 2.0, 3.0, 4.0], &[5])?;
    ops::softmax_forward(&x)?.to_vec()?;
    let s = started.elapsed().as_secs_f64();
    let m = Measurement {
        median_s: s,
        min_s: s,
        runs: 1,
        reps: 1,
        method: Method::WallClock,
    };
    print_row(
        args.json,
        adapter,
        &Row {
            op: "startup",
            shape: "first result",
            m: &m,
            rate: ("ms", s * 1e3),
        },
    );
    Ok(())
}

fn print_row(json: bool, adapter: &str, r: &Row<'_>) {
    let method = match r.m.method {
        Method::Timestamps => "timestamps",
        Method::WallClock => "wall clock",
    };
    if json {
        println!(
            "{{\"adapter\":\"{}\",\"op\":\"{}\",\"shape\":\"{}\",\"median_ms\":{:.6},\"min_ms\":{:.6},\"{}\":{:.3},\"runs\":{},\"reps\":{},\"method\":\"{method}\"}}",
            escape(adapter),
            r.op,
            r.shape,
            r.m.median_s * 1e3,
            r.m.min_s * 1e3,
            r.rate.0,
            r.rate.1,
            r.m.runs,
            r.m.reps
        );
    } else {
        let unit = match r.rate.0 {
            "gflops" => "GFLOP/s",
            "gbps" => "GB/s",
            "tokens_per_s" => "tokens/s",
            other => other,
        };
        println!(
            "{:<16} {:<16} {:>11.4} {:>11.4} {:>12}  {method}, {adapter}",
            r.op,
            r.shape,
            r.m.median_s * 1e3,
            r.m.min_s * 1e3,
            format!("{:.2} {unit}", r.rate.1)
        );
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
