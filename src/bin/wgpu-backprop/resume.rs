//! `train --resume DIR` with options left out: they come from the checkpoint's run name (the
//! format `run_name` writes) and its planned epochs; options given stay as given, and if they
//! differ from the checkpoint's the run is refused later, naming both.

use std::path::PathBuf;

use clap::ValueEnum;
use wgpu_backprop::checkpoint::Progress;

use crate::train::{OptimizerKind, TrainArgs, DIGITS_SOURCE};

/// The options of the run a checkpoint holds, by name, from its run name (the `run_name`
/// format: `data=… rows=… dim=… hidden=[…] optimizer=… lr=… momentum=… batch=… seed=…`, then
/// ` model=…` when not the MLP).
fn stored_options(run: &str) -> Vec<(&'static str, &str)> {
    const KEYS: [&str; 10] = [
        "data",
        "rows",
        "dim",
        "hidden",
        "optimizer",
        "lr",
        "momentum",
        "batch",
        "seed",
        "model",
    ];
    let mut starts: Vec<(usize, &'static str)> = KEYS
        .iter()
        .filter_map(|k| match run.strip_prefix(&format!("{k}=")) {
            Some(_) => Some((0, *k)),
            None => run.find(&format!(" {k}=")).map(|i| (i + 1, *k)),
        })
        .collect();
    starts.sort();
    let ends = starts.iter().skip(1).map(|(i, _)| i - 1).chain([run.len()]);
    starts
        .iter()
        .zip(ends)
        .filter_map(|((start, key), end)| Some((*key, run.get(start + key.len() + 1..end)?)))
        .collect()
}

/// `args` with every option the command line left out taken from a checkpoint's progress
/// (its run and planned epochs); given options stay as given (and if they differ from the
/// checkpoint's, the run is refused later, naming both).
pub fn with_stored_options(args: &TrainArgs, progress: &Progress) -> TrainArgs {
    let mut out = args.clone();
    let given = |name: &str| args.given.iter().any(|g| g == name);
    if !given("epochs") && progress.epochs > 0 {
        out.epochs = progress.epochs;
    }
    for (key, value) in stored_options(&progress.run) {
        if given(key) {
            continue;
        }
        match key {
            "data" if value == DIGITS_SOURCE => out.data = None,
            "data" => out.data = Some(PathBuf::from(value)),
            "hidden" => {
                let list = value.trim_start_matches('[').trim_end_matches(']');
                out.hidden = list.split(", ").map(str::to_string).collect();
            }
            "optimizer" => {
                if let Ok(kind) = OptimizerKind::from_str(value, true) {
                    out.optimizer = kind;
                }
            }
            "lr" => out.lr = value.parse().ok().or(out.lr),
            "momentum" => out.momentum = value.parse().unwrap_or(out.momentum),
            "batch" => out.batch = value.parse().ok().or(out.batch),
            "seed" => out.seed = value.parse().unwrap_or(out.seed),
            "model" => out.model = value.to_string(),
            _ => {}
        }
    }
    out
}
