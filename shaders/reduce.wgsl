// Column sum: out[j] = Σ_i x[i, j] for x of shape (rows, cols). Gives db = Σ_batch dY.
// One invocation per column; consecutive invocations read consecutive addresses of a row.

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
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
    let col = (wg.y * nwg.x + wg.x) * 64u + li;
    if (col >= p.cols) {
        return;
    }
    var sum = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        sum += x[r * p.cols + col];
    }
    out[col] = sum;
}

// Sum of all elements: out[0] = Σ x[i] for i < rows · cols, by one 256-wide workgroup
// (for the small vectors of loss terms; each invocation strides, then a tree reduction).
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn sum_all(@builtin(local_invocation_index) li: u32) {
    let n = p.rows * p.cols;
    var s = 0.0;
    for (var i = li; i < n; i += 256u) {
        s += x[i];
    }
    partial[li] = s;
    workgroupBarrier();
    for (var k = 128u; k > 0u; k >>= 1u) {
        if (li < k) {
            partial[li] = partial[li] + partial[li + k];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        out[0] = partial[0];
    }
}
