//! Autotuning: the first time a kernel family meets a shape class on an adapter, the candidate
//! variants run on the real operands, timed on the GPU (timestamp queries; wall clock where the
//! adapter has none), and the fastest is kept (`kernels/tune.rs` remembers it, in memory and
//! on disk).
//!
//! Bounded: only work above the caller's threshold is tuned. Each candidate gets a warm-up and
//! one timed run, and a batch of 3 more while the class's runs stay within [`CLASS_BUDGET`] of
//! device time; once one run took [`GIANT`], no further candidate is tried (the static choice
//! is timed first, so it stays unless something faster was measured). A `Gpu` spends at most
//! about [`Gpu::tuning_budget`] of wall time tuning in all (0.7 s on CPU devices, 4 s on
//! GPUs). Past that, and with `WGPU_BACKPROP_AUTOTUNE=off`, every choice is the static one.

use std::time::{Duration, Instant};

use super::Gpu;
use crate::error::{Error, Result};
use crate::kernels::Tuned;

/// Device time the timed runs of one shape class may take: past it, each further candidate
/// gets one timed run only.
const CLASS_BUDGET: Duration = Duration::from_millis(50);
/// Device time after which no further candidate of a class is tried (one run of the first
/// took this long: a huge product on a slow device).
const GIANT: Duration = Duration::from_millis(500);
/// Wall time after which a `Gpu` on a CPU device starts no more timing (what is under way
/// finishes: about one candidate's compile and runs more, so the total stays near 1 s on
/// lavapipe, whose first `train` run may spend no more).
const TOTAL_BUDGET: Duration = Duration::from_millis(700);
/// The same on GPUs: up to seven matmul candidates per class, each compiling its pipelines
/// (the runs themselves take microseconds to milliseconds there).
const TOTAL_BUDGET_GPU: Duration = Duration::from_secs(4);
/// Runs per candidate in its timed batch (their mean counts), where the class budget allows.
const RUNS: usize = 3;

impl Gpu {
    /// The choices the autotuner has made or read on this `Gpu`, sorted by class.
    pub fn tuned(&self) -> Vec<Tuned> {
        self.inner.kernels.tuner.all()
    }

    /// Wall time after which this `Gpu` starts no more timing: 0.7 s on CPU devices, 4 s on
    /// GPUs.
    pub fn tuning_budget(&self) -> Duration {
        if self.adapter_info().device_type == wgpu::DeviceType::Cpu {
            TOTAL_BUDGET
        } else {
            TOTAL_BUDGET_GPU
        }
    }

    /// Time spent timing candidates on this `Gpu`.
    pub fn tuning_time(&self) -> Duration {
        self.inner.kernels.tuner.spent()
    }

    /// The index of the candidate to run for `class`: the tuned one (timing the candidates
    /// with `run(i)` if this class is new), or `fallback` when tuning is off.
    /// `candidates[fallback]` is the static choice and is timed first.
    pub(crate) fn pick(
        &self,
        class: &str,
        candidates: &[&'static str],
        fallback: usize,
        mut run: impl FnMut(usize) -> Result<()>,
    ) -> Result<usize> {
        let tuner = &self.inner.kernels.tuner;
        let index_of = |variant: &str| candidates.iter().position(|&c| c == variant);
        if let Some(i) = tuner.choice(class).and_then(|v| index_of(&v)) {
            return Ok(i);
        }
        if !tuner.enabled() || candidates.len() < 2 {
            return Ok(fallback);
        }
        if tuner.spent() >= self.tuning_budget() {
            // Over budget: the static choice, kept like a tuned one so that every later call
            // and process makes the same choice (a resumed run stays bit-identical).
            let chosen = tuner.settle(class, candidates[fallback], Vec::new());
            return Ok(index_of(&chosen).unwrap_or(fallback));
        }
        let start = Instant::now();
        let timings = self.time_candidates(candidates.len(), fallback, start, &mut run)?;
        tuner.add_spent(start.elapsed());
        let winner = timings
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(fallback, |t| t.0);
        let timings_ms = timings
            .iter()
            .map(|&(i, s)| (candidates[i].to_string(), s * 1e3))
            .collect();
        let chosen = tuner.settle(class, candidates[winner], timings_ms);
        Ok(index_of(&chosen).unwrap_or(winner))
    }

    /// (candidate, seconds per run) for as many of `count` candidates as the budgets allow,
    /// `fallback` first.
    fn time_candidates(
        &self,
        count: usize,
        fallback: usize,
        start: Instant,
        run: &mut impl FnMut(usize) -> Result<()>,
    ) -> Result<Vec<(usize, f64)>> {
        let mut order: Vec<usize> = (0..count).collect();
        order.swap(0, fallback);
        let (mut timings, mut device_time) = (Vec::new(), 0.0);
        let tuner = &self.inner.kernels.tuner;
        for i in order {
            if device_time >= GIANT.as_secs_f64() {
                break; // a single run is so long that trying others costs too much
            }
            if !timings.is_empty() && tuner.spent() + start.elapsed() >= self.tuning_budget() {
                break;
            }
            // Warm-up, untimed: compiles the pipeline, and some drivers (llvmpipe) compile
            // more on a pipeline's first dispatch.
            run(i)?;
            // One timed run, then, if the class budget allows, a batch of RUNS back-to-back
            // (one round trip to the device per batch: it costs more than small work).
            let mut t = self.time_once(|| run(i))?;
            device_time += t;
            if device_time + t * RUNS as f64 <= CLASS_BUDGET.as_secs_f64() {
                let batch = self.time_once(|| (0..RUNS).try_for_each(|_| run(i)))?;
                (t, device_time) = (batch / RUNS as f64, device_time + batch);
            }
            timings.push((i, t));
        }
        Ok(timings)
    }

    /// Seconds the work `record` records takes on the device.
    fn time_once(&self, record: impl FnOnce() -> Result<()>) -> Result<f64> {
        if !self.timestamps_usable() {
            self.synchronize()?;
            let start = Instant::now();
            record()?;
            self.synchronize()?;
            return Ok(start.elapsed().as_secs_f64());
        }
        self.device_seconds("autotune", record)
    }

    /// Device seconds between two timestamps written before and after the work `record`
    /// records (needs `TIMESTAMP_QUERY`); reads the timestamps back.
    pub(crate) fn device_seconds(
        &self,
        op: &'static str,
        record: impl FnOnce() -> Result<()>,
    ) -> Result<f64> {
        let queries = self.device().create_query_set(&wgpu::QuerySetDescriptor {
            label: Some(op),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolved = self.scoped(op, || {
            self.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(op),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        })?;
        self.timestamp(op, &queries, 0)?;
        record()?;
        self.timestamp(op, &queries, 1)?;
        self.record(op, |enc| {
            enc.resolve_query_set(&queries, 0..2, &resolved, 0)
        })?;
        let words = self.read_u64(op, &resolved, 2)?;
        let ticks = words[1].checked_sub(words[0]).ok_or(Error::Device {
            op,
            message: "timestamps went backwards".into(),
        })?;
        Ok(ticks as f64 * f64::from(self.queue().get_timestamp_period()) * 1e-9)
    }
}
