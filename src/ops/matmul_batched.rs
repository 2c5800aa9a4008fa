//! Batched products: `[.., M, K] · [.., K, N]` for tensors of rank 3 and 4 with equal leading
//! (batch) dimensions, or one side a plain matrix shared by every batch, with the transposes,
//! the bias and the ReLU of [`crate::ops::gemm`]. One dispatch for the whole batch: the
//! batch is folded into the tiled kernel's row tiles, its operands found at batch strides in
//! the kernel (`shaders/matmul.wgsl`), not a loop of dispatches.

use crate::error::{Error, Result};
use crate::ops::matmul::{Form, Transpose};
use crate::ops::matmul_plain::{launch_tiled, Batch};
use crate::ops::{expect_shape, same_gpu};
use crate::tensor::Tensor;

const OP: &str = "matmul";

/// (leading dimensions, rows, columns) of a tensor of rank 2 to 4.
fn split(t: &Tensor) -> Result<(&[usize], usize, usize)> {
    match t.shape() {
        [lead @ .., r, c] => Ok((lead, *r, *c)),
        s => Err(Error::ShapeMismatch {
            op: OP,
            expected: "a matrix [.., rows, cols] (rank 2 to 4)".into(),
            got: s.to_vec(),
        }),
    }
}

/// op(A)·op(B) (+ bias) (then ReLU) for every batch; see the module's header.
pub(crate) fn batched(
    (a, ta): (&Tensor, Transpose),
    (b, tb): (&Tensor, Transpose),
    bias: Option<&Tensor>,
    relu: bool,
) -> Result<Tensor> {
    same_gpu(OP, &[a, b])?;
    let (lead_a, ra, ca) = split(a)?;
    let (lead_b, rb, cb) = split(b)?;
    let (m, k) = if ta == Transpose::Yes {
        (ca, ra)
    } else {
        (ra, ca)
    };
    let (k2, n) = if tb == Transpose::Yes {
        (cb, rb)
    } else {
        (rb, cb)
    };
    let lead = match (lead_a.is_empty(), lead_b.is_empty()) {
        (_, true) => lead_a,
        (true, false) => lead_b,
        (false, false) if lead_a == lead_b => lead_a,
        _ => {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: format!(
                    "B with the batch dimensions {lead_a:?} of A {:?} (or a plain matrix)",
                    a.shape()
                ),
                got: b.shape().to_vec(),
            })
        }
    };
    if k != k2 {
        return Err(Error::ShapeMismatch {
            op: OP,
            expected: format!("B whose inner dimension is A's {k} (A {:?})", a.shape()),
            got: b.shape().to_vec(),
        });
    }
    let bias_buffer = match bias {
        Some(bias) => {
            same_gpu(OP, &[a, bias])?;
            expect_shape("matmul bias", bias, &[n])?;
            bias.buffer()
        }
        None => a.buffer(),
    };
    let count: usize = lead.iter().product();
    let mut shape = lead.to_vec();
    shape.extend([m, n]);
    let c = Tensor::empty(a.gpu(), OP, &shape)?;
    let stride = |lead: &[usize], size: usize| if lead.is_empty() { 0 } else { size };
    let batch = Batch {
        count,
        a: stride(lead_a, m * k),
        b: stride(lead_b, k * n),
    };
    let form = Form {
        trans_a: ta == Transpose::Yes,
        trans_b: tb == Transpose::Yes,
        bias: bias.is_some(),
        relu: false,
    };
    let buffers = [a.buffer(), b.buffer(), bias_buffer, c.buffer()];
    launch_tiled((a.gpu(), buffers), form, (m, n, k), batch)?;
    if relu {
        return crate::ops::relu_forward(&c);
    }
    Ok(c)
}
