// Conv2d as implicit GEMMs, on the blocked matmul's core (blocked_core.wgsl, put after this
// file; the tile header in front). Forward (DX false):
//   Y2[out, N·P] = W2[out, CKK] · cols[CKK, N·P]   (P = Ho·Wo, CKK = C·k·k)
// where the columns are never written: `b_quad` computes each element's address in x itself
// (column j = (image, oh, ow), row kk = (ci, ki, kj): x[image, ci, oh·s + ki − pad,
// ow·s + kj − pad], zero in the padding), and `store_quad` writes C straight into y's NCHW
// layout with the bias of its output channel. The gradient of the input (DX true), a
// transposed convolution:
//   dX2[C, N·H·W] = W3[C, out·k·k] · G[out·k·k, N·H·W]
// with W3[ci, (o, ki, kj)] = W[o, ci, ki, kj] (gathered) and G[(o, ki, kj), (image, ih, iw)] =
// dy[image, o, oh, ow] where ih + pad = oh·s + ki (and the same for iw) has such an oh inside
// the output, else 0; stored straight into dx's NCHW layout. One dispatch covers every image:
// nothing is materialised, so no chunking, and no col2im gather.

struct Params {
    m: u32,         // forward: output channels; DX: input channels
    n: u32,         // forward: N · P; DX: N · H · W
    k: u32,         // forward: C · k · k; DX: out · k · k
    k_split: u32,   // K (not split)
    row_tiles: u32, // ceil(m / BM)
    splits: u32,    // 1
    hw: u32,        // h << 16 | w (the input's)
    geometry: u32,  // other << 16 | ksize << 8 | stride << 4 | pad (other: forward C, DX out)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>; // W [out, C, k, k]
@group(0) @binding(2) var<storage, read> x: array<f32>; // forward: x [N, C, H, W]; DX: dy
@group(0) @binding(3) var<storage, read> bias: array<f32>; // [out] (forward)
@group(0) @binding(4) var<storage, read_write> y: array<f32>; // forward: y; DX: dx

const TRANS_A: bool = false;
const TRANS_B: bool = false;
override DX: bool = false;
override HAS_BIAS: bool = false;
override VEC4: bool = false; // forward, CKK a multiple of 4: W2's rows are whole vec4s
override EDGE: bool = true;

fn other() -> u32 {
    return p.geometry >> 16u;
}

fn w_at(i: u32) -> f32 {
    return a[i / 4u][i % 4u];
}

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

fn out_h() -> u32 {
    return (h_in() + 2u * pad() - ksize()) / stride() + 1u;
}

fn out_p() -> u32 {
    return out_h() * out_w();
}

// Four consecutive elements of A's row r from column c0 (forward W2[r, c0..]; DX W3[r, c0..],
// gathered); zero past r_lim or c_lim.
fn a_quad(r: u32, c0: u32, r_lim: u32, c_lim: u32) -> vec4<f32> {
    if (DX) {
        var v = vec4<f32>(0.0);
        let kq = ksize() * ksize();
        for (var j = 0u; j < 4u; j++) {
            let kk = c0 + j;
            if (r < r_lim && kk < c_lim) {
                // (o, ki·k + kj) = (kk / k², kk % k²): W[o, r, ki, kj].
                v[j] = w_at(((kk / kq) * p.m + r) * kq + kk % kq);
            }
        }
        return v;
    }
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
    if (DX) {
        return g_quad(kk, c0, n_lim);
    }
    let kq = ksize() * ksize();
    let ci = kk / kq;
    let ki = (kk % kq) / ksize();
    let kj = kk % ksize();
    let c = other();
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

// DX: four consecutive columns c0.. (input pixels) of G's row kk = (o, ki, kj): dy at the
// output pixel whose window puts (ki, kj) on the input pixel, 0 where there is none.
fn g_quad(kk: u32, c0: u32, n_lim: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    let kq = ksize() * ksize();
    let o = kk / kq;
    let ki = (kk % kq) / ksize();
    let kj = kk % ksize();
    let hw = h_in() * w_in();
    for (var j = 0u; j < 4u; j++) {
        let col = c0 + j;
        if (col < n_lim) {
            let image = col / hw;
            // ih + pad − ki = oh · s, the same for columns (as i32: it may be negative).
            let dh = i32((col % hw) / w_in() + pad()) - i32(ki);
            let dw = i32(col % w_in() + pad()) - i32(kj);
            let s = i32(stride());
            let oh = dh / s;
            let ow = dw / s;
            let hit = dh >= 0 && dw >= 0 && dh % s == 0 && dw % s == 0
                && u32(oh) < out_h() && u32(ow) < out_w();
            if (hit) {
                v[j] = x[((image * other() + o) * out_h() + u32(oh)) * out_w() + u32(ow)];
            }
        }
    }
    return v;
}

// Four elements of C (row `row`, columns col..col + 4) into the output's NCHW layout: forward
// y with the channel's bias (columns are output pixels), DX dx (columns are input pixels);
// past the edges skipped.
fn store_quad(base: u32, row: u32, col: u32, v: vec4<f32>) {
    if (EDGE && row >= p.m) {
        return;
    }
    let P = select(out_p(), h_in() * w_in(), DX);
    var b = 0.0;
    if (HAS_BIAS && !DX) {
        b = bias[row];
    }
    for (var j = 0u; j < 4u; j++) {
        let cj = col + j;
        if (!EDGE || cj < p.n) {
            y[((cj / P) * p.m + row) * P + cj % P] = v[j] + b;
        }
    }
}
