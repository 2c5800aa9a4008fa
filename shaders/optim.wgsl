// Optimizer updates, in place on the parameters. One invocation per element.
//   sgd:  g' = g + wd·θ;  v = μ·v + g';  θ -= lr·v                 (PyTorch's SGD, no dampening)
//   adam: g' = g + wd·θ;  m = β1·m + (1−β1)·g';  v = β2·v + (1−β2)·g'²;
//         θ -= lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)      (bias-corrected, as PyTorch)
//   accumulate: acc += x                                            (running sums, e.g. of losses)

struct Params {
    n: u32,
    lr: f32,
    beta1: f32,       // sgd: momentum
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

// Invocations per workgroup: set by the host from the kernel's declaration (the one place it
// is written; launches work out their grids from it).
override WG: u32;

fn index(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

@compute @workgroup_size(WG, 1, 1)
fn sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let i = index(wg, nwg, li);
    if (i >= p.n) {
        return;
    }
    let grad = g[i] + p.weight_decay * theta[i];
    let vel = p.beta1 * m[i] + grad;
    m[i] = vel;
    theta[i] = theta[i] - p.lr * vel;
}

@compute @workgroup_size(WG, 1, 1)
fn adam(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let i = index(wg, nwg, li);
    if (i >= p.n) {
        return;
    }
    let grad = g[i] + p.weight_decay * theta[i];
    let m1 = p.beta1 * m[i] + (1.0 - p.beta1) * grad;
    let v1 = p.beta2 * v[i] + (1.0 - p.beta2) * grad * grad;
    m[i] = m1;
    v[i] = v1;
    theta[i] = theta[i] - p.lr * (m1 * p.correction1) / (sqrt(v1 * p.correction2) + p.eps);
}

@compute @workgroup_size(WG, 1, 1)
fn accumulate(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let i = index(wg, nwg, li);
    if (i >= p.n) {
        return;
    }
    theta[i] = theta[i] + g[i];
}
