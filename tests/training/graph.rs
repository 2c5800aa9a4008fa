//! The define-by-run graph: every op's gradient against central finite differences of its GPU
//! forward (L = Σ r·y in f64, adversarial shapes: 1, primes, broadcasts, batches), gradients
//! summed where a var is used twice, no-grad recording nothing, misuse as errors, and a
//! residual MLP that learns.

use crate::common::gpu;
use wgpu_backprop::graph::{self, Var};
use wgpu_backprop::ops::Transpose;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Error, Gpu, Indices, Result, Tensor};

type Op = dyn Fn(&[Var]) -> Result<Var>;

fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect()
}

/// L = Σ r·f(inputs) read back in f64.
fn loss_of(gpu: &Gpu, f: &Op, inputs: &[Vec<f32>], shapes: &[Vec<usize>], r: &[f32]) -> f64 {
    graph::no_grad(|| {
        let vars: Vec<Var> = inputs
            .iter()
            .zip(shapes)
            .map(|(x, s)| Var::constant(Tensor::from_slice(gpu, x, s).expect("upload")))
            .collect();
        let y = f(&vars).expect("forward").value().to_vec().expect("read");
        y.iter()
            .zip(r)
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum()
    })
}

/// Analytic gradients of every input against central differences (step 1e-2: f32 forwards).
fn check(name: &str, f: &Op, shapes: &[Vec<usize>], seed: u64) {
    let gpu = gpu();
    let mut rng = Rng::new(seed);
    let inputs: Vec<Vec<f32>> = shapes
        .iter()
        .map(|s| random(&mut rng, s.iter().product()))
        .collect();
    let vars: Vec<Var> = inputs
        .iter()
        .zip(shapes)
        .map(|(x, s)| Var::parameter(Tensor::from_slice(&gpu, x, s).expect("upload")))
        .collect();
    let y = f(&vars).expect("forward");
    let r = random(&mut rng, y.len());
    let rt = Var::constant(Tensor::from_slice(&gpu, &r, y.shape()).expect("upload"));
    graph::sum(&graph::mul(&y, &rt).expect("mul"))
        .expect("sum")
        .backward()
        .expect("backward");
    const H: f32 = 1e-2;
    for (i, var) in vars.iter().enumerate() {
        let analytic = var.grad().expect("a gradient").to_vec().expect("read");
        for j in 0..inputs[i].len() {
            let mut plus = inputs.clone();
            plus[i][j] += H;
            let mut minus = inputs.clone();
            minus[i][j] -= H;
            let numeric = (loss_of(&gpu, f, &plus, shapes, &r)
                - loss_of(&gpu, f, &minus, shapes, &r))
                / f64::from(2.0 * H);
            let a = f64::from(analytic[j]);
            let err = (numeric - a).abs() / numeric.abs().max(a.abs()).max(1e-1);
            assert!(
                err < 2e-2,
                "{name}: input {i} element {j}: analytic {a}, numeric {numeric}"
            );
        }
    }
}

#[test]
fn arithmetic_with_broadcasting() {
    check(
        "add",
        &|v| graph::add(&v[0], &v[1]),
        &[vec![3, 5], vec![5]],
        1,
    );
    check(
        "add, smaller first",
        &|v| graph::add(&v[0], &v[1]),
        &[vec![1, 7], vec![2, 3, 7]],
        2,
    );
    check(
        "sub",
        &|v| graph::sub(&v[0], &v[1]),
        &[vec![2, 3], vec![2, 3]],
        3,
    );
    check(
        "sub, smaller first",
        &|v| graph::sub(&v[0], &v[1]),
        &[vec![3], vec![4, 3]],
        4,
    );
    check(
        "mul",
        &|v| graph::mul(&v[0], &v[1]),
        &[vec![2, 2, 3], vec![3]],
        5,
    );
    check("scale", &|v| graph::scale(&v[0], -2.5), &[vec![7]], 6);
}

#[test]
fn shapes_and_reductions() {
    check(
        "reshape",
        &|v| graph::reshape(&v[0], &[6, 2]),
        &[vec![3, 4]],
        7,
    );
    check(
        "permute",
        &|v| graph::permute(&v[0], &[2, 0, 3, 1]),
        &[vec![2, 3, 1, 5]],
        8,
    );
    check(
        "transpose",
        &|v| graph::transpose(&v[0]),
        &[vec![2, 3, 5]],
        9,
    );
    check("sum", &|v| graph::sum(&v[0]), &[vec![13]], 10);
    check("mean", &|v| graph::mean(&v[0]), &[vec![3, 3]], 11);
}

#[test]
fn products_every_transpose_and_batches() {
    use Transpose::{No, Yes};
    for (ta, tb) in [(No, No), (No, Yes), (Yes, No), (Yes, Yes)] {
        let sa = if ta == Yes { vec![4, 3] } else { vec![3, 4] };
        let sb = if tb == Yes { vec![5, 4] } else { vec![4, 5] };
        check(
            "matmul",
            &move |v| graph::matmul_t(&v[0], ta, &v[1], tb),
            &[sa, sb],
            12,
        );
    }
    check(
        "batched",
        &|v| graph::matmul(&v[0], &v[1]),
        &[vec![2, 3, 4], vec![2, 4, 3]],
        13,
    );
    check(
        "batched, shared B",
        &|v| graph::matmul(&v[0], &v[1]),
        &[vec![3, 2, 4], vec![4, 5]],
        14,
    );
    check(
        "linear",
        &|v| graph::linear(&v[0], &v[1], Some(&v[2])),
        &[vec![2, 3, 4], vec![4, 5], vec![5]],
        15,
    );
}

#[test]
fn layers_activations_and_attention() {
    check("gelu", &|v| graph::gelu(&v[0]), &[vec![11]], 16);
    check(
        "tanh",
        &|v| graph::activation(&v[0], "tanh"),
        &[vec![5]],
        17,
    );
    check("softmax", &|v| graph::softmax(&v[0]), &[vec![3, 7]], 18);
    check(
        "layer_norm",
        &|v| graph::layer_norm(&v[0], &v[1], &v[2]),
        &[vec![2, 3, 6], vec![6], vec![6]],
        19,
    );
    for causal in [true, false] {
        check(
            "attention",
            &move |v| graph::attention(&v[0], (&v[1], &v[2]), causal),
            &[vec![1, 2, 5, 4], vec![1, 2, 5, 4], vec![1, 2, 5, 4]],
            20,
        );
    }
}

#[test]
fn embedding_and_cross_entropy() {
    let gpu = gpu();
    let idx = Indices::new(&gpu, &[2, 0, 2, 4, 2]).expect("indices");
    let i2 = idx.clone();
    check(
        "embedding",
        &move |v| graph::embedding(&v[0], &i2),
        &[vec![5, 3]],
        21,
    );
    let targets = Indices::new(&gpu, &[1, 0, 3]).expect("targets");
    check(
        "cross_entropy",
        &move |v| graph::cross_entropy(&v[0], &targets),
        &[vec![3, 4]],
        22,
    );
}

#[test]
fn a_var_used_twice_gets_the_sum_of_its_gradients() {
    let gpu = gpu();
    let w = Var::parameter(Tensor::from_slice(&gpu, &[2.0], &[1]).expect("upload"));
    // y = w·w + 3w: dy/dw = 2w + 3 = 7.
    let y = graph::add(
        &graph::mul(&w, &w).expect("mul"),
        &graph::scale(&w, 3.0).expect("scale"),
    )
    .expect("add");
    y.backward().expect("backward");
    assert_eq!(w.grad().expect("grad").to_vec().expect("read"), vec![7.0]);
    // A second graph adds to the gradient until zero_grad.
    graph::scale(&w, 1.0)
        .expect("scale")
        .backward()
        .expect("backward");
    assert_eq!(w.grad().expect("grad").to_vec().expect("read"), vec![8.0]);
    w.zero_grad();
    assert!(w.grad().is_none());
}

#[test]
fn no_grad_records_nothing_and_misuse_is_an_error() {
    let gpu = gpu();
    let w = Var::parameter(Tensor::from_slice(&gpu, &[1.0, 2.0], &[2]).expect("upload"));
    let y = graph::no_grad(|| graph::sum(&w).expect("sum"));
    assert!(!y.requires_grad());
    assert!(matches!(y.backward(), Err(Error::InvalidArgument { .. })));
    let z = graph::scale(&w, 2.0).expect("scale");
    assert!(matches!(
        z.backward(),
        Err(Error::ShapeMismatch {
            op: "Var::backward",
            ..
        })
    ));
    let s = graph::sum(&z).expect("sum");
    s.backward().expect("first backward");
    assert!(matches!(
        s.backward(),
        Err(Error::InvalidArgument {
            op: "Var::backward",
            ..
        })
    ));
}

#[test]
fn a_residual_mlp_learns_through_the_graph() {
    let gpu = gpu();
    let mut rng = Rng::new(5);
    let mut params = graph::Parameters::new();
    let mut init = |name: &str, shape: &[usize], s: f32| {
        let n = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| rng.uniform(-s, s)).collect();
        params
            .add(
                name,
                Tensor::from_slice(&gpu, &data, shape).expect("upload"),
            )
            .expect("add")
    };
    let (w1, b1) = (init("l1.weight", &[8, 8], 0.3), init("l1.bias", &[8], 0.0));
    let (w2, b2) = (init("l2.weight", &[8, 8], 0.3), init("l2.bias", &[8], 0.0));
    let head = init("head.weight", &[8, 3], 0.3);
    let x: Vec<f32> = (0..64 * 8)
        .map(|i| ((i * 37 % 17) as f32 / 8.0) - 1.0)
        .collect();
    let labels: Vec<u32> = (0..64)
        .map(|i| (x[i * 8] + x[i * 8 + 1] > 0.0) as u32 + (x[i * 8 + 2] > 0.5) as u32)
        .collect();
    let xv = Var::constant(Tensor::from_slice(&gpu, &x, &[64, 8]).expect("upload"));
    let targets = Indices::new(&gpu, &labels).expect("labels");
    let mut opt = graph::AdamW::default();
    opt.weight_decay = 0.0;
    let mut losses = Vec::new();
    for _ in 0..150 {
        params.zero_grad();
        let h = graph::activation(&graph::linear(&xv, &w1, Some(&b1)).expect("l1"), "relu")
            .expect("relu");
        let r = graph::add(&h, &graph::linear(&h, &w2, Some(&b2)).expect("l2")).expect("residual");
        let loss =
            graph::cross_entropy(&graph::matmul(&r, &head).expect("head"), &targets).expect("loss");
        losses.push(loss.value().to_vec().expect("read")[0]);
        loss.backward().expect("backward");
        opt.step(&mut params, 1e-2, |_| true).expect("step");
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    assert!(last < 0.5 * first, "the loss went from {first} to {last}");
}
