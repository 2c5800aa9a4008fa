//! The row-wise and element-wise rows of the self-check: softmax forward and backward on every
//! row kernel (rows of 1, 31, 33, 1,024, 16,385 and 1,000,000, with large and constant rows),
//! column sums and `sum_all` in every form (integers: exact), and ReLU over NaN, ±0, ±inf,
//! subnormals and the largest floats (exact, NaN kept).

use super::{floats, integers, Family, Options, Row, Rows, Tol, EXACT};
use crate::gpu::Gpu;
use crate::ops::{self, RowKernel, SumKernel};
use crate::reference;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// exp and the division carry a few ulps each; values that underflow are within `abs`.
const SOFTMAX_TOL: Tol = Tol {
    abs: 1e-12,
    rel: 1e-5,
};
/// The backward, relative to y·(|g| + Σ|g·y|), the size of its terms.
const SOFTMAX_BACKWARD_TOL: Tol = Tol {
    abs: 1e-12,
    rel: 3e-5,
};

pub(super) async fn run(gpu: &Gpu, options: &Options, rows: &mut Rows<'_>) {
    softmax(gpu, options, rows).await;
    sums(gpu, options, rows).await;
    rows.push(relu(gpu, options).await);
}

/// Every softmax row kernel, and `Auto`.
pub(super) const ROW_KERNELS: [RowKernel; 6] = [
    RowKernel::Auto,
    RowKernel::PerWorkgroup,
    RowKernel::PerInvocation,
    RowKernel::Registers,
    RowKernel::Chunked,
    RowKernel::Subgroup,
];

/// Row lengths, and how many rows of each.
fn softmax_shapes(quick: bool) -> Vec<(usize, usize)> {
    let mut shapes = vec![(5, 1), (5, 31), (5, 33), (4, 1024)];
    if !quick {
        shapes.extend([(3, 16_385), (2, 1_000_000)]);
    }
    shapes
}

/// A batch of rows: random in [-5, 5), the first row in [-1000, 1000) (exp overflows unless
/// the maximum is taken out), the last constant.
fn softmax_input(rng: &mut Rng, rows: usize, cols: usize) -> (Vec<f32>, Vec<f64>) {
    let (mut x, _) = floats(rng, rows * cols, -5.0, 5.0);
    for v in &mut x[..cols] {
        *v *= 200.0;
    }
    if rows > 1 {
        x[(rows - 1) * cols..].fill(2.5);
    }
    let x64 = x.iter().map(|&v| f64::from(v)).collect();
    (x, x64)
}

async fn softmax(gpu: &Gpu, options: &Options, out: &mut Rows<'_>) {
    let mut rng = Rng::new(23);
    let data: Vec<_> = softmax_shapes(options.quick)
        .into_iter()
        .map(|(rows, cols)| {
            let (x, _) = softmax_input(&mut rng, rows, cols);
            SoftmaxData::new(&mut rng, x, cols)
        })
        .collect();
    for kernel in ROW_KERNELS {
        let name = format!("softmax {kernel:?}").to_lowercase();
        let mut forward = Family::new(&name, "forward: rows 1..1e6, large, constant");
        let mut backward = Family::new(&name, "backward: the same rows");
        for d in &data {
            let case = format!("{}x{}", d.shape[0], d.shape[1]);
            softmax_forward_case(gpu, kernel, d, &mut forward, &case).await;
            softmax_backward_case(gpu, kernel, d, &mut backward, &case).await;
        }
        out.extend([forward.done(), backward.done()]);
    }
}

/// A softmax case: the input, dL/dy, and the reference's y, dx and the backward's scale.
pub(super) struct SoftmaxData {
    pub shape: [usize; 2],
    x: Vec<f32>,
    g: Vec<f32>,
    y64: Vec<f64>,
    dx64: Vec<f64>,
    scale: Vec<f64>,
}

impl SoftmaxData {
    /// Rows of `cols` from `x`, with a random dL/dy in [-1, 1).
    pub(super) fn new(rng: &mut Rng, x: Vec<f32>, cols: usize) -> SoftmaxData {
        let y64 = reference::softmax(&reference::to_f64(&x), cols);
        let (g, g64) = floats(rng, x.len(), -1.0, 1.0);
        let dx64 = reference::softmax_backward(&y64, &g64, cols);
        let scale = backward_scale(&y64, &g64, cols);
        SoftmaxData {
            shape: [x.len() / cols, cols],
            x,
            g,
            y64,
            dx64,
            scale,
        }
    }
}

/// The forward of `d` on `kernel`, checked into `f` as `case`.
pub(super) async fn softmax_forward_case(
    gpu: &Gpu,
    kernel: RowKernel,
    d: &SoftmaxData,
    f: &mut Family,
    case: &str,
) {
    let y = f
        .time(async {
            let x = Tensor::from_slice(gpu, &d.x, &d.shape)?;
            ops::softmax_forward_with(kernel, &x)?.read().await
        })
        .await;
    f.check(case, y, &d.y64, None, SOFTMAX_TOL);
}

/// The backward of `d` from the reference y (rounded to f32: it is checked alone).
pub(super) async fn softmax_backward_case(
    gpu: &Gpu,
    kernel: RowKernel,
    d: &SoftmaxData,
    f: &mut Family,
    case: &str,
) {
    let y32: Vec<f32> = d.y64.iter().map(|&v| v as f32).collect();
    let dx = f
        .time(async {
            let y = Tensor::from_slice(gpu, &y32, &d.shape)?;
            let g = Tensor::from_slice(gpu, &d.g, &d.shape)?;
            ops::softmax_backward_with(kernel, &y, &g)?.read().await
        })
        .await;
    f.check(case, dx, &d.dx64, Some(&d.scale), SOFTMAX_BACKWARD_TOL);
}

/// y·(|g| + Σ|g·y|) per element: what bounds the backward's rounding.
fn backward_scale(y: &[f64], g: &[f64], cols: usize) -> Vec<f64> {
    let mut scale = Vec::with_capacity(y.len());
    for (yr, gr) in y.chunks(cols).zip(g.chunks(cols)) {
        let dot: f64 = yr.iter().zip(gr).map(|(a, b)| (a * b).abs()).sum();
        scale.extend(yr.iter().zip(gr).map(|(yv, gv)| yv * (gv.abs() + dot)));
    }
    scale
}

async fn sums(gpu: &Gpu, options: &Options, out: &mut Rows<'_>) {
    let kernels = [
        SumKernel::Auto,
        SumKernel::Columns,
        SumKernel::Tree,
        SumKernel::Subgroup,
    ];
    let mut columns = vec![(1, 1), (3, 17), (1031, 5), (64, 257)];
    let mut totals = vec![1, 3, 4095, 4097, 65_537];
    if !options.quick {
        columns.extend([(16_385, 3), (100_000, 7)]);
        totals.push(1_000_000);
    }
    let mut rng = Rng::new(31);
    for kernel in kernels {
        let name = format!("sum {kernel:?}").to_lowercase();
        let mut col = Family::new(&name, "column_sum (exact)");
        for &(r, c) in &columns {
            let (x, x64) = integers(&mut rng, r * c, 8);
            let mut want = vec![0.0; c];
            for row in x64.chunks(c) {
                want.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
            let got = col
                .time(async {
                    let t = Tensor::from_slice(gpu, &x, &[r, c])?;
                    ops::column_sum_with(kernel, &t)?.read().await
                })
                .await;
            col.check(&format!("{r}x{c}"), got, &want, None, EXACT);
        }
        let mut all = Family::new(&name, "sum_all (exact)");
        for &n in &totals {
            let (x, x64) = integers(&mut rng, n, 8);
            let got = all
                .time(async {
                    let t = Tensor::from_slice(gpu, &x, &[n])?;
                    ops::sum_all_with(kernel, &t)?.read().await
                })
                .await;
            all.check(&format!("{n}"), got, &[x64.iter().sum()], None, EXACT);
        }
        out.extend([col.done(), all.done()]);
    }
}

/// ReLU forward and backward, exact, over the values IEEE makes awkward.
async fn relu(gpu: &Gpu, options: &Options) -> Row {
    let special = [
        f32::NAN,
        -f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        0.0,
        -0.0,
        f32::MIN_POSITIVE / 4.0,
        -f32::MIN_POSITIVE / 4.0,
        f32::MAX,
        f32::MIN,
        1.5,
        -1.5,
    ];
    let mut lengths = vec![1, 3, 4, 5, 12, 1023, 1025];
    if !options.quick {
        lengths.push(100_003);
    }
    let mut rng = Rng::new(37);
    let mut f = Family::new("relu", "forward+backward: NaN, +-0, +-inf (exact)");
    for n in lengths {
        let (mut x, _) = floats(&mut rng, n, -2.0, 2.0);
        for (v, s) in x.iter_mut().zip(special.iter().cycle().skip(n % 7)) {
            if rng.below(2) == 0 {
                *v = *s;
            }
        }
        let (mut g, _) = floats(&mut rng, n, -1.0, 1.0);
        g[0] = f32::NAN; // masked where x ≤ 0, propagated where x > 0
        let (x64, g64) = (reference::to_f64(&x), reference::to_f64(&g));
        let y = f
            .time(async {
                ops::relu_forward(&Tensor::from_slice(gpu, &x, &[n])?)?
                    .read()
                    .await
            })
            .await;
        f.check(
            &format!("forward {n}"),
            y,
            &reference::relu(&x64),
            None,
            EXACT,
        );
        let dx = f
            .time(async {
                let tx = Tensor::from_slice(gpu, &x, &[n])?;
                let tg = Tensor::from_slice(gpu, &g, &[n])?;
                ops::relu_backward(&tx, &tg)?.read().await
            })
            .await;
        let want = reference::relu_backward(&x64, &g64);
        f.check(&format!("backward {n}"), dx, &want, None, EXACT);
    }
    f.done()
}
