// SoftMax with each row held in registers: x (or y and g) read once, the result written once,
// exp computed once per element. For rows of up to PER · 256 = 2,048 (GPUs: the other row
// kernels read a row three times).
//   forward:  y = exp(x - max(x)) / Σ exp(x - max(x))
//   backward: dx = y ⊙ (g - ⟨g, y⟩)
// A 256-wide workgroup is cut into segments of `lanes` invocations (a power of 2 from 1 to
// 256, chosen by the host so that lanes · PER covers the row), one row per segment: short rows
// share a workgroup. Lane l holds elements l, l + lanes, … (consecutive lanes read
// consecutive addresses); max, Σexp and ⟨g, y⟩ are tree reductions within each segment in
// workgroup memory. Rows past the last still take part in the barriers (they load nothing).
// row_flag, softmax_bad, nan_if and finite_or_lowest come from nonfinite.wgsl, put in front.
// NaN and +inf (or a row of -inf only) make a row NaN as in softmax.wgsl, carried as integer
// flags per segment.

struct Params {
    rows: u32,
    cols: u32,
    lanes: u32, // invocations per row
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;  // forward: input; backward: y
@group(0) @binding(2) var<storage, read> g: array<f32>;  // backward: dL/dy (unused forward)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;
const PER: u32 = 8u; // elements per invocation
const LOWEST: f32 = -3.4028234663852886e+38; // -f32::MAX exactly (Tint rejects a literal past it)

var<workgroup> seg: array<f32, WG>;
// One row's flags per segment (cleared by the segment's first lane: the crate compiles
// pipelines without zeroing workgroup memory).
var<workgroup> seg_flags: array<atomic<u32>, WG>;

// The OR of the flags of li's segment; every invocation calls it, once (barriers).
fn segment_flags(li: u32, f: u32) -> u32 {
    if (li % p.lanes == 0u) {
        atomicStore(&seg_flags[li / p.lanes], 0u);
    }
    workgroupBarrier();
    if (f != 0u) {
        atomicOr(&seg_flags[li / p.lanes], f);
    }
    workgroupBarrier();
    return atomicLoad(&seg_flags[li / p.lanes]);
}

// The max (is_max) or the sum of v over li's segment; every invocation calls it (barriers).
fn segment_reduce(li: u32, v: f32, is_max: bool) -> f32 {
    seg[li] = v;
    workgroupBarrier();
    let lane = li % p.lanes;
    for (var s = p.lanes / 2u; s > 0u; s >>= 1u) {
        if (lane < s) {
            let o = seg[li + s];
            seg[li] = select(seg[li] + o, max(seg[li], o), is_max);
        }
        workgroupBarrier();
    }
    let r = seg[li - lane];
    workgroupBarrier();
    return r;
}

// This invocation's row, and whether it exists.
fn row_of(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * (WG / p.lanes) + li / p.lanes;
}

@compute @workgroup_size(256, 1, 1)
fn softmax_forward_regs(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = row_of(wg, nwg, li);
    let live = row < p.rows;
    let lane = li % p.lanes;
    let base = row * p.cols;
    var v: array<f32, PER>;
    var m = LOWEST;
    var flags = 0u;
    for (var i = 0u; i < PER; i++) {
        let j = lane + i * p.lanes;
        if (live && j < p.cols) {
            v[i] = x[base + j];
            flags |= row_flag(v[i]);
            m = max(m, finite_or_lowest(v[i]));
        }
    }
    let bad = softmax_bad(segment_flags(li, flags));
    m = segment_reduce(li, m, true);
    var s = 0.0;
    for (var i = 0u; i < PER; i++) {
        if (live && lane + i * p.lanes < p.cols) {
            v[i] = exp(v[i] - m);
            s += v[i];
        }
    }
    s = segment_reduce(li, s, false);
    for (var i = 0u; i < PER; i++) {
        let j = lane + i * p.lanes;
        if (live && j < p.cols) {
            out[base + j] = nan_if(v[i] / s, bad);
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn softmax_backward_regs(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = row_of(wg, nwg, li);
    let live = row < p.rows;
    let lane = li % p.lanes;
    let base = row * p.cols;
    var y: array<f32, PER>;
    var dy: array<f32, PER>;
    var d = 0.0;
    for (var i = 0u; i < PER; i++) {
        let j = lane + i * p.lanes;
        if (live && j < p.cols) {
            y[i] = x[base + j];
            dy[i] = g[base + j];
            d += dy[i] * y[i];
        }
    }
    d = segment_reduce(li, d, false);
    for (var i = 0u; i < PER; i++) {
        let j = lane + i * p.lanes;
        if (live && j < p.cols) {
            out[base + j] = y[i] * (dy[i] - d);
        }
    }
}
