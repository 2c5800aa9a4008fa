// The blocked matmul family, for GPUs: big output tiles through double-buffered workgroup
// memory, 4×4 to 8×8 outputs per invocation.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias[N]) (then ReLU when RELU)
//   op(A) = A, stored (M, K), or Aᵀ with A stored (K, M) when TRANS_A;
//   op(B) = B, stored (K, N), or Bᵀ with B stored (N, K) when TRANS_B.
//
// The registry builds it as the tile header, this file (the operands: A, B, C as stored) and
// blocked_core.wgsl (the tiles, their staging, the loop over K). The header
// (`kernels/blocked.rs`: `const BM`, `BN`, `BK`, `STAGES`, `multiply` and `store_all` unrolled
// over named accumulators `acc_r_h`, and the staging `fetch_all`/`put_all` over STAGES quads
// per invocation): a 16×16 workgroup computes a BM×BN tile of C (128×128 with BK 8 or 16,
// 128×64, 64×128 or 64×64), each invocation TM×TN = BM/16 × BN/16 outputs, as groups of 4 rows 64 apart and 4 columns 64 apart, so that its
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
