// The second half of a split-K product (`matmul_blocked.wgsl`): C = Σ over the splits of the
// partial products (+ bias[N]) (then ReLU when RELU), one element per invocation, the splits
// added in order.
//
//   part: (splits, M·N) partial products; C: (M, N).

struct Params {
    len: u32,    // M·N
    n: u32,      // the row length of C (the bias's period)
    splits: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

override HAS_BIAS: bool = false;
override RELU: bool = false;

// Invocations per workgroup: set by the host from the kernel's declaration (the one place it
// is written; launches work out their grids from it).
override WG: u32;

@compute @workgroup_size(WG, 1, 1)
fn matmul_split_sum(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= p.len) {
        return;
    }
    var s = 0.0;
    for (var sp = 0u; sp < p.splits; sp++) {
        s += part[sp * p.len + i];
    }
    if (HAS_BIAS) {
        s += bias[i % p.n];
    }
    if (RELU) {
        s = relu(s);
    }
    c[i] = s;
}
