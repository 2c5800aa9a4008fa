// Shared by the LayerNorm kernels (layernorm.wgsl, layernorm_subgroup.wgsl), which the
// registry builds with this file in front: the scaling that keeps a row's sums from
// overflowing.

// 2^40: rows above it are scaled (below it no difference passes 2^41, no Σd² 2^128).
const BIG: f32 = 1099511627776.0;
const SMALLEST_NORMAL: f32 = 1.1754943508222875e-38;

// The power of two that brings `amax` (finite, > BIG) to [1, 2) — [2, 4) for amax ≥ 2^127,
// where that power would be subnormal: 2^max(127 − e, −126), from the bits.
fn scale_of(amax: f32) -> f32 {
    let e = (bitcast<u32>(amax) >> 23u) & 0xffu;
    return bitcast<f32>(max(254u - e, 1u) << 23u);
}
