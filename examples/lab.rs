//! The lab "Vector and Matrix Backpropagation" in a few lines: SoftMax, ReLU and Linear,
//! forward and backward on the GPU, and the same gradients through the explicit Jacobians.
//!
//!     cargo run --example lab

use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::{Gpu, Layer, Result, Tensor};

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    println!("on {}", gpu.adapter_name());

    // Part 1: SoftMax of [0, 1, 2, 3, 4] with dL/dy = [1, 2, 3, 2, 1].
    let x = Tensor::from_slice(&gpu, &[0.0, 1.0, 2.0, 3.0, 4.0], &[5])?;
    let dy = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 2.0, 1.0], &[5])?;
    let mut sm = SoftMax::new();
    println!("softmax(x)        = {:?}", sm.forward(&x)?.to_vec()?);
    println!("dL/dx             = {:?}", sm.backward(&dy)?.to_vec()?);
    println!(
        "dL/dx (Jacobian)  = {:?}",
        sm.backward_jacobian(&dy)?.to_vec()?
    );

    // Part 2: ReLU, with ReLU'(0) = 0.
    let x = Tensor::from_slice(&gpu, &[0.0, -1.0, 2.0, -1.0, 4.0], &[5])?;
    let mut relu = ReLU::new();
    println!("relu(x)           = {:?}", relu.forward(&x)?.to_vec()?);
    println!("dL/dx             = {:?}", relu.backward(&dy)?.to_vec()?);

    // Part 3: Linear (2 → 5) on a batch of 3 rows; backward keeps dL/dW and dL/db.
    let mut linear = Linear::with_seed(&gpu, 2, 5, 7)?;
    let x = Tensor::from_slice(&gpu, &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[3, 2])?;
    let dy = Tensor::from_slice(&gpu, &[1.0; 15], &[3, 5])?;
    println!("Y                 = {:?}", linear.forward(&x)?.to_vec()?);
    let dx = linear.backward(&dy)?.to_vec()?;
    let dw = linear.weight_grad().map(Tensor::to_vec).transpose()?;
    let dx_j = linear.backward_jacobian(&dy)?.to_vec()?;
    let dw_j = linear.weight_grad().map(Tensor::to_vec).transpose()?;
    println!("dL/dX             = {dx:?}");
    println!("dL/dW             = {dw:?}");
    let same = dx.iter().zip(&dx_j).all(|(a, b)| (a - b).abs() < 1e-6) && dw == dw_j;
    println!("Jacobian path gives the same dL/dX and dL/dW: {same}");
    Ok(())
}
