//! A training run killed mid-training (it aborts itself at a chosen step, as `kill -9` would
//! stop it: nothing flushed) and resumed from its checkpoint ends with weights bit-identical to
//! a run never stopped (same seed, same adapter). The runs here keep the static kernel choices
//! (`WGPU_BACKPROP_AUTOTUNE=off`), so that separate processes agree whatever a clock says.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use wgpu_backprop::checkpoint;
use wgpu_backprop::Layer;

const RUN: [&str; 7] = ["train", "--hidden", "24", "--batch", "16", "--seed", "3"];

/// The demo's `train` for 4 epochs (unless `extra` says otherwise).
fn train(extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wgpu-backprop"));
    cmd.args(RUN)
        .args(extra)
        .env("WGPU_BACKPROP_AUTOTUNE", "off");
    if !extra.contains(&"--epochs") {
        cmd.args(["--epochs", "4"]);
    }
    cmd
}

fn arg(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wgpu-backprop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A saved model's parameters, bit for bit.
fn weights(gpu: &wgpu_backprop::Gpu, path: &Path) -> Vec<Vec<u32>> {
    let model = wgpu_backprop::model::Sequential::load(gpu, path).unwrap();
    let params = wgpu_backprop::Layer::parameters(&model);
    params
        .iter()
        .map(|p| read(p.value).iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn succeeds(mut cmd: Command) -> String {
    let out = cmd.output().expect("the demo runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn a_run_killed_mid_training_resumes_to_the_same_weights() {
    let gpu = gpu();
    let dir = scratch("checkpoint");
    let (full, resumed, ck) = (
        dir.join("full.safetensors"),
        dir.join("resumed.safetensors"),
        dir.join("ck"),
    );
    succeeds(train(&["--save", arg(&full)]));

    // 4 epochs of 90 steps; a checkpoint every 7. The run aborts itself (no cleanup, as
    // `kill -9`) after step 103, mid-epoch, five steps past its last checkpoint (98): a
    // chosen step, so nothing here depends on how fast the machine trains.
    let out = train(&[
        "--checkpoint",
        arg(&ck),
        "--checkpoint-every",
        "7",
        "--abort-after-steps",
        "103",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .expect("the demo starts");
    assert!(!out.success(), "the run was aborted, not finished");
    let c = checkpoint::load(&gpu, &ck).expect("the last checkpoint is whole");
    assert_eq!(
        (c.progress.steps, c.progress.epoch, c.progress.step),
        (98, 1, 8)
    );

    let out = succeeds(train(&["--resume", arg(&ck), "--save", arg(&resumed)]));
    assert!(out.contains("resumed:"), "{out}");
    assert!(
        weights(&gpu, &full) == weights(&gpu, &resumed),
        "the resumed run's weights differ from the uninterrupted run's"
    );

    // Another run's options are refused, naming both.
    let out = train(&["--resume", arg(&ck), "--lr", "0.5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("another run"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_checkpoint_is_a_model_file_and_a_model_file_is_no_checkpoint() {
    let gpu = gpu();
    let dir = scratch("checkpoint-model");
    let ck = dir.join("ck");
    succeeds(train(&["--epochs", "1", "--checkpoint", arg(&ck)]));
    let model = wgpu_backprop::model::Sequential::load(&gpu, &checkpoint::path(&ck)).unwrap();
    assert_eq!(model.len(), 3);
    let c = checkpoint::load(&gpu, &ck).unwrap();
    assert_eq!((c.progress.epoch, c.progress.step), (1, 0));
    assert_eq!(c.optimizer.kind, "adam");
    assert_eq!(c.optimizer.tensors.len(), 8, "m and v of 4 parameters");
    let plain = dir.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    model.save(&checkpoint::path(&plain)).unwrap();
    let e = checkpoint::load(&gpu, &plain).unwrap_err();
    assert!(e.to_string().contains("not a checkpoint"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same for a CNN with dropout: its masks follow the optimizer step, so the resumed run
/// draws what the uninterrupted one did, and the weights agree bit for bit.
#[test]
fn a_cnn_with_dropout_killed_mid_training_resumes_to_the_same_weights() {
    let gpu = gpu();
    let dir = scratch("checkpoint-cnn");
    let (full, resumed, ck) = (
        dir.join("full.safetensors"),
        dir.join("resumed.safetensors"),
        dir.join("ck"),
    );
    let cnn = [
        "--model",
        "conv2d(1,4,3,1,1),relu,maxpool2d(2),flatten,dropout(0.3),linear(64,10)",
        "--epochs",
        "2",
    ];
    succeeds(train(&[&cnn[..], &["--save", arg(&full)]].concat()));
    // 2 epochs of 90 steps; checkpoints every 20; aborted after step 125, five past 120.
    let abort = [
        "--checkpoint",
        arg(&ck),
        "--checkpoint-every",
        "20",
        "--abort-after-steps",
        "125",
    ];
    let out = train(&[&cnn[..], &abort[..]].concat())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the demo starts");
    assert!(!out.success(), "the run was aborted, not finished");
    let c = checkpoint::load(&gpu, &ck).expect("the last checkpoint is whole");
    assert_eq!((c.progress.steps, c.progress.epoch), (120, 1));
    // `--resume DIR` alone: every other option (the model, epochs, batch, seed…) comes from
    // the checkpoint.
    let mut alone = Command::new(env!("CARGO_BIN_EXE_wgpu-backprop"));
    alone
        .args(["train", "--resume", arg(&ck), "--save", arg(&resumed)])
        .env("WGPU_BACKPROP_AUTOTUNE", "off");
    let out = succeeds(alone);
    assert!(
        out.contains("resumed:") && out.contains("dropout(0.3"),
        "{out}"
    );
    let model = wgpu_backprop::model::Sequential::load(&gpu, &resumed).unwrap();
    assert!(
        model.config().starts_with("conv2d(1,4,3,1,1)"),
        "{}",
        model.config()
    );
    assert!(
        weights(&gpu, &full) == weights(&gpu, &resumed),
        "the resumed CNN's weights differ from the uninterrupted run's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
