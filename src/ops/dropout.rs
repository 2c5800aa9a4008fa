//! Dropout's mask, applied (`shaders/dropout.wgsl`): element i of training step `step` of a
//! layer seeded `seed` is kept with probability 1 − p and scaled by 1/(1 − p); the mask is a
//! hash of (seed, step, i), recomputed by the backward and the Jacobian, so nothing is stored
//! and a resumed run draws the same masks.

use crate::error::{Error, Result};
use crate::kernels::{kernels, uniform, Source, Work, PRELUDE};
use crate::ops::{u32_of, MAX_JACOBIAN_ELEMENTS};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "dropout",
    &[PRELUDE, include_str!("../../shaders/dropout.wgsl")],
);

uniform! {
    /// `dropout.wgsl`: `n` elements; the seed and step as u32 halves; p and 1/(1 − p).
    DropoutParams { n: u32, seed_lo: u32, seed_hi: u32, step_lo: u32, step_hi: u32, p: f32, scale: f32, _pad: u32 }
}

kernels! {
    /// x (or dy) times the mask, scaled: one element per invocation.
    static APPLY: DropoutParams, () = SOURCE, "apply", [R, RW], [256, 1, 1];
    /// diag(mask · scale), one element of J per invocation.
    static JACOBIAN: DropoutParams, () = SOURCE, "jacobian", [R, RW], [256, 1, 1];
}

/// `Err` unless 0 ≤ p < 1.
pub(crate) fn check_p(op: &'static str, p: f32) -> Result<()> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            op,
            message: format!("the drop probability must be in [0, 1), got {p}"),
        })
    }
}

fn params(op: &'static str, n: usize, p: f32, (seed, step): (u64, u64)) -> Result<DropoutParams> {
    check_p(op, p)?;
    Ok(DropoutParams {
        n: u32_of(op, n)?,
        seed_lo: seed as u32,
        seed_hi: (seed >> 32) as u32,
        step_lo: step as u32,
        step_hi: (step >> 32) as u32,
        p,
        scale: 1.0 / (1.0 - p),
        _pad: 0,
    })
}

/// x · mask(seed, step) / (1 − p), element-wise: dropout's forward, and its backward on dy.
pub fn dropout(x: &Tensor, p: f32, seed: u64, step: u64) -> Result<Tensor> {
    const OP: &str = "Dropout";
    let out = Tensor::empty(x.gpu(), OP, x.shape())?;
    let params = params(OP, x.len(), p, (seed, step))?;
    let work = Work::Items(x.len());
    APPLY.launch(x.gpu(), OP, ((), params), [x.buffer(), out.buffer()], work)?;
    Ok(out)
}

/// ∂y/∂x of [`dropout`] for `n` elements: diag(mask / (1 − p)), [n, n].
pub fn dropout_jacobian(x: &Tensor, p: f32, seed: u64, step: u64) -> Result<Tensor> {
    const OP: &str = "Dropout::jacobian";
    let n = x.len();
    let total = n.saturating_mul(n);
    if total > MAX_JACOBIAN_ELEMENTS {
        return Err(Error::TooLarge {
            op: OP,
            what: "elements in the explicit Jacobian",
            requested: total as u64,
            limit: MAX_JACOBIAN_ELEMENTS as u64,
        });
    }
    let jac = Tensor::empty(x.gpu(), OP, &[n, n])?;
    let params = params(OP, n, p, (seed, step))?;
    JACOBIAN.launch(
        x.gpu(),
        OP,
        ((), params),
        [x.buffer(), jac.buffer()],
        Work::Items(total),
    )?;
    Ok(jac)
}
