// Column sums: out[c, j] = Σ x[i, j] over the rows i of chunk c (rows c·chunk … (c+1)·chunk)
// of x (rows, cols). With one chunk this is db = Σ_batch dY; the host sums the partial rows
// of several chunks again (some drivers cap the iterations of a loop, so no invocation loops
// over more than `chunk` rows). One invocation per column and chunk; consecutive invocations
// read consecutive addresses of a row.
//
// The registry puts workgroup_reduce.wgsl (reduce_sum) in front of this file.

struct Params {
    rows: u32,
    cols: u32,
    chunk: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn column_sum(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let col = group_1d(wg, nwg) * 64u + li;
    if (col >= p.cols) {
        return;
    }
    let first = wg.z * p.chunk;
    let last = min(first + p.chunk, p.rows);
    var sum = 0.0;
    for (var r = first; r < last; r++) {
        sum += x[r * p.cols + col];
    }
    out[wg.z * p.cols + col] = sum;
}

// Tree sum of all n = p.rows elements (GPUs, where one invocation looping over thousands of
// elements leaves the device idle): each 256-wide workgroup adds a block of 4,096 consecutive
// elements, 16 per invocation with consecutive invocations at consecutive addresses, then its
// 256 partial sums through workgroup memory; out[g] is block g's sum. The host repeats over
// the partials until one is left. Spare groups of a folded grid return as a whole.
const TREE_PER_LANE: u32 = 16u;

@compute @workgroup_size(256, 1, 1)
fn sum_tree(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g = group_1d(wg, nwg);
    let block = WG * TREE_PER_LANE;
    if (g >= (p.rows + block - 1u) / block) {
        return;
    }
    let base = g * block;
    var s = 0.0;
    for (var i = 0u; i < TREE_PER_LANE; i++) {
        let idx = base + i * WG + li;
        if (idx < p.rows) {
            s += x[idx];
        }
    }
    let total = reduce_sum(li, s);
    if (li == 0u) {
        out[g] = total;
    }
}
