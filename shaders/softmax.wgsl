// SoftMax over the rows of a (rows, cols) matrix; a vector is one row. One workgroup per row
// (or one invocation per row); rows longer than 16,384 go to softmax_chunked.wgsl.
//   forward:  y = exp(x - max(x)) / Σ exp(x - max(x))      (stable for any finite input)
//   backward: dx = y ⊙ (g - ⟨g, y⟩)                          (fused: one kernel, no Jacobian)
// A NaN or +inf anywhere in a row, or a row of -inf only, makes that whole row NaN (as in
// PyTorch); -inf elsewhere gives 0; other rows are unaffected. That state travels as integer
// flags (nonfinite.wgsl), never as an inf or NaN value a fast-math compiler may fold away.
// WG, LOWEST, reduce_max, reduce_sum and reduce_flags come from workgroup_reduce.wgsl, put in
// front; row_flag, softmax_bad, nan_if and finite_or_lowest from nonfinite.wgsl.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;  // forward: input; backward: y
@group(0) @binding(2) var<storage, read> g: array<f32>;  // backward: dL/dy (unused forward)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn softmax_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var m = LOWEST;
    var flags = 0u;
    for (var j = li; j < p.cols; j += WG) {
        let v = x[base + j];
        flags |= row_flag(v);
        m = max(m, finite_or_lowest(v));
    }
    let bad = softmax_bad(reduce_flags(li, flags));
    m = reduce_max(li, m);
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        s += exp(x[base + j] - m);
    }
    s = reduce_sum(li, s);
    for (var j = li; j < p.cols; j += WG) {
        out[base + j] = nan_if(exp(x[base + j] - m) / s, bad);
    }
}

@compute @workgroup_size(256, 1, 1)
fn softmax_backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var d = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        d += g[base + j] * x[base + j];
    }
    d = reduce_sum(li, d);
    for (var j = li; j < p.cols; j += WG) {
        out[base + j] = x[base + j] * (g[base + j] - d);
    }
}

// ---------------------------------------------------------------------------------------------
// Row-per-invocation variants: no workgroup memory, no barriers. Each invocation owns a whole
// row: the forward finds max and Σexp in one pass (online: the sum is rescaled when the max
// grows), then writes; the backward forms ⟨g, y⟩, then writes. For CPU devices (invocations
// are SIMD lanes there, and barriers are expensive) and for short rows on GPUs.

const ROWS_WG: u32 = 16u;

fn row_of(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * ROWS_WG + li;
}

@compute @workgroup_size(16, 1, 1)
fn softmax_forward_rows(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = row_of(wg, nwg, li);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var m = LOWEST;
    var s = 0.0;
    var flags = 0u;
    for (var j = 0u; j < p.cols; j++) {
        let raw = x[base + j];
        flags |= row_flag(raw);
        let v = finite_or_lowest(raw);
        let m_new = max(m, v);
        // One exp per element: exp(v - m) when v ≤ m, else exp(m - v) to rescale the sum.
        let e = exp(min(m, v) - m_new);
        s = select(s + e, s * e + 1.0, v > m);
        m = m_new;
    }
    let bad = softmax_bad(flags);
    for (var j = 0u; j < p.cols; j++) {
        out[base + j] = nan_if(exp(x[base + j] - m) / s, bad);
    }
}

@compute @workgroup_size(16, 1, 1)
fn softmax_backward_rows(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = row_of(wg, nwg, li);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var d = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        d += g[base + j] * x[base + j];
    }
    for (var j = 0u; j < p.cols; j++) {
        out[base + j] = x[base + j] * (g[base + j] - d);
    }
}
