//! The autotuner's memory: for each shape class the variant chosen (with the timings, when
//! timed in this process), kept in a file beside the pipeline cache, one per adapter and
//! driver, so the next process starts tuned; a file of another adapter or driver is ignored.
//! The timing itself is `gpu/tune.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::sync::lock;

const HEADER: &str = "# wgpu-backprop autotune v1";

/// A choice the tuner made, for [`crate::Gpu::tuned`].
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

    /// Whether tuning is on (`WGPU_BACKPROP_AUTOTUNE` is not `off`).
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// The variant chosen for `class`, if any.
    pub(crate) fn choice(&self, class: &str) -> Option<String> {
        lock(&self.state)
            .choices
            .get(class)
            .map(|t| t.variant.clone())
    }

    /// Every choice, sorted by class.
    pub(crate) fn all(&self) -> Vec<Tuned> {
        let mut all: Vec<Tuned> = lock(&self.state).choices.values().cloned().collect();
        all.sort_by(|a, b| a.class.cmp(&b.class));
        all
    }

    /// Time spent timing so far.
    pub(crate) fn spent(&self) -> Duration {
        lock(&self.state).spent
    }

    /// Adds to the time spent timing.
    pub(crate) fn add_spent(&self, d: Duration) {
        lock(&self.state).spent += d;
    }

    /// Records `variant` for `class` unless a choice was made meanwhile (then that one
    /// stands, so every call agrees), persists, and returns the choice.
    pub(crate) fn settle(
        &self,
        class: &str,
        variant: &str,
        timings_ms: Vec<(String, f64)>,
    ) -> String {
        let mut state = lock(&self.state);
        let chosen = state
            .choices
            .entry(class.to_string())
            .or_insert_with(|| Tuned {
                class: class.to_string(),
                variant: variant.to_string(),
                timings_ms,
            })
            .variant
            .clone();
        self.persist(&state.choices);
        chosen
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
        let _ = crate::files::write_atomically(path, text.as_bytes());
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
