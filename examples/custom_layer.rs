//! A layer of your own, written with the crate's ops: a residual block y = x + Linear(ReLU(x)).
//! It implements `Layer` (forward, backward, the Jacobian path, parameters), so it trains in a
//! `Sequential` like the built-in ones, and `gradcheck` compares its analytic gradients with
//! finite differences.
//!
//!     cargo run --example custom_layer

use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::ReLU;
use wgpu_backprop::{gradcheck, ops, Gpu, Layer, Parameter, ParameterMut, Result, Tensor};

/// y = x + Linear(ReLU(x)) with a square Linear (n → n).
struct Residual {
    relu: ReLU,
    linear: Linear,
}

impl Layer for Residual {
    fn name(&self) -> &'static str {
        "Residual"
    }

    // x: (B, n) → y: (B, n).
    fn forward(&mut self, x: &Tensor) -> Result<Tensor> {
        let mut y = self.linear.forward(&self.relu.forward(x)?)?;
        ops::add_assign(&mut y, x)?; // copy-on-write: a view the Linear kept is not changed
        Ok(y)
    }

    // dx = dy + ReLU'(x) ⊙ (dy · Wᵀ); the Linear keeps dW and db.
    fn backward(&mut self, dy: &Tensor) -> Result<Tensor> {
        let mut dx = self.relu.backward(&self.linear.backward(dy)?)?;
        ops::add_assign(&mut dx, dy)?;
        Ok(dx)
    }

    fn backward_jacobian(&mut self, dy: &Tensor) -> Result<Tensor> {
        let mut dx = self
            .relu
            .backward_jacobian(&self.linear.backward_jacobian(dy)?)?;
        ops::add_assign(&mut dx, dy)?;
        Ok(dx)
    }

    // J = I + J_linear · J_relu.
    fn jacobian(&self) -> Result<Tensor> {
        let mut j = ops::matmul(&self.linear.jacobian()?, &self.relu.jacobian()?)?;
        let n = j.shape()[0];
        let eye: Vec<f32> = (0..n * n)
            .map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 })
            .collect();
        let eye = Tensor::from_slice(j.gpu(), &eye, &[n, n])?;
        ops::add_assign(&mut j, &eye)?;
        Ok(j)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        self.linear.parameters()
    }

    fn parameters_mut(&mut self) -> Vec<ParameterMut<'_>> {
        self.linear.parameters_mut()
    }
}

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let mut block = Residual {
        relu: ReLU::new(),
        linear: Linear::with_seed(&gpu, 6, 6, 1)?,
    };
    let worst = gradcheck(&mut block, &[4, 6], 0)?;
    println!("Residual: worst relative gradient error vs finite differences {worst:.1e}");
    assert!(worst < 5e-3, "gradcheck failed: {worst}");

    let x = Tensor::from_slice(&gpu, &[0.5, -1.0, 2.0, 0.0, 1.5, -0.5], &[1, 6])?;
    let dy = Tensor::from_slice(&gpu, &[1.0, 0.0, -1.0, 2.0, 0.5, 1.0], &[1, 6])?;
    block.forward(&x)?;
    let fused = block.backward(&dy)?.to_vec()?;
    let via_j = block.backward_jacobian(&dy)?.to_vec()?;
    println!("dL/dx fused      {fused:?}\ndL/dx (Jacobian) {via_j:?}");
    Ok(())
}
