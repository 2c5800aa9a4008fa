// Losses, each giving per-row (or per-element) loss terms already divided by the count, and the
// gradient, in one pass. The mean is then the sum of the terms (`ops::sum_all`).
//
//   cross_entropy: logits z (B, C), integer labels → term_i = logsumexp(z_i) − z_i[label_i]
//                  (over B), dL/dz = (softmax(z) − onehot(label)) / B.
//                  One workgroup per row; stable for any finite logits (shift by the row max).
//                  A NaN or +inf logit, or a row of -inf only, makes the row's term and
//                  gradient NaN (integer flags, nonfinite.wgsl); a -inf logit elsewhere has
//                  probability 0 (its label's term is +inf).
//   mse:           y, t of N elements → term = (y − t)² / N, dL/dy = 2 (y − t) / N.
// WG, LOWEST, reduce_max, reduce_sum and reduce_flags come from workgroup_reduce.wgsl, put in
// front; row_flag, softmax_bad, nan_if and finite_or_lowest from nonfinite.wgsl.

struct Params {
    rows: u32,
    cols: u32,     // classes for cross_entropy; total elements for mse
    inv_count: f32, // 1 / B or 1 / N
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> target_: array<u32>; // labels, or the bits of f32 targets
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> terms: array<f32>;

// A row's term (m − z_label + log s) / B. m − z_label first: exact for nearby values, so huge
// logits lose nothing; where it overflows (logits of both signs near f32::MAX) each side is
// divided by B first, so the mean over a batch is still finite when it is in range.
fn term(m: f32, z_label: f32, s: f32) -> f32 {
    let d = m - z_label;
    let finite = (bitcast<u32>(d) & 0x7fffffffu) < INF_BITS;
    return select(m * p.inv_count - z_label * p.inv_count, d * p.inv_count, finite)
        + log(s) * p.inv_count;
}

@compute @workgroup_size(256, 1, 1)
fn cross_entropy(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg);
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let label = target_[row];
    var m = LOWEST;
    var flags = 0u;
    for (var j = li; j < p.cols; j += WG) {
        flags |= row_flag(z[base + j]);
        m = max(m, finite_or_lowest(z[base + j]));
    }
    let bad = softmax_bad(reduce_flags(li, flags));
    m = reduce_max(li, m);
    var s = 0.0;
    for (var j = li; j < p.cols; j += WG) {
        s += exp(z[base + j] - m);
    }
    s = reduce_sum(li, s);
    for (var j = li; j < p.cols; j += WG) {
        let onehot = select(0.0, 1.0, j == label);
        grad[base + j] = nan_if((exp(z[base + j] - m) / s - onehot) * p.inv_count, bad);
    }
    if (li == 0u) {
        terms[row] = nan_if(term(m, z[base + label], s), bad);
    }
}

@compute @workgroup_size(256, 1, 1)
fn mse(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= p.cols) {
        return;
    }
    let d = z[i] - bitcast<f32>(target_[i]);
    grad[i] = 2.0 * d * p.inv_count;
    terms[i] = d * d * p.inv_count;
}

// cross_entropy with one invocation per row (16 rows per workgroup, no barriers): for CPU
// devices and few classes. Same results as `cross_entropy`.
@compute @workgroup_size(16, 1, 1)
fn cross_entropy_rows(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row = group_1d(wg, nwg) * 16u + li;
    if (row >= p.rows) {
        return;
    }
    let base = row * p.cols;
    let label = target_[row];
    var m = LOWEST;
    var flags = 0u;
    for (var j = 0u; j < p.cols; j++) {
        flags |= row_flag(z[base + j]);
        m = max(m, finite_or_lowest(z[base + j]));
    }
    let bad = softmax_bad(flags);
    var s = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        s += exp(z[base + j] - m);
    }
    for (var j = 0u; j < p.cols; j++) {
        let onehot = select(0.0, 1.0, j == label);
        grad[base + j] = nan_if((exp(z[base + j] - m) / s - onehot) * p.inv_count, bad);
    }
    terms[row] = nan_if(term(m, z[base + label], s), bad);
}
