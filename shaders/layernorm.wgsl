// LayerNorm over the last dimension: each row of `cols` features, one 256-wide workgroup per
// row (WG and reduce_sum come from workgroup_reduce.wgsl, put in front).
//   forward:   μ = mean(x), σ² = mean((x − μ)²) (two passes: no cancellation), r = 1/√(σ² + ε),
//              x̂ = (x − μ)·r, y = γ ⊙ x̂ + β; (μ, r) kept per row for the backward. A constant
//              row has σ² = 0, r = 1/√ε, x̂ = 0: y = β.
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
@group(0) @binding(5) var<storage, read_write> stats: array<f32>; // (μ, r) per row
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
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        s += x[base + j];
    }
    let mean = reduce_sum(li, s) / n;
    var q = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        let d = x[base + j] - mean;
        q += d * d;
    }
    let r = inverseSqrt(reduce_sum(li, q) / n + p.eps);
    for (var j = li; j < p.cols; j += WG) {
        out[base + j] = (x[base + j] - mean) * r * gamma[j] + third[j];
    }
    if (li == 0u) {
        stats[2u * row] = mean;
        stats[2u * row + 1u] = r;
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
    let mean = stats[2u * row];
    let r = stats[2u * row + 1u];
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        let g = third[base + j] * gamma[j];
        let xhat = (x[base + j] - mean) * r;
        sg += g;
        sgx += g * xhat;
    }
    let mg = reduce_sum(li, sg) / n;
    let mgx = reduce_sum(li, sgx) / n;
    for (var j = li; j < p.cols; j += WG) {
        let g = third[base + j] * gamma[j];
        let xhat = (x[base + j] - mean) * r;
        out[base + j] = r * (g - mg - xhat * mgx);
        dyxhat[base + j] = third[base + j] * xhat;
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
        let mean = stats[2u * row];
        let r = stats[2u * row + 1u];
        let xi = (x[a] - mean) * r;
        let xj = (x[b] - mean) * r;
        v = gamma[i] * r * (select(0.0, 1.0, i == j) - 1.0 / n - xi * xj / n);
    }
    out[t] = v;
}
