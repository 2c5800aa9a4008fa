// AdamW, in place on one parameter, its gradient scaled by the clipping factor that
// `grad_norm.wgsl` left on the GPU (no readback per step):
//   adamw:      g' = clip[0] · g;  θ −= lr · wd · θ (decoupled decay);  m = β1 m + (1 − β1) g';
//               v = β2 v + (1 − β2) g'²;  θ −= lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)

struct Params {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    correction1: f32, // 1 / (1 − β1ᵗ)
    correction2: f32, // 1 / (1 − β2ᵗ)
    weight_decay: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> theta: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> clip: array<f32>;

// Invocations per workgroup: set by the host from the kernel's declaration.
override WG: u32;

@compute @workgroup_size(WG, 1, 1)
fn adamw(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = group_1d(wg, nwg) * WG + li;
    if (i >= p.n) {
        return;
    }
    let grad = g[i] * clip[0];
    let t = theta[i] * (1.0 - p.lr * p.weight_decay);
    let m1 = p.beta1 * m[i] + (1.0 - p.beta1) * grad;
    let v1 = p.beta2 * v[i] + (1.0 - p.beta2) * grad * grad;
    m[i] = m1;
    v[i] = v1;
    theta[i] = t - p.lr * (m1 * p.correction1) / (sqrt(v1 * p.correction2) + p.eps);
}
