// The vec4 matmul, for GPUs: the plain design that ran at 8.7 TFLOP/s on an H100 where a
// 64×64 workgroup-memory tile with scalar loads ran at 0.45 (../shared/device/README.md).
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias[N]), op = transpose when TRANS_A / TRANS_B.
//
// No workgroup memory, no barriers: each invocation owns a 4×4 block of C in four named vec4
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

// op(A)[row][kk .. kk + 4] as a vec4, A stored as is; rows past M read row M - 1 (never stored).
fn a_row(row: u32, kk: u32) -> vec4<f32> {
    return a[(min(row, p.m - 1u) * p.k + kk) / 4u];
}

// op(B)[k][col0 .. col0 + 4] as a vec4, B stored as is.
fn b_row(col0: u32, k: u32) -> vec4<f32> {
    return b[(k * p.n + col0) / 4u];
}

// Stores row `row` of the invocation's block (if it lies inside C), bias added.
fn store(row: u32, col0: u32, v: vec4<f32>) {
    if (row < p.m) {
        let at = row * p.n + col0;
        c[at] = v.x;
        c[at + 1u] = v.y;
        c[at + 2u] = v.z;
        c[at + 3u] = v.w;
    }
}

@compute @workgroup_size(16, 16, 1)
fn matmul_vec4(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    // Row tiles fold over y and z (a grid never exceeds the per-dimension limit).
    let row0 = (row_tile(wg, nwg) * 16u + lid.y) * 4u;
    let col0 = (wg.x * 16u + lid.x) * 4u;
    if (row0 >= p.m || col0 >= p.n) {
        return;
    }
    // Named accumulators and operands, no indexed private arrays: a driver that does not
    // unroll keeps an indexed array in local memory, which costs a memory access per FMA.
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var kk = 0u; kk < p.k; kk += 4u) {
        // a_i = op(A)[row0 + i][kk .. kk + 4].
        var a0: vec4<f32>;
        var a1: vec4<f32>;
        var a2: vec4<f32>;
        var a3: vec4<f32>;
        if (TRANS_A) {
            // A is stored (K, M): stored row kk + t holds op(A)[row0 .. row0 + 4][kk + t].
            let t0 = a[((kk + 0u) * p.m + row0) / 4u];
            let t1 = a[((kk + 1u) * p.m + row0) / 4u];
            let t2 = a[((kk + 2u) * p.m + row0) / 4u];
            let t3 = a[((kk + 3u) * p.m + row0) / 4u];
            a0 = vec4<f32>(t0.x, t1.x, t2.x, t3.x);
            a1 = vec4<f32>(t0.y, t1.y, t2.y, t3.y);
            a2 = vec4<f32>(t0.z, t1.z, t2.z, t3.z);
            a3 = vec4<f32>(t0.w, t1.w, t2.w, t3.w);
        } else {
            a0 = a_row(row0, kk);
            a1 = a_row(row0 + 1u, kk);
            a2 = a_row(row0 + 2u, kk);
            a3 = a_row(row0 + 3u, kk);
        }
        // b_j = op(B)[kk + j][col0 .. col0 + 4].
        var b0: vec4<f32>;
        var b1: vec4<f32>;
        var b2: vec4<f32>;
        var b3: vec4<f32>;
        if (TRANS_B) {
            // B is stored (N, K): stored row col0 + l holds op(B)[kk .. kk + 4][col0 + l].
            let t0 = b[((col0 + 0u) * p.k + kk) / 4u];
            let t1 = b[((col0 + 1u) * p.k + kk) / 4u];
            let t2 = b[((col0 + 2u) * p.k + kk) / 4u];
            let t3 = b[((col0 + 3u) * p.k + kk) / 4u];
            b0 = vec4<f32>(t0.x, t1.x, t2.x, t3.x);
            b1 = vec4<f32>(t0.y, t1.y, t2.y, t3.y);
            b2 = vec4<f32>(t0.z, t1.z, t2.z, t3.z);
            b3 = vec4<f32>(t0.w, t1.w, t2.w, t3.w);
        } else {
            b0 = b_row(col0, kk);
            b1 = b_row(col0, kk + 1u);
            b2 = b_row(col0, kk + 2u);
            b3 = b_row(col0, kk + 3u);
        }
        acc0 += a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
        acc1 += a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
        acc2 += a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
        acc3 += a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
    }
    var add = vec4<f32>(0.0);
    if (HAS_BIAS) {
        add = vec4<f32>(bias[col0], bias[col0 + 1u], bias[col0 + 2u], bias[col0 + 3u]);
    }
    store(row0, col0, acc0 + add);
    store(row0 + 1u, col0, acc1 + add);
    store(row0 + 2u, col0, acc2 + add);
    store(row0 + 3u, col0, acc3 + add);
}
