//! Autotuning on a device: the first time a kernel family meets a shape class, the candidate
//! variants run on the real operands and the fastest is kept (`kernels/search.rs` decides what
//! is timed and what wins; `kernels/tune.rs` remembers it, in memory and on disk).
//!
//! Timing goes through a [`TuneClock`]: [`DeviceClock`] (GPU timestamps; the wall clock on
//! CPU devices, where there are none worth having, and where timestamps go backwards) unless a
//! test or tool installs another with [`Gpu::set_tune_clock`]. A timed bracket holds the
//! `Gpu`'s recording lock, so no other thread's work lands inside it. A `Gpu` spends at most
//! about [`Gpu::tuning_budget`] of wall time timing candidates (0.7 s on CPU devices, 4 s on
//! GPUs; the warm-up run that compiles a candidate's pipelines is not counted, so a slow
//! compiler does not leave the fast kernels untimed); past that, and with
//! `WGPU_BACKPROP_AUTOTUNE=off`, every choice is the static one.

use std::sync::Arc;
use std::time::Duration;
use web_time::Instant;

use super::{lock, Gpu};
use crate::error::Result;
use crate::kernels::search::{self, Cut, Limits, Probe};
use crate::kernels::{TuneSource, Tuned};

/// How the autotuner measures. [`DeviceClock`] is the real one; tests install fakes (fixed
/// timings per variant, a clock that only moves when told) with [`Gpu::set_tune_clock`], so
/// that what they check never depends on which kernel a real clock favours.
pub trait TuneClock: Send + Sync {
    /// Wall time since some fixed instant; the tuning budget is kept in it.
    fn now(&self) -> Duration;
    /// Seconds that `runs` runs of `variant` take; `work` records one run (and must be
    /// called, `runs` times, for the work to happen at all).
    fn time(
        &self,
        gpu: &Gpu,
        variant: &str,
        runs: usize,
        work: &mut dyn FnMut() -> Result<()>,
    ) -> Result<f64>;
}

/// The real clock: GPU timestamps around the runs where they are usable (and the wall clock
/// around submit and wait where they are not, or where they went backwards), with nothing
/// else on the device meanwhile.
#[derive(Debug)]
pub struct DeviceClock {
    origin: Instant,
}

impl Default for DeviceClock {
    fn default() -> Self {
        DeviceClock {
            origin: Instant::now(),
        }
    }
}

impl TuneClock for DeviceClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn time(
        &self,
        gpu: &Gpu,
        _variant: &str,
        runs: usize,
        work: &mut dyn FnMut() -> Result<()>,
    ) -> Result<f64> {
        gpu.exclusive(|| {
            let mut all = || (0..runs).try_for_each(|_| work());
            gpu.synchronize()?; // nothing of anyone else's is running
            if gpu.profile().timestamps {
                if let Some(seconds) = gpu.device_seconds("autotune", &mut all)? {
                    return Ok(seconds);
                }
            }
            gpu.synchronize()?;
            let start = Instant::now();
            all()?;
            gpu.synchronize()?;
            Ok(start.elapsed().as_secs_f64())
        })
    }
}

/// The search's view of the device: candidates run by `run`, timed by `clock`.
struct DeviceProbe<'a, F> {
    gpu: &'a Gpu,
    clock: &'a dyn TuneClock,
    names: &'a [&'static str],
    run: &'a mut F,
    /// Time spent in timed runs so far (warm-ups, which compile, are not counted), and the
    /// budget left when the search began.
    spent: Duration,
    left: Duration,
}

impl<F: FnMut(usize) -> Result<()>> Probe for DeviceProbe<'_, F> {
    fn warm_up(&mut self, i: usize) -> std::result::Result<(), String> {
        (self.run)(i).map_err(|e| e.to_string())
    }

    fn time(&mut self, i: usize, runs: usize) -> std::result::Result<f64, String> {
        let run = &mut *self.run;
        let start = self.clock.now();
        let out = self
            .clock
            .time(self.gpu, self.names[i], runs, &mut || run(i))
            .map_err(|e| e.to_string());
        self.spent += self.clock.now().saturating_sub(start);
        out
    }

    fn out_of_time(&self) -> bool {
        self.spent >= self.left
    }
}

impl Gpu {
    /// The choices the autotuner has made or read on this `Gpu`, sorted by class.
    pub fn tuned(&self) -> Vec<Tuned> {
        self.inner.kernels.tuner.all()
    }

    /// Each pipeline this `Gpu` has built, as ("source/entry#specialisation", seconds its
    /// creation took: the shader compile, or a pipeline-cache hit), in order.
    pub fn compile_times(&self) -> Vec<(String, f64)> {
        self.inner.kernels.compile_times()
    }

    /// Time in timed runs after which this `Gpu` starts no more timing: 0.7 s on CPU devices,
    /// 4 s on GPUs (pipeline compiles not counted).
    pub fn tuning_budget(&self) -> Duration {
        self.profile().tuning_budget
    }

    /// Time spent in the autotuner's timed runs on this `Gpu`, as its [`TuneClock`] counts it
    /// (warm-ups, which compile the candidates' pipelines, are not counted).
    pub fn tuning_time(&self) -> Duration {
        self.inner.kernels.tuner.spent()
    }

    /// Where this `Gpu`'s tuned choices are kept (`None`: nowhere, no cache directory).
    pub fn tune_file(&self) -> Option<std::path::PathBuf> {
        self.inner.kernels.tuner.path().map(|p| p.to_path_buf())
    }

    /// Makes these `(class, variant)` choices ([`Tuned::class`], [`Tuned::variant`]) this
    /// `Gpu`'s, replacing any, without timing: a resumed run continues on the kernels it
    /// used before. A variant that is not a candidate where its class comes up is ignored
    /// there (the usual choice is made).
    pub fn pin_tuned(&self, choices: &[(String, String)]) {
        self.inner.kernels.tuner.pin(choices);
    }

    /// Replaces the clock the autotuner times candidates with (by default a
    /// [`DeviceClock`]): for tests and tools that need its decisions to be reproducible.
    pub fn set_tune_clock(&self, clock: Arc<dyn TuneClock>) {
        *lock(&self.inner.tune_clock) = clock;
    }

    /// The index of the candidate to run for `class`: the tuned one (timing the candidates
    /// with `run(i)` if this class is new), or `fallback`, the static choice, when tuning is
    /// off or its budget spent. A candidate that fails while timed is skipped and noted.
    pub(crate) fn pick(
        &self,
        class: &str,
        candidates: &[&'static str],
        fallback: usize,
        mut run: impl FnMut(usize) -> Result<()>,
    ) -> usize {
        let tuner = &self.inner.kernels.tuner;
        let index_of = |variant: &str| candidates.iter().position(|&c| c == variant);
        if let Some(i) = tuner.choice(class).and_then(|v| index_of(&v)) {
            return i;
        }
        if !tuner.enabled() || candidates.len() < 2 {
            return fallback;
        }
        let mut tuned = Tuned {
            class: class.to_string(),
            variant: candidates[fallback].to_string(),
            timings_ms: Vec::new(),
            skipped: Vec::new(),
            source: TuneSource::Untimed,
        };
        let budget = self.tuning_budget();
        if tuner.spent() < budget {
            let clock = lock(&self.inner.tune_clock).clone();
            let mut probe = DeviceProbe {
                gpu: self,
                clock: &*clock,
                names: candidates,
                run: &mut run,
                spent: Duration::ZERO,
                left: budget - tuner.spent(),
            };
            let out = search::search(candidates.len(), fallback, &Limits::DEFAULT, &mut probe);
            tuner.add_spent(probe.spent);
            let name = |i: usize| candidates[i].to_string();
            tuned.variant = name(out.winner);
            tuned.timings_ms = out
                .timings
                .iter()
                .map(|&(i, s)| (name(i), s * 1e3))
                .collect();
            tuned.skipped = out.skipped.into_iter().map(|(i, m)| (name(i), m)).collect();
            tuned.source = match out.cut {
                Some(Cut::Budget) => TuneSource::Partial,
                Some(Cut::Giant) | None => TuneSource::Timed,
            };
        }
        // Kept even when untimed, so that every later call in this process agrees.
        let chosen = tuner.settle(tuned);
        index_of(&chosen).unwrap_or(fallback)
    }

    /// Runs `f` with this thread the only one recording on this `Gpu`: other threads' ops wait
    /// until it returns (this thread's own recording goes on).
    pub(crate) fn exclusive<R>(&self, f: impl FnOnce() -> R) -> R {
        if super::holds_exclusive(self.inner.id) {
            return f();
        }
        let _guard = self
            .inner
            .recording
            .write()
            .unwrap_or_else(|p| p.into_inner());
        super::set_exclusive(self.inner.id);
        let out = f();
        super::set_exclusive(0);
        out
    }

    /// Device seconds between two timestamps written before and after the work `record`
    /// records (needs `TIMESTAMP_QUERY`); reads the timestamps back. `None` when they went
    /// backwards (a driver that does not order them with the work).
    pub(crate) fn device_seconds(
        &self,
        op: &'static str,
        record: impl FnOnce() -> Result<()>,
    ) -> Result<Option<f64>> {
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
        self.record(op, super::Command::Resolve(queries, resolved.clone(), 2))?;
        let words = self.read_u64(op, &resolved, 2)?;
        let period = self.queue().get_timestamp_period();
        Ok(ticks_to_seconds(words[0], words[1], period))
    }
}

/// Seconds between two timestamps of `period` nanoseconds per tick; `None` when the second
/// is earlier than the first.
pub(crate) fn ticks_to_seconds(start: u64, end: u64, period: f32) -> Option<f64> {
    let ticks = end.checked_sub(start)?;
    Some(ticks as f64 * f64::from(period) * 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inside a timed bracket other threads cannot record (their ops would land in the
    /// timing); the timing thread itself still can, and the lock is released after.
    #[test]
    fn a_timed_bracket_keeps_other_threads_out() {
        let gpu = Gpu::new().unwrap_or_else(|e| panic!("these tests need a GPU adapter: {e}"));
        let mut others_blocked = Vec::new();
        let timed = DeviceClock::default().time(&gpu, "relu", 2, &mut || {
            let g = gpu.clone();
            let probe = std::thread::spawn(move || g.inner.recording.try_read().is_err());
            others_blocked.push(probe.join().unwrap_or(false));
            let t = crate::Tensor::from_slice(&gpu, &[1.0, -1.0], &[2])?;
            crate::ops::relu_forward(&t).map(drop)
        });
        assert!(timed.is_ok_and(|s| s >= 0.0));
        assert_eq!(others_blocked, [true, true]);
        assert!(gpu.inner.recording.try_read().is_ok(), "released after");
    }

    #[test]
    fn timestamps_that_go_backwards_give_none() {
        assert_eq!(super::ticks_to_seconds(10, 5, 1.0), None);
        assert_eq!(super::ticks_to_seconds(5, 5, 1.0), Some(0.0));
        let s = super::ticks_to_seconds(1_000, 3_000, 0.5).unwrap_or(f64::NAN);
        assert!((s - 1e-6).abs() < 1e-15, "{s}");
    }
}
