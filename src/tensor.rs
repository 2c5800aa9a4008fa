//! `Tensor`: an f32 array of rank 1 to 4 whose data lives in a GPU buffer until `to_vec`.
//! Clones and reshapes share the buffer until one of them is written: ops write fresh tensors,
//! and the only in-place writers (optimizers, `add_assign`) take `&mut Tensor` and copy a
//! shared buffer first ([`Tensor::make_unique`]), so a tensor's contents never change behind
//! its owner's back — a clone is a snapshot.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::pool::PooledBuffer;

/// An f32 tensor of rank 1 (`[n]`), 2 (`[rows, cols]`), 3 or 4 (images `[N, C, H, W]`),
/// row-major, stored on a [`Gpu`].
/// Ops make new tensors; clones and reshapes are cheap snapshots (they share the buffer until
/// an in-place writer copies it, copy-on-write). Data comes back with
/// [`Tensor::to_vec`] (blocking) or [`Tensor::to_vec_async`].
///
/// ```no_run
/// use wgpu_backprop::{ops, Gpu, Tensor};
/// # fn main() -> wgpu_backprop::Result<()> {
/// let gpu = Gpu::new()?;
/// let a = Tensor::from_slice(&gpu, &[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
/// let b = Tensor::from_slice(&gpu, &[1.0, 0.0, 0.0, 1.0], &[2, 2])?;
/// let c = ops::matmul(&a, &b)?; // recorded, not yet run
/// assert_eq!(c.to_vec()?, vec![1.0, 2.0, 3.0, 4.0]); // submits and reads back
/// assert_eq!(c.reshape(&[4])?.shape(), &[4]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tensor {
    gpu: Gpu,
    buffer: Arc<PooledBuffer>,
    shape: Vec<usize>,
}

/// The most elements a tensor may hold: 2^31. Kernels index in u32 as
/// `(wg.y · num_workgroups.x + wg.x) · 256 + lane`; a folded grid overshoots its work by less
/// than one row of groups (under 2^24 invocations), so below 2^31 elements no index can wrap
/// around to a small one that passes the bounds check (for an in-place optimizer step, a double
/// update). This matters where a binding may exceed 2 GiB (Metal).
pub(crate) const MAX_ELEMENTS: u64 = 1 << 31;

/// Checks a user-given shape: rank 1 to 4, no zero-size dimension. Returns the element count.
pub(crate) fn check_shape(op: &'static str, shape: &[usize]) -> Result<usize> {
    if shape.is_empty() || shape.len() > 4 {
        return Err(Error::BadRank {
            op,
            shape: shape.to_vec(),
        });
    }
    if shape.contains(&0) {
        return Err(Error::ZeroSize {
            op,
            shape: shape.to_vec(),
        });
    }
    let elements = shape
        .iter()
        .fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
    if elements > MAX_ELEMENTS {
        return Err(Error::TooLarge {
            op,
            what: "elements in a tensor",
            requested: elements,
            limit: MAX_ELEMENTS,
        });
    }
    Ok(elements as usize)
}

/// Bytes of the buffer behind `len` floats: padded to 16 so kernels may read whole `vec4`s.
pub(crate) fn padded_bytes(len: usize) -> u64 {
    ((len.max(1) * 4) as u64).div_ceil(16) * 16
}

impl Tensor {
    /// Uploads `data` as a tensor of `shape` (`[n]`, `[rows, cols]`, … `[N, C, H, W]`).
    pub fn from_slice(gpu: &Gpu, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "Tensor::from_slice";
        let expected = check_shape(OP, shape)?;
        if data.len() != expected {
            return Err(Error::DataLength {
                op: OP,
                len: data.len(),
                shape: shape.to_vec(),
                expected,
            });
        }
        let bytes: &[u8] = bytemuck::cast_slice(data);
        let (t, written) = Tensor::with_init(gpu, OP, shape, bytes)?;
        if !written {
            gpu.upload(OP, t.buffer(), bytes)?;
        }
        Ok(t)
    }

    /// A tensor of zeros.
    pub fn zeros(gpu: &Gpu, shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "Tensor::zeros";
        let t = Tensor::empty(gpu, OP, shape)?;
        gpu.clear(OP, t.buffer())?;
        Ok(t)
    }

    /// A tensor for an op's output, its buffer from the pool: contents undefined until the op
    /// writes every element.
    pub(crate) fn empty(gpu: &Gpu, op: &'static str, shape: &[usize]) -> Result<Tensor> {
        Tensor::with_init(gpu, op, shape, &[]).map(|(t, _)| t)
    }

    /// A tensor whose buffer starts with `init` where the pool lets it (a new buffer, written
    /// through its mapping): the flag says whether it does (see [`Gpu::storage_buffer_init`]).
    fn with_init(
        gpu: &Gpu,
        op: &'static str,
        shape: &[usize],
        init: &[u8],
    ) -> Result<(Tensor, bool)> {
        let len = check_shape(op, shape)?;
        let (buffer, written) = gpu.storage_buffer_init(op, padded_bytes(len), init)?;
        let t = Tensor {
            gpu: gpu.clone(),
            buffer: Arc::new(buffer),
            shape: shape.to_vec(),
        };
        Ok((t, written))
    }

    /// Copies the data back to the host (submits all pending GPU work first and blocks until
    /// it is done). In a browser, which cannot block, `Err(Blocking)`: use
    /// [`Tensor::to_vec_async`].
    pub fn to_vec(&self) -> Result<Vec<f32>> {
        self.gpu
            .read_f32("Tensor::to_vec", self.buffer(), self.len())
    }

    /// [`Tensor::to_vec`] without blocking, for async code and the browser. Natively the
    /// future polls the device each time it is polled, so any executor drives it.
    ///
    /// ```no_run
    /// # use wgpu_backprop::{Gpu, Tensor};
    /// # async fn f() -> wgpu_backprop::Result<()> {
    /// let gpu = Gpu::new_async().await?;
    /// let x = Tensor::from_slice(&gpu, &[1.0, -2.0], &[2])?;
    /// let y = wgpu_backprop::ops::relu_forward(&x)?;
    /// assert_eq!(y.to_vec_async().await?, vec![1.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub async fn to_vec_async(&self) -> Result<Vec<f32>> {
        self.gpu
            .read_f32_async("Tensor::to_vec_async", self.buffer(), self.len())
            .await
    }

    /// The read of code shared by the blocking and the async API (the self-check, prediction):
    /// natively the blocking [`Tensor::to_vec`], asleep until the device is done, so a
    /// blocking wrapper (`sync::block_on`) never spins; in a browser the awaited mapping.
    pub(crate) async fn read(&self) -> Result<Vec<f32>> {
        #[cfg(not(target_arch = "wasm32"))]
        return self.to_vec();
        #[cfg(target_arch = "wasm32")]
        return self.to_vec_async().await;
    }

    /// The shape, `[n]`, `[rows, cols]`, … `[N, C, H, W]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Always false: tensors hold at least one element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape as a matrix: `[n]` is one row `(1, n)`.
    pub fn rows_cols(&self) -> (usize, usize) {
        match self.shape[..] {
            [n] => (1, n),
            [r, c] => (r, c),
            _ => (1, self.len()),
        }
    }

    /// The same data seen with another shape of the same element count (no copy).
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "Tensor::reshape";
        let n = check_shape(OP, shape)?;
        if n != self.len() {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: format!("{} elements", self.len()),
                got: shape.to_vec(),
            });
        }
        Ok(Tensor {
            gpu: self.gpu.clone(),
            buffer: self.buffer.clone(),
            shape: shape.to_vec(),
        })
    }

    /// Makes this tensor the only owner of its buffer, copying the data to a new buffer (a
    /// recorded GPU copy) if a clone or reshape shares it. In-place writers call this first,
    /// so what they write is seen through this tensor only.
    pub fn make_unique(&mut self, op: &'static str) -> Result<()> {
        if Arc::strong_count(&self.buffer) == 1 {
            return Ok(());
        }
        let bytes = padded_bytes(self.len());
        let fresh = self.gpu.storage_buffer(op, bytes)?;
        let copy = crate::gpu::Command::Copy {
            src: self.buffer().clone(),
            dst: fresh.buffer().clone(),
            size: bytes,
        };
        self.gpu.record(op, copy)?;
        self.buffer = Arc::new(fresh);
        Ok(())
    }

    /// The GPU this tensor lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.buffer()
    }

    /// `Err` unless this tensor lives on `gpu`.
    pub(crate) fn check_gpu(&self, op: &'static str, gpu: &Gpu) -> Result<()> {
        if self.gpu.same(gpu) {
            Ok(())
        } else {
            Err(Error::DifferentGpu { op })
        }
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tensor")
            .field("shape", &self.shape)
            .finish()
    }
}
