// Column sums: out[c, j] = Σ x[i, j] over the rows i of chunk c (rows c·chunk … (c+1)·chunk)
// of x (rows, cols). With one chunk this is db = Σ_batch dY; the host sums the partial rows
// of several chunks again (some drivers cap the iterations of a loop, so no invocation loops
// over more than `chunk` rows). One invocation per column and chunk; consecutive invocations
// read consecutive addresses of a row.

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
    let col = (wg.y * nwg.x + wg.x) * 64u + li;
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
