//! Reductions (`shaders/reduce.wgsl`): the column sum that gives db, the total that gives a
//! mean loss, and the in-place accumulation (`shaders/optim.wgsl`) of running sums.

use crate::error::Result;
use crate::kernels::{params, Dispatch, ACCUMULATE, COLUMN_SUM, SUM_ALL};
use crate::ops::{expect_shape, same_gpu, u32_of};
use crate::tensor::Tensor;

/// out[j] = Σ_i x[i, j] for x (rows, cols); a vector is one row. Returns [cols].
pub fn column_sum(x: &Tensor) -> Result<Tensor> {
    const OP: &str = "column_sum";
    let (rows, cols) = x.rows_cols();
    let gpu = x.gpu();
    let out = Tensor::empty(gpu, OP, &[cols])?;
    let grid = gpu.grid_1d(OP, cols.div_ceil(64) as u64)?;
    gpu.launch(
        OP,
        Dispatch {
            kernel: &COLUMN_SUM,
            spec: 0,
            params: params(&[u32_of(rows), u32_of(cols)]),
            buffers: &[x.buffer(), out.buffer()],
            grid,
        },
    )?;
    Ok(out)
}

/// The sum of all elements, as a tensor of shape [1] (one workgroup: meant for small tensors
/// such as per-row loss terms).
pub fn sum_all(x: &Tensor) -> Result<Tensor> {
    const OP: &str = "sum_all";
    let gpu = x.gpu();
    let out = Tensor::empty(gpu, OP, &[1])?;
    gpu.launch(
        OP,
        Dispatch {
            kernel: &SUM_ALL,
            spec: 0,
            params: params(&[1, u32_of(x.len())]),
            buffers: &[x.buffer(), out.buffer()],
            grid: [1, 1, 1],
        },
    )?;
    Ok(out)
}

/// acc += x, in place on `acc` (same shape). For running sums kept on the GPU, such as an
/// epoch's loss; every clone of `acc` sees the change.
pub fn add_assign(acc: &Tensor, x: &Tensor) -> Result<()> {
    const OP: &str = "add_assign";
    same_gpu(OP, &[acc, x])?;
    expect_shape(OP, x, acc.shape())?;
    let gpu = acc.gpu();
    let grid = gpu.grid_1d(OP, acc.len().div_ceil(256) as u64)?;
    gpu.launch(
        OP,
        Dispatch {
            kernel: &ACCUMULATE,
            spec: 0,
            params: params(&[u32_of(acc.len())]),
            buffers: &[acc.buffer(), x.buffer()],
            grid,
        },
    )
}
