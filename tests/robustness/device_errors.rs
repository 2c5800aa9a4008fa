//! Device errors reach the op and the thread that caused them, typed: a validation error from
//! a deliberately wrong dispatch, a lost device, an allocation past the memory budget, a
//! readback past the timeout. Meanwhile another thread's work on the same `Gpu` stays correct.

use crate::common::*;
use std::sync::{Arc, Barrier};
use wgpu_backprop::ops;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Error, Gpu, Tensor};

/// Work of the user's own that the device rejects: a copy past the end of a 16-byte buffer.
fn bad_copy(gpu: &Gpu) -> Result<(), Error> {
    let buffer = |usage| {
        gpu.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("tiny"),
            size: 16,
            usage,
            mapped_at_creation: false,
        })
    };
    let (src, dst) = (
        buffer(wgpu::BufferUsages::COPY_SRC),
        buffer(wgpu::BufferUsages::COPY_DST),
    );
    gpu.encode("bad copy", |enc| {
        enc.copy_buffer_to_buffer(&src, 0, &dst, 0, 1024)
    })
}

/// A raw dispatch the device rejects: no pipeline set.
fn bad_dispatch(gpu: &Gpu) -> Result<(), Error> {
    gpu.encode("bad dispatch", |enc| {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.dispatch_workgroups(1, 1, 1);
    })
}

/// A matmul checked against the f64 reference; returns the worst error (it must stay small).
fn checked_matmul(gpu: &Gpu, rng: &mut Rng, m: usize, k: usize, n: usize) {
    let a = rand_vec(rng, m * k, -1.0, 1.0);
    let b = rand_vec(rng, k * n, -1.0, 1.0);
    let c = ops::matmul(&upload(gpu, &a, &[m, k]), &upload(gpu, &b, &[k, n]))
        .and_then(|c| c.to_vec())
        .expect("the well-behaved thread never sees the other's error");
    assert_matmul_close("matmul", &c, &a, &b, [m, k, n]);
}

/// Before error scopes, one process-wide list held every device error and whichever thread
/// checked next took it: the bad thread could get `Ok` and the good one its `Err`.
#[test]
fn a_validation_error_is_the_erring_threads_and_ops_own() {
    let gpu = gpu();
    let start = Arc::new(Barrier::new(2));
    let good = {
        let (gpu, start) = (gpu.clone(), start.clone());
        std::thread::spawn(move || {
            let mut rng = Rng::new(3);
            start.wait();
            for i in 0..40 {
                checked_matmul(&gpu, &mut rng, 17 + i, 33, 9);
            }
        })
    };
    start.wait();
    for i in 0..40 {
        let (op, got) = if i % 2 == 0 {
            ("bad copy", bad_copy(&gpu))
        } else {
            ("bad dispatch", bad_dispatch(&gpu))
        };
        match got {
            Err(Error::Validation {
                op: blamed,
                message,
            }) => {
                assert_eq!(blamed, op);
                assert!(!message.is_empty());
            }
            other => panic!("expected {op}'s own validation error, got {other:?}"),
        }
    }
    good.join()
        .expect("the good thread's results were all right");
    // Nothing of the bad work was queued and nothing is left over for later calls.
    let x = upload(&gpu, &[1.0, -1.0], &[2]);
    assert_eq!(read(&ops::relu_forward(&x).unwrap()), vec![1.0, 0.0]);
}

/// An error raised on the raw device outside any of the crate's calls belongs to the thread
/// that raised it: its next call reports it; another thread never sees it.
#[test]
fn an_uncaptured_error_stays_with_its_thread() {
    let gpu = own_gpu();
    let raw = {
        let gpu = gpu.clone();
        std::thread::spawn(move || {
            // A buffer larger than the device allows: a validation error outside any scope.
            let _ = gpu.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("too big"),
                size: gpu.limits().max_buffer_size.saturating_add(1 << 20),
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            });
            Tensor::zeros(&gpu, &[4]).map(|_| ())
        })
    };
    let e = raw.join().expect("no panic").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Validation {
                op: "Tensor::zeros",
                ..
            }
        ),
        "{e}"
    );
    // This thread was not involved: its calls are clean.
    let t = Tensor::from_slice(&gpu, &[2.0, 3.0], &[2]).unwrap();
    assert_eq!(read(&t), vec![2.0, 3.0]);
}

/// Before, a lost device was one message in the shared list, cleared by the first check.
#[test]
fn a_lost_device_is_reported_and_sticky() {
    let gpu = own_gpu();
    let x = Tensor::from_slice(&gpu, &[1.0, 2.0], &[2]).unwrap();
    assert!(!gpu.is_lost());
    gpu.device().destroy();
    let first = x.to_vec().unwrap_err();
    assert!(
        matches!(
            first,
            Error::DeviceLost {
                op: "Tensor::to_vec",
                ..
            }
        ),
        "{first}"
    );
    assert!(gpu.is_lost());
    for e in [
        Tensor::zeros(&gpu, &[3]).map(|_| ()).unwrap_err(),
        ops::relu_forward(&x).map(|_| ()).unwrap_err(),
        gpu.synchronize().unwrap_err(),
        x.to_vec().map(|_| ()).unwrap_err(),
    ] {
        assert!(matches!(e, Error::DeviceLost { .. }), "{e}");
    }
}

/// Past the budget an allocation is `Err(OutOfMemory)` naming the op; idle pooled buffers are
/// released before that, so a budget filled by dropped tensors still allows new ones.
#[test]
fn allocations_past_the_budget_fail_after_releasing_idle_buffers() {
    let gpu = own_gpu();
    gpu.set_memory_budget(Some(1 << 20));
    assert_eq!(gpu.memory_budget(), Some(1 << 20));
    // 192 KiB each: five fit in 1 MiB, the sixth does not.
    let shape = [192 * 1024 / 4];
    let held: Vec<Tensor> = (0..5)
        .map(|_| Tensor::zeros(&gpu, &shape).unwrap())
        .collect();
    let e = Tensor::zeros(&gpu, &shape).unwrap_err();
    match &e {
        Error::OutOfMemory { op, message } => {
            assert_eq!(*op, "Tensor::zeros");
            assert!(message.contains("budget"), "{message}");
        }
        other => panic!("expected OutOfMemory, got {other}"),
    }
    drop(held);
    assert!(gpu.memory_stats().pooled_bytes > 0);
    // Another size class: only fits once the idle buffers are released.
    let big = Tensor::zeros(&gpu, &[900 * 1024 / 4]).expect("idle buffers were released");
    assert_eq!(gpu.memory_stats().pooled_bytes, 0);
    assert_eq!(read(&big.reshape(&[big.len()]).unwrap())[0], 0.0);
    gpu.set_memory_budget(None);
    Tensor::zeros(&gpu, &shape).unwrap();
}

/// Before, a readback waited for all work with no limit. Now it waits for its own submission
/// up to the timeout, and a wait past it is an error naming the op; the `Gpu` stays usable
/// after. Whether real work outlasts a real timeout depends on the device's speed, so the
/// timeout is injected: the wait fails as a real one would, with the work still under way.
#[test]
fn a_readback_past_the_timeout_is_an_error_naming_the_op() {
    let gpu = own_gpu();
    let mut rng = Rng::new(5);
    let n = 256;
    let values = rand_vec(&mut rng, n * n, -1.0, 1.0);
    let a = upload(&gpu, &values, &[n, n]);
    let c = ops::matmul(&a, &a).unwrap();
    gpu.inject_timeouts(1);
    let e = c.to_vec().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                op: "Tensor::to_vec",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("Tensor::to_vec"), "{e}");
    // The same tensor reads back right, and so does new work.
    let got = c.to_vec().unwrap();
    assert_matmul_close("after a timeout", &got, &values, &values, [n, n, n]);
    gpu.inject_timeouts(1);
    let e = gpu.synchronize().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                op: "Gpu::synchronize",
                ..
            }
        ),
        "{e}"
    );
    gpu.synchronize().unwrap();
}

/// Dispatches are validated when their window is submitted (one shared pass per window): a
/// rejected one is named in the submitting call's `Err`, and the rest of its window still runs,
/// in order, with right results.
#[test]
fn a_rejected_dispatch_in_a_window_is_named_and_the_rest_runs() {
    let gpu = own_gpu();
    let mut rng = Rng::new(8);
    let (m, k, n) = (33, 17, 9);
    let a = rand_vec(&mut rng, m * k, -1.0, 1.0);
    let b = rand_vec(&mut rng, k * n, -1.0, 1.0);
    let (ta, tb) = (upload(&gpu, &a, &[m, k]), upload(&gpu, &b, &[k, n]));
    let before = ops::matmul(&ta, &tb).unwrap();
    gpu.record_rejected_dispatch("rejected op").unwrap();
    let after = ops::relu_forward(&ops::matmul(&ta, &tb).unwrap()).unwrap();
    match gpu.flush() {
        Err(Error::Validation { op, message }) => {
            assert_eq!(op, "rejected op", "{message}");
        }
        other => panic!("expected the rejected op's validation error, got {other:?}"),
    }
    assert_matmul_close("before", &read(&before), &a, &b, [m, k, n]);
    use wgpu_backprop::reference::{matmul, relu};
    let want = relu(&matmul(&a, &b, m, k, n));
    let abs = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.abs()).collect() };
    let scale = matmul(&abs(&a), &abs(&b), m, k, n); // bounds each dot product's rounding
    let tol = Tol {
        abs: 1e-30,
        rel: 1e-5,
    };
    assert_close_scaled("after", &read(&after), &want, &scale, tol);
    // The next window is clean.
    assert_matmul_close(
        "again",
        &read(&ops::matmul(&ta, &tb).unwrap()),
        &a,
        &b,
        [m, k, n],
    );
}
