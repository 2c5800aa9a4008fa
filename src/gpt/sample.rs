//! Sampling text from a [`Gpt`]: each step runs the model on the last `block` tokens without
//! recording a graph, reads the last row of logits and draws the next token from
//! softmax(logits / temperature) on the host.

use crate::error::{Error, Result};
use crate::gpt::{CharTokenizer, Gpt};
use crate::graph;
use crate::indices::Indices;
use crate::rng::Rng;

/// How to sample.
#[derive(Debug, Clone, Copy)]
pub struct SampleOptions {
    /// Characters to generate.
    pub tokens: usize,
    /// Divides the logits: below 1 sharper, above 1 flatter; must be positive.
    pub temperature: f32,
    /// The draws' seed.
    pub seed: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            tokens: 500,
            temperature: 1.0,
            seed: 1337,
        }
    }
}

/// Generates `opts.tokens` characters after `prompt` (a newline, or the first token, when
/// empty), handing each to `on_char` as it is drawn; returns them.
pub fn sample(
    gpt: &Gpt,
    tokenizer: &CharTokenizer,
    prompt: &str,
    opts: SampleOptions,
    on_char: &mut dyn FnMut(&str),
) -> Result<String> {
    if !(opts.temperature > 0.0 && opts.temperature.is_finite()) {
        return Err(Error::InvalidArgument {
            op: "gpt::sample",
            message: format!("the temperature must be positive, got {}", opts.temperature),
        });
    }
    let mut ids = tokenizer.encode(prompt)?;
    if ids.is_empty() {
        ids = tokenizer.encode("\n").unwrap_or_else(|_| vec![0]);
    }
    let mut rng = Rng::new(opts.seed);
    let mut out = String::new();
    let vocab = gpt.config.vocab;
    for _ in 0..opts.tokens {
        let ctx = &ids[ids.len().saturating_sub(gpt.config.block)..];
        let tokens = Indices::new(gpt.gpu(), ctx)?;
        let logits = graph::no_grad(|| gpt.forward(&tokens, (1, ctx.len()), None))?;
        let all = logits.value().to_vec()?;
        let last = &all[all.len() - vocab..];
        let next = draw(last, opts.temperature, &mut rng);
        ids.push(next);
        let text = tokenizer.decode(&[next]);
        on_char(&text);
        out.push_str(&text);
    }
    Ok(out)
}

/// A token drawn from softmax(logits / temperature), in f64.
fn draw(logits: &[f32], temperature: f32, rng: &mut Rng) -> u32 {
    let t = f64::from(temperature);
    let m = logits
        .iter()
        .fold(f64::NEG_INFINITY, |a, &b| a.max(f64::from(b)));
    let e: Vec<f64> = logits
        .iter()
        .map(|&z| ((f64::from(z) - m) / t).exp())
        .collect();
    let total: f64 = e.iter().sum();
    let mut u = rng.next_f64() * total;
    for (i, w) in e.iter().enumerate() {
        if u < *w {
            return i as u32;
        }
        u -= w;
    }
    (e.len() - 1) as u32
}
