// Softmax cross-entropy with one subgroup per row (devices with SUBGROUP; up to
// SUBGROUP_MAX_COLS classes): the same terms and gradient as `cross_entropy` in loss.wgsl, its
// max, Σexp and flags by subgroupMax/subgroupAdd/subgroupOr, no workgroup memory, no barrier.
// subgroup_row and at4 come from subgroup_rows.wgsl; row_flag, softmax_bad, nan_if and
// finite_or_lowest from nonfinite.wgsl, put in front.

struct Params {
    rows: u32,
    cols: u32,
    inv_count: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> target_: array<u32>; // labels
@group(0) @binding(3) var<storage, read_write> grad: array<vec4<f32>>; // padded like z
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;

fn zs(i: u32) -> f32 {
    return at4(z[i / 4u], i);
}

@compute @workgroup_size(256, 1, 1)
fn cross_entropy_subgroup(
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
    var m = LOWEST_F32;
    var flags = 0u;
    for (var j = lane; j < n; j += size) {
        flags |= row_flag(zs(base + j));
        m = max(m, finite_or_lowest(zs(base + j)));
    }
    let bad = softmax_bad(subgroupOr(flags));
    m = subgroupMax(m);
    var s = 0.0;
    for (var j = lane; j < n; j += size) {
        s += exp(zs(base + j) - m);
    }
    s = subgroupAdd(s);
    let label = target_[select(0u, row, live)];
    for (var j = lane; j < n; j += size) {
        let i = base + j;
        let onehot = select(0.0, 1.0, j == label);
        grad[i / 4u][i & 3u] = nan_if((exp(zs(i) - m) / s - onehot) * p.inv_count, bad);
    }
    if (live && lane == 0u) {
        // As `term` in loss.wgsl: m − z_label first, each side over B where that overflows.
        let zl = zs(base + label);
        let d = m - zl;
        let finite = (bitcast<u32>(d) & 0x7fffffffu) < INF_BITS;
        let t = select(m * p.inv_count - zl * p.inv_count, d * p.inv_count, finite)
            + log(s) * p.inv_count;
        terms[row] = nan_if(t, bad);
    }
}
