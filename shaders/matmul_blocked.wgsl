// The blocked matmul family, for GPUs: big output tiles through double-buffered workgroup
// memory, 4×4 to 8×8 outputs per invocation.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] (+ bias[N]) (then ReLU when RELU)
//   op(A) = A, stored (M, K), or Aᵀ with A stored (K, M) when TRANS_A;
//   op(B) = B, stored (K, N), or Bᵀ with B stored (N, K) when TRANS_B.
//
// The registry puts the tile in front of this file (`const BM`, `BN`, `BK`): a 16×16 workgroup
// computes a BM×BN tile of C (128×128, 128×64 or 64×64), each invocation TM×TN = BM/16 × BN/16
// outputs, as groups of 4 rows 64 apart and 4 columns 64 apart, so that its reads of the tiles
// are whole vec4s and a warp's are broadcasts or consecutive (no bank conflicts).
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
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override RELU: bool = false;
override VEC4: bool = false;
override EDGE: bool = true;

const TM: u32 = BM / 16u;
const TN: u32 = BN / 16u;
const A_QUADS: u32 = BM * BK / 4u; // vec4s in one slice of each tile
const B_QUADS: u32 = BN * BK / 4u;
const A_PER: u32 = (A_QUADS + 255u) / 256u; // vec4s each invocation stages
const B_PER: u32 = (B_QUADS + 255u) / 256u;

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

// Quad e of A's slice at k0: along m (Aᵀ: stored row k) or along k (A: stored row m).
fn fetch_a(li: u32, row0: u32, k0: u32, kend: u32) -> array<vec4<f32>, A_PER> {
    var q: array<vec4<f32>, A_PER>;
    for (var i = 0u; i < A_PER; i++) {
        let e = li + i * 256u;
        if (e < A_QUADS) {
            if (TRANS_A) {
                q[i] = a_quad(k0 + e / (BM / 4u), row0 + e % (BM / 4u) * 4u, kend, p.m);
            } else {
                q[i] = a_quad(row0 + e % BM, k0 + e / BM * 4u, p.m, kend);
            }
        }
    }
    return q;
}

fn put_a(li: u32, buf: u32, q: array<vec4<f32>, A_PER>) {
    for (var i = 0u; i < A_PER; i++) {
        let e = li + i * 256u;
        if (e < A_QUADS) {
            if (TRANS_A) {
                tile_a[buf * A_QUADS + e] = q[i]; // [k][m / 4] is e's own order
            } else {
                let mm = e % BM;
                let k4 = e / BM * 4u;
                for (var j = 0u; j < 4u; j++) {
                    tile_a[buf * A_QUADS + (k4 + j) * (BM / 4u) + mm / 4u][mm % 4u] = q[i][j];
                }
            }
        }
    }
}

// Quad e of B's slice at k0: along n (B: stored row k) or along k (Bᵀ: stored row n).
fn fetch_b(li: u32, col0: u32, k0: u32, kend: u32) -> array<vec4<f32>, B_PER> {
    var q: array<vec4<f32>, B_PER>;
    for (var i = 0u; i < B_PER; i++) {
        let e = li + i * 256u;
        if (e < B_QUADS) {
            if (TRANS_B) {
                q[i] = b_quad(col0 + e % BN, k0 + e / BN * 4u, p.n, kend);
            } else {
                q[i] = b_quad(k0 + e / (BN / 4u), col0 + e % (BN / 4u) * 4u, kend, p.n);
            }
        }
    }
    return q;
}

fn put_b(li: u32, buf: u32, q: array<vec4<f32>, B_PER>) {
    for (var i = 0u; i < B_PER; i++) {
        let e = li + i * 256u;
        if (e < B_QUADS) {
            if (TRANS_B) {
                let nn = e % BN;
                let k4 = e / BN * 4u;
                for (var j = 0u; j < 4u; j++) {
                    tile_b[buf * B_QUADS + (k4 + j) * (BN / 4u) + nn / 4u][nn % 4u] = q[i][j];
                }
            } else {
                tile_b[buf * B_QUADS + e] = q[i];
            }
        }
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
    let y = wg.z * nwg.y + wg.y;
    if (y >= p.row_tiles * p.splits) {
        return;
    }
    let split = y / p.row_tiles;
    let row0 = y % p.row_tiles * BM;
    let col0 = wg.x * BN;
    let kbeg = split * p.k_split;
    let kend = min(p.k, kbeg + p.k_split);
    let slices = (kend - kbeg + BK - 1u) / BK;

    var acc: array<array<vec4<f32>, TN / 4u>, TM>;
    var qa = fetch_a(li, row0, kbeg, kend);
    var qb = fetch_b(li, col0, kbeg, kend);
    put_a(li, 0u, qa);
    put_b(li, 0u, qb);
    workgroupBarrier();
    for (var s = 0u; s < slices; s++) {
        let buf = s % 2u;
        let more = s + 1u < slices;
        if (more) {
            qa = fetch_a(li, row0, kbeg + (s + 1u) * BK, kend);
            qb = fetch_b(li, col0, kbeg + (s + 1u) * BK, kend);
        }
        for (var kk = 0u; kk < BK; kk++) {
            var av: array<vec4<f32>, TM / 4u>;
            var bv: array<vec4<f32>, TN / 4u>;
            for (var g = 0u; g < TM / 4u; g++) {
                av[g] = tile_a[buf * A_QUADS + kk * (BM / 4u) + g * 16u + lid.y];
            }
            for (var h = 0u; h < TN / 4u; h++) {
                bv[h] = tile_b[buf * B_QUADS + kk * (BN / 4u) + h * 16u + lid.x];
            }
            for (var g = 0u; g < TM / 4u; g++) {
                for (var i = 0u; i < 4u; i++) {
                    let x = vec4<f32>(av[g][i]);
                    for (var h = 0u; h < TN / 4u; h++) {
                        acc[g * 4u + i][h] = fma(x, bv[h], acc[g * 4u + i][h]);
                    }
                }
            }
        }
        if (more) {
            put_a(li, 1u - buf, qa);
            put_b(li, 1u - buf, qb);
        }
        workgroupBarrier();
    }
    store(split, row0, col0, lid, acc);
}

// x where x > 0 or x is NaN, else +0: the ReLU of `relu.wgsl`, decided on the bits.
fn relu(x: f32) -> f32 {
    let m = bitcast<u32>(x) & 0x7fffffffu;
    let positive = (bitcast<u32>(x) & 0x80000000u) == 0u && m != 0u;
    if (positive || m > 0x7f800000u) {
        return x;
    }
    return 0.0;
}

fn store(split: u32, row0: u32, col0: u32, lid: vec3<u32>, acc: array<array<vec4<f32>, TN / 4u>, TM>) {
    let base = split * p.m * p.n;
    for (var g = 0u; g < TM / 4u; g++) {
        for (var i = 0u; i < 4u; i++) {
            let row = row0 + g * 64u + lid.y * 4u + i;
            if (EDGE && row >= p.m) {
                continue;
            }
            for (var h = 0u; h < TN / 4u; h++) {
                let col = col0 + h * 64u + lid.x * 4u;
                let v = acc[g * 4u + i][h];
                for (var j = 0u; j < 4u; j++) {
                    if (!EDGE || col + j < p.n) {
                        var out = v[j];
                        if (HAS_BIAS) {
                            out += bias[col + j];
                        }
                        if (RELU) {
                            out = relu(out);
                        }
                        c[base + row * p.n + col + j] = out;
                    }
                }
            }
        }
    }
}
