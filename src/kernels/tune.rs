//! Autotuning: the first time a kernel family meets a shape class on an adapter, the candidate
//! variants run on the real operands, timed on the GPU (timestamp queries; wall clock where the
//! adapter has none), and the fastest is kept — in memory and in a file beside the pipeline
//! cache, one per adapter and driver, so the next process starts tuned. A file of another
//! adapter or driver is ignored.
//!
//! Bounded: only work above the caller's threshold is tuned. Each candidate gets a warm-up and
//! one timed run, and a batch of 3 more while the class's runs stay within [`CLASS_BUDGET`] of
//! device time; once one run took [`GIANT`], no further candidate is tried (the static choice
//! is timed first, so it stays unless something faster was measured). A `Gpu` spends at most
//! [`TOTAL_BUDGET`] of wall time tuning in all. Past that, and with
//! `WGPU_BACKPROP_AUTOTUNE=off`, every choice is the static one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::gpu::{lock, Gpu};

/// Device time the timed runs of one shape class may take: past it, each further candidate
/// gets one timed run only.
pub(crate) const CLASS_BUDGET: Duration = Duration::from_millis(50);
/// Device time after which no further candidate of a class is tried (one run of the first
/// took this long: a huge product on a slow device).
const GIANT: Duration = Duration::from_millis(500);
/// Time one `Gpu` may spend tuning in all.
pub(crate) const TOTAL_BUDGET: Duration = Duration::from_secs(1);
/// Runs per candidate in its timed batch (their mean counts), where the class budget allows.
const RUNS: usize = 3;
const HEADER: &str = "# wgpu-backprop autotune v1";

/// A choice the tuner made, for [`Gpu::tuned`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The kernel family and shape class, e.g. `"matmul NN m<=64 n<=128 k<=64"`.
    pub class: String,
    /// The variant chosen, e.g. `"register"`.
    pub variant: String,
    /// Each timed candidate's best time in milliseconds; empty when the choice was read from
    /// the file of an earlier process.
    pub timings_ms: Vec<(String, f64)>,
}

#[derive(Default)]
struct State {
    choices: HashMap<String, Tuned>,
    spent: Duration,
}

pub(crate) struct Tuner {
    enabled: bool,
    /// The file, and the adapter line it must start with.
    file: Option<(PathBuf, String)>,
    state: Mutex<State>,
}

/// What identifies an adapter and its driver, as one line.
fn adapter_line(info: &wgpu::AdapterInfo) -> String {
    format!(
        "adapter {} | {:?} | {:04x}:{:04x} | {} | {}",
        info.name, info.backend, info.vendor, info.device, info.driver, info.driver_info
    )
    .replace('\n', " ")
}

/// A file name from the adapter line (FNV-1a, so the name is short and stable).
fn file_name(line: &str) -> String {
    let hash = line.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("autotune-{hash:016x}.txt")
}

impl Tuner {
    pub(crate) fn new(info: &wgpu::AdapterInfo) -> Tuner {
        let enabled =
            !std::env::var("WGPU_BACKPROP_AUTOTUNE").is_ok_and(|v| v == "off" || v == "0");
        let line = adapter_line(info);
        let file = super::disk_cache::cache_dir().map(|d| (d.join(file_name(&line)), line));
        let mut state = State::default();
        if let Some((path, line)) = file.as_ref().filter(|_| enabled) {
            state.choices = read(path, line);
        }
        Tuner {
            enabled,
            file,
            state: Mutex::new(state),
        }
    }

    fn persist(&self, choices: &HashMap<String, Tuned>) {
        let Some((path, line)) = &self.file else {
            return;
        };
        let mut text = format!("{HEADER}\n{line}\n");
        let mut rows: Vec<_> = choices.values().collect();
        rows.sort_by(|a, b| a.class.cmp(&b.class));
        for t in rows {
            text.push_str(&format!("{}\t{}\n", t.class, t.variant));
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir); // best effort, as the pipeline cache
        }
        let _ = crate::model::write_atomically(path, text.as_bytes());
    }
}

/// The choices in `path`, if it is a tune file of the adapter `line` names.
fn read(path: &std::path::Path, line: &str) -> HashMap<String, Tuned> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) || lines.next() != Some(line) {
        return HashMap::new();
    }
    lines
        .filter_map(|l| l.split_once('\t'))
        .map(|(class, variant)| {
            let tuned = Tuned {
                class: class.to_string(),
                variant: variant.to_string(),
                timings_ms: Vec::new(),
            };
            (class.to_string(), tuned)
        })
        .collect()
}

impl Gpu {
    /// The choices the autotuner has made or read on this `Gpu`, sorted by class.
    pub fn tuned(&self) -> Vec<Tuned> {
        let state = lock(&self.inner.kernels.tuner.state);
        let mut all: Vec<Tuned> = state.choices.values().cloned().collect();
        all.sort_by(|a, b| a.class.cmp(&b.class));
        all
    }

    /// Time spent timing candidates on this `Gpu`.
    pub fn tuning_time(&self) -> Duration {
        lock(&self.inner.kernels.tuner.state).spent
    }

    /// The index of the candidate to run for `class`: the tuned one (timing the candidates
    /// with `run(i)` if this class is new), or `fallback` when tuning is off or over budget.
    /// `candidates[fallback]` is the static choice and is timed first.
    pub(crate) fn pick(
        &self,
        class: &str,
        candidates: &[&'static str],
        fallback: usize,
        mut run: impl FnMut(usize) -> Result<()>,
    ) -> Result<usize> {
        let tuner = &self.inner.kernels.tuner;
        {
            let state = lock(&tuner.state);
            if let Some(t) = state.choices.get(class) {
                if let Some(i) = candidates.iter().position(|&c| c == t.variant) {
                    return Ok(i);
                }
            }
            if !tuner.enabled || candidates.len() < 2 {
                return Ok(fallback);
            }
        }
        if lock(&tuner.state).spent >= TOTAL_BUDGET {
            // Over budget: the static choice, kept like a tuned one so that every later call
            // and process makes the same choice (a resumed run stays bit-identical).
            return Ok(self.settle(class, candidates, fallback, Vec::new()));
        }
        let start = Instant::now();
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.swap(0, fallback);
        let (mut timings, mut device_time) = (Vec::new(), 0.0);
        for i in order {
            if device_time >= GIANT.as_secs_f64() {
                break; // a single run is so long that trying others costs too much
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
            if lock(&tuner.state).spent + start.elapsed() >= TOTAL_BUDGET {
                break;
            }
        }
        let winner = timings
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(fallback, |t| t.0);
        lock(&tuner.state).spent += start.elapsed();
        let timings_ms = timings
            .iter()
            .map(|&(i, s)| (candidates[i].to_string(), s * 1e3))
            .collect();
        Ok(self.settle(class, candidates, winner, timings_ms))
    }

    /// Records `candidates[winner]` as the choice for `class` unless another thread settled
    /// it first (then that one stands, so all calls agree); persists; returns the choice.
    fn settle(
        &self,
        class: &str,
        candidates: &[&'static str],
        winner: usize,
        timings_ms: Vec<(String, f64)>,
    ) -> usize {
        let tuner = &self.inner.kernels.tuner;
        let mut state = lock(&tuner.state);
        let chosen = state
            .choices
            .entry(class.to_string())
            .or_insert_with(|| Tuned {
                class: class.to_string(),
                variant: candidates[winner].to_string(),
                timings_ms,
            })
            .variant
            .clone();
        tuner.persist(&state.choices);
        candidates
            .iter()
            .position(|&c| c == chosen)
            .unwrap_or(winner)
    }

    /// Seconds the work `record` records takes on the device.
    fn time_once(&self, record: impl FnOnce() -> Result<()>) -> Result<f64> {
        const OP: &str = "autotune";
        if !self.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            self.synchronize()?;
            let start = Instant::now();
            record()?;
            self.synchronize()?;
            return Ok(start.elapsed().as_secs_f64());
        }
        let queries = self.device().create_query_set(&wgpu::QuerySetDescriptor {
            label: Some(OP),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolved = self.scoped(OP, || {
            self.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(OP),
                size: 16,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            })
        })?;
        self.timestamp(OP, &queries, 0)?;
        record()?;
        self.timestamp(OP, &queries, 1)?;
        self.record(OP, |enc| {
            enc.resolve_query_set(&queries, 0..2, &resolved, 0)
        })?;
        let ticks = self.read_u64(OP, &resolved, 2)?;
        let period = f64::from(self.queue().get_timestamp_period());
        Ok(ticks[1].saturating_sub(ticks[0]) as f64 * period * 1e-9)
    }
}
