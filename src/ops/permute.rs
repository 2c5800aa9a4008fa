//! Moving a tensor's dimensions (`shaders/permute.wgsl`): [`permute`] of any of rank ≤ 4 into a
//! fresh contiguous tensor, and [`transpose`] of the last two, the attention heads' reshuffle
//! `[B, T, H, D]` ↔ `[B, H, T, D]` and a matrix's transpose among them.

use crate::error::{Error, Result};
use crate::kernels::{kernels, uniform, Source, Work, PRELUDE};
use crate::ops::u32_of;
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "permute",
    &[PRELUDE, include_str!("../../shaders/permute.wgsl")],
);

uniform! {
    /// `permute.wgsl`: the output's dimensions 1..3, its element count, the input strides in
    /// the output's order.
    PermuteParams { d1: u32, d2: u32, d3: u32, n: u32, s0: u32, s1: u32, s2: u32, s3: u32 }
}

kernels! {
    /// One output element per invocation: bindings src, dst.
    static PERMUTE: PermuteParams, () = SOURCE, "permute", [R, RW], [256, 1, 1];
}

/// The tensor with its dimensions reordered: output dimension i is input dimension `perm[i]`
/// (numpy's `transpose(x, perm)`), written contiguously.
pub fn permute(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    const OP: &str = "permute";
    let shape = x.shape();
    let rank = shape.len();
    let mut seen = [false; 4];
    let valid = perm.len() == rank
        && perm
            .iter()
            .all(|&p| p < rank && !std::mem::replace(&mut seen[p], true));
    if !valid {
        return Err(Error::InvalidArgument {
            op: OP,
            message: format!("{perm:?} is not a permutation of the {rank} dimensions of {shape:?}"),
        });
    }
    let mut strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    // Padded in front to rank 4 with dimensions of 1 (stride 0).
    let pad = 4 - rank;
    let mut d = [1usize; 4];
    let mut s = [0usize; 4];
    for i in 0..rank {
        d[pad + i] = out_shape[i];
        s[pad + i] = strides[perm[i]];
    }
    let out = Tensor::empty(x.gpu(), OP, &out_shape)?;
    let params = PermuteParams {
        d1: u32_of(OP, d[1])?,
        d2: u32_of(OP, d[2])?,
        d3: u32_of(OP, d[3])?,
        n: u32_of(OP, x.len())?,
        s0: u32_of(OP, s[0])?,
        s1: u32_of(OP, s[1])?,
        s2: u32_of(OP, s[2])?,
        s3: u32_of(OP, s[3])?,
    };
    let buffers = [x.buffer(), out.buffer()];
    PERMUTE.launch(x.gpu(), OP, ((), params), buffers, Work::Items(x.len()))?;
    Ok(out)
}

/// The last two dimensions swapped (a matrix's transpose; rank 2 to 4).
pub fn transpose(x: &Tensor) -> Result<Tensor> {
    let rank = x.shape().len();
    if rank < 2 {
        return Err(Error::BadRank {
            op: "transpose",
            shape: x.shape().to_vec(),
        });
    }
    let mut perm: Vec<usize> = (0..rank).collect();
    perm.swap(rank - 2, rank - 1);
    permute(x, &perm)
}
