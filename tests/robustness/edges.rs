//! Hard edges: NaN and infinities, big and odd shapes, device limits, threads, long runs.

use crate::common::*;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::ops::{relu_forward, softmax_backward_with, softmax_forward_with, RowKernel};
use wgpu_backprop::optim::{Optimizer, Sgd};
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Error, Gpu, Layer, Tensor};

/// Rows of 3 and 5 put a row's NaN in the same vec4 as its neighbours' values (the chunked
/// kernels read vec4s of the flat buffer): only the NaN row becomes NaN, forward and backward.
#[test]
fn nan_stays_in_its_row_when_rows_straddle_vec4s() {
    let gpu = gpu();
    for cols in [3usize, 5] {
        let mut x: Vec<f32> = (0..4 * cols).map(|i| (i % 7) as f32 * 0.5).collect();
        x[cols + 1] = f32::NAN; // row 1
        for kernel in [
            RowKernel::Chunked,
            RowKernel::PerWorkgroup,
            RowKernel::PerInvocation,
        ] {
            let t = Tensor::from_slice(&gpu, &x, &[4, cols]).unwrap();
            let y = softmax_forward_with(kernel, &t).unwrap();
            let v = read(&y);
            let g = Tensor::from_slice(&gpu, &vec![1.0; 4 * cols], &[4, cols]).unwrap();
            let dx = read(&softmax_backward_with(kernel, &y, &g).unwrap());
            for row in 0..4 {
                let (yr, dr) = (&v[row * cols..][..cols], &dx[row * cols..][..cols]);
                let what = format!("{kernel:?} cols {cols} row {row}: y {yr:?} dx {dr:?}");
                if row == 1 {
                    assert!(yr.iter().chain(dr).all(|f| f.is_nan()), "{what}");
                } else {
                    assert!((yr.iter().sum::<f32>() - 1.0).abs() < 1e-6, "{what}");
                    assert!(dr.iter().all(|d| d.abs() < 1e-6), "{what}");
                }
            }
        }
    }
}

#[test]
fn nan_in_a_row_makes_only_that_row_nan() {
    let gpu = gpu();
    let nan = f32::NAN;
    let x = [
        1.0, nan, 2.0, 3.0, /* */ 0.0, 1.0, 2.0, 3.0, /* */ nan, nan, nan, nan,
        /* */ 5.0, 5.0, 5.0, nan,
    ];
    for kernel in [
        RowKernel::PerInvocation,
        RowKernel::PerWorkgroup,
        RowKernel::Registers,
        RowKernel::Chunked,
    ] {
        let t = Tensor::from_slice(&gpu, &x, &[4, 4]).unwrap();
        let y = softmax_forward_with(kernel, &t).unwrap();
        let v = read(&y);
        for (row, chunk) in v.chunks(4).enumerate() {
            let has_nan = x[row * 4..row * 4 + 4].iter().any(|f| f.is_nan());
            assert_eq!(
                chunk.iter().all(|f| f.is_nan()),
                has_nan,
                "{kernel:?} row {row}: {chunk:?}"
            );
            if !has_nan {
                assert!(
                    (chunk.iter().sum::<f32>() - 1.0).abs() < 1e-6,
                    "{kernel:?} row {row}: {chunk:?}"
                );
            }
        }
        let g = Tensor::from_slice(&gpu, &[1.0; 16], &[4, 4]).unwrap();
        let dx = read(&softmax_backward_with(kernel, &y, &g).unwrap());
        assert!(
            dx[4..8].iter().all(|d| d.abs() < 1e-6),
            "{kernel:?}: clean row's dx {:?}",
            &dx[4..8]
        );
        assert!(
            dx[..4].iter().all(|d| d.is_nan()),
            "{kernel:?}: NaN row's dx {:?}",
            &dx[..4]
        );
    }
}

#[test]
fn relu_follows_ieee_for_nan_and_infinities() {
    let gpu = gpu();
    let x = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, 1.5];
    let y = read(&relu_forward(&Tensor::from_slice(&gpu, &x, &[6]).unwrap()).unwrap());
    assert!(y[0].is_nan(), "ReLU(NaN) is NaN, got {}", y[0]);
    assert_eq!(&y[1..], &[f32::INFINITY, 0.0, 0.0, 0.0, 1.5]);
    let mut relu = ReLU::new();
    relu.forward(&Tensor::from_slice(&gpu, &x, &[6]).unwrap())
        .unwrap();
    let dx = read(
        &relu
            .backward(&Tensor::from_slice(&gpu, &[2.0; 6], &[6]).unwrap())
            .unwrap(),
    );
    assert_eq!(
        dx,
        vec![0.0, 2.0, 0.0, 0.0, 0.0, 2.0],
        "ReLU'(NaN) = ReLU'(0) = 0"
    );
    // Bit for bit: −0 comes out as +0, and NaN keeps its bits.
    assert_eq!(y[3].to_bits(), 0, "ReLU(−0) is +0");
    assert_eq!(y[0].to_bits(), x[0].to_bits(), "ReLU(NaN) keeps the NaN");
    // The explicit Jacobian follows the same rule: diag(x > 0).
    let j = read(&relu.jacobian().unwrap());
    let diag: Vec<f32> = (0..6).map(|i| j[i * 7]).collect();
    assert_eq!(
        diag,
        vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        "diag of the Jacobian"
    );
}

#[test]
fn relu_of_300000_rows_and_wide_softmax_rows() {
    let gpu = gpu();
    let rows = 300_000;
    let x: Vec<f32> = (0..rows * 2)
        .map(|i| if i % 3 == 0 { -1.0 } else { i as f32 })
        .collect();
    let y = read(&relu_forward(&Tensor::from_slice(&gpu, &x, &[rows, 2]).unwrap()).unwrap());
    let want: Vec<f32> = x.iter().map(|&v| if v > 0.0 { v } else { 0.0 }).collect();
    assert_eq!(y, want);
    // 300,000 rows of softmax: more rows than one dispatch dimension takes.
    let mut rng = Rng::new(70);
    let xs = rand_vec(&mut rng, rows * 3, -3.0, 3.0);
    let y = SoftMax::new()
        .forward(&upload(&gpu, &xs, &[rows, 3]))
        .unwrap();
    assert_close(
        "softmax 300000x3",
        &read(&y),
        &flat(&softmax_ref(&mat(&xs, rows, 3))),
        Tol {
            abs: 1e-12,
            rel: 1e-5,
        },
    );
}

#[test]
fn too_large_requests_are_errors_not_panics() {
    let gpu = gpu();
    let limits = gpu.limits();
    let limit = limits
        .max_buffer_size
        .min(limits.max_storage_buffer_binding_size);
    // One element more than the largest buffer the device binds.
    let n = (limit / 4 + 1) as usize;
    match Tensor::zeros(&gpu, &[n]) {
        Err(Error::TooLarge {
            requested,
            limit: l,
            ..
        }) => assert!(requested > l),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let e = Tensor::zeros(&gpu, &[1 << 20, 1 << 20]).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    // Tensors stop at 2^31 elements on every device, whatever it binds, so no kernel index
    // (u32) can wrap: the element count is refused before any buffer is asked for.
    let e = Tensor::zeros(&gpu, &[(1 << 31) + 1]).unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { what: "elements in a tensor", limit, .. } if limit == 1 << 31),
        "{e}"
    );
    // The device stays usable afterwards.
    let t = Tensor::from_slice(&gpu, &[1.0, -1.0], &[2]).unwrap();
    assert_eq!(read(&relu_forward(&t).unwrap()), vec![1.0, 0.0]);
}

#[test]
fn gpu_and_tensor_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Gpu>();
    assert_send_sync::<Tensor>();
    assert_send_sync::<Sequential>();
}

#[test]
fn four_threads_share_one_gpu() {
    let gpu = gpu();
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let gpu = gpu.clone();
            std::thread::spawn(move || {
                let mut rng = Rng::new(100 + t);
                for round in 0..25 {
                    let (rows, cols) = (1 + (t as usize * 7 + round) % 40, 1 + (round * 13) % 70);
                    let x = rand_vec(&mut rng, rows * cols, -4.0, 4.0);
                    let g = rand_vec(&mut rng, rows * cols, -1.0, 1.0);
                    let mut sm = SoftMax::new();
                    let y = sm.forward(&upload(&gpu, &x, &[rows, cols])).unwrap();
                    let dx = sm.backward(&upload(&gpu, &g, &[rows, cols])).unwrap();
                    let want = softmax_ref(&mat(&x, rows, cols));
                    let what = format!("thread {t} round {round}");
                    assert_close(
                        &what,
                        &read(&y),
                        &flat(&want),
                        Tol {
                            abs: 1e-12,
                            rel: 1e-5,
                        },
                    );
                    let want_dx = softmax_backward_ref(&want, &mat(&g, rows, cols));
                    assert_close(
                        &what,
                        &read(&dx),
                        &flat(&want_dx),
                        Tol {
                            abs: 1e-6,
                            rel: 1e-4,
                        },
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a thread failed");
    }
}

/// Runs `steps` training steps of a small model on random data.
fn train_steps(gpu: &Gpu, model: &mut Sequential, opt: &mut Sgd, steps: usize) {
    let mut rng = Rng::new(80);
    for _ in 0..steps {
        let x = upload(gpu, &rand_vec(&mut rng, 16 * 8, -1.0, 1.0), &[16, 8]);
        let t = upload(gpu, &rand_vec(&mut rng, 16 * 4, -1.0, 1.0), &[16, 4]);
        let y = model.forward(&x).unwrap();
        let (_loss, grad) = wgpu_backprop::loss::MeanSquaredError
            .forward_backward(&y, &t)
            .unwrap();
        model.backward(&grad).unwrap();
        opt.step(&mut model.parameters_mut()).unwrap();
    }
}

#[test]
fn memory_stops_growing_over_2000_steps() {
    // Its own Gpu, so other tests' tensors do not move the counts.
    let gpu = Gpu::new().unwrap();
    let mut model = Sequential::mlp(&gpu, &[8, 16, 4], 3).unwrap();
    let mut opt = Sgd::new(0.01, 0.9);
    train_steps(&gpu, &mut model, &mut opt, 50);
    gpu.synchronize().unwrap();
    let warm = gpu.memory_stats();
    train_steps(&gpu, &mut model, &mut opt, 2000);
    gpu.synchronize().unwrap();
    let after = gpu.memory_stats();
    assert!(
        after.live_buffers <= warm.live_buffers,
        "live buffers grew: {warm:?} -> {after:?}"
    );
    assert!(
        after.live_bytes <= warm.live_bytes,
        "live bytes grew: {warm:?} -> {after:?}"
    );
    assert!(
        after.pooled_bytes <= warm.pooled_bytes + 64 * 1024,
        "pool grew: {warm:?} -> {after:?}"
    );
}

#[test]
#[ignore = "soak: 10,000 steps; run with --ignored"]
fn soak_10000_steps() {
    let gpu = Gpu::new().unwrap();
    let mut model = Sequential::mlp(&gpu, &[8, 16, 4], 3).unwrap();
    let mut opt = Sgd::new(0.01, 0.9);
    train_steps(&gpu, &mut model, &mut opt, 100);
    gpu.synchronize().unwrap();
    let warm = gpu.memory_stats();
    train_steps(&gpu, &mut model, &mut opt, 10_000);
    gpu.synchronize().unwrap();
    let after = gpu.memory_stats();
    assert!(
        after.live_bytes <= warm.live_bytes && after.pooled_bytes <= warm.pooled_bytes + 64 * 1024
    );
}

#[test]
fn gradcheck_every_layer_and_a_small_model() {
    use wgpu_backprop::gradcheck;
    use wgpu_backprop::neurons::Linear;
    let gpu = gpu();
    let tol = 5e-3; // f32 forwards, h = 1e-2: differences good to ~1e-3 (seen: ≤ 8e-4)
    let cases: Vec<(Box<dyn Layer>, Vec<usize>)> = vec![
        (Box::new(SoftMax::new()), vec![3, 5]),
        (Box::new(SoftMax::new()), vec![7]),
        (Box::new(ReLU::new()), vec![4, 3]),
        (
            Box::new(Linear::with_seed(&gpu, 5, 4, 1).unwrap()),
            vec![3, 5],
        ),
        (Box::new(Linear::with_seed(&gpu, 3, 2, 2).unwrap()), vec![3]),
        (
            Box::new(
                Sequential::mlp(&gpu, &[4, 6, 3], 3)
                    .unwrap()
                    .with(SoftMax::new()),
            ),
            vec![2, 4],
        ),
    ];
    for (i, (mut layer, shape)) in cases.into_iter().enumerate() {
        let worst = gradcheck(layer.as_mut(), &shape, 10 + i as u64).unwrap();
        assert!(
            worst < tol,
            "{} {shape:?}: worst relative error {worst:e}",
            layer.name()
        );
    }
}

#[test]
fn gradcheck_catches_a_wrong_gradient() {
    use wgpu_backprop::gradcheck;
    /// ReLU whose backward doubles the gradient: gradcheck must notice.
    struct Wrong(ReLU);
    impl Layer for Wrong {
        fn name(&self) -> &'static str {
            "Wrong"
        }
        fn forward(&mut self, x: &Tensor) -> wgpu_backprop::Result<Tensor> {
            self.0.forward(x)
        }
        fn backward(&mut self, dy: &Tensor) -> wgpu_backprop::Result<Tensor> {
            let g = read(dy).iter().map(|v| 2.0 * v).collect::<Vec<f32>>();
            self.0
                .backward(&Tensor::from_slice(dy.gpu(), &g, dy.shape())?)
        }
        fn backward_jacobian(&mut self, dy: &Tensor) -> wgpu_backprop::Result<Tensor> {
            self.backward(dy)
        }
        fn jacobian(&self) -> wgpu_backprop::Result<Tensor> {
            self.0.jacobian()
        }
    }
    let worst = gradcheck(&mut Wrong(ReLU::new()), &[6], 1).unwrap();
    assert!(worst > 0.3, "a doubled gradient went unnoticed: {worst}");
}

#[test]
fn softmax_of_minus_infinity_rows() {
    let gpu = gpu();
    let ninf = f32::NEG_INFINITY;
    // All −inf but one entry; and the lowest finite values beside −inf.
    let x = [
        ninf, ninf, 2.0, ninf, /* */ ninf, -3.4e38, ninf, -3.4e38,
    ];
    for kernel in [
        RowKernel::PerInvocation,
        RowKernel::PerWorkgroup,
        RowKernel::Registers,
        RowKernel::Chunked,
    ] {
        let y = read(
            &softmax_forward_with(kernel, &Tensor::from_slice(&gpu, &x, &[2, 4]).unwrap()).unwrap(),
        );
        assert_eq!(&y[..4], &[0.0, 0.0, 1.0, 0.0], "{kernel:?}");
        assert_eq!(&y[4..], &[0.0, 0.5, 0.0, 0.5], "{kernel:?}");
    }
}

#[test]
fn device_validation_errors_come_back_as_err() {
    // Its own Gpu: the error must not land in another test's op.
    let gpu = Gpu::new().unwrap();
    // Provoke a validation error through the raw device: a buffer over the device's maximum.
    let too_big = gpu.limits().max_buffer_size.saturating_add(4);
    let _buffer = gpu.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("too big"),
        size: too_big,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    match gpu.flush() {
        Err(Error::Validation { op, message }) => {
            assert_eq!(op, "Gpu::flush");
            assert!(message.contains("too big"), "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // Reported once; the device stays usable.
    gpu.flush().unwrap();
    let t = Tensor::from_slice(&gpu, &[-1.0, 3.0], &[2]).unwrap();
    assert_eq!(read(&relu_forward(&t).unwrap()), vec![0.0, 3.0]);
}
