//! f64 references for the image and normalisation layers: Conv2d (forward, and the
//! gradients with their error scales), max and average pooling, LayerNorm.

/// A convolution's geometry for the references: input [n, c, h, w], `out` filters of c×k×k,
/// stride, zero padding; output [n, out, ho, wo].
#[derive(Clone, Copy, Debug)]
pub struct Conv {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub out: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
}

impl Conv {
    /// (Ho, Wo) = ((H + 2p − k)/s + 1, (W + 2p − k)/s + 1).
    pub fn out_hw(&self) -> (usize, usize) {
        let o = |d: usize| (d + 2 * self.pad - self.k) / self.stride + 1;
        (o(self.h), o(self.w))
    }

    /// The input position (y, x) that output (oh, ow) reads at kernel offset (i, j), if it
    /// is not in the padding.
    fn at(&self, (oh, ow): (usize, usize), (i, j): (usize, usize)) -> Option<(usize, usize)> {
        let y = (oh * self.stride + i).checked_sub(self.pad)?;
        let x = (ow * self.stride + j).checked_sub(self.pad)?;
        (y < self.h && x < self.w).then_some((y, x))
    }

    /// Every term of the convolution's sums that falls inside the input, as [output index,
    /// input index, weight index], in order.
    fn terms(&self) -> Vec<[usize; 3]> {
        let (ho, wo) = self.out_hw();
        let mut terms = Vec::new();
        for n in 0..self.n {
            for o in 0..self.out {
                for oh in 0..ho {
                    for ow in 0..wo {
                        let yi = ((n * self.out + o) * ho + oh) * wo + ow;
                        for c in 0..self.c {
                            for i in 0..self.k {
                                for j in 0..self.k {
                                    if let Some((y, x)) = self.at((oh, ow), (i, j)) {
                                        let xi = ((n * self.c + c) * self.h + y) * self.w + x;
                                        let wi = ((o * self.c + c) * self.k + i) * self.k + j;
                                        terms.push([yi, xi, wi]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        terms
    }
}

/// y = conv2d(x, W) + b (NCHW; W `[out, c, k, k]`; b `[out]`) and the error scale Σ|x||W| + |b|.
pub fn conv2d(g: &Conv, x: &[f64], w: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (ho, wo) = g.out_hw();
    let len = g.n * g.out * ho * wo;
    let plane = ho * wo;
    let mut y: Vec<f64> = (0..len).map(|i| b[(i / plane) % g.out]).collect();
    let mut scale: Vec<f64> = y.iter().map(|v| v.abs()).collect();
    for [yi, xi, wi] in g.terms() {
        y[yi] += x[xi] * w[wi];
        scale[yi] += (x[xi] * w[wi]).abs();
    }
    (y, scale)
}

/// The gradients of [`conv2d`] from dy: (dx, dW, db), each with its error scale (the sum of
/// its terms' magnitudes): ((dx, sx), (dw, sw), (db, sb)).
#[allow(clippy::type_complexity)]
pub fn conv2d_backward(
    g: &Conv,
    x: &[f64],
    w: &[f64],
    dy: &[f64],
) -> (
    (Vec<f64>, Vec<f64>),
    (Vec<f64>, Vec<f64>),
    (Vec<f64>, Vec<f64>),
) {
    let (ho, wo) = g.out_hw();
    let (mut dx, mut sx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let (mut dw, mut sw) = (vec![0.0; w.len()], vec![0.0; w.len()]);
    let (mut db, mut sb) = (vec![0.0; g.out], vec![0.0; g.out]);
    for (yi, d) in dy.iter().enumerate() {
        let o = (yi / (ho * wo)) % g.out;
        db[o] += d;
        sb[o] += d.abs();
    }
    for [yi, xi, wi] in g.terms() {
        dx[xi] += dy[yi] * w[wi];
        sx[xi] += (dy[yi] * w[wi]).abs();
        dw[wi] += dy[yi] * x[xi];
        sw[wi] += (dy[yi] * x[xi]).abs();
    }
    ((dx, sx), (dw, sw), (db, sb))
}

/// Max (`max`) or average pooling of planes [planes, h, w] with k×k windows every `stride`:
/// (y, and for max the window index i·k + j of the first maximum, or of the first NaN).
pub fn pool2d(
    max: bool,
    x: &[f64],
    (planes, h, w): (usize, usize, usize),
    (k, stride): (usize, usize),
) -> (Vec<f64>, Vec<usize>) {
    let (ho, wo) = ((h - k) / stride + 1, (w - k) / stride + 1);
    let (mut y, mut arg) = (Vec::new(), Vec::new());
    for p in 0..planes {
        for oh in 0..ho {
            for ow in 0..wo {
                let at = |l: usize| x[(p * h + oh * stride + l / k) * w + ow * stride + l % k];
                let (mut best, mut best_l, mut sum) = (at(0), 0, 0.0);
                for l in 0..k * k {
                    let v = at(l);
                    sum += v;
                    if !best.is_nan() && (v.is_nan() || v > best) {
                        (best, best_l) = (v, l);
                    }
                }
                y.push(if max { best } else { sum / (k * k) as f64 });
                arg.push(best_l);
            }
        }
    }
    (y, arg)
}

/// dx of [`pool2d`] from dy (and, for max, the window indices it returned).
pub fn pool2d_backward(
    max: bool,
    dy: &[f64],
    arg: &[usize],
    (planes, h, w): (usize, usize, usize),
    (k, stride): (usize, usize),
) -> Vec<f64> {
    let (ho, wo) = ((h - k) / stride + 1, (w - k) / stride + 1);
    let mut dx = vec![0.0; planes * h * w];
    for (o, &d) in dy.iter().enumerate() {
        let (p, oh, ow) = (o / (ho * wo), (o / wo) % ho, o % wo);
        for l in 0..k * k {
            if max && l != arg[o] {
                continue;
            }
            let xi = (p * h + oh * stride + l / k) * w + ow * stride + l % k;
            dx[xi] += if max { d } else { d / (k * k) as f64 };
        }
    }
    dx
}

/// LayerNorm over rows of `n`: y = γ ⊙ (x − μ)/√(σ² + ε) + β per row (two-pass variance).
pub fn layer_norm(x: &[f64], gamma: &[f64], beta: &[f64], eps: f64) -> Vec<f64> {
    let n = gamma.len();
    let mut y = Vec::with_capacity(x.len());
    for row in x.chunks(n) {
        let (mean, r) = row_stats(row, eps);
        y.extend((0..n).map(|j| (row[j] - mean) * r * gamma[j] + beta[j]));
    }
    y
}

/// (μ, 1/√(σ² + ε)) of one row.
fn row_stats(row: &[f64], eps: f64) -> (f64, f64) {
    let n = row.len() as f64;
    let mean = row.iter().sum::<f64>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// (dx, dγ, dβ) of [`layer_norm`] from dy.
pub fn layer_norm_backward(
    x: &[f64],
    gamma: &[f64],
    dy: &[f64],
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = gamma.len();
    let (mut dx, mut dg, mut db) = (Vec::with_capacity(x.len()), vec![0.0; n], vec![0.0; n]);
    for (row, d) in x.chunks(n).zip(dy.chunks(n)) {
        let (mean, r) = row_stats(row, eps);
        let xhat: Vec<f64> = row.iter().map(|v| (v - mean) * r).collect();
        let g: Vec<f64> = (0..n).map(|j| d[j] * gamma[j]).collect();
        let mg = g.iter().sum::<f64>() / n as f64;
        let mgx = g.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f64>() / n as f64;
        dx.extend((0..n).map(|j| r * (g[j] - mg - xhat[j] * mgx)));
        for j in 0..n {
            dg[j] += d[j] * xhat[j];
            db[j] += d[j];
        }
    }
    (dx, dg, db)
}
