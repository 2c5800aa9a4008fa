//! Benchmarks of the GPU work itself, shared by the demo's `bench` command and `cargo bench`.
//!
//! A measurement records `reps` repetitions of an op between two timestamp queries (when the
//! adapter has `TIMESTAMP_QUERY` and is a GPU), submits them at once and reads the elapsed GPU
//! time; otherwise (CPU devices: see `Profile::timestamps`) it times the submit-and-wait of
//! the same batch on the host. The median of several
//! such runs, after a warm-up, is reported.

pub mod calibrate;
mod suite;
mod transformer;

use web_time::Instant;

use crate::error::Result;
use crate::gpu::Gpu;

pub use suite::{suite, Case, Work};

/// How a time was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GPU timestamps around the batch.
    Timestamps,
    /// Host wall clock around submit + wait of the batch.
    WallClock,
}

/// The result of [`measure`]: seconds per repetition.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub median_s: f64,
    pub min_s: f64,
    pub runs: usize,
    pub reps: usize,
    pub method: Method,
}

/// GPU time a measured batch should last at least, so timer resolution and submit costs vanish.
const MIN_BATCH_S: f64 = 0.02;

/// Like [`measure`] with `reps` chosen from a first timing so that each batch lasts at least
/// 20 ms (between 1 and 256 repetitions).
pub fn measure_auto(
    gpu: &Gpu,
    runs: usize,
    mut record: impl FnMut() -> Result<()>,
) -> Result<Measurement> {
    let once = measure(gpu, 1, 1, &mut record)?;
    let reps = (MIN_BATCH_S / once.median_s.max(1e-9))
        .ceil()
        .clamp(1.0, 256.0) as usize;
    measure(gpu, runs, reps, record)
}

/// Times `record` (which records GPU work without reading back): one warm-up batch, then
/// `runs` batches of `reps` calls each. Returns the per-call times' median and minimum.
pub fn measure(
    gpu: &Gpu,
    runs: usize,
    reps: usize,
    mut record: impl FnMut() -> Result<()>,
) -> Result<Measurement> {
    let reps = reps.max(1);
    let timestamps = gpu.profile().timestamps;
    let mut times = Vec::with_capacity(runs);
    for run in 0..=runs.max(1) {
        let t = if timestamps {
            timed_batch_gpu(gpu, reps, &mut record)?
        } else {
            timed_batch_host(gpu, reps, &mut record)?
        };
        if run > 0 {
            times.push(t / reps as f64); // run 0 is the warm-up
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(Measurement {
        median_s: times[times.len() / 2],
        min_s: times[0],
        runs: times.len(),
        reps,
        method: if timestamps {
            Method::Timestamps
        } else {
            Method::WallClock
        },
    })
}

fn timed_batch_host(
    gpu: &Gpu,
    reps: usize,
    record: &mut impl FnMut() -> Result<()>,
) -> Result<f64> {
    gpu.synchronize()?;
    for _ in 0..reps {
        record()?;
    }
    let start = Instant::now();
    gpu.synchronize()?;
    Ok(start.elapsed().as_secs_f64())
}

fn timed_batch_gpu(gpu: &Gpu, reps: usize, record: &mut impl FnMut() -> Result<()>) -> Result<f64> {
    gpu.synchronize()?;
    match gpu.device_seconds("bench::measure", || (0..reps).try_for_each(|_| record()))? {
        Some(seconds) => Ok(seconds),
        // Timestamps that went backwards: the wall clock instead.
        None => timed_batch_host(gpu, reps, record),
    }
}

/// Host wall time of `f` per call: median over `runs` calls after one warm-up.
pub fn measure_host(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Measurement> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(Measurement {
        median_s: times[times.len() / 2],
        min_s: times[0],
        runs: times.len(),
        reps: 1,
        method: Method::WallClock,
    })
}
