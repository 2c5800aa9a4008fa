//! The numbers the original numpy lab printed, reproduced on the GPU.

use crate::common::*;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::Layer;

const LAB_Y: [f64; 5] = [0.01165623, 0.03168492, 0.08612854, 0.23412166, 0.63640865];
const LAB_DX: [f64; 5] = [-0.00510617, 0.01780491, 0.1345273, 0.13156147, -0.27878751];
/// The lab printed 8 decimals: agreement to half a unit in the last printed place.
const PRINTED: Tol = Tol {
    abs: 5e-9 + 1e-7,
    rel: 0.0,
};

#[test]
fn softmax_vector_matches_the_lab() {
    let gpu = gpu();
    let x = upload(&gpu, &[0.0, 1.0, 2.0, 3.0, 4.0], &[5]);
    let dy = upload(&gpu, &[1.0, 2.0, 3.0, 2.0, 1.0], &[5]);
    let mut sm = SoftMax::new();
    let y = sm.forward(&x).unwrap();
    assert_eq!(y.shape(), &[5]);
    assert_close("softmax y", &read(&y), &LAB_Y, PRINTED);
    let dx = sm.backward(&dy).unwrap();
    assert_close("softmax dL/dx", &read(&dx), &LAB_DX, PRINTED);
    let dxj = sm.backward_jacobian(&dy).unwrap();
    assert_close("softmax dL/dx (Jacobian)", &read(&dxj), &LAB_DX, PRINTED);
}

#[test]
fn softmax_matrix_rows_match_the_lab() {
    let gpu = gpu();
    let x = upload(
        &gpu,
        &[0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0, 3.0, 4.0],
        &[2, 5],
    );
    let dy = upload(
        &gpu,
        &[1.0, 2.0, 3.0, 2.0, 1.0, 1.0, 2.0, 3.0, 2.0, 1.0],
        &[2, 5],
    );
    let mut sm = SoftMax::new();
    let y = sm.forward(&x).unwrap();
    let twice = |v: &[f64; 5]| [v.as_slice(), v.as_slice()].concat();
    assert_close("softmax rows y", &read(&y), &twice(&LAB_Y), PRINTED);
    let dx = sm.backward(&dy).unwrap();
    assert_close("softmax rows dx", &read(&dx), &twice(&LAB_DX), PRINTED);
}

#[test]
fn relu_vector_and_matrix_match_the_lab() {
    let gpu = gpu();
    for shape in [vec![5], vec![2, 5]] {
        let reps = shape.iter().product::<usize>() / 5;
        let rep = |v: [f64; 5]| v.repeat(reps);
        let x = upload(&gpu, &rep([0.0, -1.0, 2.0, -1.0, 4.0]), &shape);
        let dy = upload(&gpu, &rep([1.0, 2.0, 3.0, 2.0, 1.0]), &shape);
        let mut relu = ReLU::new();
        let y = relu.forward(&x).unwrap();
        assert_eq!(y.shape(), &shape[..]);
        assert_eq!(
            read(&y),
            rep([0.0, 0.0, 2.0, 0.0, 4.0])
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>()
        );
        let want_dx: Vec<f32> = rep([0.0, 0.0, 3.0, 0.0, 1.0])
            .iter()
            .map(|&v| v as f32)
            .collect();
        assert_eq!(
            read(&relu.backward(&dy).unwrap()),
            want_dx,
            "relu dx {shape:?}"
        );
        assert_eq!(
            read(&relu.backward_jacobian(&dy).unwrap()),
            want_dx,
            "relu dx via J {shape:?}"
        );
    }
}
