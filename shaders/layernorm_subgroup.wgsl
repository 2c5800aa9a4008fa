// LayerNorm with one subgroup per row (devices with SUBGROUP; rows up to SUBGROUP_MAX_COLS):
// the same arithmetic as layernorm.wgsl — sums about the row's first element, rows past 2^40
// scaled by a power of two, (μ·s, r/s, s) kept per row, NaN rows from integer flags — with
// subgroupAdd/subgroupMax/subgroupOr for the reductions, no workgroup memory, no barrier.
// subgroup_row, at4 and VEC4 come from subgroup_rows.wgsl; INF_BITS and nan_if from
// nonfinite.wgsl; BIG, SMALLEST_NORMAL and scale_of from layernorm_scale.wgsl, put in front.

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> third: array<vec4<f32>>; // forward: β; backward: dy
@group(0) @binding(4) var<storage, read_write> out: array<vec4<f32>>; // y or dx
@group(0) @binding(5) var<storage, read_write> stats: array<f32>; // (μ·s, r/s, s) per row
@group(0) @binding(6) var<storage, read_write> dyxhat: array<vec4<f32>>; // backward: dy ⊙ x̂


// Each lane sums its elements in blocks of BLOCK, then the blocks: a lane of a small subgroup
// walks a long row (2,500 elements at size 8: 313 each), and one running sum would carry 313
// roundings where the workgroup kernel's carry about 20.
const BLOCK: u32 = 16u;

// A lane's two-level sum: `block` takes BLOCK values, then joins `total`.
struct Sum {
    total: f32,
    block: f32,
    count: u32,
}

fn add(s: Sum, v: f32) -> Sum {
    var r = Sum(s.total, s.block + v, s.count + 1u);
    if (r.count == BLOCK) {
        r = Sum(r.total + r.block, 0.0, 0u);
    }
    return r;
}

fn xs(i: u32) -> f32 {
    return at4(x[i / 4u], i);
}

fn thirds(i: u32) -> f32 {
    return at4(third[i / 4u], i);
}

@compute @workgroup_size(256, 1, 1)
fn forward_subgroup(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) count: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) size: u32,
) {
    let row = subgroup_row(wg, nwg, sg, count);
    let live = row < p.rows;
    let n = select(0u, p.cols, live);
    let base = row * p.cols;
    let shift = select(0.0, xs(base), live);
    var s = Sum(0.0, 0.0, 0u);
    var a = 0.0;
    var flags = 0u;
    for (var j = lane; j < n; j += size) {
        let v = xs(base + j);
        let finite = (bitcast<u32>(v) & 0x7fffffffu) < INF_BITS;
        flags |= select(1u, 0u, finite);
        a = max(a, select(0.0, abs(v), finite));
        s = add(s, v - shift);
    }
    let bad = subgroupOr(flags) != 0u;
    let amax = subgroupMax(a);
    let big = amax > BIG;
    let scale = select(1.0, scale_of(amax), big);
    var s_big = Sum(0.0, 0.0, 0u);
    for (var j = lane; j < select(0u, n, big); j += size) {
        s_big = add(s_big, xs(base + j) * scale - shift * scale);
    }
    let total = select(
        subgroupAdd(s.total + s.block),
        subgroupAdd(s_big.total + s_big.block),
        big
    );
    let mean = shift * scale + total / f32(p.cols);
    var q = Sum(0.0, 0.0, 0u);
    for (var j = lane; j < n; j += size) {
        let d = xs(base + j) * scale - mean;
        q = add(q, d * d);
    }
    let eps = max(p.eps * scale * scale, SMALLEST_NORMAL);
    let r = inverseSqrt(subgroupAdd(q.total + q.block) / f32(p.cols) + eps);
    for (var j = lane; j < n; j += size) {
        let i = base + j;
        let y = (xs(i) * scale - mean) * r * gamma[j] + at4(third[j / 4u], j);
        out[i / 4u][i & 3u] = nan_if(y, bad);
    }
    if (live && lane == 0u) {
        stats[3u * row] = nan_if(mean, bad);
        stats[3u * row + 1u] = nan_if(r, bad);
        stats[3u * row + 2u] = scale;
    }
}

@compute @workgroup_size(256, 1, 1)
fn backward_subgroup(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) count: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_size) size: u32,
) {
    let row = subgroup_row(wg, nwg, sg, count);
    let live = row < p.rows;
    let n = select(0u, p.cols, live);
    let base = row * p.cols;
    let at = select(0u, 3u * row, live);
    let mean = stats[at];
    let r = stats[at + 1u];
    let scale = stats[at + 2u];
    let bad = (bitcast<u32>(mean) & 0x7fffffffu) > INF_BITS;
    var sg_sum = Sum(0.0, 0.0, 0u);
    var sgx = Sum(0.0, 0.0, 0u);
    for (var j = lane; j < n; j += size) {
        let g = thirds(base + j) * gamma[j];
        let xhat = (xs(base + j) * scale - mean) * r;
        sg_sum = add(sg_sum, g);
        sgx = add(sgx, g * xhat);
    }
    let mg = subgroupAdd(sg_sum.total + sg_sum.block) / f32(p.cols);
    let mgx = subgroupAdd(sgx.total + sgx.block) / f32(p.cols);
    for (var j = lane; j < n; j += size) {
        let i = base + j;
        let g = thirds(i) * gamma[j];
        let xhat = (xs(i) * scale - mean) * r;
        out[i / 4u][i & 3u] = nan_if((g - mg - xhat * mgx) * r * scale, bad);
        dyxhat[i / 4u][i & 3u] = nan_if(thirds(i) * xhat, bad);
    }
}
