//! The autotuner's memory: for each shape class the variant chosen (with the timings and the
//! candidates skipped, when timed in this process), kept in a file beside the pipeline cache so
//! the next process starts tuned. A file belongs to one adapter and driver, one crate version,
//! one set of kernel sources and one `WGPU_BACKPROP_UNCHECKED` setting: any other file is
//! ignored, so a changed kernel is timed anew. Only complete searches are written; a choice
//! made without timing (the budget was spent) or among part of the candidates holds for this
//! process only, and a later process times the class again. The search is `search.rs`, the
//! timing `gpu/tune.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::sync::lock;

const HEADER: &str = "# wgpu-backprop autotune v2";

/// How a [`Tuned`] choice was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuneSource {
    /// Every candidate was timed (or the search stopped at a giant run): persisted.
    Timed,
    /// The tuning budget ran out among the candidates: the fastest of those timed, for this
    /// process only.
    Partial,
    /// The tuning budget was spent before this class came up: the static choice, untimed,
    /// for this process only.
    Untimed,
    /// Read from the file of an earlier process.
    File,
    /// Set by [`crate::Gpu::pin_tuned`] (a resumed checkpoint's kernels), for this process.
    Pinned,
}

/// A choice the tuner made, for [`crate::Gpu::tuned`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The kernel family and shape class, e.g. `"matmul NN a4 m<=64 n<=128 k<=64"`.
    pub class: String,
    /// The variant chosen, e.g. `"register"`.
    pub variant: String,
    /// Each timed candidate's best time per run in milliseconds, in the order timed; empty
    /// when the choice was not timed in this process.
    pub timings_ms: Vec<(String, f64)>,
    /// Candidates that failed while being timed, with the error (they were skipped).
    pub skipped: Vec<(String, String)>,
    /// How the choice was made.
    pub source: TuneSource,
}

#[derive(Default)]
struct State {
    choices: HashMap<String, Tuned>,
    spent: Duration,
}

pub(crate) struct Tuner {
    enabled: bool,
    /// The file, and the identity lines it must start with.
    file: Option<(PathBuf, String)>,
    state: Mutex<State>,
}

/// What a tune file belongs to, as two lines: the adapter and driver; the crate version, the
/// hash of every kernel source and whether runtime checks are left out.
fn identity(info: &wgpu::AdapterInfo, unchecked: bool) -> String {
    let adapter = format!(
        "adapter {} | {:?} | {:04x}:{:04x} | {} | {}",
        info.name, info.backend, info.vendor, info.device, info.driver, info.driver_info
    );
    identity_of(&adapter.replace('\n', " "), unchecked)
}

/// [`identity`] from the adapter's line.
fn identity_of(adapter: &str, unchecked: bool) -> String {
    format!(
        "{adapter}\nbuild {} | kernels {:016x} | unchecked {}",
        env!("CARGO_PKG_VERSION"),
        super::registry::sources_hash(),
        u8::from(unchecked)
    )
}

/// FNV-1a: short, stable hashes for file names and source sets.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>, seed: u64) -> u64 {
    bytes.into_iter().fold(seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// FNV-1a's offset basis.
pub(crate) const FNV_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// A file name from the identity lines.
fn file_name(identity: &str) -> String {
    format!("autotune-{:016x}.txt", fnv1a(identity.bytes(), FNV_SEED))
}

impl Tuner {
    pub(crate) fn new(info: &wgpu::AdapterInfo, unchecked: bool) -> Tuner {
        // A web page cannot wait for a timing: there every choice is the rule table's.
        let enabled = !cfg!(target_arch = "wasm32")
            && !std::env::var("WGPU_BACKPROP_AUTOTUNE").is_ok_and(|v| v == "off" || v == "0");
        let id = identity(info, unchecked);
        let file = super::disk_cache::cache_dir().map(|d| (d.join(file_name(&id)), id));
        let mut state = State::default();
        if let Some((path, id)) = file.as_ref().filter(|_| enabled) {
            state.choices = read(path, id);
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

    /// The file choices are kept in, if any.
    pub(crate) fn path(&self) -> Option<&std::path::Path> {
        self.file.as_ref().map(|(p, _)| p.as_path())
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

    /// Records `tuned` unless a choice for its class was made meanwhile (then that one
    /// stands, so every call agrees), persists the timed choices, and returns the variant
    /// chosen.
    pub(crate) fn settle(&self, tuned: Tuned) -> String {
        let mut state = lock(&self.state);
        let persist = tuned.source == TuneSource::Timed;
        let class = tuned.class.clone();
        let entry = state.choices.entry(class).or_insert(tuned);
        let chosen = entry.variant.clone();
        if persist {
            self.persist(&state.choices);
        }
        chosen
    }

    /// Sets `(class, variant)` choices, replacing any, for this process.
    pub(crate) fn pin(&self, choices: &[(String, String)]) {
        let mut state = lock(&self.state);
        for (class, variant) in choices {
            let tuned = Tuned {
                class: class.clone(),
                variant: variant.clone(),
                timings_ms: Vec::new(),
                skipped: Vec::new(),
                source: TuneSource::Pinned,
            };
            state.choices.insert(class.clone(), tuned);
        }
    }

    /// Writes the choices that hold beyond this process (timed, or read from the file).
    fn persist(&self, choices: &HashMap<String, Tuned>) {
        let Some((path, id)) = &self.file else {
            return;
        };
        let mut text = format!("{HEADER}\n{id}\n");
        let mut rows: Vec<_> = choices
            .values()
            .filter(|t| matches!(t.source, TuneSource::Timed | TuneSource::File))
            .collect();
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

/// The choices in `path`, if it is a tune file with the identity lines `id`.
fn read(path: &std::path::Path, id: &str) -> HashMap<String, Tuned> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let Some(body) = text
        .strip_prefix(HEADER)
        .and_then(|t| t.strip_prefix('\n'))
        .and_then(|t| t.strip_prefix(id))
        .and_then(|t| t.strip_prefix('\n'))
    else {
        return HashMap::new();
    };
    body.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(class, variant)| {
            let tuned = Tuned {
                class: class.to_string(),
                variant: variant.to_string(),
                timings_ms: Vec::new(),
                skipped: Vec::new(),
                source: TuneSource::File,
            };
            (class.to_string(), tuned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tune file holds for one adapter and driver, one build, one set of kernel sources and
    /// one unchecked setting: each changes the identity, and so the file read.
    #[test]
    fn the_identity_names_adapter_driver_build_kernels_and_checks() {
        let line = "adapter A | Vulkan | 0001:0002 | 580 | 1.0";
        let base = identity_of(line, false);
        assert_ne!(base, identity_of(&line.replace("580", "581"), false));
        assert_ne!(base, identity_of(line, true));
        assert!(base.contains(env!("CARGO_PKG_VERSION")));
        assert!(base.contains(&format!("{:016x}", super::super::registry::sources_hash())));
        assert_ne!(file_name(&base), file_name(&identity_of(line, true)));
    }
}
