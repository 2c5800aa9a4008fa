// Shared by the row kernels (softmax.wgsl, loss.wgsl, layernorm.wgsl), which the registry
// builds as this file followed by their own: 256-wide workgroup reductions through workgroup
// memory. Every invocation of the workgroup must call them (they hold barriers), and all get
// the result.

const WG: u32 = 256u;
const LOWEST: f32 = -3.4028234663852886e+38; // -f32::MAX exactly (Tint rejects a literal past it)

var<workgroup> scratch: array<f32, WG>;

fn reduce_max(li: u32, v: f32) -> f32 {
    return reduce(li, v, true);
}

fn reduce_sum(li: u32, v: f32) -> f32 {
    return reduce(li, v, false);
}

fn reduce(li: u32, v: f32, is_max: bool) -> f32 {
    scratch[li] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) {
            let other = scratch[li + s];
            scratch[li] = select(scratch[li] + other, max(scratch[li], other), is_max);
        }
        workgroupBarrier();
    }
    let r = scratch[0];
    workgroupBarrier();
    return r;
}

// The OR of every invocation's flags (a row's non-finite state, nonfinite.wgsl), through one
// workgroup atomic (the crate compiles pipelines without zeroing workgroup memory, so the
// first invocation clears it). Called once per workgroup.
var<workgroup> flags_acc: atomic<u32>;

fn reduce_flags(li: u32, f: u32) -> u32 {
    if (li == 0u) {
        atomicStore(&flags_acc, 0u);
    }
    workgroupBarrier();
    if (f != 0u) {
        atomicOr(&flags_acc, f);
    }
    workgroupBarrier();
    return atomicLoad(&flags_acc);
}
