// A permutation of a tensor's dimensions (rank ≤ 4, padded in front with dimensions of 1):
// output element (i0, i1, i2, i3) of shape (d0, d1, d2, d3) is input element
// i0·s0 + i1·s1 + i2·s2 + i3·s3, where s are the input's strides taken in the output's order.
// One element per invocation; every output element is written.

struct Params {
    d1: u32,
    d2: u32,
    d3: u32,
    n: u32, // elements
    s0: u32,
    s1: u32,
    s2: u32,
    s3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

@compute @workgroup_size(WG, 1, 1)
fn permute(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= p.n) {
        return;
    }
    let i3 = i % p.d3;
    let r3 = i / p.d3;
    let i2 = r3 % p.d2;
    let r2 = r3 / p.d2;
    let i1 = r2 % p.d1;
    let i0 = r2 / p.d1;
    dst[i] = src[i0 * p.s0 + i1 * p.s1 + i2 * p.s2 + i3 * p.s3];
}
