// ReLU, element-wise on vec4s (tensor buffers are padded to whole vec4s).
//   forward:  y = x where x > 0, else 0        (NaN stays NaN: only x <= 0 becomes 0; -0 → 0)
//   backward: dx = dy where x > 0, else 0      (ReLU'(0) = 0; ReLU'(NaN) = 0)
// The tests are made on the bits, not with float compares: GL and Metal compile with fast math,
// which may assume no NaN and fold `select(v, 0, v <= 0)` into `max(v, 0)` (NaN → 0 on GL).

struct Params {
    n4: u32,  // number of vec4s
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

const WG: u32 = 256u;

const SIGN: u32 = 0x80000000u;
const MAGNITUDE: u32 = 0x7fffffffu;
const INF: u32 = 0x7f800000u;

// x > 0 from the bits: sign clear, not ±0, not NaN.
fn positive(b: vec4<u32>) -> vec4<bool> {
    let m = b & vec4<u32>(MAGNITUDE);
    let sign_clear = (b & vec4<u32>(SIGN)) == vec4<u32>(0u);
    return sign_clear & (m != vec4<u32>(0u)) & (m <= vec4<u32>(INF));
}

// x is NaN from the bits.
fn nan(b: vec4<u32>) -> vec4<bool> {
    return (b & vec4<u32>(MAGNITUDE)) > vec4<u32>(INF);
}

fn index(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

@compute @workgroup_size(256, 1, 1)
fn relu_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = index(wg, nwg, li);
    if (i >= p.n4) {
        return;
    }
    let b = bitcast<vec4<u32>>(x[i]);
    out[i] = bitcast<vec4<f32>>(select(vec4<u32>(0u), b, positive(b) | nan(b)));
}

@compute @workgroup_size(256, 1, 1)
fn relu_backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = index(wg, nwg, li);
    if (i >= p.n4) {
        return;
    }
    let keep = positive(bitcast<vec4<u32>>(x[i]));
    out[i] = bitcast<vec4<f32>>(select(vec4<u32>(0u), bitcast<vec4<u32>>(g[i]), keep));
}
