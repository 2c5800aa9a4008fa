// The global norm of many gradients, and the clipping factor from it, without a readback:
//   sumsq:      partial[offset + chunk] = Σ g² over chunk `chunk` (CHUNK elements) of one gradient
//   clip_scale: norm = √(Σ of `count` partials);  out = (min(1, max_norm / (norm + 1e-6)), norm)
// The partials are summed in a fixed order, so the norm is the same bits every run.

struct Params {
    n: u32,        // sumsq: the gradient's elements
    offset: u32,   // sumsq: where its partials start
    count: u32,    // clip_scale: partials in all
    max_norm: f32, // clip_scale
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;

const CHUNK: u32 = 4096u; // 16 elements per invocation

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn sumsq(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let chunk = group_1d(wg, nwg);
    let start = chunk * CHUNK;
    var s = 0.0;
    for (var i = start + li; i < min(start + CHUNK, p.n); i += 256u) {
        s += src[i] * src[i];
    }
    partial[li] = s;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half >>= 1u) {
        if (li < half) {
            partial[li] += partial[li + half];
        }
        workgroupBarrier();
    }
    if (li == 0u && start < p.n) {
        dst[p.offset + chunk] = partial[0];
    }
}

// One invocation: src holds the partials.
@compute @workgroup_size(1, 1, 1)
fn clip_scale() {
    var s = 0.0;
    for (var i = 0u; i < p.count; i++) {
        s += src[i];
    }
    let norm = sqrt(s);
    dst[0] = min(1.0, p.max_norm / (norm + 1e-6));
    dst[1] = norm;
}
