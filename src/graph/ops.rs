//! The graph's ops, each one small unit: its forward on the crate's kernels (`crate::ops`,
//! the layers' own launches) and the backward it records. Shapes follow the ops they wrap.

use crate::error::{Error, Result};
use crate::graph::Var;
use crate::indices::Indices;
use crate::loss::SoftmaxCrossEntropy;
use crate::ops::{self as k, ActivationKind, AttentionKernel, Transpose};
use crate::tensor::Tensor;

/// a + b, the smaller broadcast over the larger's leading dimensions ([`crate::ops::add`]).
pub fn add(a: &Var, b: &Var) -> Result<Var> {
    let y = k::add(&a.value(), &b.value())?;
    let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
    Ok(Var::record(y, &[a, b], move |g| {
        Ok(vec![
            Some(k::reduce_to(g, &sa)?),
            Some(k::reduce_to(g, &sb)?),
        ])
    }))
}

/// a − b, broadcast as [`add`].
pub fn sub(a: &Var, b: &Var) -> Result<Var> {
    let y = k::sub(&a.value(), &b.value())?;
    let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
    Ok(Var::record(y, &[a, b], move |g| {
        let gb = k::reduce_to(&k::scale(g, -1.0)?, &sb)?;
        Ok(vec![Some(k::reduce_to(g, &sa)?), Some(gb)])
    }))
}

/// a · b element-wise, broadcast as [`add`].
pub fn mul(a: &Var, b: &Var) -> Result<Var> {
    let y = k::mul(&a.value(), &b.value())?;
    let (ta, tb) = (a.value(), b.value());
    Ok(Var::record(y, &[a, b], move |g| {
        let ga = k::reduce_to(&k::mul(g, &tb)?, ta.shape())?;
        let gb = k::reduce_to(&k::mul(g, &ta)?, tb.shape())?;
        Ok(vec![Some(ga), Some(gb)])
    }))
}

/// alpha · x.
pub fn scale(x: &Var, alpha: f32) -> Result<Var> {
    let y = k::scale(&x.value(), alpha)?;
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(k::scale(g, alpha)?)])
    }))
}

/// The same data with another shape of the same element count (no copy).
pub fn reshape(x: &Var, shape: &[usize]) -> Result<Var> {
    let y = x.value().reshape(shape)?;
    let old = x.shape().to_vec();
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(g.reshape(&old)?)])
    }))
}

/// Dimensions reordered: output dimension i is input dimension `perm[i]`.
pub fn permute(x: &Var, perm: &[usize]) -> Result<Var> {
    let y = k::permute(&x.value(), perm)?;
    let mut inverse = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inverse[p] = i;
    }
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(k::permute(g, &inverse)?)])
    }))
}

/// The last two dimensions swapped.
pub fn transpose(x: &Var) -> Result<Var> {
    let y = k::transpose(&x.value())?;
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(k::transpose(g)?)])
    }))
}

/// The sum of every element, `[1]`.
pub fn sum(x: &Var) -> Result<Var> {
    let y = k::sum_all(&x.value())?;
    let shape = x.shape().to_vec();
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(k::broadcast_to(g, &shape)?)])
    }))
}

/// The mean of every element, `[1]`.
pub fn mean(x: &Var) -> Result<Var> {
    scale(&sum(x)?, 1.0 / x.value().len() as f32)
}

/// op(a)·op(b), batched for rank 3 and 4 ([`crate::ops::gemm`]); a shared (rank-2) operand
/// of a batched product gets its gradient summed over the batch.
pub fn matmul_t(a: &Var, ta: Transpose, b: &Var, tb: Transpose) -> Result<Var> {
    use Transpose::{No, Yes};
    let y = k::gemm(&a.value(), ta, &b.value(), tb, None)?;
    let (av, bv) = (a.value(), b.value());
    Ok(Var::record(y, &[a, b], move |g| {
        let (ga, gb) = match (ta, tb) {
            (No, No) => (
                k::gemm(g, No, &bv, Yes, None)?,
                k::gemm(&av, Yes, g, No, None)?,
            ),
            (No, Yes) => (
                k::gemm(g, No, &bv, No, None)?,
                k::gemm(g, Yes, &av, No, None)?,
            ),
            (Yes, No) => (
                k::gemm(&bv, No, g, Yes, None)?,
                k::gemm(&av, No, g, No, None)?,
            ),
            (Yes, Yes) => (
                k::gemm(&bv, Yes, g, Yes, None)?,
                k::gemm(g, Yes, &av, Yes, None)?,
            ),
        };
        Ok(vec![
            Some(k::reduce_to(&ga, av.shape())?),
            Some(k::reduce_to(&gb, bv.shape())?),
        ])
    }))
}

/// a·b ([`matmul_t`] without transposes).
pub fn matmul(a: &Var, b: &Var) -> Result<Var> {
    matmul_t(a, Transpose::No, b, Transpose::No)
}

/// x·W + b over the last dimension: x `[.., in]`, W `[in, out]`, b `[out]` → `[.., out]`, on
/// the tuned 2-D kernels (the bias in the product's epilogue).
pub fn linear(x: &Var, w: &Var, b: Option<&Var>) -> Result<Var> {
    let (rows, inputs) = rows_of("linear", &x.value())?;
    let x2 = x.value().reshape(&[rows, inputs])?;
    let y = k::gemm(
        &x2,
        Transpose::No,
        &w.value(),
        Transpose::No,
        b.map(Var::value).as_ref(),
    )?;
    let outputs = y.shape()[1];
    let mut shape = x.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = outputs; // [.., in] → [.., out]
    }
    let y = y.reshape(&shape)?;
    let (xshape, wv) = (x.shape().to_vec(), w.value());
    let mut inputs_of: Vec<&Var> = vec![x, w];
    inputs_of.extend(b);
    let with_bias = b.is_some();
    Ok(Var::record(y, &inputs_of, move |g| {
        let g2 = g.reshape(&[rows, outputs])?;
        let dx = k::gemm(&g2, Transpose::No, &wv, Transpose::Yes, None)?.reshape(&xshape)?;
        let dw = k::gemm(&x2, Transpose::Yes, &g2, Transpose::No, None)?;
        let mut grads = vec![Some(dx), Some(dw)];
        if with_bias {
            grads.push(Some(k::column_sum(&g2)?));
        }
        Ok(grads)
    }))
}

/// (rows, last dimension) of a tensor seen as rows.
fn rows_of(op: &'static str, t: &Tensor) -> Result<(usize, usize)> {
    let cols = *t
        .shape()
        .last()
        .ok_or(Error::BadRank { op, shape: vec![] })?;
    Ok((t.len() / cols, cols))
}

/// Rows of `table` `[V, C]` looked up by `idx`: `[n, C]`. Its backward sums the gradient rows
/// of repeated indices, deterministically.
pub fn embedding(table: &Var, idx: &Indices) -> Result<Var> {
    let y = k::embedding(&table.value(), idx)?;
    let (idx, vocab) = (idx.clone(), table.shape()[0]);
    Ok(Var::record(y, &[table], move |g| {
        Ok(vec![Some(k::embedding_backward(g, &idx, vocab)?)])
    }))
}

/// The mean cross-entropy of logits `[N, V]` against integer targets (`N` of them, each below
/// V), `[1]`: softmax and log-likelihood fused, its gradient computed in the same pass.
pub fn cross_entropy(logits: &Var, targets: &Indices) -> Result<Var> {
    let (loss, dlogits) = SoftmaxCrossEntropy::new().forward_backward(&logits.value(), targets)?;
    Ok(Var::record(loss, &[logits], move |g| {
        Ok(vec![Some(k::mul(&dlogits, g)?)])
    }))
}

/// An element-wise activation by its config name (`"gelu"`, `"relu"`, `"tanh"`, …, the
/// table of [`crate::ops::ACTIVATIONS`]) with its default parameter.
pub fn activation(x: &Var, name: &str) -> Result<Var> {
    let kind = ActivationKind::by_name(name).ok_or_else(|| Error::InvalidArgument {
        op: "graph::activation",
        message: format!("no activation named '{name}'"),
    })?;
    let y = kind.forward(&x.value(), None)?;
    let xv = x.value();
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(kind.backward(&xv, g, None)?)])
    }))
}

/// GELU (the exact, erf form).
pub fn gelu(x: &Var) -> Result<Var> {
    activation(x, "gelu")
}

/// LayerNorm over the last dimension with scale γ and shift β (`[features]` each).
pub fn layer_norm(x: &Var, gamma: &Var, beta: &Var) -> Result<Var> {
    let (rows, cols) = rows_of("layer_norm", &x.value())?;
    let x2 = x.value().reshape(&[rows, cols])?;
    let (y, stats) = k::layer_norm(&x2, &gamma.value(), &beta.value())?;
    let y = y.reshape(x.shape())?;
    let (shape, gv) = (x.shape().to_vec(), gamma.value());
    Ok(Var::record(y, &[x, gamma, beta], move |g| {
        let g2 = g.reshape(&[rows, cols])?;
        let (dx, dgamma, dbeta) = k::layer_norm_backward(&x2, &gv, &g2, &stats)?;
        Ok(vec![Some(dx.reshape(&shape)?), Some(dgamma), Some(dbeta)])
    }))
}

/// Dropout with probability p of the mask drawn from (seed, step); the identity for p = 0.
pub fn dropout(x: &Var, p: f32, seed: u64, step: u64) -> Result<Var> {
    k::check_dropout_p("graph::dropout", p)?;
    if p == 0.0 {
        return Ok(x.clone());
    }
    let y = k::dropout(&x.value(), p, seed, step)?;
    Ok(Var::record(y, &[x], move |g| {
        Ok(vec![Some(k::dropout(g, p, seed, step)?)])
    }))
}

/// Softmax of each row (the last dimension).
pub fn softmax(x: &Var) -> Result<Var> {
    let (rows, cols) = rows_of("softmax", &x.value())?;
    let y = k::softmax_forward(&x.value().reshape(&[rows, cols])?)?;
    let shape = x.shape().to_vec();
    let y2 = y.clone();
    Ok(Var::record(y.reshape(&shape)?, &[x], move |g| {
        let dx = k::softmax_backward(&y2, &g.reshape(&[rows, cols])?)?;
        Ok(vec![Some(dx.reshape(&shape)?)])
    }))
}

/// Scaled dot-product attention over heads, q, k, v `[B, H, T, D]` ([`crate::ops::attention`]):
/// fused where the device takes it, the log-sum-exp kept for the backward; else unfused.
pub fn attention(q: &Var, kv: (&Var, &Var), causal: bool) -> Result<Var> {
    let (key, v) = kv;
    let (qt, kt, vt) = (q.value(), key.value(), v.value());
    let fused = k::attention_with_lse(&qt, &kt, &vt, causal);
    let (out, lse) = match fused {
        Ok((out, lse)) => (out, Some(lse)),
        Err(Error::TooLarge { .. }) => (
            k::attention_with(AttentionKernel::Unfused, &qt, &kt, &vt, causal)?,
            None,
        ),
        Err(e) => return Err(e),
    };
    let saved = out.clone();
    Ok(Var::record(out, &[q, key, v], move |g| {
        let (dq, dk, dv) = match &lse {
            Some(lse) => k::attention_backward_lse(&qt, &kt, &vt, (&saved, lse), g, causal)?,
            None => k::attention_backward_with(
                AttentionKernel::Unfused,
                &qt,
                &kt,
                &vt,
                &saved,
                g,
                causal,
            )?,
        };
        Ok(vec![Some(dq), Some(dk), Some(dv)])
    }))
}
