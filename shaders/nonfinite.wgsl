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

// A row's non-finite state travels as integer flags, never as an inf or NaN value that a
// fast-math compiler (Metal's, GL's) may assume away: each element contributes `row_flag`,
// the reductions OR them, and a bad row's outputs are NaN chosen on the bits (`nan_if`).
const NEG_INF_BITS: u32 = 0xff800000u;
const FLAG_POISON: u32 = 1u; // a NaN or +inf in the row
const FLAG_LIVE: u32 = 2u; // an element above -inf (a row of -inf alone has no softmax)

fn row_flag(v: f32) -> u32 {
    return select(0u, FLAG_POISON, poisons(v)) | select(0u, FLAG_LIVE, bitcast<u32>(v) != NEG_INF_BITS);
}

// Softmax and cross-entropy: NaN and +inf poison a row; so does a row of -inf only.
fn softmax_bad(flags: u32) -> bool {
    return (flags & FLAG_POISON) != 0u || (flags & FLAG_LIVE) == 0u;
}

// v, or NaN where `bad`, selected in the integer domain.
fn nan_if(v: f32, bad: bool) -> f32 {
    return bitcast<f32>(select(bitcast<u32>(v), NAN_BITS, bad));
}

// max() that a poisoned value cannot reach: it enters as LOWEST (finite), its poison is in the
// flags.
fn finite_or_lowest(v: f32) -> f32 {
    return select(v, LOWEST_F32, poisons(v));
}

const LOWEST_F32: f32 = -3.4028234663852886e+38;

// poisons() per lane of a vec4.
fn poisons4(v: vec4<f32>) -> vec4<bool> {
    let b = bitcast<vec4<u32>>(v);
    return (b >= vec4<u32>(INF_BITS)) & (b < vec4<u32>(0x80000000u));
}
