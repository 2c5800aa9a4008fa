//! The lab walk-through: each part runs forward, backward and the Jacobian path on the GPU,
//! prints them as numpy did, and reports the largest difference from the f64 CPU reference.

use wgpu_backprop::neurons::Linear;
use wgpu_backprop::nodes::{ReLU, SoftMax};
use wgpu_backprop::reference as cpu;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{Gpu, Layer, Result, Tensor};

use crate::print::np;

const LABEL: usize = 22;

/// Prints `name = array`, continuation lines aligned under the first.
fn show(name: &str, t: &Tensor) -> Result<Vec<f32>> {
    let v = t.to_vec()?;
    let text = np(&v, t.shape()).replace('\n', &format!("\n{:LABEL$}   ", ""));
    println!("{name:<LABEL$} = {text}");
    Ok(v)
}

fn report(diffs: &[(&str, f64)]) {
    let parts: Vec<String> = diffs.iter().map(|(n, d)| format!("{n} {d:.1e}")).collect();
    println!("{:<LABEL$} : {}", "max |GPU - CPU f64|", parts.join(", "));
}

pub fn run(gpu: &Gpu) -> Result<()> {
    let info = gpu.adapter_info();
    println!("wgpu-backprop lab on {} ({:?})\n", info.name, info.backend);
    softmax(gpu)?;
    relu(gpu)?;
    linear(gpu)
}

fn softmax(gpu: &Gpu) -> Result<()> {
    println!("Part 1: SoftMax");
    let x = Tensor::from_slice(gpu, &[0.0, 1.0, 2.0, 3.0, 4.0], &[5])?;
    let dy = Tensor::from_slice(gpu, &[1.0, 2.0, 3.0, 2.0, 1.0], &[5])?;
    let mut sm = SoftMax::new();
    let xv = show("x", &x)?;
    let y = show("y = softmax(x)", &sm.forward(&x)?)?;
    let g = show("dL/dy", &dy)?;
    let dx = show("dL/dx", &sm.backward(&dy)?)?;
    let dxj = show("dL/dx via Jacobian", &sm.backward_jacobian(&dy)?)?;
    let y64 = cpu::softmax(&cpu::to_f64(&xv), 5);
    let dx64 = cpu::softmax_backward(&y64, &cpu::to_f64(&g), 5);
    report(&[
        ("y", cpu::max_abs_diff(&y, &y64)),
        ("dL/dx", cpu::max_abs_diff(&dx, &dx64)),
        ("Jacobian path", cpu::max_abs_diff(&dxj, &dx64)),
    ]);
    println!();
    Ok(())
}

fn relu(gpu: &Gpu) -> Result<()> {
    println!("Part 2: ReLU (vector, then the 2x5 matrix with both rows equal)");
    let row = [0.0, -1.0, 2.0, -1.0, 4.0];
    let grad = [1.0, 2.0, 3.0, 2.0, 1.0];
    for shape in [vec![5], vec![2, 5]] {
        let reps = shape.iter().product::<usize>() / 5;
        let x = Tensor::from_slice(gpu, &row.repeat(reps), &shape)?;
        let dy = Tensor::from_slice(gpu, &grad.repeat(reps), &shape)?;
        let mut relu = ReLU::new();
        let xv = show("x", &x)?;
        let y = show("y = relu(x)", &relu.forward(&x)?)?;
        let g = show("dL/dy", &dy)?;
        let dx = show("dL/dx", &relu.backward(&dy)?)?;
        let dxj = show("dL/dx via Jacobian", &relu.backward_jacobian(&dy)?)?;
        let x64 = cpu::to_f64(&xv);
        let dx64 = cpu::relu_backward(&x64, &cpu::to_f64(&g));
        report(&[
            ("y", cpu::max_abs_diff(&y, &cpu::relu(&x64))),
            ("dL/dx", cpu::max_abs_diff(&dx, &dx64)),
            ("Jacobian path", cpu::max_abs_diff(&dxj, &dx64)),
        ]);
        println!();
    }
    Ok(())
}

fn linear(gpu: &Gpu) -> Result<()> {
    println!("Part 3: Linear, Y = X W + b (weights seeded)");
    println!("(a) a batch: X (3, 2) -> Y (3, 5)");
    let x = [0.5, -1.0, 2.0, 0.25, -1.5, 1.0];
    linear_case(gpu, Linear::with_seed(gpu, 2, 5, 42)?, &x, &[3, 2], 1)?;
    println!("(b) a vector: x [3] -> y [5]");
    linear_case(
        gpu,
        Linear::with_seed(gpu, 3, 5, 42)?,
        &[1.0, -2.0, 0.5],
        &[3],
        2,
    )
}

fn linear_case(gpu: &Gpu, mut lin: Linear, x: &[f32], shape: &[usize], seed: u64) -> Result<()> {
    let (k, n) = (lin.in_features(), lin.out_features());
    let batch = x.len() / k;
    let out_shape = if shape.len() == 1 {
        vec![n]
    } else {
        vec![batch, n]
    };
    let mut rng = Rng::new(seed);
    let g: Vec<f32> = (0..batch * n)
        .map(|_| (rng.uniform(-1.0, 1.0) * 100.0).round() / 100.0)
        .collect();
    let xt = Tensor::from_slice(gpu, x, shape)?;
    let dy = Tensor::from_slice(gpu, &g, &out_shape)?;
    show("X", &xt)?;
    let w = show("W", lin.weight())?;
    let b = show("b", lin.bias())?;
    let y = show("Y", &lin.forward(&xt)?)?;
    show("dL/dY", &dy)?;
    let dx = show("dL/dX", &lin.backward(&dy)?)?;
    let dw = show("dL/dW", lin.weight_grad().unwrap_or(lin.weight()))?;
    let db = show("dL/db", lin.bias_grad().unwrap_or(lin.bias()))?;
    let dxj = lin.backward_jacobian(&dy)?.to_vec()?;
    let dwj = lin.weight_grad().unwrap_or(lin.weight()).to_vec()?;
    let dbj = lin.bias_grad().unwrap_or(lin.bias()).to_vec()?;
    let (x64, w64, g64) = (cpu::to_f64(x), cpu::to_f64(&w), cpu::to_f64(&g));
    let y64 = cpu::linear(&x64, &w64, &cpu::to_f64(&b), k, n);
    let (dx64, dw64, db64) = cpu::linear_backward(&x64, &w64, &g64, k, n);
    report(&[
        ("Y", cpu::max_abs_diff(&y, &y64)),
        ("dL/dX", cpu::max_abs_diff(&dx, &dx64)),
        ("dL/dW", cpu::max_abs_diff(&dw, &dw64)),
        ("dL/db", cpu::max_abs_diff(&db, &db64)),
    ]);
    report(&[
        ("Jacobian path: dL/dX", cpu::max_abs_diff(&dxj, &dx64)),
        ("dL/dW", cpu::max_abs_diff(&dwj, &dw64)),
        ("dL/db", cpu::max_abs_diff(&dbj, &db64)),
    ]);
    println!();
    Ok(())
}
