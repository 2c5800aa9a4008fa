//! ndarray interop (the `ndarray` feature): tensors from 1-D and 2-D arrays of any layout
//! (copied in logical, row-major order) and back.

use ndarray::{Array1, Array2, ArrayBase, Data, Dimension};

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::tensor::Tensor;

impl Tensor {
    /// A tensor with the contents and shape of a 1-D or 2-D array or view, in any memory
    /// layout (transposed and strided views are copied in row-major order).
    ///
    /// ```no_run
    /// # use wgpu_backprop::{Gpu, Tensor};
    /// # fn main() -> wgpu_backprop::Result<()> {
    /// let gpu = Gpu::new()?;
    /// let a = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
    /// let t = Tensor::from_array(&gpu, &a.t())?; // the transpose, copied
    /// assert_eq!(t.to_array2()?, ndarray::array![[1.0, 3.0], [2.0, 4.0]]);
    /// # Ok(()) }
    /// ```
    pub fn from_array<S, D>(gpu: &Gpu, a: &ArrayBase<S, D>) -> Result<Tensor>
    where
        S: Data<Elem = f32>,
        D: Dimension,
    {
        let data: Vec<f32> = match a.as_slice() {
            Some(s) => s.to_vec(),
            None => a.iter().copied().collect(),
        };
        Tensor::from_slice(gpu, &data, a.shape())
    }

    /// The contents of a vector tensor `[n]` (blocking read).
    pub fn to_array1(&self) -> Result<Array1<f32>> {
        match self.shape() {
            [_] => Ok(Array1::from(self.to_vec()?)),
            s => Err(Error::ShapeMismatch {
                op: "Tensor::to_array1",
                expected: "a vector [n]".into(),
                got: s.to_vec(),
            }),
        }
    }

    /// The contents of a matrix tensor `[rows, cols]` (blocking read).
    pub fn to_array2(&self) -> Result<Array2<f32>> {
        const OP: &str = "Tensor::to_array2";
        let [r, c] = self.shape()[..] else {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: "a matrix [rows, cols]".into(),
                got: self.shape().to_vec(),
            });
        };
        Array2::from_shape_vec((r, c), self.to_vec()?).map_err(|e| Error::Format {
            op: OP,
            message: e.to_string(),
        })
    }
}
