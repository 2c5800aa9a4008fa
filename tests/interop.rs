//! ndarray interop (`--features ndarray`): arrays of every layout in, arrays out, shapes
//! checked.
#![cfg(feature = "ndarray")]

mod common;
use common::*;
use ndarray::{array, s, Array2};
use wgpu_backprop::{Error, Tensor};

#[test]
fn arrays_of_any_layout_round_trip() {
    let gpu = gpu();
    let a: Array2<f32> = Array2::from_shape_fn((5, 7), |(i, j)| (i * 10 + j) as f32);
    for (what, view) in [
        ("standard", a.view()),
        ("transposed", a.t()),
        ("strided", a.slice(s![..;2, 1..;3])),
    ] {
        let t = Tensor::from_array(&gpu, &view).unwrap();
        assert_eq!(t.shape(), view.shape(), "{what}");
        assert_eq!(t.to_array2().unwrap(), view.to_owned(), "{what}");
    }
    let v = array![1.0f32, -2.0, 3.5];
    let t = Tensor::from_array(&gpu, &v).unwrap();
    assert_eq!(t.to_array1().unwrap(), v);
    let col = a.column(2);
    assert_eq!(
        Tensor::from_array(&gpu, &col).unwrap().to_vec().unwrap(),
        col.to_vec()
    );
}

#[test]
fn wrong_ranks_are_errors() {
    let gpu = gpu();
    let t = Tensor::from_array(&gpu, &array![[1.0f32, 2.0]]).unwrap();
    assert!(matches!(t.to_array1(), Err(Error::ShapeMismatch { .. })));
    let v = Tensor::from_array(&gpu, &array![1.0f32]).unwrap();
    assert!(matches!(v.to_array2(), Err(Error::ShapeMismatch { .. })));
    let images = ndarray::Array4::<f32>::zeros((2, 1, 2, 2));
    assert_eq!(
        Tensor::from_array(&gpu, &images).unwrap().shape(),
        &[2, 1, 2, 2]
    );
    let rank5 = ndarray::Array5::<f32>::zeros((1, 2, 1, 2, 2));
    assert!(matches!(
        Tensor::from_array(&gpu, &rank5),
        Err(Error::BadRank { .. })
    ));
    let empty = Array2::<f32>::zeros((0, 3));
    assert!(matches!(
        Tensor::from_array(&gpu, &empty),
        Err(Error::ZeroSize { .. })
    ));
}
