//! Conv2d, MaxPool2d, AvgPool2d and Flatten against the f64 references of
//! `wgpu_backprop::reference`: sweeps over N, C, H, W (1, primes, odd sizes), stride > kernel,
//! padding ≥ kernel, 1×1 kernels and a kernel the size of the image; forward and backward (dx,
//! dW, db); NaN and ties in max pooling; the Jacobian path against the direct one; gradcheck;
//! the errors for misuse.

use crate::common::*;
use wgpu_backprop::neurons::Conv2d;
use wgpu_backprop::nodes::{AvgPool2d, Flatten, MaxPool2d};
use wgpu_backprop::reference::{self, Conv};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{gradcheck, Error, Gpu, Layer, Tensor};

/// Sums of products in f32 against f64, relative to the sum of the terms' magnitudes.
const SUM_TOL: Tol = Tol {
    abs: 1e-30,
    rel: 2e-6 * 64.0,
};

/// (n, c, h, w, out, k, stride, pad): shapes that break the lowering's indexing.
const SHAPES: [[usize; 8]; 12] = [
    [1, 1, 1, 1, 1, 1, 1, 0],   // everything 1
    [2, 3, 5, 7, 4, 3, 1, 1],   // odd sizes, "same" padding
    [3, 2, 8, 8, 5, 3, 2, 1],   // stride 2
    [1, 3, 7, 5, 2, 2, 3, 0],   // stride > kernel
    [2, 1, 4, 4, 3, 2, 1, 3],   // padding ≥ kernel
    [2, 5, 6, 6, 7, 1, 1, 0],   // 1×1 kernel: a per-pixel matmul
    [3, 2, 5, 5, 4, 5, 1, 0],   // kernel = whole image: one output pixel
    [1, 1, 13, 11, 1, 4, 3, 2], // primes, uneven coverage
    [5, 4, 3, 3, 6, 3, 1, 1],
    [1, 7, 9, 2, 3, 2, 1, 0],   // wide channels, thin image
    [17, 1, 8, 8, 2, 3, 1, 1],  // many images
    [2, 16, 4, 4, 32, 3, 1, 1], // the digits CNN's second layer
];

fn conv_of([n, c, h, w, out, k, stride, pad]: [usize; 8]) -> Conv {
    Conv {
        n,
        c,
        h,
        w,
        out,
        k,
        stride,
        pad,
    }
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[test]
fn conv2d_forward_and_backward_match_f64_on_every_shape() {
    let gpu = gpu();
    let mut rng = Rng::new(91);
    for shape in SHAPES {
        let g = conv_of(shape);
        let (ho, wo) = g.out_hw();
        let x = rand_vec(&mut rng, g.n * g.c * g.h * g.w, -2.0, 2.0);
        let w = rand_vec(&mut rng, g.out * g.c * g.k * g.k, -1.0, 1.0);
        let b = rand_vec(&mut rng, g.out, -1.0, 1.0);
        let dy = rand_vec(&mut rng, g.n * g.out * ho * wo, -1.0, 1.0);
        let (s, p) = (g.stride, g.pad);
        let mut conv =
            Conv2d::from_parts(&gpu, g.c, g.out, g.k, s, p, &f32s(&w), &f32s(&b)).unwrap();
        let tx = upload(&gpu, &x, &[g.n, g.c, g.h, g.w]);
        let y = conv.forward(&tx).unwrap();
        assert_eq!(y.shape(), &[g.n, g.out, ho, wo], "{shape:?}");
        let (want, scale) = reference::conv2d(&g, &x, &w, &b);
        assert_close_scaled(
            &format!("conv2d {shape:?} y"),
            &read(&y),
            &want,
            &scale,
            SUM_TOL,
        );

        let dx = conv
            .backward(&upload(&gpu, &dy, &[g.n, g.out, ho, wo]))
            .unwrap();
        let ((wx, sx), (ww, sw), (wb, sb)) = reference::conv2d_backward(&g, &x, &w, &dy);
        let what = |t: &str| format!("conv2d {shape:?} {t}");
        assert_close_scaled(&what("dx"), &read(&dx), &wx, &sx, SUM_TOL);
        let dw = conv.weight_grad().unwrap();
        assert_eq!(dw.shape(), &[g.out, g.c, g.k, g.k]);
        assert_close_scaled(&what("dW"), &read(dw), &ww, &sw, SUM_TOL);
        assert_close_scaled(
            &what("db"),
            &read(conv.bias_grad().unwrap()),
            &wb,
            &sb,
            SUM_TOL,
        );
    }
}

/// A batch whose columns pass the chunk limit runs in several chunks (2,427 images of
/// 3×32×32 under 3×3 filters fit one), and agrees with the same images run one by one,
/// forward and backward, on both sides of the chunk boundary.
#[test]
fn conv2d_in_chunks_equals_conv2d_image_by_image() {
    let gpu = gpu();
    let mut rng = Rng::new(92);
    let (n, image, out) = (2_500, 3 * 32 * 32, 4 * 32 * 32);
    assert!(
        n * 32 * 32 * 27 > wgpu_backprop::ops::MAX_COLUMN_ELEMENTS,
        "must need chunks"
    );
    let x = rand_vec(&mut rng, n * image, -1.0, 1.0);
    let dy = rand_vec(&mut rng, n * out, -1.0, 1.0);
    let w = rand_vec(&mut rng, 4 * 27, -1.0, 1.0);
    let b = rand_vec(&mut rng, 4, -1.0, 1.0);
    let mut conv = Conv2d::from_parts(&gpu, 3, 4, 3, 1, 1, &f32s(&w), &f32s(&b)).unwrap();
    let all = read(&conv.forward(&upload(&gpu, &x, &[n, 3, 32, 32])).unwrap());
    let all_dx = read(&conv.backward(&upload(&gpu, &dy, &[n, 4, 32, 32])).unwrap());
    for i in [0, 1, 2_426, 2_427, 2_499] {
        let one = upload(&gpu, &x[i * image..(i + 1) * image], &[1, 3, 32, 32]);
        // Another batch size may run another matmul kernel: the same sums in another order.
        let tol = Tol {
            abs: 1e-5,
            rel: 1e-5,
        };
        let y = to_f64(&read(&conv.forward(&one).unwrap()));
        assert_close(
            &format!("y of image {i}"),
            &all[i * out..(i + 1) * out],
            &y,
            tol,
        );
        let dy1 = upload(&gpu, &dy[i * out..(i + 1) * out], &[1, 4, 32, 32]);
        let dx = to_f64(&read(&conv.backward(&dy1).unwrap()));
        assert_close(
            &format!("dx of image {i}"),
            &all_dx[i * image..(i + 1) * image],
            &dx,
            tol,
        );
    }
}

#[test]
fn pools_match_f64_with_ties_nan_and_overlap() {
    let gpu = gpu();
    let mut rng = Rng::new(93);
    // (n, c, h, w, k, stride): non-overlapping, overlapping, stride > k, whole plane, 1×1.
    let cases = [
        [2, 3, 8, 8, 2, 2],
        [1, 2, 7, 5, 3, 1],
        [3, 1, 9, 9, 2, 3],
        [1, 4, 5, 6, 5, 1],
        [2, 2, 3, 3, 1, 1],
        [1, 1, 13, 11, 3, 2],
    ];
    for [n, c, h, w, k, stride] in cases {
        // Integers make ties; a NaN in the first plane.
        let mut x: Vec<f64> = (0..n * c * h * w)
            .map(|_| (rng.below(7) as f64) - 3.0)
            .collect();
        x[h * w / 2] = f64::NAN;
        let (ho, wo) = ((h - k) / stride + 1, (w - k) / stride + 1);
        let dy = rand_vec(&mut rng, n * c * ho * wo, -1.0, 1.0);
        for max in [true, false] {
            let mut layer: Box<dyn Layer> = if max {
                Box::new(MaxPool2d::new(k, stride))
            } else {
                Box::new(AvgPool2d::new(k, stride))
            };
            let what = format!("{} {:?}", layer.name(), [n, c, h, w, k, stride]);
            let y = layer.forward(&upload(&gpu, &x, &[n, c, h, w])).unwrap();
            assert_eq!(y.shape(), &[n, c, ho, wo], "{what}");
            let (want, arg) = reference::pool2d(max, &x, (n * c, h, w), (k, stride));
            assert_close(&format!("{what} y"), &read(&y), &want, F32_TOL);
            let dx = layer.backward(&upload(&gpu, &dy, &[n, c, ho, wo])).unwrap();
            let want = reference::pool2d_backward(max, &dy, &arg, (n * c, h, w), (k, stride));
            assert_close(&format!("{what} dx"), &read(&dx), &want, F32_TOL);
        }
    }
}

#[test]
fn the_jacobian_paths_equal_the_direct_ones_and_gradcheck_passes() {
    let gpu = gpu();
    let mut rng = Rng::new(94);
    let layers: Vec<(Box<dyn Layer>, [usize; 4])> = vec![
        (
            Box::new(Conv2d::with_seed(&gpu, 2, 3, 3, 2, 1, 5).unwrap()),
            [2, 2, 5, 4],
        ),
        (
            Box::new(Conv2d::with_seed(&gpu, 1, 2, 2, 1, 0, 6).unwrap()),
            [1, 1, 3, 3],
        ),
        (Box::new(MaxPool2d::new(2, 1)), [2, 2, 4, 3]),
        (Box::new(AvgPool2d::new(2, 2)), [1, 3, 4, 4]),
        (Box::new(Flatten::new()), [2, 3, 2, 2]),
    ];
    for (mut layer, shape) in layers {
        let n: usize = shape.iter().product();
        let x = upload(&gpu, &rand_vec(&mut rng, n, -2.0, 2.0), &shape);
        let y = layer.forward(&x).unwrap();
        let dy = upload(&gpu, &rand_vec(&mut rng, y.len(), -1.0, 1.0), y.shape());
        let direct = read(&layer.backward(&dy).unwrap());
        let via_j = read(&layer.backward_jacobian(&dy).unwrap());
        let want: Vec<f64> = direct.iter().map(|&v| f64::from(v)).collect();
        let what = format!("{} {shape:?} Jacobian path", layer.name());
        assert_close(
            &what,
            &via_j,
            &want,
            Tol {
                abs: 1e-6,
                rel: 1e-5,
            },
        );
        assert_eq!(layer.jacobian().unwrap().shape(), &[y.len(), n], "{what}");
        let worst = gradcheck(layer.as_mut(), &shape, 7).unwrap();
        assert!(worst < 2e-2, "{}: gradcheck error {worst}", layer.name());
    }
}

fn expect_err(what: &str, r: wgpu_backprop::Result<Tensor>, needle: &str) {
    match r {
        Ok(t) => panic!("{what}: expected an error, got a tensor {:?}", t.shape()),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(needle),
                "{what}: '{msg}' does not name '{needle}'"
            );
        }
    }
}

#[test]
fn misuse_gives_errors_naming_the_op_and_the_shapes() {
    let gpu = gpu();
    let mut conv = Conv2d::with_seed(&gpu, 3, 4, 3, 1, 0, 1).unwrap();
    let rank3 = Tensor::zeros(&gpu, &[3, 8, 8]).unwrap();
    expect_err("rank 3", conv.forward(&rank3), "[3, 8, 8]");
    let channels = Tensor::zeros(&gpu, &[1, 2, 8, 8]).unwrap();
    expect_err("channels", conv.forward(&channels), "3 channels");
    let small = Tensor::zeros(&gpu, &[1, 3, 2, 8]).unwrap();
    expect_err(
        "kernel > padded input",
        conv.forward(&small),
        "Conv2d::forward",
    );
    expect_err("backward first", conv.backward(&channels), "before forward");
    let x = Tensor::zeros(&gpu, &[1, 3, 4, 4]).unwrap();
    conv.forward(&x).unwrap();
    expect_err("dy shape", conv.backward(&x), "[1, 4, 2, 2]");
    let mut pool = MaxPool2d::new(3, 1);
    expect_err(
        "pool rank",
        pool.forward(&Tensor::zeros(&gpu, &[4, 4]).unwrap()),
        "MaxPool2d",
    );
    let tiny = Tensor::zeros(&gpu, &[1, 1, 2, 2]).unwrap();
    expect_err("window > plane", pool.forward(&tiny), "3×3");
    let e = Conv2d::with_seed(&gpu, 0, 4, 3, 1, 0, 1).unwrap_err();
    assert!(matches!(e, Error::ZeroSize { .. }), "{e}");
    expect_err(
        "stride 0",
        Conv2d::with_seed(&gpu, 1, 1, 1, 0, 0, 1).map(|c| c.weight().clone()),
        "stride",
    );
}

/// Rank 3 and 4 tensors exist now; ops that work on rows still refuse them.
#[test]
fn row_ops_refuse_images() {
    let gpu: Gpu = gpu();
    let t = Tensor::zeros(&gpu, &[2, 3, 4, 5]).unwrap();
    for r in [
        wgpu_backprop::ops::softmax_forward(&t),
        wgpu_backprop::ops::column_sum(&t),
    ] {
        assert!(
            matches!(r, Err(Error::BadRank { .. })),
            "{:?}",
            r.map(|t| t.shape().to_vec())
        );
    }
    let relu = wgpu_backprop::ops::relu_forward(&t).unwrap();
    assert_eq!(
        relu.shape(),
        &[2, 3, 4, 5],
        "element-wise ops take any rank"
    );
}

/// Dropout: about p of the elements dropped, the rest scaled by 1/(1 − p); the same mask for
/// the same (seed, step) and another for another step or seed; backward through the same
/// mask; the identity in evaluation mode; p outside [0, 1) refused.
#[test]
fn dropout_masks_scale_repeat_and_switch_off() {
    use wgpu_backprop::nodes::Dropout;
    let gpu = gpu();
    let n = 20_000;
    let x = Tensor::from_slice(&gpu, &vec![1.0; n], &[100, 200]).unwrap();
    for p in [0.0f32, 0.1, 0.5, 0.9] {
        let y = read(&wgpu_backprop::ops::dropout(&x, p, 3, 0).unwrap());
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
        let sd = (f64::from(p) * (1.0 - f64::from(p)) / n as f64).sqrt();
        assert!(
            (kept - (1.0 - f64::from(p))).abs() <= 5.0 * sd + 1e-9,
            "p {p}: kept {kept}"
        );
        let scale = 1.0 / (1.0 - p);
        assert!(
            y.iter().all(|&v| v == 0.0 || v == scale),
            "p {p}: values other than 0 and {scale}"
        );
    }
    let mask = |seed, step| read(&wgpu_backprop::ops::dropout(&x, 0.5, seed, step).unwrap());
    assert_eq!(mask(3, 7), mask(3, 7), "same seed and step, same mask");
    assert_ne!(mask(3, 7), mask(3, 8), "another step, another mask");
    assert_ne!(mask(3, 7), mask(4, 7), "another seed, another mask");

    let mut layer = Dropout::new(0.5, 11).unwrap();
    let xs = rand_vec(&mut Rng::new(95), n, -1.0, 1.0);
    let tx = upload(&gpu, &xs, &[100, 200]);
    let y = read(&layer.forward(&tx).unwrap());
    let dx = read(
        &layer
            .backward(&Tensor::from_slice(&gpu, &vec![1.0; n], &[100, 200]).unwrap())
            .unwrap(),
    );
    for i in 0..n {
        let kept = dx[i] != 0.0;
        assert_eq!(dx[i], if kept { 2.0 } else { 0.0 }, "dx {i}");
        assert_eq!(
            y[i],
            if kept { (xs[i] * 2.0) as f32 } else { 0.0 },
            "y {i}: the same mask"
        );
    }
    let next = read(&layer.forward(&tx).unwrap());
    assert_ne!(y, next, "each training forward draws a new mask");
    layer.set_training(false);
    assert_eq!(
        read(&layer.forward(&tx).unwrap()),
        read(&tx),
        "evaluation: the identity"
    );
    for p in [-0.1f32, 1.0, 1.5, f32::NAN] {
        let e = Dropout::new(p, 0).unwrap_err();
        assert!(e.to_string().contains("[0, 1)"), "p {p}: {e}");
    }
}

#[test]
fn dropout_jacobian_path_equals_the_direct_one() {
    use wgpu_backprop::nodes::Dropout;
    let gpu = gpu();
    let mut layer = Dropout::new(0.3, 5).unwrap();
    let x = upload(&gpu, &rand_vec(&mut Rng::new(96), 40, -1.0, 1.0), &[4, 10]);
    layer.forward(&x).unwrap();
    let dy = upload(&gpu, &rand_vec(&mut Rng::new(97), 40, -1.0, 1.0), &[4, 10]);
    let direct = read(&layer.backward(&dy).unwrap());
    let via_j = read(&layer.backward_jacobian(&dy).unwrap());
    let want: Vec<f64> = direct.iter().map(|&v| f64::from(v)).collect();
    assert_close("Dropout Jacobian path", &via_j, &want, F32_TOL);
}
