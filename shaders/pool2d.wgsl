// 2-D pooling over `planes` = N·C planes of h×w (NCHW), k×k windows, stride s, no padding:
// Ho = (h − k)/s + 1, Wo likewise.
//
//   max_forward    y = the window's maximum; arg = its index in the window, i·k + j (as an f32,
//                  exact): the first maximum in row-major order, or the first NaN (a window
//                  with a NaN gives NaN, as in PyTorch)
//   max_backward   dx[y, x] = Σ dy over the windows whose arg is (y, x): a gather over the
//                  windows that contain (y, x), so overlapping windows need no atomics
//   avg_forward    y = the window's mean;  avg_backward  dx[y, x] = Σ dy / k² over them
//   *_jacobian     J[(plane, oh, ow), (plane', y, x)]: 1 at the arg (max), 1/k² in the window
//                  (avg), 0 elsewhere

struct Params {
    planes: u32,
    h: u32,
    w: u32,
    k: u32,
    stride: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<f32>;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

fn out_h() -> u32 {
    return (p.h - p.k) / p.stride + 1u;
}

fn out_w() -> u32 {
    return (p.w - p.k) / p.stride + 1u;
}

fn item(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

// NaN from the bits (fast math on GL and Metal may fold `v != v` away).
fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// 1 / (the power of two at or above k²): sums of values each scaled by it cannot overflow,
// and scaling by a power of two is exact, so sum / (k² · it) rounds as sum / k² would.
fn avg_prescale() -> f32 {
    let e = 32u - countLeadingZeros(p.k * p.k - 1u);
    return bitcast<f32>((127u - e) << 23u);
}

// Output `t`'s plane and the top-left corner (row, column) of its window.
fn window_of(t: u32) -> vec3<u32> {
    let ho = out_h();
    let wo = out_w();
    return vec3<u32>(t / (ho * wo), ((t / wo) % ho) * p.stride, (t % wo) * p.stride);
}

@compute @workgroup_size(WG, 1, 1)
fn max_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ho = out_h();
    let wo = out_w();
    let t = item(wg, nwg, li);
    if (t >= p.planes * ho * wo) {
        return;
    }
    let win = window_of(t);
    let oy = win.y;
    let ox = win.z;
    let base = win.x * p.h * p.w;
    var best = src[base + oy * p.w + ox];
    var at = 0u;
    for (var i = 0u; i < p.k; i++) {
        for (var j = 0u; j < p.k; j++) {
            let v = src[base + (oy + i) * p.w + ox + j];
            if (!is_nan(best) && (is_nan(v) || v > best)) {
                best = v;
                at = i * p.k + j;
            }
        }
    }
    dst[t] = best;
    arg[t] = f32(at);
}

@compute @workgroup_size(WG, 1, 1)
fn max_backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ho = out_h();
    let wo = out_w();
    let t = item(wg, nwg, li);
    if (t >= p.planes * p.h * p.w) {
        return;
    }
    let plane = t / (p.h * p.w);
    let y = (t / p.w) % p.h;
    let x = t % p.w;
    let rows = covering(y, p.k, p.stride, ho);
    let cols = covering(x, p.k, p.stride, wo);
    var sum = 0.0;
    for (var oh = rows.x; oh < rows.y; oh++) {
        for (var ow = cols.x; ow < cols.y; ow++) {
            let o = (plane * ho + oh) * wo + ow;
            let local = (y - oh * p.stride) * p.k + (x - ow * p.stride);
            if (u32(arg[o]) == local) {
                sum += src[o];
            }
        }
    }
    dst[t] = sum;
}

@compute @workgroup_size(WG, 1, 1)
fn avg_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ho = out_h();
    let wo = out_w();
    let t = item(wg, nwg, li);
    if (t >= p.planes * ho * wo) {
        return;
    }
    let win = window_of(t);
    let oy = win.y;
    let ox = win.z;
    let base = win.x * p.h * p.w;
    var sum = 0.0;
    for (var i = 0u; i < p.k; i++) {
        for (var j = 0u; j < p.k; j++) {
            sum += src[base + (oy + i) * p.w + ox + j] * avg_prescale();
        }
    }
    dst[t] = sum / (f32(p.k * p.k) * avg_prescale());
}

@compute @workgroup_size(WG, 1, 1)
fn avg_backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let ho = out_h();
    let wo = out_w();
    let t = item(wg, nwg, li);
    if (t >= p.planes * p.h * p.w) {
        return;
    }
    let plane = t / (p.h * p.w);
    let rows = covering((t / p.w) % p.h, p.k, p.stride, ho);
    let cols = covering(t % p.w, p.k, p.stride, wo);
    var sum = 0.0;
    for (var oh = rows.x; oh < rows.y; oh++) {
        for (var ow = cols.x; ow < cols.y; ow++) {
            sum += src[(plane * ho + oh) * wo + ow] * avg_prescale();
        }
    }
    dst[t] = sum / (f32(p.k * p.k) * avg_prescale());
}

// Where input element q lies in output r's window: its index i·k + j there, or k·k when it
// is outside (another plane, or not in the window).
fn local_in_window(r: u32, q: u32) -> u32 {
    let win = window_of(r);
    let plane = win.x;
    let oy = win.y;
    let ox = win.z;
    let plane2 = q / (p.h * p.w);
    let y = (q / p.w) % p.h;
    let x = q % p.w;
    // Unsigned: positions before the window wrap around and fail the test.
    let i = y - oy;
    let j = x - ox;
    if (plane != plane2 || y < oy || x < ox || i >= p.k || j >= p.k) {
        return p.k * p.k;
    }
    return i * p.k + j;
}

@compute @workgroup_size(WG, 1, 1)
fn max_jacobian(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let rows = p.planes * out_h() * out_w();
    let cols = p.planes * p.h * p.w;
    let t = item(wg, nwg, li);
    if (t >= rows * cols) {
        return;
    }
    let r = t / cols;
    let local = local_in_window(r, t % cols);
    dst[t] = select(0.0, 1.0, local < p.k * p.k && u32(arg[r]) == local);
}

@compute @workgroup_size(WG, 1, 1)
fn avg_jacobian(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let rows = p.planes * out_h() * out_w();
    let cols = p.planes * p.h * p.w;
    let t = item(wg, nwg, li);
    if (t >= rows * cols) {
        return;
    }
    let local = local_in_window(t / cols, t % cols);
    dst[t] = select(0.0, 1.0 / f32(p.k * p.k), local < p.k * p.k);
}
