// Element-wise arithmetic of two tensors, b broadcast over a's leading dimensions (b's shape
// is a suffix of a's, so element i of a meets element i % nb of b), and scaling:
//
//   binary:  out[i] = a[i] + b[i % nb]     (SUB: a − b, MUL: a · b, COPY: b alone)
//   scale:   out[i] = alpha · a[i]
//
// One element per invocation; every output element is written.

struct Params {
    n: u32,     // elements of a and out
    nb: u32,    // elements of b (divides n)
    alpha: f32, // scale's factor
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override SUB: bool = false;
override MUL: bool = false;
override COPY: bool = false;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

fn item(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

@compute @workgroup_size(WG, 1, 1)
fn binary(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = item(wg, nwg, li);
    if (i >= p.n) {
        return;
    }
    let x = a[i];
    let y = b[i % p.nb];
    if (COPY) {
        out[i] = y;
    } else if (MUL) {
        out[i] = x * y;
    } else if (SUB) {
        out[i] = x - y;
    } else {
        out[i] = x + y;
    }
}

@compute @workgroup_size(WG, 1, 1)
fn scale(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = item(wg, nwg, li);
    if (i >= p.n) {
        return;
    }
    out[i] = p.alpha * a[i];
}

// Attention's scores before the softmax, unfused: alpha · a, and for `causal_scale` −inf above
// the diagonal of each T × T block (nb = T: key j > query i), which the softmax turns into 0.
@compute @workgroup_size(WG, 1, 1)
fn causal_scale(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = item(wg, nwg, li);
    if (i >= p.n) {
        return;
    }
    let masked = i % p.nb > i / p.nb % p.nb;
    // −inf by its bits as a runtime value: Tint rejects a constant expression that is not a
    // finite f32, which `bitcast<f32>(0xff800000u)` would be; a `let` is not one.
    let neg_inf_bits = 0xff800000u;
    out[i] = select(p.alpha * a[i], bitcast<f32>(neg_inf_bits), masked);
}
