//! Plain CPU references in f64 for every GPU op: what the demo compares against, and a
//! readable statement of the maths. Matrices are row-major slices with explicit dimensions.

/// Softmax of each row of x (rows, cols), shifted by the row maximum.
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
