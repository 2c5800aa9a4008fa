// Shared by the matmul kernels with a ReLU epilogue (`matmul_blocked.wgsl`,
// `matmul_split.wgsl`, `matmul_texture.wgsl`), which the registry builds as this file followed
// by their own.

// x where x > 0 or x is NaN, else +0: the ReLU of `relu.wgsl`, decided on the bits.
fn relu(x: f32) -> f32 {
    let m = bitcast<u32>(x) & 0x7fffffffu;
    let positive = (bitcast<u32>(x) & 0x80000000u) == 0u && m != 0u;
    if (positive || m > 0x7f800000u) {
        return x;
    }
    return 0.0;
}
