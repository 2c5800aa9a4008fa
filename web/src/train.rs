//! Training the digits classifier live in the page: the library's `train_step` for each
//! mini-batch (recorded, nothing read back), the loss summed on the GPU and read (awaited) a
//! few times an epoch so that the page can move its progress bar, then the test accuracy
//! (`evaluate_async`). The same data, split, model strings and defaults as `wgpu-backprop
//! train` (MLP 64 → 128 → 10 with Adam at 2e-3, batch 32; or the CNN at 4e-3, batch 64).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_time::Instant;
use wgpu_backprop::data::Dataset;
use wgpu_backprop::model::Sequential;
use wgpu_backprop::optim::Adam;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::train::{batch_shape, evaluate_async, train_step};
use wgpu_backprop::{ops, Gpu, Layer, Result, Tensor};

use crate::{js_error, WebGpu};

/// Progress readbacks per epoch: each lets the page draw.
const PROGRESS_STEPS: usize = 8;

struct State {
    gpu: Gpu,
    model: Sequential,
    opt: Adam,
    train: Dataset,
    test: Dataset,
    batch: usize,
    epoch: usize,
    rng: Rng,
}

/// A model being trained on the embedded digits (1,437 training and 360 test images of 8×8).
#[wasm_bindgen]
pub struct Trainer {
    /// `None` while an epoch or a prediction has it (one at a time).
    state: Rc<RefCell<Option<State>>>,
    model: String,
}

#[wasm_bindgen]
impl Trainer {
    /// `model`: `"mlp"` or `"cnn"`; `batch` 0 and `lr` 0 take the demo's defaults for it.
    #[wasm_bindgen(constructor)]
    pub fn new(
        gpu: &WebGpu,
        model: &str,
        batch: usize,
        lr: f32,
        seed: u64,
    ) -> Result<Trainer, JsValue> {
        let (train, test) = Dataset::digits()
            .map_err(js_error)?
            .stratified_split(0.2, seed);
        let image = train.image_shape().unwrap_or([1, 8, 8]);
        let (config, default_lr, default_batch) = match model {
            "mlp" => (
                Sequential::hidden_config(train.dim(), &["128".into()], 10),
                2e-3,
                32,
            ),
            "cnn" => (Sequential::cnn_config(image, 10), 4e-3, 64),
            other => {
                return Err(js_error(format!(
                    "Trainer: unknown model {other:?}; expected \"mlp\" or \"cnn\""
                )))
            }
        };
        let config = config.map_err(js_error)?;
        let gpu = gpu.gpu.clone();
        let model_net = Sequential::from_config(&gpu, &config, seed).map_err(js_error)?;
        let lr = if lr > 0.0 { lr } else { default_lr };
        let state = State {
            gpu,
            model: model_net,
            opt: Adam::new(lr),
            train,
            test,
            batch: if batch > 0 { batch } else { default_batch },
            epoch: 0,
            rng: Rng::new(seed),
        };
        Ok(Trainer {
            state: Rc::new(RefCell::new(Some(state))),
            model: config,
        })
    }

    /// The model string.
    pub fn config(&self) -> String {
        self.model.clone()
    }

    /// One epoch; `on_progress(fraction)` a few times along it. Resolves to the epoch's JSON:
    /// `{ epoch, loss, test_accuracy, train_seconds, samples, samples_per_second }`.
    pub fn epoch(&self, on_progress: Function) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let mut s = take(&state, "Trainer::epoch")?;
            let report = s.epoch(&on_progress).await;
            *state.borrow_mut() = Some(s);
            Ok(JsValue::from_str(&report.map_err(js_error)?))
        })
    }

    /// The first `n` test images with their labels and the model's predictions, as JSON:
    /// `{ images: [[64 values]], labels, predicted }`.
    pub fn predictions(&self, n: usize) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let mut s = take(&state, "Trainer::predictions")?;
            let out = s.predictions(n).await;
            *state.borrow_mut() = Some(s);
            Ok(JsValue::from_str(&out.map_err(js_error)?))
        })
    }
}

/// The trainer's state, for one call at a time.
fn take(state: &RefCell<Option<State>>, op: &str) -> Result<State, JsValue> {
    state
        .borrow_mut()
        .take()
        .ok_or_else(|| js_error(format!("{op}: the trainer is busy with another call")))
}

impl State {
    async fn epoch(&mut self, on_progress: &Function) -> Result<String> {
        let start = Instant::now();
        let batches = self.train.batches(self.batch, &mut self.rng);
        let shape = batch_shape(&self.model, &self.train, 1)?;
        let sample = shape[1..].to_vec();
        let mut loss_sum = Tensor::zeros(&self.gpu, &[1])?;
        self.model.set_training(true);
        let every = batches.len().div_ceil(PROGRESS_STEPS).max(1);
        for (i, (x, y)) in batches.iter().enumerate() {
            self.model.set_step(self.opt.steps() as u64);
            let loss = train_step(&self.gpu, &mut self.model, &mut self.opt, x, y, &sample)?;
            ops::add_assign(&mut loss_sum, &loss)?;
            if (i + 1) % every == 0 && i + 1 < batches.len() {
                // Awaiting the GPU here is what lets the page draw the bar.
                loss_sum.to_vec_async().await?;
                let _ = on_progress.call1(
                    &JsValue::NULL,
                    &JsValue::from_f64((i + 1) as f64 / batches.len() as f64),
                );
            }
        }
        let loss = loss_sum.to_vec_async().await?[0] / batches.len() as f32;
        let train_seconds = start.elapsed().as_secs_f64();
        let _ = on_progress.call1(&JsValue::NULL, &JsValue::from_f64(1.0));
        let accuracy = evaluate_async(&self.gpu, &mut self.model, &self.test).await?;
        self.epoch += 1;
        Ok(json!({
            "epoch": self.epoch,
            "loss": loss,
            "test_accuracy": accuracy,
            "train_seconds": train_seconds,
            "samples": self.train.len(),
            "samples_per_second": self.train.len() as f64 / train_seconds.max(1e-9),
        })
        .to_string())
    }

    async fn predictions(&mut self, n: usize) -> Result<String> {
        let n = n.min(self.test.len()).max(1);
        let dim = self.test.dim();
        let features = &self.test.features()[..n * dim];
        let shape = batch_shape(&self.model, &self.test, n)?;
        let predicted = self
            .model
            .predict_rows_async(&self.gpu, features, &shape)
            .await?;
        let images: Vec<&[f32]> = features.chunks(dim).collect();
        Ok(json!({
            "images": images,
            "labels": &self.test.labels()[..n],
            "predicted": predicted,
        })
        .to_string())
    }
}
