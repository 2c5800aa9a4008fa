// ReLU, element-wise on vec4s (tensor buffers are padded to whole vec4s).
//   forward:  y = x where x > 0, else 0        (NaN stays NaN: only x <= 0 becomes 0)
//   backward: dx = dy where x > 0, else 0      (ReLU'(0) = 0; ReLU'(NaN) = 0)

struct Params {
    n4: u32,  // number of vec4s
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

const WG: u32 = 256u;

fn index(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * WG + li;
}

@compute @workgroup_size(256, 1, 1)
fn relu_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = index(wg, nwg, li);
    if (i >= p.n4) {
        return;
    }
    let v = x[i];
    out[i] = select(v, vec4<f32>(0.0), v <= vec4<f32>(0.0));
}

@compute @workgroup_size(256, 1, 1)
fn relu_backward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = index(wg, nwg, li);
    if (i >= p.n4) {
        return;
    }
    out[i] = select(vec4<f32>(0.0), g[i], x[i] > vec4<f32>(0.0));
}
