// Dropout with a counter-based mask: element i of training step `step` of a layer seeded
// `seed` is kept where u(seed, step, i) ≥ p, u uniform in [0, 1) from a hash of the three, and
// scaled by 1/(1 − p). Nothing is stored: the backward and the Jacobian recompute the mask, and
// a run resumed at the same step draws the same masks.
//
//   forward   y = x · keep(i) · scale          backward  dx = dy · keep(i) · scale
//   jacobian  J[i, j] = δ(i, j) · keep(i) · scale

struct Params {
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    step_lo: u32,
    step_hi: u32,
    p: f32,
    scale: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> prm: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

// A 32-bit integer hash with good avalanche (Chris Wellons' "lowbias32").
fn mix(v: u32) -> u32 {
    var x = v;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

// keep(i) · scale: 0 or 1/(1 − p).
fn factor(i: u32) -> f32 {
    let key = mix(mix(mix(mix(prm.seed_lo) ^ prm.seed_hi) ^ prm.step_lo) ^ prm.step_hi);
    let u = f32(mix(key ^ mix(i)) >> 8u) * (1.0 / 16777216.0);
    return select(0.0, prm.scale, u >= prm.p);
}

fn item(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

// Forward and backward are the same product: by the mask, scaled.
@compute @workgroup_size(WG, 1, 1)
fn apply(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = item(wg, nwg, li);
    if (i >= prm.n) {
        return;
    }
    // A dropped element is 0 whatever x is (not NaN · 0).
    let f = factor(i);
    dst[i] = select(0.0, src[i] * f, f != 0.0);
}

@compute @workgroup_size(WG, 1, 1)
fn jacobian(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let t = item(wg, nwg, li);
    if (t >= prm.n * prm.n) {
        return;
    }
    let i = t / prm.n;
    dst[t] = select(0.0, factor(i), i == t % prm.n);
}
