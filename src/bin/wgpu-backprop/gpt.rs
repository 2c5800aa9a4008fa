//! `wgpu-backprop gpt train` and `gpt sample`: the character-level GPT on tiny Shakespeare (or
//! any text file), with a progress bar, tokens/s, validation loss, checkpoints and resume, and
//! sampling that streams characters as they are drawn.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use wgpu_backprop::gpt::{
    self, Checkpointing, Corpus, Event, Gpt, GptConfig, SampleOptions, TrainOptions,
};
use wgpu_backprop::{Error, Gpu, Result};

#[derive(Subcommand)]
pub enum GptCommand {
    /// Train a character-level GPT (tiny Shakespeare by default), printing train and
    /// validation loss at intervals
    Train(Box<GptTrainArgs>),
    /// Sample text from a trained model, streaming characters as they are drawn
    Sample(GptSampleArgs),
}

#[derive(Args)]
pub struct GptTrainArgs {
    /// A UTF-8 text file to train on (default: the embedded tiny Shakespeare), split 90/10
    #[arg(long)]
    data: Option<PathBuf>,
    /// Transformer blocks
    #[arg(long, default_value_t = 4)]
    layers: usize,
    /// Attention heads per block
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Embedding width
    #[arg(long, default_value_t = 128)]
    embd: usize,
    /// Context length
    #[arg(long, default_value_t = 64)]
    block: usize,
    /// Windows per batch
    #[arg(long, default_value_t = 12)]
    batch: usize,
    /// Optimizer steps
    #[arg(long, default_value_t = 2000)]
    iters: usize,
    /// Peak learning rate (warm-up over 100 steps, cosine decay to a tenth by the last step)
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Dropout probability
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// Seed of the weights, batches and dropout
    #[arg(long, default_value_t = 1337)]
    seed: u64,
    /// Steps between loss estimates over both splits
    #[arg(long, default_value_t = 250)]
    eval_interval: usize,
    /// Batches per estimate
    #[arg(long, default_value_t = 20)]
    eval_iters: usize,
    /// Where to save the trained model (safetensors, with its tokenizer)
    #[arg(long, default_value = "gpt.safetensors")]
    save: PathBuf,
    /// Write a checkpoint to this file every --checkpoint-every steps; if it exists, resume
    /// from it (bit-identical to a run never stopped)
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Steps between checkpoints
    #[arg(long, default_value_t = 250)]
    checkpoint_every: usize,
}

#[derive(Args)]
pub struct GptSampleArgs {
    /// The model file from `gpt train --save`
    #[arg(long)]
    model: PathBuf,
    /// Text to continue
    #[arg(long, default_value = "")]
    prompt: String,
    /// Characters to generate
    #[arg(long, default_value_t = 500)]
    tokens: usize,
    /// Softmax temperature (below 1: more conservative)
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Seed of the draws
    #[arg(long, default_value_t = 1337)]
    seed: u64,
}

pub fn run(gpu: &Gpu, command: &GptCommand) -> Result<()> {
    match command {
        GptCommand::Train(args) => train(gpu, args),
        GptCommand::Sample(args) => sample(gpu, args),
    }
}

fn corpus(data: &Option<PathBuf>) -> Result<Corpus> {
    let Some(path) = data else {
        return Corpus::shakespeare();
    };
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        op: "gpt train --data",
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Corpus::from_text(&text)
}

fn train(gpu: &Gpu, a: &GptTrainArgs) -> Result<()> {
    let corpus = corpus(&a.data)?;
    let config = GptConfig {
        vocab: corpus.tokenizer.len(),
        block: a.block,
        layers: a.layers,
        heads: a.heads,
        embd: a.embd,
        dropout: a.dropout,
    };
    let opts = TrainOptions {
        iters: a.iters,
        batch: a.batch,
        lr: a.lr,
        min_lr: a.lr / 10.0,
        decay_iters: a.iters,
        warmup: 100.min(a.iters / 10),
        eval_interval: a.eval_interval,
        eval_iters: a.eval_iters,
        seed: a.seed,
        ..TrainOptions::default()
    };
    let mut model = Gpt::new(gpu, config, a.seed)?;
    println!(
        "GPT: {} layers, {} heads, {} wide, block {}, {} parameters, vocabulary {}; {} training and {} validation characters on {}",
        config.layers,
        config.heads,
        config.embd,
        config.block,
        model.params.count(),
        config.vocab,
        corpus.train.len(),
        corpus.val.len(),
        gpu.adapter_name()
    );
    let bar = ProgressBar::new(a.iters as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] step {pos}/{len} {msg}")
            .map_err(|e| Error::InvalidArgument {
                op: "gpt train",
                message: e.to_string(),
            })?,
    );
    let started = Instant::now();
    let tokens_per_step = (a.batch * a.block) as f64;
    let mut first_step: Option<usize> = None;
    let checkpoints = a.checkpoint.clone().map(|path| Checkpointing {
        path,
        every: a.checkpoint_every,
    });
    let mut on_event = |e: &Event| match *e {
        Event::Step { iter, loss, lr } => {
            let first = *first_step.get_or_insert(iter - 1);
            bar.set_position(iter as u64);
            let rate = (iter - first) as f64 * tokens_per_step / started.elapsed().as_secs_f64();
            if let Some(loss) = loss {
                bar.set_message(format!("loss {loss:.4}, lr {lr:.2e}, {rate:.0} tokens/s"));
            }
        }
        Event::Eval {
            iter,
            train_loss,
            val_loss,
        } => {
            let rate = (iter - first_step.unwrap_or(0)) as f64 * tokens_per_step
                / started.elapsed().as_secs_f64();
            // Printed whether or not the bar is drawn (it is not when stdout is no terminal).
            bar.suspend(|| {
                println!(
                    "step {iter}: train loss {train_loss:.4}, val loss {val_loss:.4}, {rate:.0} tokens/s, {:.1} s",
                    started.elapsed().as_secs_f64()
                )
            });
        }
        Event::Checkpoint { .. } => {}
    };
    let report = gpt::train(
        &mut model,
        &corpus,
        &opts,
        checkpoints.as_ref(),
        &mut on_event,
    )?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "trained {} steps in {seconds:.1} s: train loss {:.4}, val loss {:.4}",
        report.iters, report.train_loss, report.val_loss
    );
    gpt::save(&a.save, &model, &corpus.tokenizer)?;
    println!("saved {}", a.save.display());
    Ok(())
}

fn sample(gpu: &Gpu, a: &GptSampleArgs) -> Result<()> {
    let (model, tokenizer) = gpt::load(gpu, &a.model)?;
    let opts = SampleOptions {
        tokens: a.tokens,
        temperature: a.temperature,
        seed: a.seed,
    };
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", a.prompt);
    gpt::sample(&model, &tokenizer, &a.prompt, opts, &mut |s| {
        let _ = write!(out, "{s}");
        let _ = out.flush();
    })?;
    let _ = writeln!(out);
    Ok(())
}
