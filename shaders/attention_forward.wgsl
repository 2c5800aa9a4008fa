// The fused attention forward: for each query row i of a head, over the keys j it sees,
//   s_j = (q_i · scale) · k_j,   o_i = Σ_j softmax(s)_j v_j,   lse_i = log Σ_j e^(s_j)
// with an online softmax: a running maximum m, sum l and unnormalised o, rescaled by e^(m − m')
// when a key raises the maximum. K and V stream through workgroup memory BC rows at a time;
// for causal attention a workgroup stops at its last query's row. lse is kept for the
// backward, which recomputes the probabilities from it instead of storing T × T.

@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> o: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;

// Four elements of q's row at `base` from column c, scaled (zero past D).
fn quad_a(base: u32, c: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            x[j] = q[base + c + j] * p.scale;
        }
    }
    return x;
}

fn put_b(base: u32, c: u32, x: vec4<f32>) {
    for (var j = 0u; j < 4u; j++) {
        if (c + j < p.d) {
            o[base + c + j] = x[j];
        }
    }
}

// Rows r0.. of K into ta and of V into tb (zero past T and D).
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
fn attention_forward(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let bh = row_tile(wg, nwg);
    if (bh >= p.bh) {
        return; // a folded grid's spare workgroups: uniform, before any barrier
    }
    let q0 = wg.x * BR;
    let i = q0 + li;
    let live = i < p.t;
    let head = bh * p.t * p.d;
    if (live) {
        load_pa(head + i * p.d);
    }
    clear_pb();
    var m = LOWEST;
    var l = 0.0;
    let kend = select(p.t, min(p.t, q0 + BR), p.causal != 0u);
    let seen = keys_seen(i);
    for (var k0 = 0u; k0 < kend; k0 += BC) {
        workgroupBarrier();
        stage(li, head, k0);
        workgroupBarrier();
        let n = select(0u, rows_below(k0, seen), live);
        for (var j = 0u; j < n; j++) {
            let s = dot_pa_ta(j);
            if (s > m) {
                let c = exp(m - s);
                l *= c;
                scale_pb(c);
                m = s;
            }
            let e = exp(s - m);
            l += e;
            axpy_pb_tb(j, e);
        }
    }
    if (live) {
        store_pb(head + i * p.d, 1.0 / l);
        lse[bh * p.t + i] = m + log(l);
    }
}
