//! Transformer benchmark cases: causal attention at B = 8, H = 8, D = 64, T = 1,024 (256 on
//! CPU devices, where one fused forward+backward at 1,024 takes minutes), fused against
//! unfused, forward and forward+backward (2·B·H·T²·D FLOP per product counted in full, half
//! of it masked); and one training step of nanoGPT's laptop GPT (4 layers, 4 heads, 128
//! wide, block 64, batch 12) in tokens per second.

use crate::bench::suite::{Case, Work};
use crate::error::Result;
use crate::gpt::{windows, Corpus, Gpt, GptConfig};
use crate::gpu::Gpu;
use crate::graph::AdamW;
use crate::indices::Indices;
use crate::ops::{self, AttentionKernel};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn random(gpu: &Gpu, rng: &mut Rng, shape: &[usize]) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
    Tensor::from_slice(gpu, &v, shape)
}

/// The attention cases and the GPT step.
pub(crate) fn cases(gpu: &Gpu, rng: &mut Rng) -> Vec<Result<Case>> {
    let t = if gpu.profile().cpu { 256 } else { 1024 };
    let mut cases = Vec::new();
    for kernel in [AttentionKernel::Fused, AttentionKernel::Unfused] {
        for backward in [false, true] {
            cases.push(attention_case(gpu, rng, [8, 8, t, 64], kernel, backward));
        }
    }
    cases.push(gpt_step_case(gpu));
    cases
}

fn attention_case(
    gpu: &Gpu,
    rng: &mut Rng,
    shape: [usize; 4],
    kernel: AttentionKernel,
    backward: bool,
) -> Result<Case> {
    let [b, h, t, d] = shape;
    let (q, k, v, dy) = (
        random(gpu, rng, &shape)?,
        random(gpu, rng, &shape)?,
        random(gpu, rng, &shape)?,
        random(gpu, rng, &shape)?,
    );
    let product = 2.0 * (b * h * t * t * d) as f64;
    // Forward: QKᵀ and PV; backward: four more products (dP, dV, dQ, dK).
    let flops = product * if backward { 6.0 } else { 2.0 };
    let name = match (kernel, backward) {
        (AttentionKernel::Unfused, false) => "attention_fwd_unfused",
        (AttentionKernel::Unfused, true) => "attention_fwd_bwd_unfused",
        (_, false) => "attention_fwd",
        (_, true) => "attention_fwd_bwd",
    };
    Ok(Case {
        op: name.into(),
        shape: format!("{b}x{h}x{t}x{d} causal"),
        work: Work::Flops(flops),
        run: Box::new(move || {
            if kernel == AttentionKernel::Fused {
                let (out, lse) = ops::attention_with_lse(&q, &k, &v, true)?;
                if backward {
                    ops::attention_backward_lse(&q, &k, &v, (&out, &lse), &dy, true)?;
                }
                return Ok(());
            }
            let out = ops::attention_with(kernel, &q, &k, &v, true)?;
            if backward {
                ops::attention_backward_with(kernel, &q, &k, &v, &out, &dy, true)?;
            }
            Ok(())
        }),
    })
}

fn gpt_step_case(gpu: &Gpu) -> Result<Case> {
    let corpus = Corpus::shakespeare()?;
    let model = Gpt::new(gpu, GptConfig::laptop(corpus.tokenizer.len()), 1)?;
    let (b, t) = (12, model.config.block);
    let mut rng = Rng::new(1);
    let (x, y) = windows(&corpus.train, b, t, &mut rng)?;
    let (x, y) = (Indices::new(gpu, &x)?, Indices::new(gpu, &y)?);
    let mut params = model.params.clone();
    let mut opt = AdamW::default();
    Ok(Case {
        op: "gpt_train_step".into(),
        shape: "laptop 4x4x128 block 64 batch 12".into(),
        work: Work::Tokens((b * t) as f64),
        run: Box::new(move || {
            params.zero_grad();
            model.loss(&x, &y, (b, t), Some(0))?.backward()?;
            opt.step(&mut params, 1e-4, Gpt::decays).map(drop)
        }),
    })
}
