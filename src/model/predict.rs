//! Prediction: the class of each row, for a tensor already on the GPU ([`Sequential::predict`])
//! or for host rows of any number ([`Sequential::predict_rows`]), which go through in passes
//! whose activations fit the device ([`Sequential::rows_per_pass`]).

use super::Sequential;
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::tensor::Tensor;

/// The share of the device's largest storage binding one layer's output may take in a pass of
/// [`Sequential::predict_rows`]: a quarter, so that the few activations a pass keeps alive stay
/// within a few bindings' memory.
const PASS_SHARE: usize = 4;

impl Sequential {
    /// The class with the largest output for each row of x (reads the outputs back), in
    /// evaluation mode. Every activation of the whole batch must fit one storage binding; for
    /// inputs of any length use [`Sequential::predict_rows`].
    pub fn predict(&mut self, x: &Tensor) -> Result<Vec<usize>> {
        crate::sync::block_on(
            "Sequential::predict",
            "Sequential::predict_async",
            self.predict_async(x),
        )
    }

    /// [`Sequential::predict`] for a web page: the outputs' readback is awaited there
    /// (natively it blocks, as in `predict`).
    pub async fn predict_async(&mut self, x: &Tensor) -> Result<Vec<usize>> {
        let (y, _) = self.in_eval_mode(|m| m.forward_widest(x))?;
        let (_, cols) = y.rows_cols();
        let v = y.read().await?;
        Ok(v.chunks(cols).map(argmax).collect())
    }

    /// How many rows shaped `sample` (`[features]` or `[C, H, W]`) one forward pass takes on
    /// `gpu`: as many as keep every layer's output within a quarter of the device's largest
    /// storage binding (at least 1). Found by one forward pass of a single zero row, in
    /// evaluation mode.
    pub fn rows_per_pass(&mut self, gpu: &Gpu, sample: &[usize]) -> Result<usize> {
        let shape = [&[1], sample].concat();
        let one = Tensor::zeros(gpu, &shape)?;
        let (_, widest) = self.in_eval_mode(|m| m.forward_widest(&one))?;
        let binding = (gpu.max_binding_bytes() / 4) as usize;
        Ok((binding / PASS_SHARE / widest.max(1)).max(1))
    }

    /// The class of each row of `data`, shaped `shape` = `[N, …]` (`[N, features]` or
    /// `[N, C, H, W]`), in evaluation mode: uploaded and run [`Sequential::rows_per_pass`] rows
    /// at a time, so that N is bounded by host memory only.
    pub fn predict_rows(&mut self, gpu: &Gpu, data: &[f32], shape: &[usize]) -> Result<Vec<usize>> {
        crate::sync::block_on(
            "Sequential::predict_rows",
            "Sequential::predict_rows_async",
            self.predict_rows_async(gpu, data, shape),
        )
    }

    /// [`Sequential::predict_rows`] for a web page: each pass's readback is awaited there
    /// (natively it blocks, as in `predict_rows`).
    pub async fn predict_rows_async(
        &mut self,
        gpu: &Gpu,
        data: &[f32],
        shape: &[usize],
    ) -> Result<Vec<usize>> {
        const OP: &str = "Sequential::predict_rows";
        let rows = shape.first().copied().unwrap_or(0);
        let row: usize = shape.iter().skip(1).product();
        if shape.len() < 2 || rows * row != data.len() {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: format!(
                    "[N, ...] with N times the rest = the {} values given",
                    data.len()
                ),
                got: shape.to_vec(),
            });
        }
        if row == 0 {
            return Err(Error::InvalidArgument {
                op: OP,
                message: format!("rows of no values ({shape:?})"),
            });
        }
        let probe = [&[1], &shape[1..]].concat();
        let per_pass = self
            .rows_per_pass(gpu, &shape[1..])
            .map_err(|e| as_given(e, &probe, shape))?;
        let mut classes = Vec::with_capacity(rows);
        for chunk in data.chunks(per_pass * row) {
            let pass = [&[chunk.len() / row], &shape[1..]].concat();
            let x = Tensor::from_slice(gpu, chunk, &pass)?;
            let got = self.predict_async(&x).await;
            classes.extend(got.map_err(|e| as_given(e, &pass, shape))?);
        }
        Ok(classes)
    }

    /// Runs `f` in evaluation mode, then restores the mode the model was in.
    fn in_eval_mode<T>(&mut self, f: impl FnOnce(&mut Sequential) -> Result<T>) -> Result<T> {
        let was = self.is_training();
        self.set_training(false);
        let out = f(self);
        self.set_training(was);
        out
    }
}

/// `e`, naming the shape the user gave where it names the shape of a probe or a pass made
/// from it (a shape error of the first layer): the user passed `given`, not `made`.
fn as_given(e: Error, made: &[usize], given: &[usize]) -> Error {
    match e {
        Error::ShapeMismatch { op, expected, got } if got == made => Error::ShapeMismatch {
            op,
            expected,
            got: given.to_vec(),
        },
        e => e,
    }
}

/// Index of the largest value (the first of equals; NaN never wins).
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] || row[best].is_nan() {
            best = i;
        }
    }
    best
}
