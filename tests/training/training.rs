//! Training: losses and optimizer steps against f64 references, the data pipeline, a short
//! real training run on digits, and saved models.

use crate::common::*;
use wgpu_backprop::data::{encode_idx, Dataset};
use wgpu_backprop::loss::{Labels, MeanSquaredError, SoftmaxCrossEntropy};
use wgpu_backprop::model::Sequential;
use wgpu_backprop::neurons::Linear;
use wgpu_backprop::optim::{Adam, Optimizer, Sgd};
use wgpu_backprop::reference;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::train::{evaluate, fit, fit_async, TrainConfig, DEFAULT_HIDDEN, DEFAULT_LR};
use wgpu_backprop::{Error, Layer, Tensor};

#[test]
fn cross_entropy_matches_reference_including_huge_logits() {
    let gpu = gpu();
    let mut rng = Rng::new(40);
    // 20,000 classes take the workgroup-per-row kernel on every device; the rest, on CPU
    // devices, one invocation per row.
    for (rows, classes, spread) in [
        (1, 1, 1.0),
        (4, 10, 1.0),
        (33, 7, 10.0),
        (3, 300, 1e4),
        (2, 20_000, 5.0),
    ] {
        let z = rand_vec(&mut rng, rows * classes, -spread, spread);
        let labels: Vec<u32> = (0..rows).map(|_| rng.below(classes) as u32).collect();
        check_ce(&gpu, &z, &labels, classes);
    }
    // Adversarial rows: ±1e4, the label on the smallest logit, one-hot-like.
    let z = [1e4, -1e4, 0.0, -1e4, 1e4, 1e4, 0.0, 0.0, 0.0];
    check_ce(&gpu, &z, &[1, 2, 0], 3);
}

fn check_ce(gpu: &wgpu_backprop::Gpu, z: &[f64], labels: &[u32], classes: usize) {
    let rows = labels.len();
    let (loss, grad) = SoftmaxCrossEntropy
        .forward_backward(
            &upload(gpu, z, &[rows, classes]),
            &Labels::new(gpu, labels).unwrap(),
        )
        .unwrap();
    let (want_loss, want_grad) = reference::cross_entropy(z, labels, classes);
    let what = format!("cross-entropy {rows}x{classes}");
    // The loss sums terms up to ~2e4 (logits of ±1e4): relative f32 accuracy of the terms.
    let max_z = z.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let tol = Tol {
        abs: 1e-6 * max_z / rows as f64 + 1e-7,
        rel: 1e-5,
    };
    assert_close(&format!("{what} loss"), &read(&loss), &[want_loss], tol);
    assert_close(
        &format!("{what} grad"),
        &read(&grad),
        &want_grad,
        Tol {
            abs: 1e-7,
            rel: 1e-5,
        },
    );
}

#[test]
fn cross_entropy_rejects_bad_labels() {
    let gpu = gpu();
    let z = Tensor::zeros(&gpu, &[2, 3]).unwrap();
    let e = SoftmaxCrossEntropy
        .forward_backward(&z, &Labels::new(&gpu, &[0, 3]).unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    let e = SoftmaxCrossEntropy
        .forward_backward(&z, &Labels::new(&gpu, &[0]).unwrap())
        .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }), "{e}");
}

#[test]
fn mean_squared_error_matches_reference() {
    let gpu = gpu();
    let mut rng = Rng::new(41);
    let (y, t) = (
        rand_vec(&mut rng, 37 * 5, -3.0, 3.0),
        rand_vec(&mut rng, 37 * 5, -3.0, 3.0),
    );
    let (loss, grad) = MeanSquaredError
        .forward_backward(&upload(&gpu, &y, &[37, 5]), &upload(&gpu, &t, &[37, 5]))
        .unwrap();
    let (want, want_grad) = reference::mse(&y, &t);
    assert_close(
        "mse loss",
        &read(&loss),
        &[want],
        Tol {
            abs: 0.0,
            rel: 1e-5,
        },
    );
    assert_close(
        "mse grad",
        &read(&grad),
        &want_grad,
        Tol {
            abs: 1e-9,
            rel: 1e-5,
        },
    );
    assert_eq!(grad.shape(), &[37, 5]);
}

/// A Linear layer with a known gradient: forward x, backward dy.
fn layer_with_grad(
    gpu: &wgpu_backprop::Gpu,
    rng: &mut Rng,
) -> (Linear, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut lin = Linear::with_seed(gpu, 7, 5, 3).unwrap();
    let x = upload(gpu, &rand_vec(rng, 4 * 7, -1.0, 1.0), &[4, 7]);
    lin.forward(&x).unwrap();
    lin.backward(&upload(gpu, &rand_vec(rng, 4 * 5, -1.0, 1.0), &[4, 5]))
        .unwrap();
    let f = |t: &Tensor| read(t).iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let (w, b) = (f(lin.weight()), f(lin.bias()));
    let (gw, gb) = (f(lin.weight_grad().unwrap()), f(lin.bias_grad().unwrap()));
    (lin, w, gw, b, gb)
}

/// The layer's weight and bias after the steps, against the f64 reference (each step moves θ
/// by about lr; f32 rounding of a step is ~1e-7 of it).
fn assert_parameters(what: &str, lin: &Linear, w: &[f64], b: &[f64]) {
    let tol = Tol {
        abs: 1e-6,
        rel: 1e-5,
    };
    assert_close(&format!("{what} weight"), &read(lin.weight()), w, tol);
    assert_close(&format!("{what} bias"), &read(lin.bias()), b, tol);
}

#[test]
fn sgd_with_momentum_matches_reference_over_three_steps() {
    let gpu = gpu();
    let mut rng = Rng::new(42);
    let (mut lin, w, gw, b, gb) = layer_with_grad(&gpu, &mut rng);
    let (lr, mu) = (0.1f64, 0.9f64);
    let mut opt = Sgd::new(lr as f32, mu as f32);
    let mut want = [(w, gw, vec![0.0; 35]), (b, gb, vec![0.0; 5])];
    for _ in 0..3 {
        opt.step(&mut lin.parameters_mut()).unwrap();
        for (theta, g, v) in want.iter_mut() {
            reference::sgd_step(theta, g, v, (lr, mu));
        }
    }
    assert_parameters("sgd", &lin, &want[0].0, &want[1].0);
}

#[test]
fn adam_matches_reference_over_three_steps() {
    let gpu = gpu();
    let mut rng = Rng::new(43);
    let (mut lin, w, gw, b, gb) = layer_with_grad(&gpu, &mut rng);
    let (lr, b1, b2, eps) = (0.01f64, 0.9f64, 0.999f64, 1e-8f64);
    let mut opt = Adam::new(lr as f32);
    let mut want = [
        (w, gw, vec![0.0; 35], vec![0.0; 35]),
        (b, gb, vec![0.0; 5], vec![0.0; 5]),
    ];
    for t in 1..=3 {
        opt.step(&mut lin.parameters_mut()).unwrap();
        for (theta, g, m, v) in want.iter_mut() {
            reference::adam_step(theta, g, (m, v), t, (lr, b1, b2, eps));
        }
    }
    assert_eq!(opt.steps(), 3);
    assert_parameters("adam", &lin, &want[0].0, &want[1].0);
}

#[test]
fn optimizer_before_backward_is_an_error() {
    let gpu = gpu();
    let mut lin = Linear::with_seed(&gpu, 3, 2, 1).unwrap();
    let e = Adam::new(0.1).step(&mut lin.parameters_mut()).unwrap_err();
    assert!(matches!(e, Error::BackwardBeforeForward { .. }), "{e}");
}

#[test]
fn digits_load_and_split_stratified() {
    let d = Dataset::digits().unwrap();
    assert_eq!((d.len(), d.dim(), d.classes()), (1797, 64, 10));
    assert!(d.features().iter().all(|&v| (0.0..=1.0).contains(&v)));
    let (train, test) = d.stratified_split(0.2, 7);
    assert_eq!(train.len() + test.len(), 1797);
    for class in 0..10u32 {
        let total = d.labels().iter().filter(|&&l| l == class).count() as f64;
        let in_test = test.labels().iter().filter(|&&l| l == class).count() as f64;
        assert!(
            (in_test - 0.2 * total).abs() <= 0.5,
            "class {class}: {in_test} of {total}"
        );
    }
    assert_eq!(
        d.stratified_split(0.2, 7),
        (train, test),
        "same seed, same split"
    );
}

#[test]
fn idx_files_round_trip_and_bad_files_fail() {
    let dir = std::env::temp_dir().join(format!("wgpu-backprop-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pixels: Vec<u8> = (0..3 * 2 * 2).map(|i| (i * 20) as u8).collect();
    // Both spellings MNIST copies use: `t10k-images-idx3-ubyte` and `train-images.idx3-ubyte`.
    for (prefix, n, sep) in [("train", 3u32, "."), ("t10k", 3u32, "-")] {
        std::fs::write(
            dir.join(format!("{prefix}-images{sep}idx3-ubyte")),
            encode_idx(&[n, 2, 2], &pixels),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels{sep}idx1-ubyte")),
            encode_idx(&[n], &[2, 0, 1]),
        )
        .unwrap();
    }
    let (train, test) = Dataset::load_mnist_dir(&dir).unwrap();
    assert_eq!((train.len(), train.dim(), train.classes()), (3, 4, 3));
    assert_eq!(train.labels(), &[2, 0, 1]);
    assert_eq!(train.features()[1], 20.0 / 255.0);
    assert_eq!(test, train);
    let truncated = &encode_idx(&[3, 2, 2], &pixels)[..10];
    assert!(matches!(
        Dataset::from_idx(truncated, &encode_idx(&[3], &[0, 1, 2])),
        Err(Error::Format { .. })
    ));
    assert!(matches!(
        Dataset::from_idx(&encode_idx(&[3, 2, 2], &pixels), &encode_idx(&[2], &[0, 1])),
        Err(Error::Format { .. })
    ));
    assert!(matches!(
        Dataset::load_mnist_dir(&dir.join("missing")),
        Err(Error::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn short_training_on_digits_reaches_90_percent_and_saves() {
    let gpu = gpu();
    let (train, test) = Dataset::digits().unwrap().stratified_split(0.2, 0);
    let mut model = Sequential::mlp(&gpu, &[64, 64, 10], 1).unwrap();
    let mut opt = Adam::new(3e-3);
    let cfg = TrainConfig {
        epochs: 6,
        batch_size: 32,
        seed: 2,
    };
    let reports = fit(
        &gpu,
        &mut model,
        &mut opt,
        (&train, &test),
        &cfg,
        &mut |_| {},
    )
    .unwrap();
    let last = reports.last().unwrap();
    assert!(
        last.test_accuracy >= 0.90,
        "test accuracy {}",
        last.test_accuracy
    );
    assert!(
        reports[0].loss > last.loss,
        "loss did not fall: {reports:?}"
    );

    // save → load → identical predictions
    let path = std::env::temp_dir().join(format!(
        "wgpu-backprop-model-{}.safetensors",
        std::process::id()
    ));
    model.save(&path).unwrap();
    let mut loaded = Sequential::load(&gpu, &path).unwrap();
    assert_eq!(loaded.config(), "linear(64,64),relu,linear(64,10)");
    let x = Tensor::from_slice(&gpu, test.features(), &[test.len(), 64]).unwrap();
    assert_eq!(loaded.predict(&x).unwrap(), model.predict(&x).unwrap());
    assert_eq!(
        evaluate(&gpu, &mut loaded, &test).unwrap(),
        last.test_accuracy
    );

    // a truncated or corrupt file is an Err
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 7, bytes.len() / 2, bytes.len() - 1] {
        let e = Sequential::from_safetensors(&gpu, &bytes[..cut]).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "cut at {cut}: {e}");
    }
    std::fs::remove_file(&path).unwrap();
}

/// The demo's default run (`wgpu-backprop train`): 64→128→ReLU→10, Adam, seed 0.
fn default_run() -> Vec<wgpu_backprop::train::EpochReport> {
    let gpu = gpu();
    let (train, test) = Dataset::digits().unwrap().stratified_split(0.2, 0);
    let mut model = Sequential::mlp(&gpu, &[64, DEFAULT_HIDDEN, 10], 0).unwrap();
    let cfg = TrainConfig {
        seed: 1,
        ..TrainConfig::default()
    };
    fit(
        &gpu,
        &mut model,
        &mut Adam::new(DEFAULT_LR),
        (&train, &test),
        &cfg,
        &mut |_| {},
    )
    .unwrap()
}

#[test]
fn default_run_reaches_96_percent_and_is_reproducible() {
    let first = default_run();
    let acc = first.last().unwrap().test_accuracy;
    assert!(acc >= 0.96, "default run: test accuracy {acc}");
    let again = default_run();
    let key = |r: &[wgpu_backprop::train::EpochReport]| -> Vec<(f32, f64)> {
        r.iter().map(|e| (e.loss, e.test_accuracy)).collect()
    };
    assert_eq!(
        key(&first),
        key(&again),
        "same seed, same adapter: same losses and accuracies"
    );
}

#[test]
fn fit_async_trains_exactly_as_fit() {
    let gpu = gpu();
    let (train, test) = Dataset::digits().unwrap().stratified_split(0.2, 0);
    let cfg = TrainConfig {
        epochs: 3,
        ..TrainConfig::default()
    };
    let run = |asynchronous: bool| {
        let mut model = Sequential::mlp(&gpu, &[64, 32, 10], 5).unwrap();
        let mut opt = Adam::new(DEFAULT_LR);
        let data = (&train, &test);
        let reports = if asynchronous {
            let mut on_epoch = |_: &_| {};
            let future = fit_async(&gpu, &mut model, &mut opt, data, &cfg, &mut on_epoch);
            pollster::block_on(future)
        } else {
            fit(&gpu, &mut model, &mut opt, data, &cfg, &mut |_| {})
        }
        .unwrap();
        let first = model.layers()[0].parameters();
        let w = first[0].value.to_vec().unwrap();
        let key: Vec<(f32, f64)> = reports.iter().map(|r| (r.loss, r.test_accuracy)).collect();
        (key, w)
    };
    let (blocking, w_blocking) = run(false);
    let (awaited, w_awaited) = run(true);
    assert_eq!(blocking, awaited, "the same epochs");
    assert_eq!(w_blocking, w_awaited, "the same weights, bit for bit");
}

#[test]
fn fit_refuses_labels_past_the_outputs_before_changing_anything() {
    let gpu = gpu();
    let mut model = Sequential::mlp(&gpu, &[2, 3], 5).unwrap();
    let before: Vec<Vec<f32>> = model.parameters().iter().map(|p| read(p.value)).collect();
    let data = |labels: Vec<u32>| Dataset::new(vec![0.5; 2 * labels.len()], labels, 2).unwrap();
    // Label 3 needs 4 outputs; the model has 3. The bad row is the last, after good batches.
    let train = data(vec![0, 1, 2, 0, 1, 2, 0, 3]);
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 2,
        seed: 0,
    };
    let mut opt = Sgd::new(0.1, 0.0);
    let e = fit(
        &gpu,
        &mut model,
        &mut opt,
        (&train, &train),
        &cfg,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("labels go up to 3 but the model has 3 outputs"),
        "{e}"
    );
    let after: Vec<Vec<f32>> = model.parameters().iter().map(|p| read(p.value)).collect();
    assert_eq!(before, after, "parameters changed before the error");
    // Rows of the wrong width are refused the same way.
    let wide = Dataset::new(vec![0.5; 6], vec![0, 1], 3).unwrap();
    assert!(fit(
        &gpu,
        &mut model,
        &mut opt,
        (&wide, &wide),
        &cfg,
        &mut |_| {}
    )
    .is_err());
}

#[test]
fn saves_replace_the_file_whole_and_leave_nothing_beside_it() {
    let gpu = gpu();
    let dir = std::env::temp_dir().join(format!("wgpu-backprop-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    std::fs::write(&path, b"an older file").unwrap();
    let models: Vec<Sequential> = (0..4)
        .map(|seed| Sequential::mlp(&gpu, &[3, 4, 2], seed).unwrap())
        .collect();
    // Four threads save over the same path at once: the file is always one whole model.
    std::thread::scope(|s| {
        for m in &models {
            s.spawn(|| m.save(&path).unwrap());
        }
    });
    let loaded = Sequential::load(&gpu, &path).unwrap();
    let values = |m: &Sequential| -> Vec<Vec<f32>> {
        m.parameters().iter().map(|p| read(p.value)).collect()
    };
    assert!(
        models.iter().any(|m| values(m) == values(&loaded)),
        "the file is none of the models"
    );
    assert_eq!(loaded.config(), "linear(3,4),relu,linear(4,2)");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("model.safetensors")],
        "{left:?}"
    );
    // A save that cannot be written is an Err and removes its temporary file.
    let e = models[0]
        .save(&dir.join("no-such-folder").join("m.safetensors"))
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small CNN on the digits as [N, 1, 8, 8] images learns (≥ 90 % in 4 epochs), and its
/// saved model (convolutions, pooling, dropout in its layer string) loads and evaluates the
/// same; dropout is off in evaluation, so predictions repeat.
#[test]
fn a_cnn_trains_on_digit_images_saves_and_loads() {
    let gpu = gpu();
    let (train, test) = Dataset::digits().unwrap().stratified_split(0.2, 0);
    assert_eq!(train.sample_shape(), [1, 8, 8]);
    let config = "conv2d(1,8,3,1,1),relu,maxpool2d(2),flatten,dropout(0.25,5),linear(128,10)";
    let mut model = Sequential::from_config(&gpu, config, 1).unwrap();
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: 32,
        seed: 2,
    };
    let reports = fit(
        &gpu,
        &mut model,
        &mut Adam::new(4e-3),
        (&train, &test),
        &cfg,
        &mut |_| {},
    )
    .unwrap();
    let acc = reports.last().unwrap().test_accuracy;
    assert!(acc >= 0.90, "CNN test accuracy {acc}");
    assert_eq!(
        model.config(),
        "conv2d(1,8,3,1,1),relu,maxpool2d(2,2),flatten,dropout(0.25,5),linear(128,10)"
    );

    let path = std::env::temp_dir().join(format!(
        "wgpu-backprop-cnn-{}.safetensors",
        std::process::id()
    ));
    model.save(&path).unwrap();
    let mut loaded = Sequential::load(&gpu, &path).unwrap();
    assert_eq!(loaded.config(), model.config());
    let x = Tensor::from_slice(&gpu, test.features(), &[test.len(), 1, 8, 8]).unwrap();
    let once = model.predict(&x).unwrap();
    assert_eq!(
        model.predict(&x).unwrap(),
        once,
        "evaluation draws no masks"
    );
    assert_eq!(loaded.predict(&x).unwrap(), once);
    assert_eq!(evaluate(&gpu, &mut loaded, &test).unwrap(), acc);
    std::fs::remove_file(&path).unwrap();

    // Vectors with no image shape cannot feed a model that starts with a convolution.
    let flat = Dataset::new(train.features().to_vec(), train.labels().to_vec(), 64).unwrap();
    let e = fit(
        &gpu,
        &mut model,
        &mut Adam::new(1e-3),
        (&flat, &flat),
        &cfg,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("image"), "{e}");
}

/// Prediction of more rows than one pass's activations fit: on a device whose largest storage
/// binding is 1 MiB, a CNN's outputs for all 1,797 digits (3.7 MB in its first layer) cannot
/// be one tensor, so `predict` of the whole batch is refused, while `predict_rows` and
/// `evaluate` go through in passes and agree with the same model run 100 rows at a time.
#[test]
fn predictions_of_any_length_go_through_in_passes_that_fit() {
    let (info, device, queue) = own_device(|l| wgpu::Limits {
        max_storage_buffer_binding_size: 1 << 20,
        ..l
    });
    let gpu = wgpu_backprop::Gpu::from_device(info, device, queue);
    let data = Dataset::digits().unwrap();
    let config = "conv2d(1,8,3,1,1),relu,flatten,linear(512,10)";
    let mut model = Sequential::from_config(&gpu, config, 3).unwrap();
    // One row: 8 channels of 8×8 (512 floats); a quarter of 1 MiB holds 128 rows.
    assert_eq!(model.rows_per_pass(&gpu, &[1, 8, 8]).unwrap(), 128);

    let all = [data.len(), 1, 8, 8];
    let x = Tensor::from_slice(&gpu, data.features(), &all).unwrap();
    assert!(
        matches!(model.predict(&x), Err(Error::TooLarge { .. })),
        "the whole batch's activations do not fit one binding"
    );
    let mut by_hundreds = Vec::new();
    for rows in data.features().chunks(100 * 64) {
        let x = Tensor::from_slice(&gpu, rows, &[rows.len() / 64, 1, 8, 8]).unwrap();
        by_hundreds.extend(model.predict(&x).unwrap());
    }
    let passes = model.predict_rows(&gpu, data.features(), &all).unwrap();
    assert_eq!(passes, by_hundreds);
    let correct = passes
        .iter()
        .zip(data.labels())
        .filter(|(p, l)| **p == **l as usize)
        .count();
    assert_eq!(
        evaluate(&gpu, &mut model, &data).unwrap(),
        correct as f64 / data.len() as f64
    );
    // A shape that does not hold the values is refused, naming the op.
    let e = model.predict_rows(&gpu, data.features(), &[7, 1, 8, 8]);
    assert!(matches!(
        e,
        Err(Error::ShapeMismatch {
            op: "Sequential::predict_rows",
            ..
        })
    )); // Rows the model cannot take: the error names the shape the user gave, not the one-row
        // probe made from it.
    let wrong = vec![0.5; 3 * 5];
    match model.predict_rows(&gpu, &wrong, &[3, 5]) {
        Err(Error::ShapeMismatch { got, .. }) => assert_eq!(got, [3, 5]),
        other => panic!("expected a shape error naming [3, 5], got {other:?}"),
    }
}
