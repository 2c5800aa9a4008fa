// One element-wise activation on vec4s (tensor buffers are padded to whole vec4s): forward,
// backward and its Jacobian. Each activation's source is the prelude, its own file under
// `activations/` and this one; the activation defines
//   fn f(x: vec4<f32>) -> vec4<f32>                      y = f(x)
//   fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32>       f'(x), given y = f(x)
// and may read `p.alpha` (LeakyReLU's slope, ELU's alpha).
//   forward:  out = f(x)
//   backward: out = g · f'(x), where f'(x) = 0 passes no gradient at all, not even a NaN or an
//             infinite one (ReLU'(x ≤ 0) masks g, as the lab's ReLU does)
//   jacobian: J (n × n) = diag(f'(x)), one vec4 of J per invocation

struct Params {
    n: u32, // elements of x
    alpha: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>; // backward: dL/dy (else unused)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

// Invocations per workgroup: set by the host from the kernel's declaration (the one place it
// is written; launches work out their grids from it).
override WG: u32;

// Helpers the activations share, exact at ±inf, with no overflow for large |x| (exp(88.8) is
// already +inf in f32), and written so that no result is a difference that cancels (1 - σ(x)
// is σ(-x), 1 - tanh² x is sech² x): each is accurate relative to its own value.

// x · s, but 0 where s is ±0: the limit of products like x σ(x) at x = -inf (where -inf · 0
// would be NaN), and of x² terms multiplied by a factor that underflowed.
fn times4(x: vec4<f32>, s: vec4<f32>) -> vec4<f32> {
    let zero = (bitcast<vec4<u32>>(s) & vec4<u32>(0x7fffffffu)) == vec4<u32>(0u);
    return select(x * s, vec4<f32>(0.0), zero);
}

// The logistic function σ(x) = 1 / (1 + e^-x); NaN stays NaN, selected on the bits (an `exp`
// need not keep NaN: SwiftShader's, under Chrome's WebGPU, gives 0 or inf).
fn sigmoid4(v: vec4<f32>) -> vec4<f32> {
    return select(1.0 / (1.0 + exp(-v)), v, nan4(v));
}

// sech² x = 4 e / (1 + e)², e = e^(-2|x|): tanh's derivative.
fn sech2_4(v: vec4<f32>) -> vec4<f32> {
    let e = exp(-2.0 * abs(v));
    return 4.0 * e / ((1.0 + e) * (1.0 + e));
}

// e^x - 1, by its series where the difference would cancel (|x| < 0.5: to x^8, the next
// term is under 1e-8 of the sum; beyond, e^x / |e^x - 1| < 2.6 magnifies exp's error).
fn expm1_4(v: vec4<f32>) -> vec4<f32> {
    let series = v * (1.0 + v * (1.0 / 2.0 + v * (1.0 / 6.0 + v * (1.0 / 24.0 + v * (1.0 / 120.0
        + v * (1.0 / 720.0 + v * (1.0 / 5040.0 + v * (1.0 / 40320.0))))))));
    let e = select(exp(v) - 1.0, series, abs(v) < vec4<f32>(0.5));
    return select(e, v, nan4(v)); // NaN stays NaN, whatever `exp` makes of it
}

// tanh from exp(2|x|) (exactly ±1 once that overflows), with its series near 0, where the
// difference 1 - 2 / (e + 1) would cancel.
fn tanh4(v: vec4<f32>) -> vec4<f32> {
    let a = abs(v);
    let big = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    let a2 = a * a;
    let small = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0)))));
    let t = select(big, small, a < vec4<f32>(0.125));
    return select(select(-t, t, v >= vec4<f32>(0.0)), v, nan4(v)); // NaN stays NaN
}

// x > 0 from the bits: sign clear, not ±0, not NaN (fast math on GL and Metal may fold a float
// compare's NaN rule away).
fn positive4(v: vec4<f32>) -> vec4<bool> {
    let b = bitcast<vec4<u32>>(v);
    let m = b & vec4<u32>(0x7fffffffu);
    let sign_clear = (b & vec4<u32>(0x80000000u)) == vec4<u32>(0u);
    return sign_clear & (m != vec4<u32>(0u)) & (m <= vec4<u32>(0x7f800000u));
}

// x is NaN, from the bits.
fn nan4(v: vec4<f32>) -> vec4<bool> {
    return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
}

fn quads() -> u32 {
    return (p.n + 3u) / 4u;
}

@compute @workgroup_size(WG, 1, 1)
fn forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= quads()) {
        return;
    }
    out[i] = f(x[i]);
}

@compute @workgroup_size(WG, 1, 1)
fn backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= quads()) {
        return;
    }
    let v = x[i];
    let d = df(v, f(v));
    // d = ±0 on the bits: a float compare may take NaN for 0 (llvmpipe did).
    let zero = (bitcast<vec4<u32>>(d) & vec4<u32>(0x7fffffffu)) == vec4<u32>(0u);
    out[i] = select(g[i] * d, vec4<f32>(0.0), zero);
}

@compute @workgroup_size(WG, 1, 1)
fn jacobian(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let q = group_1d(wg, nwg) * WG + li;
    let total = p.n * p.n;
    if (q * 4u >= total) {
        return;
    }
    var j = vec4<f32>(0.0);
    for (var t = 0u; t < 4u; t++) {
        let e = q * 4u + t;
        let r = e / p.n;
        if (e < total && r == e % p.n) {
            let v = vec4<f32>(x[r / 4u][r % 4u]);
            j[t] = df(v, f(v)).x;
        }
    }
    out[q] = j;
}
