//! Scaled dot-product attention over heads, `q, k, v: [B, H, T, D]` (or `[BH, T, D]`), scale
//! 1/√D, optionally causal (query i sees keys j ≤ i):
//!
//! ```text
//!   S = scale · Q Kᵀ (masked),  P = softmax(S) by rows,  O = P V
//!   dV = Pᵀ dO,  dP = dO Vᵀ,  dS = P ∘ (dP − rowsum(dO ∘ O)),  dQ = scale · dS K,  dK = scale · dSᵀ Q
//! ```
//!
//! Two paths. **Fused** (FlashAttention-2 style, `shaders/attention_*.wgsl`): the forward keeps
//! each query row's log-sum-exp instead of P, streaming K and V through workgroup memory with
//! an online softmax; the backward recomputes P from it — dq by query rows, dk and dv by key
//! rows, so nothing is summed with atomics and nothing T × T is stored. **Unfused**: the
//! batched matmul, the masked softmax and the batched matmul again, storing P; the tests hold
//! both to an f64 reference.

use crate::error::{Error, Result};
use crate::kernels::{
    attention_header, kernels, uniform, AttentionPart, Decl, Source, Work, PRELUDE,
};
use crate::ops::arith::causal_scale;
use crate::ops::{
    gemm, matmul, same_gpu, scale, softmax_backward, softmax_forward, u32_of, Transpose,
};
use crate::tensor::Tensor;

/// The largest head size D the fused kernels take (their rows are held in registers).
pub const MAX_ATTENTION_HEAD: usize = 128;

/// Workgroup storage the fused kernels need: two tiles of 2,048 floats.
const WORKGROUP_BYTES: u32 = 16_384;

/// Which attention path runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttentionKernel {
    /// The fused kernels where the device has what they need (D ≤ 128, 16 KiB of workgroup
    /// storage, 8 storage buffers per stage), else the unfused path.
    Auto,
    /// The fused FlashAttention-2-style kernels (an `Err` where the device lacks what they need).
    Fused,
    /// Batched matmul, masked softmax, batched matmul (stores P, `[.., T, T]`).
    Unfused,
}

const COMMON: &str = include_str!("../../shaders/attention_common.wgsl");
const FORWARD: &str = include_str!("../../shaders/attention_forward.wgsl");
const DQ: &str = include_str!("../../shaders/attention_dq.wgsl");
const DKV: &str = include_str!("../../shaders/attention_dkv.wgsl");

/// One source per (kernel, row length): the row length's header in front.
macro_rules! sources {
    ($($name:ident = $label:literal, $part:ident, $file:ident, $dm:literal;)*) => {
        $(static $name: Source = Source {
            header: Some(|| attention_header(AttentionPart::$part, $dm)),
            ..Source::of($label, &[PRELUDE, COMMON, $file])
        };)*
    };
}
sources! {
    FORWARD_32 = "attention_forward_32", Forward, FORWARD, 32;
    FORWARD_64 = "attention_forward_64", Forward, FORWARD, 64;
    FORWARD_128 = "attention_forward_128", Forward, FORWARD, 128;
    DQ_32 = "attention_dq_32", Dq, DQ, 32;
    DQ_64 = "attention_dq_64", Dq, DQ, 64;
    DQ_128 = "attention_dq_128", Dq, DQ, 128;
    DKV_32 = "attention_dkv_32", Dkv, DKV, 32;
    DKV_64 = "attention_dkv_64", Dkv, DKV, 64;
    DKV_128 = "attention_dkv_128", Dkv, DKV, 128;
}

uniform! {
    /// `attention_common.wgsl`: heads × batch, T, D, causal (0/1), 1/√D.
    AttentionParams { bh: u32, t: u32, d: u32, causal: u32, scale: f32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

kernels! {
    /// Forward, rows of ≤ 32: bindings q, k, v, o, lse.
    static FWD32: AttentionParams, () = FORWARD_32, "attention_forward", [R, R, R, RW, RW], [64, 1, 1];
    /// Forward, rows of ≤ 64.
    static FWD64: AttentionParams, () = FORWARD_64, "attention_forward", [R, R, R, RW, RW], [64, 1, 1];
    /// Forward, rows of ≤ 128.
    static FWD128: AttentionParams, () = FORWARD_128, "attention_forward", [R, R, R, RW, RW], [64, 1, 1];
    /// dq (and delta), rows of ≤ 32: bindings q, k, v, o, dO, lse, delta, dq.
    static DQ32: AttentionParams, () = DQ_32, "attention_dq", [R, R, R, R, R, R, RW, RW], [64, 1, 1];
    /// dq, rows of ≤ 64.
    static DQ64: AttentionParams, () = DQ_64, "attention_dq", [R, R, R, R, R, R, RW, RW], [64, 1, 1];
    /// dq, rows of ≤ 128.
    static DQ128: AttentionParams, () = DQ_128, "attention_dq", [R, R, R, R, R, R, RW, RW], [64, 1, 1];
    /// dk and dv, rows of ≤ 32: bindings q, k, v, dO, lse, delta, dk, dv.
    static DKV32: AttentionParams, () = DKV_32, "attention_dkv", [R, R, R, R, R, R, RW, RW], [64, 1, 1];
    /// dk and dv, rows of ≤ 64.
    static DKV64: AttentionParams, () = DKV_64, "attention_dkv", [R, R, R, R, R, R, RW, RW], [64, 1, 1];
    /// dk and dv, rows of ≤ 128.
    static DKV128: AttentionParams, () = DKV_128, "attention_dkv", [R, R, R, R, R, R, RW, RW], [64, 1, 1];
}

type Fwd = Decl<AttentionParams, (), 5>;
type Bwd = Decl<AttentionParams, (), 8>;

/// The kernels for head size `d` (≤ 128): forward, dq, dkv.
fn kernels_for(d: usize) -> (&'static Fwd, &'static Bwd, &'static Bwd) {
    match d {
        0..=32 => (&FWD32, &DQ32, &DKV32),
        33..=64 => (&FWD64, &DQ64, &DKV64),
        _ => (&FWD128, &DQ128, &DKV128),
    }
}

/// The shape every operand shares, as (batch × heads, T, D).
fn check(op: &'static str, q: &Tensor, others: &[&Tensor]) -> Result<(usize, usize, usize)> {
    let mut all = vec![q];
    all.extend_from_slice(others);
    same_gpu(op, &all)?;
    let (bh, t, d) = match q.shape() {
        [b, h, t, d] => (b * h, *t, *d),
        [bh, t, d] => (*bh, *t, *d),
        s => {
            return Err(Error::ShapeMismatch {
                op,
                expected: "q, k, v of shape [B, H, T, D] (or [B·H, T, D])".into(),
                got: s.to_vec(),
            })
        }
    };
    for t in others {
        crate::ops::expect_shape(op, t, q.shape())?;
    }
    Ok((bh, t, d))
}

/// Why the fused kernels cannot run here, if they cannot.
fn fused_unavailable(op: &'static str, q: &Tensor, d: usize) -> Option<Error> {
    if d > MAX_ATTENTION_HEAD {
        return Some(Error::TooLarge {
            op,
            what: "head size D of the fused attention kernels",
            requested: d as u64,
            limit: MAX_ATTENTION_HEAD as u64,
        });
    }
    let limits = q.gpu().limits();
    if limits.max_compute_workgroup_storage_size < WORKGROUP_BYTES {
        return Some(Error::TooLarge {
            op,
            what: "bytes of workgroup storage the fused attention needs (the device's limit)",
            requested: u64::from(WORKGROUP_BYTES),
            limit: u64::from(limits.max_compute_workgroup_storage_size),
        });
    }
    if limits.max_storage_buffers_per_shader_stage < 8 {
        return Some(Error::TooLarge {
            op,
            what:
                "storage buffers per stage the fused attention backward binds (the device's limit)",
            requested: 8,
            limit: u64::from(limits.max_storage_buffers_per_shader_stage),
        });
    }
    None
}

/// Whether `kernel` runs fused for head size `d`, or the `Err` of a forced fused path that
/// cannot.
fn runs_fused(op: &'static str, kernel: AttentionKernel, q: &Tensor, d: usize) -> Result<bool> {
    match (kernel, fused_unavailable(op, q, d)) {
        (AttentionKernel::Unfused, _) => Ok(false),
        (AttentionKernel::Auto, why) => Ok(why.is_none()),
        (AttentionKernel::Fused, Some(e)) => Err(e),
        (AttentionKernel::Fused, None) => Ok(true),
    }
}

fn params(
    op: &'static str,
    (bh, t, d): (usize, usize, usize),
    causal: bool,
) -> Result<AttentionParams> {
    Ok(AttentionParams {
        bh: u32_of(op, bh)?,
        t: u32_of(op, t)?,
        d: u32_of(op, d)?,
        causal: u32::from(causal),
        scale: 1.0 / (d as f32).sqrt(),
        ..Default::default()
    })
}

/// softmax(q kᵀ / √D (masked)) v for q, k, v `[B, H, T, D]`: the output `[B, H, T, D]`.
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, causal: bool) -> Result<Tensor> {
    attention_with(AttentionKernel::Auto, q, k, v, causal)
}

/// [`attention`] on a chosen path.
pub fn attention_with(
    kernel: AttentionKernel,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    causal: bool,
) -> Result<Tensor> {
    const OP: &str = "attention";
    let (_, _, d) = check(OP, q, &[k, v])?;
    if runs_fused(OP, kernel, q, d)? {
        return attention_with_lse(q, k, v, causal).map(|(o, _)| o);
    }
    unfused_probabilities(q, k, causal).and_then(|p| matmul(&p, v))
}

/// The fused forward, with each query row's log-sum-exp `[B, H, T]` (`[B·H, T]` for rank-3
/// input) for [`attention_backward_lse`].
pub fn attention_with_lse(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    causal: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "attention";
    let shape @ (bh, t, d) = check(OP, q, &[k, v])?;
    if let Some(e) = fused_unavailable(OP, q, d) {
        return Err(e);
    }
    let gpu = q.gpu();
    let out = Tensor::empty(gpu, OP, q.shape())?;
    let lse_shape = &q.shape()[..q.shape().len() - 1];
    let lse = Tensor::empty(gpu, OP, lse_shape)?;
    let (fwd, _, _) = kernels_for(d);
    let buffers = [
        q.buffer(),
        k.buffer(),
        v.buffer(),
        out.buffer(),
        lse.buffer(),
    ];
    let work = Work::Tiles(t.div_ceil(64), bh);
    fwd.launch(gpu, OP, ((), params(OP, shape, causal)?), buffers, work)?;
    Ok((out, lse))
}

/// dq, dk, dv of [`attention`] from its output `out` and dL/d(out).
pub fn attention_backward(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    out: &Tensor,
    d_out: &Tensor,
    causal: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    attention_backward_with(AttentionKernel::Auto, q, k, v, out, d_out, causal)
}

/// [`attention_backward`] on a chosen path. The fused one recomputes the log-sum-exp with a
/// forward pass (keep it from [`attention_with_lse`] and call [`attention_backward_lse`] to
/// save that); the unfused one recomputes P.
pub fn attention_backward_with(
    kernel: AttentionKernel,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    out: &Tensor,
    d_out: &Tensor,
    causal: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "attention_backward";
    let (_, _, d) = check(OP, q, &[k, v, out, d_out])?;
    if runs_fused(OP, kernel, q, d)? {
        let (_, lse) = attention_with_lse(q, k, v, causal)?;
        return attention_backward_lse(q, k, v, (out, &lse), d_out, causal);
    }
    let p = unfused_probabilities(q, k, causal)?;
    let dp = gemm(d_out, Transpose::No, v, Transpose::Yes, None)?;
    let dv = gemm(&p, Transpose::Yes, d_out, Transpose::No, None)?;
    let t = p.shape()[p.shape().len() - 1];
    let rows = [p.len() / t, t];
    let ds = softmax_backward(&p.reshape(&rows)?, &dp.reshape(&rows)?)?.reshape(p.shape())?;
    let ds = scale(&ds, 1.0 / (d as f32).sqrt())?;
    let dq = matmul(&ds, k)?;
    let dk = gemm(&ds, Transpose::Yes, q, Transpose::No, None)?;
    Ok((dq, dk, dv))
}

/// The fused backward from the forward's output and log-sum-exp
/// ([`attention_with_lse`]): dq, dk, dv.
pub fn attention_backward_lse(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    (out, lse): (&Tensor, &Tensor),
    d_out: &Tensor,
    causal: bool,
) -> Result<(Tensor, Tensor, Tensor)> {
    const OP: &str = "attention_backward";
    let shape @ (bh, t, d) = check(OP, q, &[k, v, out, d_out])?;
    if let Some(e) = fused_unavailable(OP, q, d) {
        return Err(e);
    }
    same_gpu(OP, &[q, lse])?;
    crate::ops::expect_shape(OP, lse, &q.shape()[..q.shape().len() - 1])?;
    let gpu = q.gpu();
    let (_, dq_kernel, dkv_kernel) = kernels_for(d);
    let delta = Tensor::empty(gpu, OP, lse.shape())?;
    let dq = Tensor::empty(gpu, OP, q.shape())?;
    let dk = Tensor::empty(gpu, OP, q.shape())?;
    let dv = Tensor::empty(gpu, OP, q.shape())?;
    let prm = params(OP, shape, causal)?;
    let work = Work::Tiles(t.div_ceil(64), bh);
    let (qb, kb, vb, ob) = (q.buffer(), k.buffer(), v.buffer(), out.buffer());
    let buffers = [
        qb,
        kb,
        vb,
        ob,
        d_out.buffer(),
        lse.buffer(),
        delta.buffer(),
        dq.buffer(),
    ];
    dq_kernel.launch(gpu, OP, ((), prm), buffers, work)?;
    let buffers = [
        qb,
        kb,
        vb,
        d_out.buffer(),
        lse.buffer(),
        delta.buffer(),
        dk.buffer(),
        dv.buffer(),
    ];
    dkv_kernel.launch(gpu, OP, ((), prm), buffers, work)?;
    Ok((dq, dk, dv))
}

/// The unfused path's P = softmax(scale · q kᵀ (masked)), `[.., T, T]`.
fn unfused_probabilities(q: &Tensor, k: &Tensor, causal: bool) -> Result<Tensor> {
    let d = q.shape()[q.shape().len() - 1];
    let s = gemm(q, Transpose::No, k, Transpose::Yes, None)?;
    let alpha = 1.0 / (d as f32).sqrt();
    let s = if causal {
        causal_scale(&s, alpha)?
    } else {
        scale(&s, alpha)?
    };
    let t = s.shape()[s.shape().len() - 1];
    softmax_forward(&s.reshape(&[s.len() / t, t])?)?.reshape(s.shape())
}
