//! Plain CPU references in f64 for every GPU op, loss and optimizer step: what the self-check,
//! the demo and every test compare against (the one copy), and a readable statement of the
//! maths. Matrices are row-major slices with explicit dimensions.

/// Softmax of each row of x (rows, cols), shifted by the row maximum. A NaN or +inf in a row
/// makes the row NaN, -inf gives 0, a row of -inf only is NaN (the arithmetic does it).
pub fn softmax(x: &[f64], cols: usize) -> Vec<f64> {
    let mut y = Vec::with_capacity(x.len());
    for row in x.chunks(cols) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        y.extend(e.iter().map(|v| v / s));
    }
    y
}

/// dL/dx = y ⊙ (g − ⟨g, y⟩) per row.
pub fn softmax_backward(y: &[f64], g: &[f64], cols: usize) -> Vec<f64> {
    let mut dx = Vec::with_capacity(y.len());
    for (yr, gr) in y.chunks(cols).zip(g.chunks(cols)) {
        let d: f64 = yr.iter().zip(gr).map(|(a, b)| a * b).sum();
        dx.extend(yr.iter().zip(gr).map(|(yv, gv)| yv * (gv - d)));
    }
    dx
}

/// max(x, 0), keeping NaN.
pub fn relu(x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| if v <= 0.0 { 0.0 } else { v }).collect()
}

/// g where x > 0, else 0.
pub fn relu_backward(x: &[f64], g: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(g)
        .map(|(&xv, &gv)| if xv > 0.0 { gv } else { 0.0 })
        .collect()
}

/// C (m, n) = A (m, k) · B (k, n).
pub fn matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let av = a[i * k + p];
            for j in 0..n {
                c[i * n + j] += av * b[p * n + j];
            }
        }
    }
    c
}

/// The transpose of a (rows, cols) matrix.
pub fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut t = vec![0.0; a.len()];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = a[i * cols + j];
        }
    }
    t
}

/// Y = X·W + b for X (batch, k), W (k, n), b `[n]`.
pub fn linear(x: &[f64], w: &[f64], b: &[f64], k: usize, n: usize) -> Vec<f64> {
    let batch = x.len() / k;
    let mut y = matmul(x, w, batch, k, n);
    for row in y.chunks_mut(n) {
        row.iter_mut().zip(b).for_each(|(v, bv)| *v += bv);
    }
    y
}

/// (dX, dW, db) of Y = X·W + b given dY.
pub fn linear_backward(
    x: &[f64],
    w: &[f64],
    dy: &[f64],
    k: usize,
    n: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let batch = x.len() / k;
    let dx = matmul(dy, &transpose(w, k, n), batch, n, k);
    let dw = matmul(&transpose(x, batch, k), dy, k, batch, n);
    let mut db = vec![0.0; n];
    for row in dy.chunks(n) {
        db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    (dx, dw, db)
}

/// Widens f32 data for the references.
pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// max |a − b| over two equal-length slices (NaN if any difference is NaN).
pub fn max_abs_diff(a: &[f32], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).abs())
        .fold(0.0, |m, d| {
            if d.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(d)
            }
        })
}

/// x · s, but 0 where s is 0: the limit of x σ(x) at x = -inf (not -inf · 0 = NaN).
pub fn times(x: f64, s: f64) -> f64 {
    if s == 0.0 {
        0.0
    } else {
        x * s
    }
}

/// The logistic function 1 / (1 + e^-x), without overflow for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// erfc(x) = 1 - erf(x) with full f64 precision relative to its value (so the tails are exact
/// too): its Taylor series for |x| < 2.5, its continued fraction (Lentz) beyond.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.is_infinite() {
        return if x > 0.0 { 0.0 } else { 2.0 };
    }
    let a = x.abs();
    let tail = if a < 2.5 {
        // erf by its series Σ (-1)^n x^(2n+1) / (n! (2n+1)) · 2/√π.
        let (mut term, mut sum, mut n) = (a, a, 0.0);
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -a * a / n;
            sum += term / (2.0 * n + 1.0);
        }
        1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        // erfc(a) = e^(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …)))).
        let tiny = 1e-300;
        let (mut f, mut c, mut d) = (a, a, 0.0);
        for k in 1..200 {
            let t = k as f64 * 0.5;
            d = a + t * d;
            d = if d.abs() < tiny { tiny } else { d };
            c = a + t / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-a * a).exp() / (f * std::f64::consts::PI.sqrt())
    };
    if x >= 0.0 {
        tail
    } else {
        2.0 - tail
    }
}

/// Φ(x), the standard normal distribution's CDF, accurate in both tails.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// φ(x), the standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// GELU's tanh approximation and its derivative at x: with u = √(2/π)(x + 0.044715 x³),
/// x/2 (1 + tanh u) = x σ(2u), and its derivative σ(2u) + 2x σ(2u) σ(-2u) u'.
pub fn gelu_tanh(x: f64) -> (f64, f64) {
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let k = 0.044715;
    let u2 = 2.0 * c * (x + k * x * x * x);
    let s = sigmoid(u2);
    let y = times(x, s);
    let dy = s + times(2.0 * x * c * (1.0 + 3.0 * k * x * x), s * sigmoid(-u2));
    (y, dy)
}

/// (mean loss, dL/dz) of softmax cross-entropy over rows of `classes` logits, `labels` one per
/// row; the log-sum-exp shifted by the row's maximum. A NaN or +inf logit, or a row of -inf
/// only, makes the loss and that row's gradient NaN (the arithmetic does it).
pub fn cross_entropy(z: &[f64], labels: &[u32], classes: usize) -> (f64, Vec<f64>) {
    let b = labels.len() as f64;
    let mut loss = 0.0;
    let mut grad = Vec::with_capacity(z.len());
    for (row, &l) in z.chunks(classes).zip(labels) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        // (m − z_label) first: near f32::MAX, m + ln s would round ln s away even in f64.
        loss += ((m - row[l as usize]) + s.ln()) / b;
        let onehot = |j: usize| if j == l as usize { 1.0 } else { 0.0 };
        grad.extend(
            row.iter()
                .enumerate()
                .map(|(j, v)| ((v - m).exp() / s - onehot(j)) / b),
        );
    }
    (loss, grad)
}

/// (mean of (y − t)², its gradient 2(y − t)/n).
pub fn mse(y: &[f64], t: &[f64]) -> (f64, Vec<f64>) {
    let n = y.len() as f64;
    let loss = y.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n;
    let grad = y.iter().zip(t).map(|(a, b)| 2.0 * (a - b) / n).collect();
    (loss, grad)
}

/// One SGD step with momentum, in place: v ← μv + g, θ ← θ − lr·v.
pub fn sgd_step(theta: &mut [f64], g: &[f64], v: &mut [f64], (lr, mu): (f64, f64)) {
    for i in 0..theta.len() {
        v[i] = mu * v[i] + g[i];
        theta[i] -= lr * v[i];
    }
}

/// Adam's step `t` (from 1), in place: m, v the moving moments; bias-corrected.
pub fn adam_step(
    theta: &mut [f64],
    g: &[f64],
    (m, v): (&mut [f64], &mut [f64]),
    t: i32,
    (lr, b1, b2, eps): (f64, f64, f64, f64),
) {
    for i in 0..theta.len() {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        let (mh, vh) = (m[i] / (1.0 - b1.powi(t)), v[i] / (1.0 - b2.powi(t)));
        theta[i] -= lr * mh / (vh.sqrt() + eps);
    }
}

mod attention;
mod images;
pub use attention::*;
pub use images::*;
