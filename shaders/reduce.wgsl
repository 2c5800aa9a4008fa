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
