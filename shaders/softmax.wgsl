// SoftMax over the rows of a (rows, cols) matrix; a vector is one row. One workgroup per row.
//   forward:  y = exp(x - max(x)) / Σ exp(x - max(x))      (stable for any finite input)
//   backward: dx = y ⊙ (g - ⟨g, y⟩)                          (fused: one kernel, no Jacobian)
// A NaN or +inf anywhere in a row makes that whole row NaN (as in PyTorch); other rows are
// unaffected. NaN is tested on the bits, which no fast-math rewrite can fold away.
// WG, LOWEST, reduce_max and reduce_sum come from workgroup_reduce.wgsl, put in front.

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

const INF_BITS: u32 = 0x7f800000u;
const NAN_BITS: u32 = 0x7fc00000u;

// +inf and a quiet NaN as runtime values: WGSL (Tint) rejects a constant expression whose
// value is not a finite f32, and `inf_f32()` would be one; a `let` is not.
fn inf_f32() -> f32 {
    let bits = INF_BITS;
    return bitcast<f32>(bits);
}

fn nan_f32() -> f32 {
    let bits = NAN_BITS;
    return bitcast<f32>(bits);
}

// True for NaN and +inf: the values that make a row's softmax NaN.
fn poisons(v: f32) -> bool {
    return bitcast<u32>(v) >= INF_BITS && bitcast<u32>(v) < 0x80000000u;
}

@compute @workgroup_size(256, 1, 1)
fn softmax_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = wg.y * nwg.x + wg.x;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    var m = LOWEST;
    for (var j = li; j < p.cols; j += WG) {
        let v = x[base + j];
        // A poisoned row's max becomes +inf, which the reduction carries to every invocation.
        m = max(m, select(v, inf_f32(), poisons(v)));
    }
    m = reduce_max(li, m);
    let poisoned = bitcast<u32>(m) == INF_BITS;
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        s += exp(x[base + j] - m);
    }
    s = reduce_sum(li, s);
    for (var j = li; j < p.cols; j += WG) {
        out[base + j] = select(exp(x[base + j] - m) / s, nan_f32(), poisoned);
    }
}

@compute @workgroup_size(256, 1, 1)
fn softmax_backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = wg.y * nwg.x + wg.x;
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
    return (wg.y * nwg.x + wg.x) * ROWS_WG + li;
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
    var poisoned = false;
    for (var j = 0u; j < p.cols; j++) {
        let v = x[base + j];
        poisoned = poisoned || poisons(v);
        let m_new = max(m, v);
        // One exp per element: exp(v - m) when v ≤ m, else exp(m - v) to rescale the sum.
        let e = exp(min(m, v) - m_new);
        s = select(s + e, s * e + 1.0, v > m);
        m = m_new;
    }
    for (var j = 0u; j < p.cols; j++) {
        out[base + j] = select(exp(x[base + j] - m) / s, nan_f32(), poisoned);
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

// ---------------------------------------------------------------------------------------------
// Chunked variants for long rows (any length): the row is cut into chunks of CHUNK elements,
// one 256-wide workgroup per chunk, so the work spreads over many workgroups and no loop runs
// long. Three passes each way, with `stats` holding per-chunk partials, then per-row results:
//   forward:  partials (max, Σexp) per chunk → combine per row → write y element-wise
//   backward: partial ⟨g, y⟩ per chunk → combine per row → write dx element-wise
// stats layout: partials at [(row · chunks + chunk) · 2 + {0, 1}], then per-row pairs at
// [rows · chunks · 2 + row · 2 + {0, 1}].

struct Chunked {
    rows: u32,
    cols: u32,
    chunks: u32, // chunks per row
    _pad: u32,
}

@group(0) @binding(4) var<storage, read_write> stats: array<f32>;

const CHUNK: u32 = 16384u; // 64 elements per invocation

fn chunk_params() -> Chunked {
    return Chunked(p.rows, p.cols, (p.cols + CHUNK - 1u) / CHUNK, 0u);
}

@compute @workgroup_size(256, 1, 1)
fn softmax_partials(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let q = chunk_params();
    let row = wg.y;
    let chunk = wg.x;
    if (row >= q.rows || chunk >= q.chunks) {
        return;
    }
    let start = chunk * CHUNK;
    let end = min(start + CHUNK, q.cols);
    let base = row * q.cols;
    var m = LOWEST;
    var s = 0.0;
    for (var j = start + li; j < end; j += WG) {
        let v = select(x[base + j], inf_f32(), poisons(x[base + j]));
        let m_new = max(m, v);
        let e = exp(min(m, v) - m_new);
        s = select(s + e, s * e + 1.0, v > m);
        m = m_new;
    }
    let m_all = reduce_max(li, m);
    // Rescale each invocation's sum to the chunk's max (a poisoned chunk's max is +inf).
    let s_all = reduce_sum(li, select(s * exp(m - m_all), 0.0, bitcast<u32>(m_all) == INF_BITS));
    if (li == 0u) {
        let at = (row * q.chunks + chunk) * 2u;
        stats[at] = m_all;
        stats[at + 1u] = s_all;
    }
}

@compute @workgroup_size(64, 1, 1)
fn softmax_combine(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let q = chunk_params();
    let row = (wg.y * nwg.x + wg.x) * 64u + li;
    if (row >= q.rows) {
        return;
    }
    var m = LOWEST;
    for (var c = 0u; c < q.chunks; c++) {
        m = max(m, stats[(row * q.chunks + c) * 2u]);
    }
    var s = 0.0;
    for (var c = 0u; c < q.chunks; c++) {
        let at = (row * q.chunks + c) * 2u;
        s += stats[at + 1u] * exp(stats[at] - m);
    }
    let out_at = q.rows * q.chunks * 2u + row * 2u;
    stats[out_at] = m;
    stats[out_at + 1u] = s;
}

@compute @workgroup_size(256, 1, 1)
fn softmax_write(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let q = chunk_params();
    let i = (wg.y * nwg.x + wg.x) * WG + li;
    if (i >= q.rows * q.cols) {
        return;
    }
    let at = q.rows * q.chunks * 2u + (i / q.cols) * 2u;
    let m = stats[at];
    out[i] = select(exp(x[i] - m) / stats[at + 1u], nan_f32(), bitcast<u32>(m) == INF_BITS);
}

@compute @workgroup_size(256, 1, 1)
fn softmax_dot_partials(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let q = chunk_params();
    let row = wg.y;
    let chunk = wg.x;
    if (row >= q.rows || chunk >= q.chunks) {
        return;
    }
    let end = min(chunk * CHUNK + CHUNK, q.cols);
    let base = row * q.cols;
    var d = 0.0;
    for (var j = chunk * CHUNK + li; j < end; j += WG) {
        d += g[base + j] * x[base + j];
    }
    d = reduce_sum(li, d);
    if (li == 0u) {
        stats[(row * q.chunks + chunk) * 2u] = d;
    }
}

@compute @workgroup_size(64, 1, 1)
fn softmax_dot_combine(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let q = chunk_params();
    let row = (wg.y * nwg.x + wg.x) * 64u + li;
    if (row >= q.rows) {
        return;
    }
    var d = 0.0;
    for (var c = 0u; c < q.chunks; c++) {
        d += stats[(row * q.chunks + c) * 2u];
    }
    stats[q.rows * q.chunks * 2u + row * 2u] = d;
}

@compute @workgroup_size(256, 1, 1)
fn softmax_backward_write(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let q = chunk_params();
    let i = (wg.y * nwg.x + wg.x) * WG + li;
    if (i >= q.rows * q.cols) {
        return;
    }
    let d = stats[q.rows * q.chunks * 2u + (i / q.cols) * 2u];
    out[i] = x[i] * (g[i] - d);
}
