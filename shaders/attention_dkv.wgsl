// The fused attention backward, part two: dk and dv. For each key row j, over the queries i
// that see it (i ≥ j when causal), with p_ij = e^(s_ij − lse_i) and delta_i from part one:
//   dv_j = Σ_i p_ij dO_i,   dk_j = Σ_i p_ij (dO_i · v_j − delta_i) (scale · q_i)
// Q (scaled, as the forward scaled it, so s_ij is the forward's to the bit) and dO stream
// through workgroup memory; each invocation owns its rows of dk and dv.

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> d_o: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;

fn quad_a(base: u32, c: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            x[j] = k[base + c + j];
        }
    }
    return x;
}

fn quad_b(base: u32, c: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            x[j] = v[base + c + j];
        }
    }
    return x;
}

fn put_c(base: u32, c: u32, x: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            dk[base + c + j] = x[j];
        }
    }
}

fn put_d(base: u32, c: u32, x: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            dv[base + c + j] = x[j];
        }
    }
}

// Rows r0.. of Q (scaled) into ta and of dO into tb.
fn stage(li: u32, head: u32, r0: u32) {
    for (var e = li; e < BC * DM; e += BR) {
        let r = e / DM;
        let c = e % DM;
        var x = 0.0;
        var y = 0.0;
        if (r0 + r < p.t && c < p.d) {
            let at = head + (r0 + r) * p.d + c;
            x = q[at] * p.scale;
            y = d_o[at];
        }
        ta[tile_slot(r, c)][c % 4u] = x;
        tb[tile_slot(r, c)][c % 4u] = y;
    }
}

@compute @workgroup_size(64, 1, 1)
fn attention_dkv(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let bh = row_tile(wg, nwg);
    if (bh >= p.bh) {
        return;
    }
    let k0 = wg.x * BR;
    let j = k0 + li;
    let live = j < p.t;
    let head = bh * p.t * p.d;
    if (live) {
        load_pa(head + j * p.d);
        load_pb(head + j * p.d);
    }
    clear_pc();
    clear_pd();
    // Causal: no query before the workgroup's first key sees any of its keys.
    let first = select(0u, k0, p.causal != 0u);
    for (var q0 = first; q0 < p.t; q0 += BC) {
        workgroupBarrier();
        stage(li, head, q0);
        workgroupBarrier();
        let n = select(0u, rows_below(q0, p.t), live);
        for (var r = 0u; r < n; r++) {
            let i = q0 + r;
            if (p.causal != 0u && i < j) {
                continue;
            }
            let row = bh * p.t + i;
            let pij = exp(dot_pa_ta(r) - lse[row]);
            axpy_pd_tb(r, pij);
            let ds = pij * (dot_pb_tb(r) - delta[row]);
            axpy_pc_ta(r, ds);
        }
    }
    if (live) {
        store_pc(head + j * p.d, 1.0);
        store_pd(head + j * p.d, 1.0);
    }
}
