//! Attention in f64, head by head (q, k, v `[BH, T, D]` flattened), with the sizes that bound
//! an f32 computation's rounding, for tests and the self-check.

/// What the reference computes for one attention call: the output and the gradients for a
/// given dO, each with a per-element size that bounds the f32 rounding (|terms| summed, times
/// 1 + the largest |logit| of the row: a logit's own rounding moves its probability by that
/// relative amount).
#[derive(Debug, Clone)]
pub struct AttentionRef {
    /// softmax(scale · q kᵀ (masked)) v.
    pub out: Vec<f64>,
    /// dL/dq, dL/dk, dL/dv.
    pub grads: [Vec<f64>; 3],
    /// Rounding sizes of `out`.
    pub out_size: Vec<f64>,
    /// Rounding sizes of the gradients.
    pub grad_sizes: [Vec<f64>; 3],
}

/// Attention forward and backward for `bh` heads of `t` × `d`, causal or not.
pub fn attention(
    (q, k, v): (&[f64], &[f64], &[f64]),
    d_out: &[f64],
    (bh, t, d): (usize, usize, usize),
    causal: bool,
) -> AttentionRef {
    let n = bh * t * d;
    let mut r = AttentionRef {
        out: vec![0.0; n],
        grads: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
        out_size: vec![0.0; n],
        grad_sizes: [vec![0.0; n], vec![0.0; n], vec![0.0; n]],
    };
    let scale = 1.0 / (d as f64).sqrt();
    for h in 0..bh {
        let at = |x: &[f64], i: usize, c: usize| x[h * t * d + i * d + c];
        for i in 0..t {
            let seen = if causal { i + 1 } else { t };
            let s: Vec<f64> = (0..seen)
                .map(|j| (0..d).map(|c| at(q, i, c) * at(k, j, c)).sum::<f64>() * scale)
                .collect();
            let size: f64 = 1.0
                + (0..seen)
                    .map(|j| {
                        (0..d)
                            .map(|c| (at(q, i, c) * at(k, j, c)).abs())
                            .sum::<f64>()
                            * scale
                    })
                    .fold(0.0, f64::max);
            let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
            let total: f64 = e.iter().sum();
            let p: Vec<f64> = e.iter().map(|x| x / total).collect();
            let row = h * t * d + i * d;
            for c in 0..d {
                r.out[row + c] = (0..seen).map(|j| p[j] * at(v, j, c)).sum();
                r.out_size[row + c] =
                    size * (0..seen).map(|j| p[j] * at(v, j, c).abs()).sum::<f64>();
            }
            let dp: Vec<f64> = (0..seen)
                .map(|j| (0..d).map(|c| at(d_out, i, c) * at(v, j, c)).sum())
                .collect();
            let delta: f64 = (0..seen).map(|j| p[j] * dp[j]).sum();
            let delta_size: f64 = (0..d)
                .map(|c| (at(d_out, i, c) * r.out[row + c]).abs())
                .sum();
            for j in 0..seen {
                let ds = p[j] * (dp[j] - delta);
                let ds_size = size * p[j] * (dp[j].abs() + delta_size + 1e-30);
                let key = h * t * d + j * d;
                for c in 0..d {
                    r.grads[0][row + c] += scale * ds * at(k, j, c);
                    r.grad_sizes[0][row + c] += scale * ds_size * at(k, j, c).abs();
                    r.grads[1][key + c] += scale * ds * at(q, i, c);
                    r.grad_sizes[1][key + c] += scale * ds_size * at(q, i, c).abs();
                    r.grads[2][key + c] += p[j] * at(d_out, i, c);
                    r.grad_sizes[2][key + c] += size * p[j] * at(d_out, i, c).abs();
                }
            }
        }
    }
    r
}

/// `count` products op(A)·op(B) of (M, K)·(K, N), A and B `stride_a`, `stride_b` elements
/// apart (0: shared), C's M·N apart; `ta`/`tb`: stored transposed. Returns C and Σ|a||b| per
/// element (the rounding's size).
pub fn batched_matmul(
    (a, ta, stride_a): (&[f64], bool, usize),
    (b, tb, stride_b): (&[f64], bool, usize),
    (count, m, n, k): (usize, usize, usize, usize),
) -> (Vec<f64>, Vec<f64>) {
    let mut c = vec![0.0; count * m * n];
    let mut size = vec![0.0; count * m * n];
    for z in 0..count {
        for i in 0..m {
            for j in 0..n {
                let (mut sum, mut abs) = (0.0, 0.0);
                for kk in 0..k {
                    let x = a[z * stride_a + if ta { kk * m + i } else { i * k + kk }];
                    let y = b[z * stride_b + if tb { j * k + kk } else { kk * n + j }];
                    sum += x * y;
                    abs += (x * y).abs();
                }
                c[z * m * n + i * n + j] = sum;
                size[z * m * n + i * n + j] = abs;
            }
        }
    }
    (c, size)
}
