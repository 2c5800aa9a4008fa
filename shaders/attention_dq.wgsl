// The fused attention backward, part one: dq, and the row terms the second part needs. For
// each query row i, with p_ij = e^(s_ij − lse_i) recomputed from the forward's lse:
//   delta_i = dO_i · o_i,   dq_i = scale · Σ_j p_ij (dO_i · v_j − delta_i) k_j
// K and V stream through workgroup memory as in the forward. No atomics: each invocation owns
// its row of dq, and dk, dv come from `attention_dkv.wgsl`, which owns rows of keys.

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> o: array<f32>;
@group(0) @binding(5) var<storage, read> d_o: array<f32>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> delta: array<f32>;
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;

fn quad_a(base: u32, c: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            x[j] = q[base + c + j] * p.scale;
        }
    }
    return x;
}

fn quad_b(base: u32, c: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            x[j] = d_o[base + c + j];
        }
    }
    return x;
}

fn quad_o(base: u32, c: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            x[j] = o[base + c + j];
        }
    }
    return x;
}

fn put_c(base: u32, c: u32, x: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            dq[base + c + j] = x[j];
        }
    }
}

fn stage(li: u32, head: u32, r0: u32) {
    for (var e = li; e < BC * DM; e += BR) {
        let r = e / DM;
        let c = e % DM;
        var x = 0.0;
        var y = 0.0;
        if (r0 + r < p.t && c < p.d) {
            let at = head + (r0 + r) * p.d + c;
            x = k[at];
            y = v[at];
        }
        ta[tile_slot(r, c)][c % 4u] = x;
        tb[tile_slot(r, c)][c % 4u] = y;
    }
}

@compute @workgroup_size(64, 1, 1)
fn attention_dq(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let bh = row_tile(wg, nwg);
    if (bh >= p.bh) {
        return;
    }
    let q0 = wg.x * BR;
    let i = q0 + li;
    let live = i < p.t;
    let head = bh * p.t * p.d;
    var di = 0.0;
    var lse_i = 0.0;
    if (live) {
        load_pa(head + i * p.d);
        load_pb(head + i * p.d);
        di = delta_of(head + i * p.d);
        delta[bh * p.t + i] = di;
        lse_i = lse[bh * p.t + i];
    }
    clear_pc();
    let kend = select(p.t, min(p.t, q0 + BR), p.causal != 0u);
    let seen = keys_seen(i);
    for (var k0 = 0u; k0 < kend; k0 += BC) {
        workgroupBarrier();
        stage(li, head, k0);
        workgroupBarrier();
        let n = select(0u, rows_below(k0, seen), live);
        for (var j = 0u; j < n; j++) {
            let pij = exp(dot_pa_ta(j) - lse_i);
            let ds = pij * (dot_pb_tb(j) - di);
            axpy_pc_ta(j, ds);
        }
    }
    if (live) {
        store_pc(head + i * p.d, p.scale);
    }
}
