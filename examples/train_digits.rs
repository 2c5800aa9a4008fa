//! Training a classifier on the digits set that ships with the crate: an MLP (64→128→ReLU→10)
//! with Adam, every step on the GPU, the test accuracy after each epoch, then save and reload.
//!
//!     cargo run --release --example train_digits

use wgpu_backprop::data::Dataset;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::optim::Adam;
use wgpu_backprop::train::{fit, TrainConfig};
use wgpu_backprop::{Gpu, Result, Tensor};

fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let (train, test) = Dataset::digits()?.stratified_split(0.2, 0);
    println!(
        "{} training and {} test images on {}",
        train.len(),
        test.len(),
        gpu.adapter_name()
    );

    let mut model = Sequential::mlp(&gpu, &[64, 128, 10], 0)?;
    let mut adam = Adam::new(2e-3);
    let cfg = TrainConfig {
        epochs: 10,
        batch_size: 32,
        seed: 0,
    };
    let reports = fit(
        &gpu,
        &mut model,
        &mut adam,
        (&train, &test),
        &cfg,
        &mut |r| {
            println!(
                "epoch {:>2}: loss {:.4}, test accuracy {:.1}%",
                r.epoch,
                r.loss,
                100.0 * r.test_accuracy
            );
        },
    )?;

    let path = std::env::temp_dir().join("train_digits_example.safetensors");
    model.save(&path)?;
    let mut again = Sequential::load(&gpu, &path)?;
    let x = Tensor::from_slice(&gpu, test.features(), &[test.len(), test.dim()])?;
    assert_eq!(again.predict(&x)?, model.predict(&x)?);
    let last = reports.last().map_or(0.0, |r| r.test_accuracy);
    println!(
        "saved to {} and reloaded: same predictions, {:.1}% correct",
        path.display(),
        100.0 * last
    );
    Ok(())
}
