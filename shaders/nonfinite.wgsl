// Shared by the softmax kernels (softmax.wgsl, softmax_chunked.wgsl, softmax_regs.wgsl), which
// the registry builds with this file in front: +inf and NaN by their bits, tested on the bits,
// which no fast-math rewrite can fold away.

const INF_BITS: u32 = 0x7f800000u;
const NAN_BITS: u32 = 0x7fc00000u;

// +inf and a quiet NaN as runtime values: WGSL (Tint) rejects a constant expression whose value
// is not a finite f32, as `bitcast<f32>(INF_BITS)` would be; a `let` is not one.
fn inf_f32() -> f32 {
    let bits = INF_BITS;
    return bitcast<f32>(bits);
}

fn nan_f32() -> f32 {
    let bits = NAN_BITS;
    return bitcast<f32>(bits);
}

// True for NaN and +inf: the values that make a row's softmax NaN.
fn poisons(v: f32) -> bool {
    return bitcast<u32>(v) >= INF_BITS && bitcast<u32>(v) < 0x80000000u;
}
