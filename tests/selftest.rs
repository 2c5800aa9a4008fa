//! The self-check users run on their own GPU (`wgpu-backprop selftest`) passes here, in its
//! quick form, on the default device and on one opened with WebGPU's default limits (how a
//! failing row names its case is unit-tested in `src/selftest/mod.rs`).

mod common;
use common::*;
use wgpu_backprop::selftest::{self, Options};
use wgpu_backprop::{Gpu, GpuOptions};

fn assert_passes(gpu: &Gpu) {
    let report = selftest::run(gpu, &Options { quick: true });
    assert!(report.passed(), "{}", report.table());
    assert!(report.rows.len() > 40, "every kernel has its rows");
    assert!(
        report.rows.iter().all(|r| r.cases > 0),
        "{}",
        report.table()
    );
    for kernel in [
        "matmul auto",
        "matmul blocked128",
        "softmax chunked",
        "sum subgroup",
    ] {
        assert!(
            report.rows.iter().any(|r| r.kernel == kernel),
            "{kernel} missing:\n{}",
            report.table()
        );
    }
    let json = report.json();
    assert!(json.starts_with("{\"adapter\":") && json.contains("\"passed\":true"));
}

#[test]
fn the_quick_selftest_passes_on_the_test_adapter() {
    assert_passes(&gpu());
}

#[test]
fn the_quick_selftest_passes_with_webgpu_default_limits() {
    let options = GpuOptions {
        webgpu_limits: true,
        ..GpuOptions::default()
    };
    let gpu = Gpu::with_options(&options).expect("a device with WebGPU's default limits");
    assert_eq!(gpu.limits().max_compute_invocations_per_workgroup, 256);
    assert_eq!(gpu.limits().max_compute_workgroup_storage_size, 16_384);
    assert_passes(&gpu);
}
