//! The async path, a device the caller owns, and adapter choice in code.

use crate::common::*;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::{ops, Error, Gpu, GpuOptions, Layer, Tensor};

#[test]
fn the_async_path_gives_what_the_blocking_one_does() {
    let gpu = gpu();
    let x = Tensor::from_slice(&gpu, &[1.0, -2.0, 0.5, -0.0, 3.0], &[5]).unwrap();
    let y = ops::softmax_forward(&ops::relu_forward(&x).unwrap()).unwrap();
    let blocking = y.to_vec().unwrap();
    assert_eq!(pollster::block_on(y.to_vec_async()).unwrap(), blocking);

    // A whole run without a blocking call: open, compute, read.
    let sum = pollster::block_on(async {
        let gpu = Gpu::new_async().await?;
        let x = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
        ops::column_sum(&x)?.to_vec_async().await
    })
    .unwrap();
    assert_eq!(sum, vec![4.0, 6.0]);
}

#[test]
fn a_device_the_caller_owns_runs_the_layers() {
    let (info, device, queue) = own_device(|_| wgpu::Limits::default());
    let gpu = Gpu::from_device(info, device.clone(), queue);
    assert!(gpu.device() == &device, "the Gpu uses the caller's device");
    let mut lin = Linear::from_parts(&gpu, 2, 2, &[1.0, 2.0, 3.0, 4.0], &[0.5, -0.5]).unwrap();
    let y = lin
        .forward(&Tensor::from_slice(&gpu, &[1.0, 1.0], &[2]).unwrap())
        .unwrap();
    assert_eq!(read(&y), vec![4.5, 5.5]);
    // Tensors of this Gpu and of the test's own are not mixed.
    let other = Tensor::from_slice(&crate::common::gpu(), &[1.0, 1.0], &[2]).unwrap();
    assert!(matches!(
        lin.forward(&other),
        Err(Error::DifferentGpu { .. })
    ));
}

#[test]
fn adapter_choice_in_code() {
    if std::env::var_os("WGPU_ADAPTER_NAME").is_some() {
        return; // the environment wins over the options by design; nothing to check here
    }
    let options = GpuOptions {
        adapter_name: Some("no-such-adapter-anywhere".into()),
        ..GpuOptions::default()
    };
    let e = Gpu::with_options(&options).unwrap_err();
    assert!(
        matches!(&e, Error::NoAdapter { backends } if backends.contains("matches none of")),
        "{e}"
    );
    let name = gpu().adapter_name().to_uppercase(); // any case matches
    let options = GpuOptions {
        adapter_name: Some(name.clone()),
        ..GpuOptions::default()
    };
    assert_eq!(
        Gpu::with_options(&options)
            .unwrap()
            .adapter_name()
            .to_uppercase(),
        name
    );
    let all = pollster::block_on(Gpu::adapters(&GpuOptions::default()));
    assert!(all.iter().any(|a| a.name.to_uppercase() == name), "{all:?}");
}
