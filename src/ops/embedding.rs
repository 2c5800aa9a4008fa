//! Embedding lookup (`shaders/embedding.wgsl`): rows of a table gathered by integer index, and
//! the deterministic backward that sums the gradient rows of every index into its table row
//! (one invocation per table element walking the indices in order: no float atomics, so the
//! same inputs give the same bits every run).

use crate::error::{Error, Result};
use crate::indices::Indices;
use crate::kernels::{kernels, spec, uniform, Source, Work, PRELUDE};
use crate::ops::{same_gpu, u32_of};
use crate::tensor::Tensor;

static SOURCE: Source = Source::of(
    "embedding",
    &[PRELUDE, include_str!("../../shaders/embedding.wgsl")],
);

uniform! {
    /// `embedding.wgsl`: n indices, the row length, the table's rows, the scatter's range.
    EmbeddingParams { n: u32, cols: u32, vocab: u32, i0: u32, i1: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
}

spec! {
    /// The scatter adds to what an earlier range wrote.
    ScatterSpec { accumulate: "ACCUMULATE" }
}

kernels! {
    /// out[i, c] = table[idx[i], c]: bindings idx, table, out.
    static GATHER: EmbeddingParams, () = SOURCE, "gather", [R, R, RW], [256, 1, 1];
    /// dtable[v, c] = Σ dy[i, c] over idx[i] = v, 32 columns per invocation: bindings idx, dy,
    /// dtable.
    static SCATTER: EmbeddingParams, ScatterSpec = SOURCE, "scatter", [R, R, RW], [256, 1, 1];
}

/// Columns one scatter invocation sums (`BLOCK` in the shader).
const BLOCK: usize = 32;

/// Indices one scatter dispatch walks on drivers that cap loops (llvmpipe: 65,535 iterations
/// per invocation, and a matching index costs 32 more); a longer list takes several
/// dispatches that accumulate.
const SCATTER_CHUNK: usize = 1_900;

fn table_shape(op: &'static str, table: &Tensor) -> Result<(usize, usize)> {
    match table.shape() {
        [v, c] => Ok((*v, *c)),
        s => Err(Error::ShapeMismatch {
            op,
            expected: "a table [entries, columns]".into(),
            got: s.to_vec(),
        }),
    }
}

/// `table[idx]`: for a table `[V, C]` and n indices, the rows `[n, C]`. Every index must be
/// below V.
pub fn embedding(table: &Tensor, idx: &Indices) -> Result<Tensor> {
    const OP: &str = "embedding";
    same_gpu(OP, &[table, idx.bits()])?;
    let (vocab, cols) = table_shape(OP, table)?;
    if idx.max() as usize >= vocab {
        return Err(Error::InvalidArgument {
            op: OP,
            message: format!("index {} is not below the table's {vocab} rows", idx.max()),
        });
    }
    let n = idx.len();
    let out = Tensor::empty(table.gpu(), OP, &[n, cols])?;
    let params = EmbeddingParams {
        n: u32_of(OP, n)?,
        cols: u32_of(OP, cols)?,
        vocab: u32_of(OP, vocab)?,
        ..Default::default()
    };
    let buffers = [idx.bits().buffer(), table.buffer(), out.buffer()];
    let work = Work::Items(n.saturating_mul(cols));
    GATHER.launch(table.gpu(), OP, ((), params), buffers, work)?;
    Ok(out)
}

/// The gradient of [`embedding`]'s table from dy `[n, C]`: `[vocab, C]`, row v the sum of the
/// rows of dy whose index is v (zero for an index never looked up).
pub fn embedding_backward(dy: &Tensor, idx: &Indices, vocab: usize) -> Result<Tensor> {
    const OP: &str = "embedding_backward";
    same_gpu(OP, &[dy, idx.bits()])?;
    let n = idx.len();
    let cols = match dy.shape() {
        [r, c] if *r == n => *c,
        s => {
            return Err(Error::ShapeMismatch {
                op: OP,
                expected: format!("dy [{n}, columns], a row per index"),
                got: s.to_vec(),
            })
        }
    };
    if idx.max() as usize >= vocab {
        return Err(Error::InvalidArgument {
            op: OP,
            message: format!("index {} is not below the table's {vocab} rows", idx.max()),
        });
    }
    let gpu = dy.gpu();
    let out = Tensor::empty(gpu, OP, &[vocab, cols])?;
    let chunk = if gpu.profile().caps_loops {
        SCATTER_CHUNK
    } else {
        n
    };
    for (i, i0) in (0..n).step_by(chunk).enumerate() {
        let params = EmbeddingParams {
            n: u32_of(OP, n)?,
            cols: u32_of(OP, cols)?,
            vocab: u32_of(OP, vocab)?,
            i0: u32_of(OP, i0)?,
            i1: u32_of(OP, (i0 + chunk).min(n))?,
            ..Default::default()
        };
        let spec = ScatterSpec { accumulate: i > 0 };
        let buffers = [idx.bits().buffer(), dy.buffer(), out.buffer()];
        let work = Work::Items(vocab.saturating_mul(cols.div_ceil(BLOCK)));
        SCATTER.launch(gpu, OP, (spec, params), buffers, work)?;
    }
    Ok(out)
}
