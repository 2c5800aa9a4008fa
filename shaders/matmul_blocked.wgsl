// The blocked matmul family, for GPUs: big output tiles through double-buffered workgroup
// memory, 4×4 to 8×8 outputs per invocation.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias[N]) (then ReLU when RELU)
//   op(A) = A, stored (M, K), or Aᵀ with A stored (K, M) when TRANS_A;
//   op(B) = B, stored (K, N), or Bᵀ with B stored (N, K) when TRANS_B.
//
// The registry puts the tile in front of this file (`kernels/blocked.rs`: `const BM`, `BN`,
// `BK`, `STAGES`, `multiply` and `store_all` unrolled over named accumulators `acc_r_h`, and
// the staging `fetch_all`/`put_all` over STAGES quads per invocation): a 16×16 workgroup
// computes a BM×BN tile of C (128×128 with BK 8 or 16, 128×64, 64×128 or 64×64), each invocation TM×TN =
// BM/16 × BN/16 outputs, as groups of 4 rows 64 apart and 4 columns 64 apart, so that its
// reads of the tiles are whole vec4s and a warp's are broadcasts or consecutive (no bank
// conflicts).
//
// K goes in slices of BK. Both tiles are staged k-major (tile[k][m], tile[k][n]) in two
// buffers: while the slice in one is multiplied, the next one's global loads are already in
// registers, stored into the other buffer after the multiply; one barrier per slice. Each
// invocation loads whole vec4s of the stored operands; where a quad runs along k (A as stored,
// Bᵀ) its four values go to four k rows with consecutive invocations on consecutive m, so the
// stores do not conflict either.
//
// VEC4: every stored row is whole vec4s (K, N and, for Aᵀ, M multiples of 4), so a quad is one
// aligned load; otherwise each element is loaded and checked on its own. EDGE: some tile
// reaches past M, N or its k range, so loads past the edges read zero and stores past them are
// skipped; the host clears it only when the shape fits the tile exactly.
//
// C is stored as whole vec4s where N is a multiple of 4 and the quad is inside the output
// (every quad of an aligned shape); otherwise element by element.
//
// Split-K: workgroup row y covers slice `y / row_tiles` of K (k_split long) and writes its
// partial product to slice `y / row_tiles` of C (a workspace of splits × M × N); the host then
// sums the slices (`matmul_split.wgsl`) and applies bias and ReLU there.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    k_split: u32,   // the k range of one split (a multiple of BK); K when not split
    row_tiles: u32, // ceil(M / BM)
    splits: u32,    // ceil(K / k_split), at least 1
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4<f32>>; // padded to vec4s

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override RELU: bool = false;
override VEC4: bool = false;
override EDGE: bool = true;

const A_QUADS: u32 = BM * BK / 4u; // vec4s in one slice of each tile
const B_QUADS: u32 = BN * BK / 4u;
// Each invocation stages at most STAGES quads of each slice.
const_assert A_QUADS <= 256u * STAGES && B_QUADS <= 256u * STAGES;

var<workgroup> tile_a: array<vec4<f32>, 2u * A_QUADS>; // [buffer][k][m / 4]
var<workgroup> tile_b: array<vec4<f32>, 2u * B_QUADS>; // [buffer][k][n / 4]

// Four consecutive elements of stored A's row r from column c0; zero past r_lim or c_lim.
fn a_quad(r: u32, c0: u32, r_lim: u32, c_lim: u32) -> vec4<f32> {
    let stride = select(p.k, p.m, TRANS_A);
    if (VEC4) {
        if (EDGE && (r >= r_lim || c0 >= c_lim)) {
            return vec4<f32>(0.0);
        }
        return a[(r * stride + c0) / 4u];
    }
    var v = vec4<f32>(0.0);
    if (r < r_lim) {
        for (var j = 0u; j < 4u; j++) {
            if (c0 + j < c_lim) {
                let i = r * stride + c0 + j;
                v[j] = a[i / 4u][i % 4u];
            }
        }
    }
    return v;
}

// The same for stored B.
fn b_quad(r: u32, c0: u32, r_lim: u32, c_lim: u32) -> vec4<f32> {
    let stride = select(p.n, p.k, TRANS_B);
    if (VEC4) {
        if (EDGE && (r >= r_lim || c0 >= c_lim)) {
            return vec4<f32>(0.0);
        }
        return b[(r * stride + c0) / 4u];
    }
    var v = vec4<f32>(0.0);
    if (r < r_lim) {
        for (var j = 0u; j < 4u; j++) {
            if (c0 + j < c_lim) {
                let i = r * stride + c0 + j;
                v[j] = b[i / 4u][i % 4u];
            }
        }
    }
    return v;
}

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

// Four elements of C from `base` (the split's slice of the workspace, or C itself): row,
// columns col..col + 4, past the edges skipped, with bias and ReLU.
fn store_quad(base: u32, row: u32, col: u32, v: vec4<f32>) {
    if (EDGE && row >= p.m) {
        return;
    }
    var out = v;
    for (var j = 0u; j < 4u; j++) {
        if (HAS_BIAS && (!EDGE || col + j < p.n)) {
            out[j] += bias[col + j];
        }
        if (RELU) {
            out[j] = relu(out[j]);
        }
    }
    let at = base + row * p.n + col;
    if (p.n % 4u == 0u && (!EDGE || col + 4u <= p.n)) {
        c[at / 4u] = out; // at is a multiple of 4: base is splits · M · N
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        if (!EDGE || col + j < p.n) {
            c[(at + j) / 4u][(at + j) % 4u] = out[j];
        }
    }
}
