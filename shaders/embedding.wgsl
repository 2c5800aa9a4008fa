// Embedding lookup (a gather of table rows by integer index) and its backward, which sums the
// rows of dy that looked up the same entry. The backward is deterministic: one invocation per
// (entry, block of 32 columns) walks the indices in order (no float atomics, which WGSL lacks)
// and adds the rows that match; a range of indices per dispatch (drivers that cap loops get
// several dispatches that accumulate).
//
//   gather:   out[i, c] = table[idx[i], c]                   out: [n, cols]
//   scatter:  dtable[v, c] (+)= Σ_{i in [i0, i1), idx[i] = v} dy[i, c]    dtable: [vocab, cols]

struct Params {
    n: u32,     // indices
    cols: u32,
    vocab: u32, // rows of the table
    i0: u32,    // scatter: this dispatch's range of indices
    i1: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

// Later ranges add to what the first wrote.
override ACCUMULATE: bool = false;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

@compute @workgroup_size(WG, 1, 1)
fn gather(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let t = group_1d(wg, nwg) * WG + li;
    if (t >= p.n * p.cols) {
        return;
    }
    let i = t / p.cols;
    let c = t % p.cols;
    // The host checked every index; min() keeps a stray one inside the table regardless.
    let row = min(idx[i], p.vocab - 1u);
    dst[t] = src[row * p.cols + c];
}

@compute @workgroup_size(WG, 1, 1)
fn scatter(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let blocks = (p.cols + BLOCK - 1u) / BLOCK;
    let t = group_1d(wg, nwg) * WG + li;
    if (t >= p.vocab * blocks) {
        return;
    }
    let v = t / blocks;
    let c0 = t % blocks * BLOCK;
    let c1 = min(c0 + BLOCK, p.cols);
    var sum: array<f32, BLOCK>;
    for (var i = p.i0; i < p.i1; i++) {
        if (idx[i] == v) {
            for (var c = c0; c < c1; c++) {
                sum[c - c0] += src[i * p.cols + c];
            }
        }
    }
    for (var c = c0; c < c1; c++) {
        var x = sum[c - c0];
        if (ACCUMULATE) {
            x += dst[v * p.cols + c];
        }
        dst[v * p.cols + c] = x;
    }
}

// Columns one scatter invocation sums.
const BLOCK: u32 = 32u;
