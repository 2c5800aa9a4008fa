// Tiled matrix multiply with register blocking.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias[N])
//   op(A) = A, stored (M, K), or Aᵀ with A stored (K, M) when TRANS_A;
//   op(B) = B, stored (K, N), or Bᵀ with B stored (N, K) when TRANS_B.
// So Y = X·W + b, dX = dY·Wᵀ and dW = Xᵀ·dY all run here without transposed copies.
//
// A workgroup of 16×16 invocations computes a 64×64 tile of C; each invocation a 4×4 block
// kept in registers. K advances in slices of 16 staged through workgroup memory. Loads past
// the edges read zero and stores past the edges are skipped, so every shape is correct.
// One dispatch covers k in [k0, k1); the host splits a long K into several dispatches (some
// drivers cap the iterations of a loop), each after the first adding to C (ACCUMULATE).
// Batched products: `batches` products of the same shape, A's at a stride of batch_a elements
// (0: one A for all), B's at batch_b, C's at M·N; the batch is folded into the row tiles.

struct Params {
    m: u32,
    n: u32,
    k: u32,  // the full inner dimension (row length of A, column length of B)
    k0: u32, // this dispatch's range of k
    k1: u32,
    batch_a: u32, // elements between two batches' A (0: shared)
    batch_b: u32,
    batches: u32, // 0 or 1: one product
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

const BM: u32 = 64u;      // tile rows of C per workgroup
const BN: u32 = 64u;      // tile columns of C per workgroup
const BK: u32 = 16u;      // depth of one K slice
const TM: u32 = 4u;       // rows per invocation
const TN: u32 = 4u;       // columns per invocation
const THREADS: u32 = 256u; // (BM / TM) * (BN / TN)

// tile_a[kk][mm / 4][mm % 4] and tile_b[kk][nn / 4][nn % 4]: one vec4 = 4 rows or 4 columns.
var<workgroup> tile_a: array<vec4<f32>, 256>; // BK * BM / 4
var<workgroup> tile_b: array<vec4<f32>, 256>; // BK * BN / 4

// Where this workgroup's batch starts in A, B and C.
var<private> a_off: u32;
var<private> b_off: u32;
var<private> c_off: u32;

fn load_a(row: u32, kk: u32) -> f32 {
    if (row >= p.m || kk >= p.k1) {
        return 0.0;
    }
    if (TRANS_A) {
        return a[a_off + kk * p.m + row];
    }
    return a[a_off + row * p.k + kk];
}

fn load_b(kk: u32, col: u32) -> f32 {
    if (kk >= p.k1 || col >= p.n) {
        return 0.0;
    }
    if (TRANS_B) {
        return b[b_off + col * p.k + kk];
    }
    return b[b_off + kk * p.n + col];
}

// Stages the K slice starting at k0: each invocation moves 4 elements of A and 4 of B, in the
// order that makes consecutive invocations read consecutive addresses.
fn stage(li: u32, row0: u32, col0: u32, k0: u32) {
    for (var i = 0u; i < 4u; i++) {
        let e = li + i * THREADS;
        var mm = e / BK;
        var ka = e % BK;
        if (TRANS_A) {
            ka = e / BM;
            mm = e % BM;
        }
        tile_a[ka * (BM / 4u) + mm / 4u][mm % 4u] = load_a(row0 + mm, k0 + ka);
        var kb = e / BN;
        var nn = e % BN;
        if (TRANS_B) {
            nn = e / BK;
            kb = e % BK;
        }
        tile_b[kb * (BN / 4u) + nn / 4u][nn % 4u] = load_b(k0 + kb, col0 + nn);
    }
}

@compute @workgroup_size(16, 16, 1)
fn matmul(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    // Row tiles fold over y and z, so a grid never exceeds the per-dimension limit; a folded
    // grid can overshoot by a few tiles, which leave at once (uniformly: before any barrier).
    let tiles_m = (p.m + BM - 1u) / BM;
    let rt = row_tile(wg, nwg);
    let batch = rt / tiles_m;
    if (batch >= max(p.batches, 1u)) {
        return;
    }
    a_off = batch * p.batch_a;
    b_off = batch * p.batch_b;
    c_off = batch * p.m * p.n;
    let row0 = rt % tiles_m * BM;
    let col0 = wg.x * BN;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let slices = (p.k1 - p.k0 + BK - 1u) / BK;
    for (var s = 0u; s < slices; s++) {
        stage(li, row0, col0, p.k0 + s * BK);
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            let av = tile_a[kk * (BM / 4u) + lid.y];
            let bv = tile_b[kk * (BN / 4u) + lid.x];
            acc0 = fma(vec4<f32>(av.x), bv, acc0);
            acc1 = fma(vec4<f32>(av.y), bv, acc1);
            acc2 = fma(vec4<f32>(av.z), bv, acc2);
            acc3 = fma(vec4<f32>(av.w), bv, acc3);
        }
        workgroupBarrier();
    }
    let row = row0 + lid.y * TM;
    let col = col0 + lid.x * TN;
    store_row(row, col, acc0);
    store_row(row + 1u, col, acc1);
    store_row(row + 2u, col, acc2);
    store_row(row + 3u, col, acc3);
}

fn store_row(row: u32, col: u32, v: vec4<f32>) {
    if (row >= p.m) {
        return;
    }
    for (var j = 0u; j < TN; j++) {
        let cj = col + j;
        if (cj < p.n) {
            var out = v[j];
            if (ACCUMULATE) {
                out += c[c_off + row * p.n + cj];
            } else if (HAS_BIAS) {
                out += bias[cj];
            }
            c[c_off + row * p.n + cj] = out;
        }
    }
}
