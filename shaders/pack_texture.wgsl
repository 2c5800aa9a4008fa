// Packing for the texture matmul (`matmul_texture.wgsl`): one operand into rgba32float texels.
//
//   L = S (stored rows × cols), or Sᵀ when TRANS (S stored cols × rows);
//   texel t = r · quads + q holds L[r][4q .. 4q + 4], zero past L's columns and past its
//   `rows` (up to `padded_rows`); texel t lives at (t % 4096, t / 4096) of the texture.
//
// One invocation per texel. On llvmpipe a storage-buffer load is a loop over the SIMD lanes
// while a texel fetch is a straight gather, so the product reads each element through a
// texture many times and through a buffer once, here.

struct Params {
    rows: u32,
    cols: u32,
    quads: u32,
    padded_rows: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var packed: texture_storage_2d<rgba32float, write>;

override TRANS: bool = false;

// The texture's width in texels (a power of two: the index splits by shift and mask).
const WIDTH_SHIFT: u32 = 12u;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

@compute @workgroup_size(WG)
fn pack_texture(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let t = group_1d(wg, nwg) * WG + li;
    if (t >= p.padded_rows * p.quads) {
        return;
    }
    let r = t / p.quads;
    let c0 = (t % p.quads) * 4u;
    var v = vec4<f32>(0.0);
    if (r < p.rows) {
        for (var e = 0u; e < 4u; e++) {
            let c = c0 + e;
            if (c < p.cols) {
                if (TRANS) {
                    v[e] = s[c * p.rows + r];
                } else {
                    v[e] = s[r * p.cols + c];
                }
            }
        }
    }
    let width = 1u << WIDTH_SHIFT;
    textureStore(packed, vec2<u32>(t & (width - 1u), t >> WIDTH_SHIFT), v);
}
