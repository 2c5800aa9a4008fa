//! Soak: 8 threads, each training its own model on one shared `Gpu` for 1,000 steps (set
//! `WGPU_BACKPROP_SOAK_STEPS` to change; counted in steps, not seconds, so a slow machine
//! soaks as long as a fast one, only slower), then each thread's run is repeated alone and
//! must give the same losses and weights bit for bit; GPU memory and the process's resident
//! memory stay flat. Ignored by default (it takes minutes):
//! `cargo test --release --test soak -- --ignored --nocapture`.

mod common;
use common::*;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::optim::Adam;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::train::train_step;
use wgpu_backprop::{Gpu, Layer};

const THREADS: usize = 8;
const DIM: usize = 64;
const BATCH: usize = 32;

/// What one thread's run gave: the loss of every step and the final weights, as bits.
#[derive(PartialEq, Debug)]
struct Run {
    losses: Vec<u32>,
    weights: Vec<Vec<u32>>,
}

/// Batch `step` of thread `id`'s data (deterministic).
fn batch(id: usize, step: usize) -> (Vec<f32>, Vec<u32>) {
    let mut rng = Rng::new((id as u64) << 32 | step as u64);
    let x = (0..BATCH * DIM).map(|_| rng.uniform(0.0, 1.0)).collect();
    let y = (0..BATCH).map(|_| rng.below(10) as u32).collect();
    (x, y)
}

/// Trains thread `id`'s model for `steps` steps.
fn train(gpu: &Gpu, id: usize, steps: usize) -> Run {
    let mut model = Sequential::mlp(gpu, &[DIM, 48, 10], id as u64).expect("a model");
    let mut opt = Adam::new(1e-3);
    let mut losses = Vec::new();
    while losses.len() < steps {
        let (x, y) = batch(id, losses.len());
        let loss = train_step(gpu, &mut model, &mut opt, &x, &y, &[DIM]).expect("a step");
        losses.push(read(&loss)[0].to_bits());
    }
    let params = model.parameters();
    let weights = params
        .iter()
        .map(|p| read(p.value).iter().map(|v| v.to_bits()).collect())
        .collect();
    Run { losses, weights }
}

/// Resident memory of this process in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
#[ignore = "soak: 8 threads for minutes; run with --ignored"]
fn eight_threads_train_for_minutes_and_match_their_solo_reruns() {
    let steps: usize = std::env::var("WGPU_BACKPROP_SOAK_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let gpu = gpu();
    let run_all = |steps: usize| -> Vec<Run> {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|id| {
                    let gpu = gpu.clone();
                    s.spawn(move || train(&gpu, id, steps))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        })
    };
    run_all(steps / 10 + 1); // warm-up: pools and caches filled
    gpu.synchronize().expect("sync");
    let (warm, warm_rss) = (gpu.memory_stats(), resident_bytes());

    let runs = run_all(steps);
    gpu.synchronize().expect("sync");
    let (after, after_rss) = (gpu.memory_stats(), resident_bytes());
    println!("{THREADS} threads × {steps} steps");
    println!("GPU memory after warm-up {warm:?}, at the end {after:?}");
    println!(
        "resident memory after warm-up {} MiB, at the end {} MiB",
        warm_rss >> 20,
        after_rss >> 20
    );
    assert!(runs.iter().all(|r| r.losses.len() == steps));
    assert!(after.live_bytes <= warm.live_bytes, "{warm:?} → {after:?}");
    assert!(
        after.pooled_bytes <= warm.pooled_bytes + (1 << 20),
        "{warm:?} → {after:?}"
    );
    assert!(
        after_rss <= warm_rss + (64 << 20),
        "resident memory grew from {warm_rss} to {after_rss} bytes"
    );

    for (id, run) in runs.iter().enumerate() {
        let solo = train(&gpu, id, steps);
        assert!(
            &solo == run,
            "thread {id}: its run beside 7 others differs from its solo rerun"
        );
    }
}
