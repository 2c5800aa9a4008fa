//! The character-level GPT: it learns a tiny corpus, a checkpointed run resumes bit for bit,
//! a saved model loads and samples the same text, the schedule and the tokenizer, and misuse.

use crate::common::gpu;
use wgpu_backprop::gpt::{
    self, CharTokenizer, Checkpointing, Corpus, Event, Gpt, GptConfig, SampleOptions, TrainOptions,
};
use wgpu_backprop::Error;

fn tiny() -> (Corpus, GptConfig, TrainOptions) {
    let text = "to be or not to be, that is the question. ".repeat(40);
    let corpus = Corpus::from_text(&text).expect("corpus");
    let config = GptConfig {
        vocab: corpus.tokenizer.len(),
        block: 16,
        layers: 2,
        heads: 2,
        embd: 16,
        dropout: 0.1,
    };
    let opts = TrainOptions {
        iters: 100,
        batch: 4,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup: 4,
        decay_iters: 100,
        eval_interval: 50,
        eval_iters: 2,
        ..TrainOptions::default()
    };
    (corpus, config, opts)
}

#[test]
fn a_tiny_gpt_learns_its_corpus() {
    let gpu = gpu();
    let (corpus, config, opts) = tiny();
    let mut model = Gpt::new(&gpu, config, 7).expect("model");
    let mut evals = Vec::new();
    let report = gpt::train(&mut model, &corpus, &opts, None, &mut |e| {
        if let Event::Eval { val_loss, .. } = e {
            evals.push(*val_loss);
        }
    })
    .expect("train");
    // A uniform guess over the vocabulary scores ln V; the repeated sentence is learnable.
    let uniform = (corpus.tokenizer.len() as f32).ln();
    assert_eq!(evals.len(), 2);
    assert!(
        report.val_loss < 0.5 * uniform,
        "val loss {} against uniform {uniform}",
        report.val_loss
    );
}

#[test]
fn a_resumed_run_ends_bit_identical() {
    let gpu = gpu();
    let (corpus, config, mut opts) = tiny();
    opts.iters = 6;
    let dir = std::env::temp_dir().join(format!("wgpu-backprop-gpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("ck.safetensors");
    let _ = std::fs::remove_file(&path);
    let mut straight = Gpt::new(&gpu, config, 3).expect("model");
    gpt::train(&mut straight, &corpus, &opts, None, &mut |_| {}).expect("train");
    // Three steps with a checkpoint, then a new process's worth of state resumes from it.
    let ck = Checkpointing {
        path: path.clone(),
        every: 3,
    };
    let mut first = Gpt::new(&gpu, config, 3).expect("model");
    let half = TrainOptions {
        iters: 3,
        ..opts.clone()
    };
    gpt::train(&mut first, &corpus, &half, Some(&ck), &mut |_| {}).expect("first half");
    let mut resumed = Gpt::new(&gpu, config, 99).expect("model"); // its own init is replaced
    gpt::train(&mut resumed, &corpus, &opts, Some(&ck), &mut |_| {}).expect("second half");
    let (a, b) = (
        straight.params.to_host().expect("read"),
        resumed.params.to_host().expect("read"),
    );
    for ((name, _, x), (_, _, y)) in a.iter().zip(&b) {
        let same = x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits());
        assert!(same, "{name} differs after resuming");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_saved_model_loads_and_samples_the_same_text() {
    let gpu = gpu();
    let (corpus, config, mut opts) = tiny();
    opts.iters = 3;
    let mut model = Gpt::new(&gpu, config, 5).expect("model");
    gpt::train(&mut model, &corpus, &opts, None, &mut |_| {}).expect("train");
    let path = std::env::temp_dir().join(format!(
        "wgpu-backprop-gpt-model-{}.safetensors",
        std::process::id()
    ));
    gpt::save(&path, &model, &corpus.tokenizer).expect("save");
    let (loaded, tokenizer) = gpt::load(&gpu, &path).expect("load");
    assert_eq!(tokenizer, corpus.tokenizer);
    assert_eq!(loaded.config, model.config);
    let opts = SampleOptions {
        tokens: 20,
        temperature: 0.8,
        seed: 11,
    };
    let mut streamed = String::new();
    let a = gpt::sample(&model, &corpus.tokenizer, "to be", opts, &mut |s| {
        streamed.push_str(s)
    })
    .expect("sample");
    let b = gpt::sample(&loaded, &tokenizer, "to be", opts, &mut |_| {}).expect("sample");
    assert_eq!(a.chars().count(), 20);
    assert_eq!(a, b);
    assert_eq!(a, streamed);
    let bad = gpt::sample(&model, &tokenizer, "Z", opts, &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            bad,
            Error::InvalidArgument {
                op: "CharTokenizer::encode",
                ..
            }
        ),
        "{bad}"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn schedule_tokenizer_and_misuse() {
    let opts = TrainOptions::default();
    assert!((opts.lr_at(0) - 1e-3 / 101.0).abs() < 1e-9);
    assert_eq!(opts.lr_at(100), 1e-3);
    assert!((opts.lr_at(1050) - 5.5e-4).abs() < 1e-6);
    assert_eq!(opts.lr_at(2001), 1e-4);
    let tok = CharTokenizer::from_text("hello");
    assert_eq!(tok.vocab(), "ehlo");
    assert_eq!(tok.decode(&tok.encode("hole").expect("encode")), "hole");
    let gpu = gpu();
    let bad = GptConfig {
        heads: 3,
        ..GptConfig::laptop(65)
    };
    assert!(matches!(
        Gpt::new(&gpu, bad, 1),
        Err(Error::InvalidArgument { op: "Gpt::new", .. })
    ));
    let model = Gpt::new(
        &gpu,
        GptConfig {
            layers: 1,
            ..GptConfig::laptop(65)
        },
        1,
    )
    .expect("model");
    let long = wgpu_backprop::Indices::new(&gpu, &[0; 65]).expect("indices");
    let e = model.forward(&long, (1, 65), None).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                op: "Gpt::forward",
                ..
            }
        ),
        "{e}"
    );
    let shakespeare = Corpus::shakespeare().expect("embedded corpus");
    assert_eq!(
        (
            shakespeare.tokenizer.len(),
            shakespeare.train.len(),
            shakespeare.val.len()
        ),
        (65, 1_003_854, 111_540)
    );
}
