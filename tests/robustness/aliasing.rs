//! Parameters cannot alias: a model copied with `try_clone`, a weight kept with `clone`, a
//! cloned optimizer, all keep their values while the original trains (optimizers write in
//! place, copy-on-write). Before, clones shared the buffers and changed with every step.

use crate::common::*;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::optim::Adam;
use wgpu_backprop::train::train_step;
use wgpu_backprop::{Layer, Tensor};

fn values(m: &Sequential) -> Vec<Vec<f32>> {
    m.parameters().iter().map(|p| read(p.value)).collect()
}

fn batch(step: usize) -> (Vec<f32>, Vec<u32>) {
    let x = (0..6 * 8)
        .map(|i| ((i * 7 + step * 3) % 11) as f32 / 11.0)
        .collect();
    let y = (0..6).map(|i| ((i + step) % 4) as u32).collect();
    (x, y)
}

#[test]
fn clones_keep_their_values_while_the_original_trains() {
    let gpu = gpu();
    let mut model = Sequential::mlp(&gpu, &[8, 16, 4], 1).unwrap();
    let mut opt = Adam::new(0.05);
    let (x, y) = batch(0);
    train_step(&gpu, &mut model, &mut opt, &x, &y, &[8]).unwrap(); // the optimizer has state now
    let before = values(&model);
    let snapshot = model.try_clone().unwrap();
    let kept_weight: Tensor = model.parameters()[0].value.clone();
    let kept_view = model.parameters()[1].value.reshape(&[1, 16]).unwrap();
    let mut opt_copy = opt.clone();
    for step in 1..=10 {
        let (x, y) = batch(step);
        train_step(&gpu, &mut model, &mut opt, &x, &y, &[8]).unwrap();
    }
    let after = values(&model);
    assert!(
        before.iter().zip(&after).all(|(b, a)| b != a),
        "training changed every parameter"
    );
    assert_eq!(values(&snapshot), before, "the model's copy changed");
    assert_eq!(read(&kept_weight), before[0], "a kept weight changed");
    assert_eq!(
        read(&kept_view),
        before[1],
        "a kept view of the bias changed"
    );

    // The copies train on their own: the snapshot with the optimizer's copy gives what the
    // original gave from the same state (same steps, same adapter, bit for bit).
    let mut again = snapshot.try_clone().unwrap();
    for step in 1..=10 {
        let (x, y) = batch(step);
        train_step(&gpu, &mut again, &mut opt_copy, &x, &y, &[8]).unwrap();
    }
    assert_eq!(
        values(&again),
        after,
        "the optimizer's copy kept its own state"
    );
    assert_eq!(
        values(&snapshot),
        before,
        "training a copy of a copy changed it"
    );
}

#[test]
fn with_nothing_shared_a_step_copies_nothing() {
    let gpu = own_gpu(); // no other test's buffers
    let mut model = Sequential::mlp(&gpu, &[8, 16, 4], 2).unwrap();
    let mut opt = Adam::new(0.01);
    let (x, y) = batch(0);
    let mut live = Vec::new();
    for _ in 0..4 {
        let loss = train_step(&gpu, &mut model, &mut opt, &x, &y, &[8]).unwrap();
        read(&loss);
        live.push(gpu.memory_stats().live_buffers);
    }
    assert!(
        live.windows(2).all(|w| w[0] == w[1]),
        "live buffers grew step by step: {live:?}"
    );
}
