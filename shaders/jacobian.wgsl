// Explicit Jacobians J[p, q] = ∂out_p / ∂in_q, one invocation per element of the
// (rows, cols) matrix, row-major. The backward pass through them is dL/din = dL/dout · J,
// run by the matmul kernel.
//   softmax:   block-diagonal, per row of the input: diag(y) - y·yᵀ          (a = row length)
//   relu:      diag(x > 0)
//   linear ∂Y/∂X: J[(i,j),(k,l)] = δ_ik · W[l, j]        Y (B, N), X (B, K)  (a = N, b = K)
//   linear ∂Y/∂W: J[(i,j),(k,l)] = X[i, k] · δ_jl        W (K, N)            (a = N, b = K)
//   linear ∂Y/∂b: J[(i,j), l]    = δ_jl                  b (N)               (a = N)

struct Params {
    rows: u32,
    cols: u32,
    a: u32,
    b: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> jac: array<f32>;

// Invocations per workgroup: set by the host from the kernel's declaration (the one place it
// is written; launches work out their grids from it).
override WG: u32;

// The element this invocation owns (past rows · cols when it owns none).
fn element(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return group_1d(wg, nwg) * WG + li;
}

@compute @workgroup_size(WG, 1, 1)
fn softmax_jacobian(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let idx = element(wg, nwg, li);
    if (idx >= p.rows * p.cols) {
        return;
    }
    let r = idx / p.cols;
    let q = idx % p.cols;
    var v = 0.0;
    if (r / p.a == q / p.a) {
        v = -src[r] * src[q];
        if (r == q) {
            v = src[r] * (1.0 - src[r]);
        }
    }
    jac[idx] = v;
}

@compute @workgroup_size(WG, 1, 1)
fn linear_dx_jacobian(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let idx = element(wg, nwg, li);
    if (idx >= p.rows * p.cols) {
        return;
    }
    let r = idx / p.cols;
    let q = idx % p.cols;
    let i = r / p.a;
    let j = r % p.a;
    let k = q / p.b;
    let l = q % p.b;
    jac[idx] = select(0.0, src[l * p.a + j], i == k);
}

@compute @workgroup_size(WG, 1, 1)
fn linear_dw_jacobian(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let idx = element(wg, nwg, li);
    if (idx >= p.rows * p.cols) {
        return;
    }
    let r = idx / p.cols;
    let q = idx % p.cols;
    let i = r / p.a;
    let j = r % p.a;
    let k = q / p.a;
    let l = q % p.a;
    jac[idx] = select(0.0, src[i * p.b + k], j == l);
}

@compute @workgroup_size(WG, 1, 1)
fn linear_db_jacobian(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let idx = element(wg, nwg, li);
    if (idx >= p.rows * p.cols) {
        return;
    }
    let r = idx / p.cols;
    let q = idx % p.cols;
    jac[idx] = select(0.0, 1.0, r % p.a == q);
}
