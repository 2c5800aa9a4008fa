//! Bad input gives a typed `Err` naming the op and the shapes — never a panic.

use crate::common::*;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::ops::{gemm, matmul, Transpose};
use wgpu_backprop::{Error, Gpu, Layer, Tensor};

#[test]
fn data_length_rank_and_zero_size() {
    let gpu = gpu();
    let e = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DataLength {
                len: 3,
                expected: 4,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("[2, 2]"), "{e}");
    assert_eq!(
        Tensor::from_slice(&gpu, &[1.0; 8], &[2, 2, 2])
            .unwrap()
            .shape(),
        &[2, 2, 2],
        "rank 3 and 4 hold images"
    );
    let e = Tensor::from_slice(&gpu, &[1.0; 32], &[2, 2, 2, 2, 2]).unwrap_err();
    assert!(matches!(e, Error::BadRank { .. }), "{e}");
    let e = Tensor::from_slice(&gpu, &[], &[]).unwrap_err();
    assert!(matches!(e, Error::BadRank { .. }), "{e}");
    let e = Tensor::from_slice(&gpu, &[], &[0, 3]).unwrap_err();
    assert!(matches!(e, Error::ZeroSize { .. }), "{e}");
    let e = Tensor::zeros(&gpu, &[4, 0]).unwrap_err();
    assert!(matches!(e, Error::ZeroSize { .. }), "{e}");
    let t = Tensor::zeros(&gpu, &[2, 3]).unwrap();
    assert!(matches!(t.reshape(&[4]), Err(Error::ShapeMismatch { .. })));
    assert_eq!(t.reshape(&[3, 2]).unwrap().shape(), &[3, 2]);
}

#[test]
fn matmul_inner_dimension_mismatch_names_both_shapes() {
    let gpu = gpu();
    let a = Tensor::zeros(&gpu, &[2, 3]).unwrap();
    let b = Tensor::zeros(&gpu, &[4, 5]).unwrap();
    let e = matmul(&a, &b).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, Error::ShapeMismatch { op: "matmul", .. }),
        "{msg}"
    );
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");
    let v = Tensor::zeros(&gpu, &[3]).unwrap();
    assert!(matches!(matmul(&v, &b), Err(Error::ShapeMismatch { .. })));
    let bias = Tensor::zeros(&gpu, &[4]).unwrap();
    let b2 = Tensor::zeros(&gpu, &[3, 5]).unwrap();
    assert!(matches!(
        gemm(&a, Transpose::No, &b2, Transpose::No, Some(&bias)),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn backward_before_forward() {
    let gpu = gpu();
    let dy = Tensor::zeros(&gpu, &[5]).unwrap();
    let mut layers: Vec<Box<dyn Layer>> = vec![
        Box::new(SoftMax::new()),
        Box::new(ReLU::new()),
        Box::new(Linear::with_seed(&gpu, 3, 5, 1).unwrap()),
    ];
    for layer in layers.iter_mut() {
        let e = layer.backward(&dy).unwrap_err();
        assert!(
            matches!(e, Error::BackwardBeforeForward { .. }),
            "{}: {e}",
            layer.name()
        );
        assert!(matches!(
            layer.backward_jacobian(&dy),
            Err(Error::BackwardBeforeForward { .. })
        ));
        assert!(matches!(
            layer.jacobian(),
            Err(Error::BackwardBeforeForward { .. })
        ));
    }
}

#[test]
fn gradient_shaped_unlike_the_output() {
    let gpu = gpu();
    let x = Tensor::zeros(&gpu, &[2, 3]).unwrap();
    let bad = Tensor::zeros(&gpu, &[3, 2]).unwrap();
    let mut layers: Vec<Box<dyn Layer>> = vec![Box::new(SoftMax::new()), Box::new(ReLU::new())];
    for layer in layers.iter_mut() {
        layer.forward(&x).unwrap();
        let e = layer.backward(&bad).unwrap_err();
        assert!(
            e.to_string().contains("[2, 3]") && e.to_string().contains("[3, 2]"),
            "{e}"
        );
        assert!(matches!(
            layer.backward_jacobian(&bad),
            Err(Error::ShapeMismatch { .. })
        ));
    }
    let mut lin = Linear::with_seed(&gpu, 3, 5, 1).unwrap();
    lin.forward(&x).unwrap();
    let e = lin
        .backward(&Tensor::zeros(&gpu, &[2, 4]).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::ShapeMismatch {
                op: "Linear::backward",
                ..
            }
        ),
        "{e}"
    );
    let e = lin
        .forward(&Tensor::zeros(&gpu, &[2, 4]).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("[batch, 3]"), "{e}");
}

#[test]
fn tensors_from_another_gpu_are_refused() {
    let gpu = gpu();
    let other = Gpu::new().expect("a second device on the same adapter");
    let a = Tensor::zeros(&gpu, &[2, 2]).unwrap();
    let b = Tensor::zeros(&other, &[2, 2]).unwrap();
    assert!(matches!(matmul(&a, &b), Err(Error::DifferentGpu { .. })));
    let mut lin = Linear::with_seed(&gpu, 2, 2, 1).unwrap();
    assert!(matches!(lin.forward(&b), Err(Error::DifferentGpu { .. })));
    let mut sm = SoftMax::new();
    sm.forward(&a).unwrap();
    assert!(matches!(sm.backward(&b), Err(Error::DifferentGpu { .. })));
}

#[test]
fn linear_with_zero_features_is_refused() {
    let gpu = gpu();
    assert!(matches!(
        Linear::new(&gpu, 0, 3),
        Err(Error::ZeroSize { .. })
    ));
    let w = Tensor::zeros(&gpu, &[3]).unwrap();
    let b = Tensor::zeros(&gpu, &[3]).unwrap();
    assert!(matches!(
        Linear::from_parameters(w, b),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn no_adapter_message_says_how_to_install_one() {
    let msg = Error::NoAdapter {
        backends: "VULKAN".into(),
    }
    .to_string();
    assert!(
        msg.contains("apt-get install -y mesa-vulkan-drivers"),
        "{msg}"
    );
}

/// An in-place writer given a view of its own target copies the target first: the view (what
/// the user holds) keeps its value and the result is the one of distinct tensors. (Before
/// copy-on-write this was an `Err`.)
#[test]
fn in_place_updates_of_aliased_inputs_copy_the_target_first() {
    let gpu = gpu();
    let mut acc = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    let view = acc.reshape(&[4]).unwrap();
    wgpu_backprop::ops::add_assign(&mut acc, &view).unwrap();
    assert_eq!(acc.to_vec().unwrap(), vec![2.0, 4.0, 6.0, 8.0]);
    assert_eq!(view.to_vec().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);

    let mut w = Tensor::from_slice(&gpu, &[1.0, -2.0, 4.0, 8.0], &[2, 2]).unwrap();
    let snapshot = w.clone();
    let mut p = [wgpu_backprop::ParameterMut {
        name: "w",
        value: &mut w,
        grad: Some(&snapshot),
    }];
    use wgpu_backprop::optim::Optimizer;
    wgpu_backprop::optim::Sgd::new(0.5, 0.0)
        .step(&mut p)
        .unwrap();
    assert_eq!(w.to_vec().unwrap(), vec![0.5, -1.0, 2.0, 4.0]);
    assert_eq!(snapshot.to_vec().unwrap(), vec![1.0, -2.0, 4.0, 8.0]);
}

#[test]
fn an_adapter_name_that_matches_nothing_is_an_error_not_a_panic() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wgpu-backprop"))
        .arg("info")
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .output()
        .expect("the demo binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("no GPU adapter found")
            && stderr.contains("\"no-such-adapter-anywhere\" matches none of")
            && stderr.contains("mesa-vulkan-drivers"),
        "{stderr}"
    );
}
