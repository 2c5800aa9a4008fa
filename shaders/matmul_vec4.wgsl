// The vec4 matmul, for GPUs: the plain design that ran at 8.7 TFLOP/s on an H100 where a
// 64×64 workgroup-memory tile with scalar loads ran at 0.45 (../shared/device/README.md).
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias[N]), op = transpose when TRANS_A / TRANS_B.
//
// No workgroup memory, no barriers: each invocation owns a 4×4 block of C in four vec4
// accumulators and, per 4 steps of k, loads 4 vec4s of A and 4 of B (16 FMAs per vec4 load);
// a 16×16 workgroup covers 64×64 of C, and neighbouring invocations read neighbouring vec4s of
// B. Every load is a vec4, so the host runs this kernel only when K % 4 == 0, N % 4 == 0 and
// (with TRANS_A) M % 4 == 0. Rows past M read a clamped row and are never stored.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;

// Rows i of the result: op(A)[row0 + i][kk .. kk + 4] as a vec4, i = 0..4.
fn a_rows(row0: u32, kk: u32) -> array<vec4<f32>, 4> {
    var r: array<vec4<f32>, 4>;
    if (TRANS_A) {
        // A is stored (K, M): stored row kk + t holds op(A)[row0 .. row0 + 4][kk + t].
        let t0 = a[((kk + 0u) * p.m + row0) / 4u];
        let t1 = a[((kk + 1u) * p.m + row0) / 4u];
        let t2 = a[((kk + 2u) * p.m + row0) / 4u];
        let t3 = a[((kk + 3u) * p.m + row0) / 4u];
        for (var i = 0u; i < 4u; i++) {
            r[i] = vec4<f32>(t0[i], t1[i], t2[i], t3[i]);
        }
    } else {
        for (var i = 0u; i < 4u; i++) {
            let row = min(row0 + i, p.m - 1u);
            r[i] = a[(row * p.k + kk) / 4u];
        }
    }
    return r;
}

// Rows j of the k-step: op(B)[kk + j][col0 .. col0 + 4] as a vec4, j = 0..4.
fn b_rows(col0: u32, kk: u32) -> array<vec4<f32>, 4> {
    var r: array<vec4<f32>, 4>;
    if (TRANS_B) {
        // B is stored (N, K): stored row col0 + l holds op(B)[kk .. kk + 4][col0 + l].
        let t0 = b[((col0 + 0u) * p.k + kk) / 4u];
        let t1 = b[((col0 + 1u) * p.k + kk) / 4u];
        let t2 = b[((col0 + 2u) * p.k + kk) / 4u];
        let t3 = b[((col0 + 3u) * p.k + kk) / 4u];
        for (var j = 0u; j < 4u; j++) {
            r[j] = vec4<f32>(t0[j], t1[j], t2[j], t3[j]);
        }
    } else {
        for (var j = 0u; j < 4u; j++) {
            r[j] = b[((kk + j) * p.n + col0) / 4u];
        }
    }
    return r;
}

@compute @workgroup_size(16, 16, 1)
fn matmul_vec4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    // Row tiles fold over y and z (a grid never exceeds the per-dimension limit).
    let row0 = ((wg.z * nwg.y + wg.y) * 16u + lid.y) * 4u;
    let col0 = (wg.x * 16u + lid.x) * 4u;
    if (row0 >= p.m || col0 >= p.n) {
        return;
    }
    var acc: array<vec4<f32>, 4>;
    for (var kk = 0u; kk < p.k; kk += 4u) {
        var ar = a_rows(row0, kk);
        var br = b_rows(col0, kk);
        for (var i = 0u; i < 4u; i++) {
            acc[i] += ar[i].x * br[0] + ar[i].y * br[1] + ar[i].z * br[2] + ar[i].w * br[3];
        }
    }
    var add = vec4<f32>(0.0);
    if (HAS_BIAS) {
        add = vec4<f32>(bias[col0], bias[col0 + 1u], bias[col0 + 2u], bias[col0 + 3u]);
    }
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + i;
        if (row < p.m) {
            let v = acc[i] + add;
            let at = row * p.n + col0;
            c[at] = v.x;
            c[at + 1u] = v.y;
            c[at + 2u] = v.z;
            c[at + 3u] = v.w;
        }
    }
}
