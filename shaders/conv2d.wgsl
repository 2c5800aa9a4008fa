// Conv2d lowered to the matmul (NCHW, f32; PyTorch's output size, dilation 1, groups 1), for
// `images` images starting at image `first` of x [N, C, H, W], a k×k kernel, stride s and zero
// padding p. With Ho = (H + 2p − k)/s + 1, Wo likewise, P = Ho·Wo, CKK = C·k·k and CKK4 = CKK
// rounded up to a multiple of 4 (rows of whole vec4s, which the fast matmul kernels need):
//
//   im2col     cols[n·P + oh·Wo + ow, c·k·k + i·k + j] = x[first + n, c, oh·s − p + i, ow·s − p + j]
//              (0 where that falls in the padding, and in the columns past CKK); rows of CKK4,
//              or with TRANSPOSED colsᵀ [CKK4, images·P] (the forward's layout)
//   col2im     dx[first + n, c, y, x] = Σ dcols[n·P + oh·Wo + ow, c·k·k + i·k + j] over the (oh, ow,
//              i, j) with oh·s − p + i = y and ow·s − p + j = x: a gather, so no atomics and
//              the same sum order every run
//   to_nchw    y[first + n, o, q] = rows[n·P + q, o] (+ bias[o]): the matmul's rows into NCHW
//              (here c = the output channels, h = Ho, w = Wo); with TRANSPOSED from
//              rowsᵀ[o, n·P + q]
//   from_nchw  rows[n·P + q, o] = dy[first + n, o, q]: the inverse, for the backward; with
//              TRANSPOSED, rowsᵀ[o, n·P + q] (so that dW = dyᵀ·cols is a product without a
//              transposed operand, which some kernels run far slower)
//   jacobian   J[(n, o, oh, ow), (n', c, y, x)] = δ(n, n')·W[o, c, y − oh·s + p, x − ow·s + p]
//              (0 outside the kernel); `first` holds the output channels there
//   pad_weights   w4[o, col] = W[o, col] for col < CKK, else 0: [out, CKK4] (`first` = out)
//   unpad_weights dW[o, col] = dw4[o, col] for col < CKK: [out, CKK] (`first` = out)

struct Params {
    images: u32,
    first: u32,
    c: u32,
    h: u32,
    w: u32,
    k: u32,
    stride: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;

override HAS_BIAS: bool = false;
override TRANSPOSED: bool = false;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

fn out_h() -> u32 {
    return (p.h + 2u * p.pad - p.k) / p.stride + 1u;
}

fn out_w() -> u32 {
    return (p.w + 2u * p.pad - p.k) / p.stride + 1u;
}

// C·k·k rounded up to a multiple of 4: the row length of the columns.
fn ckk4() -> u32 {
    return (p.c * p.k * p.k + 3u) & ~3u;
}

fn item(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

// One invocation per (column row, input channel): its k·k columns (and, for the last channel,
// the zero columns past CKK). The index arithmetic, integer divisions that CPU devices run lane
// by lane, is done once per k·k elements. Rows [images·P, CKK4], each invocation writing a
// contiguous run; TRANSPOSED, colsᵀ [CKK4, images·P], neighbouring invocations writing
// neighbouring elements.
@compute @workgroup_size(WG, 1, 1)
fn im2col(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let wo = out_w();
    let plane_out = out_h() * wo;
    let rows = p.images * plane_out;
    let t = item(wg, nwg, li);
    if (t >= rows * p.c) {
        return;
    }
    var row = t / p.c;
    var c = t % p.c;
    // Element e of this row's columns is at at + e·step.
    var step = 1u;
    if (TRANSPOSED) {
        row = t % rows;
        c = t / rows;
        step = rows;
    }
    let n = row / plane_out;
    let q = row % plane_out;
    // Unsigned: a position in the padding wraps around to a huge value and fails the test.
    let y0 = (q / wo) * p.stride - p.pad;
    let x0 = (q % wo) * p.stride - p.pad;
    let src_plane = ((p.first + n) * p.c + c) * p.h * p.w;
    var col = c * p.k * p.k;
    var at = row * ckk4() + col;
    if (TRANSPOSED) {
        at = col * rows + row;
    }
    for (var i = 0u; i < p.k; i++) {
        let y = y0 + i;
        for (var j = 0u; j < p.k; j++) {
            let x = x0 + j;
            var v = 0.0;
            if (y < p.h && x < p.w) {
                v = src[src_plane + y * p.w + x];
            }
            dst[at] = v;
            at += step;
        }
    }
    if (c + 1u == p.c) {
        for (col += p.k * p.k; col < ckk4(); col++) {
            dst[at] = 0.0;
            at += step;
        }
    }
}

// One invocation per input element: the sum over the outputs whose windows cover it, their
// ranges worked out once (two divisions per axis) rather than tested for every kernel tap.
@compute @workgroup_size(WG, 1, 1)
fn col2im(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ho = out_h();
    let wo = out_w();
    let kk = p.k * p.k;
    let width = ckk4();
    let t = item(wg, nwg, li);
    let plane = p.h * p.w;
    if (t >= p.images * p.c * plane) {
        return;
    }
    let n = t / (p.c * plane);
    let c = (t / plane) % p.c;
    let y = (t % plane) / p.w;
    let x = t % p.w;
    let rows = covering(y + p.pad, p.k, p.stride, ho);
    let cols = covering(x + p.pad, p.k, p.stride, wo);
    var sum = 0.0;
    for (var oh = rows.x; oh < rows.y; oh++) {
        let i = y + p.pad - oh * p.stride;
        let base = (n * ho + oh) * wo;
        for (var ow = cols.x; ow < cols.y; ow++) {
            let j = x + p.pad - ow * p.stride;
            sum += src[(base + ow) * width + c * kk + i * p.k + j];
        }
    }
    dst[((p.first + n) * p.c + c) * plane + y * p.w + x] = sum;
}

// One invocation per matmul row (image n, position q): its p.c outputs, read from the row
// (TRANSPOSED: from the row's column of rowsᵀ [p.c, images·P]) and written one plane apart, so
// neighbouring invocations write neighbouring elements.
@compute @workgroup_size(WG, 1, 1)
fn to_nchw(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let plane = p.h * p.w;
    let rows = p.images * plane;
    let row = item(wg, nwg, li);
    if (row >= rows) {
        return;
    }
    let n = row / plane;
    let q = row % plane;
    let base = (p.first + n) * p.c * plane + q;
    for (var o = 0u; o < p.c; o++) {
        var v: f32;
        if (TRANSPOSED) {
            v = src[o * rows + row];
        } else {
            v = src[row * p.c + o];
        }
        if (HAS_BIAS) {
            v += bias[o];
        }
        dst[base + o * plane] = v;
    }
}

// The inverse, one invocation per matmul row as well: reads one plane apart, writes the row
// (or, TRANSPOSED, the row's column of rowsᵀ: neighbouring invocations, neighbouring elements).
@compute @workgroup_size(WG, 1, 1)
fn from_nchw(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let plane = p.h * p.w;
    let rows = p.images * plane;
    let row = item(wg, nwg, li);
    if (row >= rows) {
        return;
    }
    let n = row / plane;
    let q = row % plane;
    let base = (p.first + n) * p.c * plane + q;
    for (var o = 0u; o < p.c; o++) {
        let v = src[base + o * plane];
        if (TRANSPOSED) {
            dst[o * rows + row] = v;
        } else {
            dst[row * p.c + o] = v;
        }
    }
}

@compute @workgroup_size(WG, 1, 1)
fn conv_jacobian(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ho = out_h();
    let wo = out_w();
    let outs = p.first;
    let cols = p.images * p.c * p.h * p.w;
    let t = item(wg, nwg, li);
    if (t >= p.images * outs * ho * wo * cols) {
        return;
    }
    let r = t / cols;
    let q = t % cols;
    let n = r / (outs * ho * wo);
    let o = (r / (ho * wo)) % outs;
    let oh = (r % (ho * wo)) / wo;
    let ow = r % wo;
    let n2 = q / (p.c * p.h * p.w);
    let c = (q / (p.h * p.w)) % p.c;
    let y = (q % (p.h * p.w)) / p.w;
    let x = q % p.w;
    // i = y − oh·s + p, j = x − ow·s + p, unsigned: out of [0, k) fails the test.
    let i = y + p.pad - oh * p.stride;
    let j = x + p.pad - ow * p.stride;
    var v = 0.0;
    if (n == n2 && y + p.pad >= oh * p.stride && x + p.pad >= ow * p.stride && i < p.k && j < p.k) {
        v = src[((o * p.c + c) * p.k + i) * p.k + j];
    }
    dst[t] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn pad_weights(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let width = ckk4();
    let ckk = p.c * p.k * p.k;
    let t = item(wg, nwg, li);
    if (t >= p.first * width) {
        return;
    }
    let o = t / width;
    let col = t % width;
    var v = 0.0;
    if (col < ckk) {
        v = src[o * ckk + col];
    }
    dst[t] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn unpad_weights(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ckk = p.c * p.k * p.k;
    let t = item(wg, nwg, li);
    if (t >= p.first * ckk) {
        return;
    }
    dst[t] = src[(t / ckk) * ckk4() + t % ckk];
}
