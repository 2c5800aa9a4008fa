// Conv2d's forward as an implicit GEMM, on the blocked matmul's core (blocked_core.wgsl, put
// after this file; the tile header in front): the product
//   Y2[out, N·P] = W2[out, CKK] · cols[CKK, N·P]   (P = Ho·Wo, CKK = C·k·k)
// where the columns are never written: `b_quad` computes each element's address in x itself
// (column j = (image, oh, ow), row kk = (ci, ki, kj): x[image, ci, oh·s + ki − pad,
// ow·s + kj − pad], zero in the padding), and `store_quad` writes C straight into y's NCHW
// layout with the bias of its output channel. One dispatch covers every image: nothing is
// materialised, so no chunking. The 9×-sized column matrix of the explicit path (conv2d.wgsl's
// im2col, then a product, then to_nchw) is neither written nor read back.

struct Params {
    m: u32,         // output channels
    n: u32,         // N · P
    k: u32,         // C · k · k
    k_split: u32,   // K (not split)
    row_tiles: u32, // ceil(out / BM)
    splits: u32,    // 1
    hw: u32,        // h << 16 | w
    geometry: u32,  // c << 16 | ksize << 8 | stride << 4 | pad
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>; // W [out, C, k, k] = W2 [out, CKK]
@group(0) @binding(2) var<storage, read> x: array<f32>; // [N, C, H, W]
@group(0) @binding(3) var<storage, read> bias: array<f32>; // [out]
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // [N, out, Ho, Wo]

const TRANS_A: bool = false;
const TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override VEC4: bool = false; // CKK is a multiple of 4: W2's rows are whole vec4s
override EDGE: bool = true;

fn h_in() -> u32 {
    return p.hw >> 16u;
}

fn w_in() -> u32 {
    return p.hw & 0xffffu;
}

fn ksize() -> u32 {
    return (p.geometry >> 8u) & 0xffu;
}

fn stride() -> u32 {
    return (p.geometry >> 4u) & 0xfu;
}

fn pad() -> u32 {
    return p.geometry & 0xfu;
}

fn out_w() -> u32 {
    return (w_in() + 2u * pad() - ksize()) / stride() + 1u;
}

fn out_p() -> u32 {
    return ((h_in() + 2u * pad() - ksize()) / stride() + 1u) * out_w();
}

// Four consecutive elements of W2's row r from column c0; zero past r_lim or c_lim.
fn a_quad(r: u32, c0: u32, r_lim: u32, c_lim: u32) -> vec4<f32> {
    if (VEC4) {
        if (EDGE && (r >= r_lim || c0 >= c_lim)) {
            return vec4<f32>(0.0);
        }
        return a[(r * p.k + c0) / 4u];
    }
    var v = vec4<f32>(0.0);
    if (r < r_lim) {
        for (var j = 0u; j < 4u; j++) {
            if (c0 + j < c_lim) {
                let i = r * p.k + c0 + j;
                v[j] = a[i / 4u][i % 4u];
            }
        }
    }
    return v;
}

// Four consecutive columns c0.. of the implicit columns' row kk (zero past kk_lim or N·P, and
// in the padding): one (ci, ki, kj), four output pixels.
fn b_quad(kk: u32, c0: u32, kk_lim: u32, n_lim: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (kk >= kk_lim) {
        return v;
    }
    let kq = ksize() * ksize();
    let ci = kk / kq;
    let ki = (kk % kq) / ksize();
    let kj = kk % ksize();
    let c = p.geometry >> 16u;
    let P = out_p();
    for (var j = 0u; j < 4u; j++) {
        let col = c0 + j;
        if (col < n_lim) {
            let image = col / P;
            let pix = col % P;
            // Padded coordinates: ih + pad, iw + pad (never negative as u32).
            let ih = (pix / out_w()) * stride() + ki;
            let iw = (pix % out_w()) * stride() + kj;
            let inside = ih >= pad() && ih < h_in() + pad() && iw >= pad() && iw < w_in() + pad();
            if (inside) {
                v[j] = x[((image * c + ci) * h_in() + ih - pad()) * w_in() + iw - pad()];
            }
        }
    }
    return v;
}

// Four elements of C (output channel `row`, columns col..col + 4) into y's NCHW layout, with
// the channel's bias; past the edges skipped.
fn store_quad(base: u32, row: u32, col: u32, v: vec4<f32>) {
    if (EDGE && row >= p.m) {
        return;
    }
    let P = out_p();
    var b = 0.0;
    if (HAS_BIAS) {
        b = bias[row];
    }
    for (var j = 0u; j < 4u; j++) {
        let cj = col + j;
        if (!EDGE || cj < p.n) {
            y[((cj / P) * p.m + row) * P + cj % P] = v[j] + b;
        }
    }
}
