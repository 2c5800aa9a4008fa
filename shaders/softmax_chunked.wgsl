// SoftMax over long rows (any length), in chunks: the row is cut into chunks of `p.chunk`
// elements, one 256-wide workgroup per chunk, so the work spreads over many workgroups and no
// loop runs long. On GPUs a chunk is 2,048 (a 64×65,536 softmax is 2,048 workgroups whose lanes
// read two vec4s each; it was 256 walking 64 scalars each); on CPU devices, where every
// workgroup's barriers cost, 16,384. Three passes each way, `stats` holding per-chunk
// partials, then per-row results:
//   forward:  partials (max, Σexp) per chunk → combine per row → write y element-wise
//   backward: partial ⟨g, y⟩ per chunk → combine per row → write dx element-wise
// stats: partials at [(row · chunks + chunk) · 3 + {0, 1, 2}], then per-row triples at
// [rows · chunks · 3 + row · 3 + {0, 1, 2}]: (max, Σexp, flags) forward, (⟨g, y⟩, -, -)
// backward. A NaN or +inf in a row, or a row of -inf only, makes the row NaN; that state is
// integer flags (nonfinite.wgsl), kept in stats as the small integer f32(flags).
// The inputs are read as vec4s of the flat buffer (padded to whole vec4s); a quad may straddle
// two rows or a chunk's edge, so each element is masked to its chunk.
// WG, LOWEST, reduce_max, reduce_sum and reduce_flags come from workgroup_reduce.wgsl, put in
// front; row_flag, softmax_bad, nan_if, finite_or_lowest and poisons from nonfinite.wgsl.

struct Params {
    rows: u32,
    cols: u32,
    chunk: u32, // elements per workgroup, a multiple of 4 (the host's choice per device)
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>; // forward: input; backward: y
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>; // backward: dL/dy
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // padded like x
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;

const STRIDE: u32 = 3u; // stats per chunk and per row

// The OR of row_flag over a quad.
fn row_flag4(v: vec4<f32>) -> u32 {
    return row_flag(v.x) | row_flag(v.y) | row_flag(v.z) | row_flag(v.w);
}

fn chunks() -> u32 {
    return (p.cols + p.chunk - 1u) / p.chunk;
}

// The per-row triple (forward: max, Σexp, flags; backward: ⟨g, y⟩) of flat element e.
fn row_stats(e: u32) -> vec3<f32> {
    let at = p.rows * chunks() * STRIDE + (e / p.cols) * STRIDE;
    return vec3<f32>(stats[at], stats[at + 1u], stats[at + 2u]);
}

// y for one element from its row's (max, Σexp, flags); NaN for a bad row.
fn y_of(v: f32, ms: vec3<f32>) -> f32 {
    return nan_if(exp(v - ms.x) / ms.y, softmax_bad(u32(ms.z)));
}

// The online (max, Σexp) of a running pair `ms` and one more value (unchanged when not live).
fn online(ms: vec2<f32>, raw: f32, live: bool) -> vec2<f32> {
    if (!live) {
        return ms;
    }
    let v = finite_or_lowest(raw);
    let m_new = max(ms.x, v);
    let e = exp(min(ms.x, v) - m_new);
    return vec2<f32>(m_new, select(ms.y + e, ms.y * e + 1.0, v > ms.x));
}

// The chunk of a workgroup as flat element indices [start, end); rows fold over y and z.
fn chunk_range(wg: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
    let row = row_tile(wg, nwg);
    let base = row * p.cols;
    let start = base + wg.x * p.chunk;
    return vec2<u32>(start, min(start + p.chunk, base + p.cols));
}

@compute @workgroup_size(256, 1, 1)
fn softmax_partials(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = row_tile(wg, nwg);
    if (row >= p.rows || wg.x >= chunks()) {
        return;
    }
    let r = chunk_range(wg, nwg);
    var ms = vec2<f32>(LOWEST, 0.0);
    var flags = 0u;
    for (var q = r.x / 4u + li; q * 4u < r.y; q += WG) {
        let v = x[q];
        let e = q * 4u;
        if (e >= r.x && e + 4u <= r.y) {
            // The whole quad is in the chunk (all but a chunk's two ends): one max, four exps.
            flags |= row_flag4(v);
            let vv = select(v, vec4<f32>(LOWEST), poisons4(v));
            let m_new = max(ms.x, max(max(vv.x, vv.y), max(vv.z, vv.w)));
            let t = exp(vv - vec4<f32>(m_new));
            ms = vec2<f32>(m_new, ms.y * exp(ms.x - m_new) + t.x + t.y + t.z + t.w);
        } else {
            let live = (vec4<u32>(e) + vec4<u32>(0u, 1u, 2u, 3u) >= vec4<u32>(r.x))
                & (vec4<u32>(e) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(r.y));
            flags |= select(0u, row_flag(v.x), live.x) | select(0u, row_flag(v.y), live.y)
                | select(0u, row_flag(v.z), live.z) | select(0u, row_flag(v.w), live.w);
            ms = online(ms, v.x, live.x);
            ms = online(ms, v.y, live.y);
            ms = online(ms, v.z, live.z);
            ms = online(ms, v.w, live.w);
        }
    }
    let chunk_flags = reduce_flags(li, flags);
    let m_all = reduce_max(li, ms.x);
    // Rescale each invocation's sum to the chunk's max.
    let s_all = reduce_sum(li, ms.y * exp(ms.x - m_all));
    if (li == 0u) {
        let at = (row * chunks() + wg.x) * STRIDE;
        stats[at] = m_all;
        stats[at + 1u] = s_all;
        stats[at + 2u] = f32(chunk_flags);
    }
}

@compute @workgroup_size(64, 1, 1)
fn softmax_combine(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg) * 64u + li;
    if (row >= p.rows) {
        return;
    }
    let n = chunks();
    var m = LOWEST;
    var flags = 0u;
    for (var c = 0u; c < n; c++) {
        m = max(m, stats[(row * n + c) * STRIDE]);
        flags |= u32(stats[(row * n + c) * STRIDE + 2u]);
    }
    var s = 0.0;
    for (var c = 0u; c < n; c++) {
        let at = (row * n + c) * STRIDE;
        s += stats[at + 1u] * exp(stats[at] - m);
    }
    let out_at = p.rows * n * STRIDE + row * STRIDE;
    stats[out_at] = m;
    stats[out_at + 1u] = s;
    stats[out_at + 2u] = f32(flags);
}

// One vec4 of y per invocation; its elements may belong to two rows. Elements past the last
// row are the buffer's padding: written with 0, their (absent) row never read.
@compute @workgroup_size(256, 1, 1)
fn softmax_write(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let q = group_1d(wg, nwg) * WG + li;
    let total = p.rows * p.cols;
    let e = q * 4u;
    if (e >= total) {
        return;
    }
    let v = x[q];
    var y = vec4<f32>(0.0);
    y.x = y_of(v.x, row_stats(e));
    if (e + 1u < total) {
        y.y = y_of(v.y, row_stats(e + 1u));
    }
    if (e + 2u < total) {
        y.z = y_of(v.z, row_stats(e + 2u));
    }
    if (e + 3u < total) {
        y.w = y_of(v.w, row_stats(e + 3u));
    }
    out[q] = y;
}

@compute @workgroup_size(256, 1, 1)
fn softmax_dot_partials(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = row_tile(wg, nwg);
    if (row >= p.rows || wg.x >= chunks()) {
        return;
    }
    let r = chunk_range(wg, nwg);
    var d = 0.0;
    for (var q = r.x / 4u + li; q * 4u < r.y; q += WG) {
        let e = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
        let live = (e >= vec4<u32>(r.x)) & (e < vec4<u32>(r.y));
        // Masked, not multiplied by 0: a neighbour row's NaN must not leak in.
        let t = select(vec4<f32>(0.0), g[q] * x[q], live);
        d += t.x + t.y + t.z + t.w;
    }
    d = reduce_sum(li, d);
    if (li == 0u) {
        stats[(row * chunks() + wg.x) * STRIDE] = d;
    }
}

@compute @workgroup_size(64, 1, 1)
fn softmax_dot_combine(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg) * 64u + li;
    if (row >= p.rows) {
        return;
    }
    let n = chunks();
    var d = 0.0;
    for (var c = 0u; c < n; c++) {
        d += stats[(row * n + c) * STRIDE];
    }
    stats[p.rows * n * STRIDE + row * STRIDE] = d;
}

// One vec4 of dx per invocation, as softmax_write.
@compute @workgroup_size(256, 1, 1)
fn softmax_backward_write(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let q = group_1d(wg, nwg) * WG + li;
    let total = p.rows * p.cols;
    let e = q * 4u;
    if (e >= total) {
        return;
    }
    var d = vec4<f32>(row_stats(e).x);
    if (e + 1u < total) {
        d.y = row_stats(e + 1u).x;
    }
    if (e + 2u < total) {
        d.z = row_stats(e + 2u).x;
    }
    if (e + 3u < total) {
        d.w = row_stats(e + 3u).x;
    }
    out[q] = x[q] * (g[q] - d);
}
