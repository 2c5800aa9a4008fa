// Calibration kernels for the GPU report: what this device does at its best, so that every
// benchmark can be printed as a fraction of it.
//   copy: dst = src, one vec4 per invocation (a grid-stride loop) — memory bandwidth
//   fma:  ITERS dependent FMAs on 8 independent vec4 chains per invocation — f32 peak
// Neither result matters; fma writes its chains' sum so the compiler cannot drop them.

struct Params {
    n: u32,      // copy: vec4s; fma: invocations
    iters: u32,  // fma: FMAs per chain lane
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

override WG: u32;

@compute @workgroup_size(WG, 1, 1)
fn copy(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i < p.n) {
        dst[i] = src[i];
    }
}

@compute @workgroup_size(WG, 1, 1)
fn fma_peak(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= p.n) {
        return;
    }
    let seed = f32(i & 7u) * 1e-3;
    let a = vec4<f32>(0.999, 0.998, 0.997, 0.996);
    let b = vec4<f32>(1e-4);
    var c0 = vec4<f32>(seed);
    var c1 = c0 + 1.0;
    var c2 = c0 + 2.0;
    var c3 = c0 + 3.0;
    var c4 = c0 + 4.0;
    var c5 = c0 + 5.0;
    var c6 = c0 + 6.0;
    var c7 = c0 + 7.0;
    for (var k = 0u; k < p.iters; k++) {
        c0 = fma(c0, a, b);
        c1 = fma(c1, a, b);
        c2 = fma(c2, a, b);
        c3 = fma(c3, a, b);
        c4 = fma(c4, a, b);
        c5 = fma(c5, a, b);
        c6 = fma(c6, a, b);
        c7 = fma(c7, a, b);
    }
    dst[i] = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7));
}
