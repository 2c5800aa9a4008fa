// Sliding windows of `k` taps, `stride` apart, over one axis (convolutions, poolings): the
// windows that cover position `pos` (pos counted from the start of the first window, padding
// included), as [first, end) over `count` windows. Window o covers pos when
// o·stride ≤ pos < o·stride + k: o from ⌈(pos − k + 1)/stride⌉ (0 when that is negative) to
// ⌊pos/stride⌋, and below `count`; empty when first ≥ end.
fn covering(pos: u32, k: u32, stride: u32, count: u32) -> vec2<u32> {
    var first = 0u;
    if (pos + 1u > k) {
        first = (pos + 1u - k + stride - 1u) / stride;
    }
    return vec2<u32>(first, min(pos / stride + 1u, count));
}
