//! The element-wise activations' rows of the self-check: each activation of the table
//! (`ops::ACTIVATIONS`) but ReLU (exact, in `rows.rs`), forward and backward, over lengths that break the vec4s and the
//! workgroups and over the values IEEE makes awkward (±0, subnormals, ±inf, NaN, the largest
//! floats, the points where exp overflows), against its f64 reference within
//! [`ActivationKind::tolerance`].

use super::{Family, Options, Row, Rows, Tol};
use crate::gpu::Gpu;
use crate::ops::{ActivationKind, ACTIVATIONS};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The tolerance is worked out per element and passed as the scale.
const PER_ELEMENT: Tol = Tol { abs: 0.0, rel: 1.0 };

pub(super) async fn run(gpu: &Gpu, options: &Options, rows: &mut Rows<'_>) {
    // ReLU has its exact row (`rows.rs`).
    for &kind in ACTIVATIONS.iter().filter(|k| k.name != "relu") {
        rows.push(activation(gpu, options, kind).await);
    }
}

/// Inputs: awkward values mixed into random ones in [-8, 8).
fn inputs(rng: &mut Rng, n: usize) -> Vec<f32> {
    let special = [
        0.0,
        -0.0,
        f32::MIN_POSITIVE / 8.0,
        -f32::MIN_POSITIVE / 8.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MAX,
        f32::MIN,
        88.0,
        -88.0,
        1e4,
        -1e4,
    ];
    let mut x: Vec<f32> = (0..n).map(|_| rng.uniform(-8.0, 8.0)).collect();
    for (v, s) in x.iter_mut().zip(special.iter().cycle().skip(n % 5)) {
        if rng.below(3) == 0 {
            *v = *s;
        }
    }
    x
}

async fn activation(gpu: &Gpu, options: &Options, kind: &'static ActivationKind) -> Row {
    let mut lengths = vec![1, 3, 4, 5, 13, 1023, 1025];
    if !options.quick {
        lengths.push(100_003);
    }
    let param = kind.param.map(|(_, default)| default * 3.0 + 0.1);
    let a = param.map_or(0.0, f64::from);
    let mut rng = Rng::new(53);
    let mut f = Family::new(kind.name, "fwd+bwd: NaN, +-0, +-inf, large |x|");
    for n in lengths {
        let x = inputs(&mut rng, n);
        let g: Vec<f32> = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let y = f
            .time(async {
                kind.forward(&Tensor::from_slice(gpu, &x, &[n])?, param)?
                    .read()
                    .await
            })
            .await;
        let want: Vec<f64> = x64.iter().map(|&v| (kind.f)(v, a)).collect();
        let allowed: Vec<f64> = x64
            .iter()
            .zip(&want)
            .map(|(&v, w)| kind.tolerance(v, w.abs()))
            .collect();
        f.check(
            &format!("forward {n}"),
            y,
            &want,
            Some(&allowed),
            PER_ELEMENT,
        );
        let dx = f
            .time(async {
                let tx = Tensor::from_slice(gpu, &x, &[n])?;
                let tg = Tensor::from_slice(gpu, &g, &[n])?;
                kind.backward(&tx, &tg, param)?.read().await
            })
            .await;
        // Where f'(x) = 0 no gradient passes, not even NaN.
        let want: Vec<f64> = x64
            .iter()
            .zip(&g)
            .map(|(&v, &gv)| match (kind.df)(v, a) {
                0.0 => 0.0,
                d => f64::from(gv) * d,
            })
            .collect();
        let allowed: Vec<f64> = x64
            .iter()
            .zip(&g)
            .map(|(&v, &gv)| kind.tolerance(v, f64::from(gv).abs() * kind.derivative_terms(v, a)))
            .collect();
        f.check(
            &format!("backward {n}"),
            dx,
            &want,
            Some(&allowed),
            PER_ELEMENT,
        );
    }
    f.done()
}
