// LayerNorm over the last dimension: each row of `cols` features, one 256-wide workgroup per
// row (WG, reduce_max, reduce_sum and reduce_flags come from workgroup_reduce.wgsl, put in
// front; INF_BITS and nan_if from nonfinite.wgsl; BIG, SMALLEST_NORMAL, scale_of from
// layernorm_scale.wgsl).
//   forward:   μ = mean(x), σ² = mean((x − μ)²) (two passes: no cancellation), r = 1/√(σ² + ε),
//              x̂ = (x − μ)·r, y = γ ⊙ x̂ + β; sums about the row's first element, so a
//              constant row has σ² = 0 exactly, r = 1/√ε, x̂ = 0: y = β. A row whose largest
//              magnitude passes 2^40 is first scaled by the power of two s that brings it
//              to [1, 4) (exact), so neither Σx nor Σ(x − μ)² can
//              overflow: x̂ = (x·s − μ·s)·(r/s). (μ·s, r/s, s) are kept per row for the
//              backward (s = 1 for every other row: μ and r themselves). A NaN or ±inf in a row
//              makes the row NaN (as in PyTorch), from integer flags.
//   backward:  g = dy ⊙ γ, dx = r·(g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)); also dy ⊙ x̂ per element,
//              whose column sums are dγ (dβ is the column sums of dy)
//   jacobian:  J[(row, i), (row, j)] = γ_i·r·(δ_ij − 1/n − x̂_i·x̂_j/n), 0 across rows

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> third: array<f32>; // forward: β; backward: dy
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // y, dx or J
@group(0) @binding(5) var<storage, read_write> stats: array<f32>; // (μ·s, r/s, s) per row
@group(0) @binding(6) var<storage, read_write> dyxhat: array<f32>; // backward: dy ⊙ x̂


@compute @workgroup_size(256, 1, 1)
fn forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let n = f32(p.cols);
    // Sums are taken about the row's first element: exact for a constant row (σ² = 0, y = β).
    let shift = x[base];
    var s = 0.0;
    var a = 0.0;
    var flags = 0u;
    for (var j = li; j < p.cols; j += WG) {
        let v = x[base + j];
        let finite = (bitcast<u32>(v) & 0x7fffffffu) < INF_BITS;
        flags |= select(1u, 0u, finite);
        a = max(a, select(0.0, abs(v), finite));
        s += v - shift;
    }
    let bad = reduce_flags(li, flags) != 0u;
    let amax = reduce_max(li, a);
    let big = amax > BIG;
    let scale = select(1.0, scale_of(amax), big);
    if (big) {
        s = 0.0;
        for (var j = li; j < p.cols; j += WG) {
            s += x[base + j] * scale - shift * scale;
        }
    }
    let mean = shift * scale + reduce_sum(li, s) / n;
    var q = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        let d = x[base + j] * scale - mean;
        q += d * d;
    }
    // ε in the scaled units (kept normal: it only matters when σ² is 0, and then x̂ is 0).
    let eps = max(p.eps * scale * scale, SMALLEST_NORMAL);
    let r = inverseSqrt(reduce_sum(li, q) / n + eps);
    for (var j = li; j < p.cols; j += WG) {
        let y = (x[base + j] * scale - mean) * r * gamma[j] + third[j];
        out[base + j] = nan_if(y, bad);
    }
    if (li == 0u) {
        // A bad row's statistics are NaN (on the bits), which the backward tests.
        stats[3u * row] = nan_if(mean, bad);
        stats[3u * row + 1u] = nan_if(r, bad);
        stats[3u * row + 2u] = scale;
    }
}

@compute @workgroup_size(256, 1, 1)
fn backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let n = f32(p.cols);
    let mean = stats[3u * row];
    let r = stats[3u * row + 1u];
    let scale = stats[3u * row + 2u];
    let bad = (bitcast<u32>(mean) & 0x7fffffffu) > INF_BITS;
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        let g = third[base + j] * gamma[j];
        let xhat = (x[base + j] * scale - mean) * r;
        sg += g;
        sgx += g * xhat;
    }
    let mg = reduce_sum(li, sg) / n;
    let mgx = reduce_sum(li, sgx) / n;
    for (var j = li; j < p.cols; j += WG) {
        let g = third[base + j] * gamma[j];
        let xhat = (x[base + j] * scale - mean) * r;
        out[base + j] = nan_if((g - mg - xhat * mgx) * r * scale, bad);
        dyxhat[base + j] = nan_if(third[base + j] * xhat, bad);
    }
}

// One element of J per invocation (256 per workgroup, folded grid).
@compute @workgroup_size(256, 1, 1)
fn jacobian(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let total = p.rows * p.cols;
    let t = group_1d(wg, nwg) * WG + li;
    if (t >= total * total) {
        return;
    }
    let a = t / total;
    let b = t % total;
    let row = a / p.cols;
    var v = 0.0;
    if (row == b / p.cols) {
        let i = a % p.cols;
        let j = b % p.cols;
        let n = f32(p.cols);
        let mean = stats[3u * row];
        let r = stats[3u * row + 1u];
        let scale = stats[3u * row + 2u];
        let xi = (x[a] * scale - mean) * r;
        let xj = (x[b] * scale - mean) * r;
        v = gamma[i] * (r * scale) * (select(0.0, 1.0, i == j) - 1.0 / n - xi * xj / n);
    }
    out[t] = v;
}
