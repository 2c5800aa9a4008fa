//! A training run killed with SIGKILL mid-training and resumed from its checkpoint ends with
//! weights bit-identical to a run never stopped (same seed, same adapter). Before, there was
//! no checkpoint: a killed run lost everything.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wgpu_backprop::checkpoint;

const RUN: [&str; 7] = ["train", "--hidden", "24", "--batch", "16", "--seed", "3"];

/// The demo's `train` for 4 epochs (unless `extra` says otherwise).
fn train(extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wgpu-backprop"));
    cmd.args(RUN).args(extra);
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

    // 4 epochs of 90 steps; a checkpoint every 7. Kill it once it is past step 100.
    let mut child = train(&["--checkpoint", arg(&ck), "--checkpoint-every", "7"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo starts");
    let deadline = Instant::now() + Duration::from_secs(300);
    let killed_at = loop {
        assert!(Instant::now() < deadline, "no checkpoint past step 100");
        assert!(
            child.try_wait().expect("child status").is_none(),
            "the run ended before it was killed"
        );
        if let Ok(c) = checkpoint::load(&gpu, &ck) {
            if c.progress.steps > 100 {
                child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
                break c.progress.steps;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let status = child.wait().expect("the killed child is reaped");
    assert!(!status.success(), "the run was killed, not finished");
    let c = checkpoint::load(&gpu, &ck).expect("the last checkpoint is whole");
    assert!(
        c.progress.steps >= killed_at && c.progress.steps < 360,
        "{:?}",
        c.progress
    );

    let out = succeeds(train(&["--resume", arg(&ck), "--save", arg(&resumed)]));
    assert!(out.contains("resumed:"), "{out}");
    let weights = |path: &Path| -> Vec<Vec<u32>> {
        let model = wgpu_backprop::model::Sequential::load(&gpu, path).unwrap();
        let params = wgpu_backprop::Layer::parameters(&model);
        params
            .iter()
            .map(|p| read(p.value).iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    assert!(
        weights(&full) == weights(&resumed),
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
