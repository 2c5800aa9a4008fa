// SoftMax with one subgroup per row (devices with SUBGROUP; rows up to SUBGROUP_MAX_COLS):
//   forward:  each lane keeps an online (max, Σexp) over its elements (lane, lane + size, …;
//             quads where VEC4), the subgroup combines them (subgroupMax, then subgroupAdd of
//             the sums rescaled to the row max), then each lane writes its elements.
//   backward: ⟨g, y⟩ by subgroupAdd, then dx = y ⊙ (g − ⟨g, y⟩).
// Two reads and one write per element forward, with no barrier. Non-finite rows as in
// softmax.wgsl: integer flags (subgroupOr), NaN chosen on the bits (nonfinite.wgsl).
// subgroup_row, at4 and VEC4 come from subgroup_rows.wgsl, put in front.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>; // forward: input; backward: y
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>; // backward: dL/dy
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>; // padded like x

// The online (max, Σexp) of `ms` and one more value.
fn online(ms: vec2<f32>, raw: f32) -> vec2<f32> {
    let v = finite_or_lowest(raw);
    let m_new = max(ms.x, v);
    let e = exp(min(ms.x, v) - m_new);
    return vec2<f32>(m_new, select(ms.y + e, ms.y * e + 1.0, v > ms.x));
}

@compute @workgroup_size(256, 1, 1)
fn softmax_forward_subgroup(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) count: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) size: u32,
) {
    let row = subgroup_row(wg, nwg, sg, count);
    let n = select(0u, p.cols, row < p.rows); // a row past the last has no elements
    let base = row * p.cols;
    var ms = vec2<f32>(LOWEST_F32, 0.0);
    var flags = 0u;
    if (VEC4) {
        for (var q = lane; q < n / 4u; q += size) {
            let v = x[base / 4u + q];
            flags |= row_flag(v.x) | row_flag(v.y) | row_flag(v.z) | row_flag(v.w);
            let vv = select(v, vec4<f32>(LOWEST_F32), poisons4(v));
            let m_new = max(ms.x, max(max(vv.x, vv.y), max(vv.z, vv.w)));
            let t = exp(vv - vec4<f32>(m_new));
            ms = vec2<f32>(m_new, ms.y * exp(ms.x - m_new) + t.x + t.y + t.z + t.w);
        }
    } else {
        for (var j = lane; j < n; j += size) {
            let v = at4(x[(base + j) / 4u], base + j);
            flags |= row_flag(v);
            ms = online(ms, v);
        }
    }
    let bad = softmax_bad(subgroupOr(flags));
    let m = subgroupMax(ms.x);
    let s = subgroupAdd(ms.y * exp(ms.x - m));
    if (VEC4) {
        for (var q = lane; q < n / 4u; q += size) {
            let y = exp(x[base / 4u + q] - vec4<f32>(m)) / s;
            out[base / 4u + q] = bitcast<vec4<f32>>(
                select(bitcast<vec4<u32>>(y), vec4<u32>(NAN_BITS), vec4<bool>(bad))
            );
        }
    } else {
        for (var j = lane; j < n; j += size) {
            let i = base + j;
            out[i / 4u][i & 3u] = nan_if(exp(at4(x[i / 4u], i) - m) / s, bad);
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn softmax_backward_subgroup(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) count: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) size: u32,
) {
    let row = subgroup_row(wg, nwg, sg, count);
    let n = select(0u, p.cols, row < p.rows);
    let base = row * p.cols;
    var d = 0.0;
    if (VEC4) {
        for (var q = lane; q < n / 4u; q += size) {
            d += dot(g[base / 4u + q], x[base / 4u + q]);
        }
    } else {
        for (var j = lane; j < n; j += size) {
            let i = base + j;
            d += at4(g[i / 4u], i) * at4(x[i / 4u], i);
        }
    }
    d = subgroupAdd(d);
    if (VEC4) {
        for (var q = lane; q < n / 4u; q += size) {
            let at = base / 4u + q;
            out[at] = x[at] * (g[at] - vec4<f32>(d));
        }
    } else {
        for (var j = lane; j < n; j += size) {
            let i = base + j;
            out[i / 4u][i & 3u] = at4(x[i / 4u], i) * (at4(g[i / 4u], i) - d);
        }
    }
}
