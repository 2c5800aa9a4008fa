//! Every element-wise activation of the table (`ops::ACTIVATIONS`: ReLU, Sigmoid, Tanh, GELU
//! exact and tanh, SiLU, LeakyReLU, ELU, Softplus) against its f64 reference: forward and
//! backward over lengths that break the vec4s and workgroups, random and adversarial values
//! (±0, subnormals, ±1e-4 … ±1e4, ±inf, NaN, the largest floats); the exact values at the
//! extremes; the Jacobian path equal to the direct one; gradcheck; the parameters; errors.

use crate::common::*;
use wgpu_backprop::nodes::{Activation, LeakyReLU, Sigmoid, ELU};
use wgpu_backprop::ops::{ActivationKind, ACTIVATIONS};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{gradcheck, Error, Layer, Tensor};

const LENGTHS: [usize; 7] = [1, 3, 4, 5, 17, 1023, 1025];

/// Values every activation must get right, worst cases first.
fn adversarial() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::MIN_POSITIVE / 8.0,
        -f32::MIN_POSITIVE / 8.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MAX,
        f32::MIN,
    ];
    for m in [
        1e-4f32, 0.05, 0.09, 0.11, 0.124, 0.126, 0.5, 1.0, 2.0, 5.0, 8.8, 20.0, 88.0, 100.0, 1e3,
        1e4,
    ] {
        v.extend([m, -m]);
    }
    v
}

/// The worst error of `got` against the f64 `want` (NaN must meet NaN, an infinity the same
/// infinity), relative to what is allowed: ≤ 1 passes. Names the element.
/// `scale[i]` is what the error is relative to (|want| unless a sum's terms are larger).
fn check(what: &str, kind: &ActivationKind, x: &[f32], got: &[f32], want: &[f64], scale: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = f64::from(g);
        let limit = kind.tolerance(f64::from(x[i]), scale[i]);
        let ok = if g == w {
            true
        } else if w.is_nan() || g.is_nan() {
            w.is_nan() && g.is_nan()
        } else if w.is_infinite() || g.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= limit
        };
        assert!(
            ok,
            "{what} ({}): element {i}, x = {:e}: got {g:e}, expected {w:e} (allowed {limit:e})",
            kind.name, x[i]
        );
    }
}

fn magnitudes(v: &[f64]) -> Vec<f64> {
    v.iter().map(|w| w.abs()).collect()
}

/// The parameter each kind runs with here (a non-default one where it has one).
fn param(kind: &ActivationKind) -> Option<f32> {
    kind.param.map(|(_, default)| default * 3.0 + 0.1)
}

fn f64_param(kind: &ActivationKind) -> f64 {
    param(kind).map_or(0.0, f64::from)
}

#[test]
fn every_activation_matches_f64_forward_and_backward() {
    let gpu = gpu();
    let mut rng = Rng::new(81);
    for &kind in ACTIVATIONS {
        let a = f64_param(kind);
        let mut inputs: Vec<Vec<f32>> = LENGTHS
            .iter()
            .map(|&n| (0..n).map(|_| rng.uniform(-8.0, 8.0)).collect())
            .collect();
        inputs.push(adversarial());
        for x in inputs {
            let n = x.len();
            let t = Tensor::from_slice(&gpu, &x, &[n]).unwrap();
            let y = read(&kind.forward(&t, param(kind)).unwrap());
            let want: Vec<f64> = x.iter().map(|&v| (kind.f)(f64::from(v), a)).collect();
            check(
                &format!("forward {n}"),
                kind,
                &x,
                &y,
                &want,
                &magnitudes(&want),
            );

            let g: Vec<f32> = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
            let tg = Tensor::from_slice(&gpu, &g, &[n]).unwrap();
            let dx = read(&kind.backward(&t, &tg, param(kind)).unwrap());
            let want: Vec<f64> = x
                .iter()
                .zip(&g)
                .map(|(&v, &gv)| {
                    let d = (kind.df)(f64::from(v), a);
                    if d == 0.0 {
                        0.0
                    } else {
                        f64::from(gv) * d
                    }
                })
                .collect();
            let scale: Vec<f64> = x
                .iter()
                .zip(&g)
                .map(|(&v, &gv)| {
                    let v = f64::from(v);
                    f64::from(gv).abs() * kind.derivative_terms(v, a)
                })
                .collect();
            check(&format!("backward {n}"), kind, &x, &dx, &want, &scale);
        }
    }
}

#[test]
fn the_extremes_are_exact() {
    let gpu = gpu();
    let run = |name: &str, x: f32| -> f32 {
        let kind = ActivationKind::by_name(name).expect("declared");
        let t = Tensor::from_slice(&gpu, &[x], &[1]).unwrap();
        read(&kind.forward(&t, None).unwrap())[0]
    };
    let cases: &[(&str, f32, f32)] = &[
        ("sigmoid", -1000.0, 0.0),
        ("sigmoid", 1000.0, 1.0),
        ("sigmoid", f32::NEG_INFINITY, 0.0),
        ("sigmoid", f32::INFINITY, 1.0),
        ("tanh", 1e4, 1.0),
        ("tanh", -1e4, -1.0),
        ("tanh", f32::INFINITY, 1.0),
        ("tanh", f32::NEG_INFINITY, -1.0),
        ("softplus", 1e4, 1e4),
        ("softplus", -1e4, 0.0),
        ("softplus", f32::INFINITY, f32::INFINITY),
        ("softplus", f32::NEG_INFINITY, 0.0),
        ("gelu", 1e4, 1e4),
        ("gelu", -1e4, 0.0),
        ("gelu_tanh", 1e4, 1e4),
        ("gelu_tanh", -1e4, 0.0),
        ("silu", 1e4, 1e4),
        ("silu", -1e4, 0.0),
        ("elu", -1e4, -1.0),
        ("elu", f32::NEG_INFINITY, -1.0),
        ("leaky_relu", -2.0, -0.02),
        ("leaky_relu", f32::NEG_INFINITY, f32::NEG_INFINITY),
        ("relu", -0.0, 0.0),
        ("relu", f32::INFINITY, f32::INFINITY),
    ];
    for &(name, x, want) in cases {
        let got = run(name, x);
        assert!(got == want, "{name}({x}) = {got}, expected {want}");
    }
    for &kind in ACTIVATIONS {
        assert!(
            run(kind.name, f32::NAN).is_nan(),
            "{}(NaN) is not NaN",
            kind.name
        );
    }
}

#[test]
fn the_jacobian_path_equals_the_direct_one_and_gradcheck_passes() {
    let gpu = gpu();
    let mut rng = Rng::new(82);
    for &kind in ACTIVATIONS {
        for shape in [vec![7], vec![3, 5]] {
            let n: usize = shape.iter().product();
            let x: Vec<f32> = (0..n).map(|_| rng.uniform(-4.0, 4.0)).collect();
            let g: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let mut layer = match param(kind) {
                Some(p) => Activation::with_param(kind, p),
                None => Activation::new(kind),
            };
            layer
                .forward(&Tensor::from_slice(&gpu, &x, &shape).unwrap())
                .unwrap();
            let tg = Tensor::from_slice(&gpu, &g, &shape).unwrap();
            let direct = read(&layer.backward(&tg).unwrap());
            let via_j = read(&layer.backward_jacobian(&tg).unwrap());
            let want: Vec<f64> = direct.iter().map(|&v| f64::from(v)).collect();
            let scale: Vec<f64> = x
                .iter()
                .zip(&g)
                .map(|(&v, &gv)| {
                    let v = f64::from(v);
                    f64::from(gv).abs() * kind.derivative_terms(v, f64_param(kind))
                })
                .collect();
            check(
                &format!("Jacobian path {shape:?}"),
                kind,
                &x,
                &via_j,
                &want,
                &scale,
            );
            assert_eq!(layer.jacobian().unwrap().shape(), &[n, n]);
        }
        // Central differences of the GPU forward against backward (x drawn with |x| ≥ 0.1, so
        // no kink is straddled).
        let mut layer = Activation::new(kind);
        let worst = gradcheck(&mut layer, &[2, 9], 5).unwrap();
        assert!(worst < 2e-2, "{}: gradcheck error {worst}", kind.name);
    }
}

#[test]
fn parameters_defaults_names_and_errors() {
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[-2.0, 3.0], &[2]).unwrap();
    let run = |mut layer: Activation| read(&layer.forward(&x).unwrap());
    assert_eq!(run(LeakyReLU::new()), vec![-0.02, 3.0]);
    assert_eq!(run(LeakyReLU::with(0.5)), vec![-1.0, 3.0]);
    let elu = run(ELU::with(2.0));
    assert!(
        (elu[0] - 2.0 * ((-2.0f32).exp() - 1.0)).abs() < 1e-6,
        "{elu:?}"
    );
    assert_eq!(LeakyReLU::new().param(), Some(0.01));
    assert_eq!(Sigmoid::new().param(), None);
    assert_eq!(Sigmoid::new().name(), "Sigmoid");
    let by_name = Activation::by_name("elu", Some(2.0)).unwrap();
    assert_eq!((by_name.name(), by_name.param()), ("ELU", Some(2.0)));
    let e = Activation::by_name("swishy", None).unwrap_err();
    assert!(
        e.to_string().contains("no activation 'swishy'") && e.to_string().contains("gelu_tanh")
    );
    // Backward before forward, and a gradient of the wrong shape, name the layer.
    let mut s = Sigmoid::new();
    let e = s.backward(&x).unwrap_err();
    assert!(
        matches!(e, Error::BackwardBeforeForward { op: "Sigmoid" }),
        "{e}"
    );
    s.forward(&x).unwrap();
    let wrong = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[3]).unwrap();
    let e = s.backward(&wrong).unwrap_err();
    assert!(e.to_string().contains("Sigmoid"), "{e}");
}

/// Every activation in a model string, saved and loaded back: the same layers, the same bits;
/// `--hidden`-style lists become model strings; unknown names are errors naming the known.
#[test]
fn models_with_activations_save_load_and_parse() {
    use wgpu_backprop::model::Sequential;
    let gpu = gpu();
    let x = Tensor::from_slice(
        &gpu,
        &[0.5, -1.0, 2.0, -3.0, 0.25, 1.5, -0.75, 3.0, -2.5, 0.0],
        &[2, 5],
    )
    .unwrap();
    for &kind in ACTIVATIONS {
        let act = match kind.param {
            Some(_) => format!("{}(0.3)", kind.name),
            None => kind.name.to_string(),
        };
        let config = format!("linear(5,4),{act},linear(4,3)");
        let mut model = Sequential::from_config(&gpu, &config, 7).unwrap();
        assert_eq!(model.config(), config);
        let y = read(&model.forward(&x).unwrap());
        let bytes = model.to_safetensors().unwrap();
        let mut again = Sequential::from_safetensors(&gpu, &bytes).unwrap();
        assert_eq!(again.config(), config);
        let y2 = read(&again.forward(&x).unwrap());
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&y), bits(&y2), "{config}");
    }
    let hidden = |h: &[&str]| {
        let h: Vec<String> = h.iter().map(|s| s.to_string()).collect();
        Sequential::hidden_config(64, &h, 10)
    };
    assert_eq!(
        hidden(&["128"]).unwrap(),
        "linear(64,128),relu,linear(128,10)"
    );
    assert_eq!(
        hidden(&["256", "tanh", "128", "leaky_relu(0.2)"]).unwrap(),
        "linear(64,256),tanh,linear(256,128),leaky_relu(0.2),linear(128,10)"
    );
    assert!(hidden(&["gelu"]).is_err());
    let e = Sequential::from_config(&gpu, "linear(5,4),swish", 1).unwrap_err();
    assert!(
        e.to_string().contains("unknown layer 'swish'") && e.to_string().contains("softplus"),
        "{e}"
    );
    let e = Sequential::from_config(&gpu, "sigmoid(2)", 1).unwrap_err();
    assert!(e.to_string().contains("takes no arguments"), "{e}");
    let e = Sequential::from_config(&gpu, "elu(x)", 1).unwrap_err();
    assert!(e.to_string().contains("not a number"), "{e}");
}
