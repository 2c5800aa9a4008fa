//! Attention, fused and unfused, forward and backward, against the f64 reference: T from 1 to
//! 1,024 (the tiles ± 1, primes), D from 1 to 128 (each bucket and its edges), B·H from 1 to
//! 64, every causal row, logits of ±1e4; and misuse as typed errors naming the op.

use crate::common::{assert_close_scaled, gpu, rand_vec, read, upload, Tol};
use wgpu_backprop::ops::{self, AttentionKernel};
use wgpu_backprop::reference;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Error, Gpu};

/// f32 rounding relative to each element's size (|terms| × (1 + |logit|)).
const TOL: Tol = Tol {
    abs: 1e-6,
    rel: 2e-5,
};

fn check(
    gpu: &Gpu,
    (b, h, t, d): (usize, usize, usize, usize),
    causal: bool,
    range: f32,
    seed: u64,
) {
    let mut rng = Rng::new(seed);
    let n = b * h * t * d;
    let shape = [b, h, t, d];
    let (q, k, v, g) = (
        rand_vec(&mut rng, n, -range, range),
        rand_vec(&mut rng, n, -range, range),
        rand_vec(&mut rng, n, -1.0, 1.0),
        rand_vec(&mut rng, n, -1.0, 1.0),
    );
    let want = reference::attention((&q, &k, &v), &g, (b * h, t, d), causal);
    let (qt, kt, vt, gt) = (
        upload(gpu, &q, &shape),
        upload(gpu, &k, &shape),
        upload(gpu, &v, &shape),
        upload(gpu, &g, &shape),
    );
    for kernel in [AttentionKernel::Fused, AttentionKernel::Unfused] {
        let what = format!("{kernel:?} B{b} H{h} T{t} D{d} causal {causal} range {range}");
        let out = ops::attention_with(kernel, &qt, &kt, &vt, causal).expect("attention");
        assert_eq!(out.shape(), &shape);
        assert_close_scaled(
            &format!("{what}: out"),
            &read(&out),
            &want.out,
            &want.out_size,
            TOL,
        );
        let grads = ops::attention_backward_with(kernel, &qt, &kt, &vt, &out, &gt, causal)
            .expect("backward");
        for (i, (got, name)) in [(&grads.0, "dq"), (&grads.1, "dk"), (&grads.2, "dv")]
            .into_iter()
            .enumerate()
        {
            assert_close_scaled(
                &format!("{what}: {name}"),
                &read(got),
                &want.grads[i],
                &want.grad_sizes[i],
                TOL,
            );
        }
    }
}

#[test]
fn lengths_that_break_the_tiles() {
    let gpu = gpu();
    for (i, t) in [1, 2, 7, 15, 16, 17, 31, 33, 63, 64, 65, 97, 129]
        .into_iter()
        .enumerate()
    {
        for causal in [true, false] {
            check(&gpu, (1, 2, t, 32), causal, 2.0, i as u64);
        }
    }
}

#[test]
fn every_head_size() {
    let gpu = gpu();
    for (i, d) in [1, 16, 24, 33, 64, 100, 128].into_iter().enumerate() {
        check(&gpu, (2, 1, 37, d), true, 2.0, 100 + i as u64);
    }
}

#[test]
fn many_heads_and_a_long_sequence() {
    let gpu = gpu();
    check(&gpu, (8, 8, 5, 16), true, 2.0, 7);
    check(&gpu, (1, 1, 1024, 64), true, 1.0, 8);
}

#[test]
fn huge_logits_stay_finite_and_right() {
    // |q·k|/√D up to ~1e4: the online softmax must rescale, not overflow.
    let gpu = gpu();
    check(&gpu, (1, 2, 70, 16), true, 200.0, 11);
    check(&gpu, (1, 1, 33, 64), false, 100.0, 12);
}

#[test]
fn misuse_is_a_typed_error_naming_the_op() {
    let gpu = gpu();
    let q = upload(&gpu, &[0.0; 2 * 3 * 4], &[1, 2, 3, 4]);
    let k = upload(&gpu, &[0.0; 2 * 3 * 5], &[1, 2, 3, 5]);
    let e = ops::attention(&q, &k, &q, true).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ShapeMismatch {
                op: "attention",
                ..
            }
        ),
        "{e}"
    );
    let wide = upload(&gpu, &[0.0; 129], &[1, 1, 1, 129]);
    let e = ops::attention_with(AttentionKernel::Fused, &wide, &wide, &wide, true).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooLarge {
                op: "attention",
                ..
            }
        ),
        "{e}"
    );
    // Auto takes the unfused path where the fused one cannot run.
    assert_eq!(
        ops::attention(&wide, &wide, &wide, true)
            .expect("unfused")
            .shape(),
        &[1, 1, 1, 129]
    );
    let flat = upload(&gpu, &[0.0; 4], &[4]);
    let e = ops::attention(&flat, &flat, &flat, false).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ShapeMismatch {
                op: "attention",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn batched_matmul_every_transpose_and_shared_operands() {
    let gpu = gpu();
    let mut rng = Rng::new(3);
    for (count, m, n, k) in [
        (1, 1, 1, 1),
        (3, 17, 5, 65),
        (2, 64, 64, 64),
        (5, 65, 63, 3),
        (4, 1, 129, 7),
    ] {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            for shared_b in [false, true] {
                let a = rand_vec(&mut rng, count * m * k, -1.0, 1.0);
                let b = rand_vec(
                    &mut rng,
                    if shared_b { k * n } else { count * k * n },
                    -1.0,
                    1.0,
                );
                let a_shape = if ta { [count, k, m] } else { [count, m, k] };
                let b_shape = if tb { vec![n, k] } else { vec![k, n] };
                let b_shape = if shared_b {
                    b_shape
                } else {
                    [vec![count], b_shape].concat()
                };
                let at = upload(&gpu, &a, &a_shape);
                let bt = upload(&gpu, &b, &b_shape);
                let t = |y| {
                    if y {
                        ops::Transpose::Yes
                    } else {
                        ops::Transpose::No
                    }
                };
                let c = ops::gemm(&at, t(ta), &bt, t(tb), None).expect("batched gemm");
                assert_eq!(c.shape(), &[count, m, n]);
                let stride_b = if shared_b { 0 } else { k * n };
                let (want, size) = reference::batched_matmul(
                    (&a, ta, m * k),
                    (&b, tb, stride_b),
                    (count, m, n, k),
                );
                let what =
                    format!("batched {count}x{m}x{n}x{k} ta {ta} tb {tb} shared B {shared_b}");
                assert_close_scaled(&what, &read(&c), &want, &size, crate::common::F32_TOL);
            }
        }
    }
    // Rank 4, and mismatched batches as an error naming the op.
    let a = upload(
        &gpu,
        &rand_vec(&mut rng, 2 * 3 * 4 * 5, -1.0, 1.0),
        &[2, 3, 4, 5],
    );
    let b = upload(
        &gpu,
        &rand_vec(&mut rng, 2 * 3 * 5 * 6, -1.0, 1.0),
        &[2, 3, 5, 6],
    );
    assert_eq!(ops::matmul(&a, &b).expect("rank 4").shape(), &[2, 3, 4, 6]);
    let bad = upload(&gpu, &rand_vec(&mut rng, 3 * 5 * 6, -1.0, 1.0), &[3, 5, 6]);
    let e = ops::matmul(&a, &bad).unwrap_err();
    assert!(
        matches!(e, Error::ShapeMismatch { op: "matmul", .. }),
        "{e}"
    );
}
