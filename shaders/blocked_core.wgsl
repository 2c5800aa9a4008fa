// The blocked matmul's core, shared by the plain product (matmul_blocked.wgsl) and conv2d's
// implicit GEMM (conv_gemm.wgsl), which the registry puts in front of it with the tile header
// (`kernels/blocked.rs`): the tiles in workgroup memory, their double-buffered staging and the
// kernel's loop over K. What it reads and writes comes from the file in front: `Params` (m, n,
// k, k_split, row_tiles, splits), TRANS_A and TRANS_B, `a_quad`/`b_quad` (four consecutive
// elements of stored A or B, zero past the limits) and `store_quad` (four elements of C).

const A_QUADS: u32 = BM * BK / 4u; // vec4s in one slice of each tile
const B_QUADS: u32 = BN * BK / 4u;
// Each invocation stages at most STAGES quads of each slice.
const_assert A_QUADS <= 256u * STAGES && B_QUADS <= 256u * STAGES;

var<workgroup> tile_a: array<vec4<f32>, 2u * A_QUADS>; // [buffer][k][m / 4]
var<workgroup> tile_b: array<vec4<f32>, 2u * B_QUADS>; // [buffer][k][n / 4]

// Quad li of A's slice at k0 (zero for li past the slice): along m (Aᵀ: stored row k) or
// along k (A: stored row m).
fn fetch_a(li: u32, row0: u32, k0: u32, kend: u32) -> vec4<f32> {
    if (li >= A_QUADS) {
        return vec4<f32>(0.0);
    }
    if (TRANS_A) {
        return a_quad(k0 + li / (BM / 4u), row0 + li % (BM / 4u) * 4u, kend, p.m);
    }
    return a_quad(row0 + li % BM, k0 + li / BM * 4u, p.m, kend);
}

// Stores quad li into buffer `buf` of tile_a, k-major: Aᵀ's quad lands whole; A's four
// values go to four k rows, consecutive invocations on consecutive m (no bank conflicts).
fn put_a(li: u32, buf: u32, q: vec4<f32>) {
    if (li >= A_QUADS) {
        return;
    }
    if (TRANS_A) {
        tile_a[buf * A_QUADS + li] = q;
        return;
    }
    let mm = li % BM;
    let k4 = li / BM * 4u;
    for (var j = 0u; j < 4u; j++) {
        tile_a[buf * A_QUADS + (k4 + j) * (BM / 4u) + mm / 4u][mm % 4u] = q[j];
    }
}

// The same for B: along n (B: stored row k) or along k (Bᵀ: stored row n).
fn fetch_b(li: u32, col0: u32, k0: u32, kend: u32) -> vec4<f32> {
    if (li >= B_QUADS) {
        return vec4<f32>(0.0);
    }
    if (TRANS_B) {
        return b_quad(col0 + li % BN, k0 + li / BN * 4u, p.n, kend);
    }
    return b_quad(k0 + li / (BN / 4u), col0 + li % (BN / 4u) * 4u, kend, p.n);
}

fn put_b(li: u32, buf: u32, q: vec4<f32>) {
    if (li >= B_QUADS) {
        return;
    }
    if (!TRANS_B) {
        tile_b[buf * B_QUADS + li] = q;
        return;
    }
    let nn = li % BN;
    let k4 = li / BN * 4u;
    for (var j = 0u; j < 4u; j++) {
        tile_b[buf * B_QUADS + (k4 + j) * (BN / 4u) + nn / 4u][nn % 4u] = q[j];
    }
}

@compute @workgroup_size(16, 16, 1)
fn matmul_blocked(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    // Row tiles (times splits) fold over y and z; spare groups of a folded grid leave at once
    // (uniformly: before any barrier).
    let y = row_tile(wg, nwg);
    if (y >= p.row_tiles * p.splits) {
        return;
    }
    let split = y / p.row_tiles;
    let row0 = y % p.row_tiles * BM;
    let col0 = wg.x * BN;
    let kbeg = split * p.k_split;
    let kend = min(p.k, kbeg + p.k_split);
    let slices = (kend - kbeg + BK - 1u) / BK;

    fetch_all(li, row0, col0, kbeg, kend); // the registry's, unrolled per tile
    put_all(li, 0u);
    workgroupBarrier();
    for (var s = 0u; s < slices; s++) {
        let buf = s % 2u;
        let more = s + 1u < slices;
        if (more) {
            fetch_all(li, row0, col0, kbeg + (s + 1u) * BK, kend);
        }
        multiply(buf * A_QUADS, buf * B_QUADS, lid); // the registry's, unrolled per tile
        if (more) {
            put_all(li, 1u - buf);
        }
        workgroupBarrier();
    }
    store_all(split * p.m * p.n, row0, col0, lid);
}
