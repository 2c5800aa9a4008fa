// `sum_all` through subgroups, for devices with SUBGROUP: each 256-wide workgroup adds a block
// of 4,096 elements (16 per lane, as `sum_tree` in `reduce.wgsl`), then each subgroup its
// lanes with `subgroupAdd` — whatever the subgroup size, 4 to 128 (`subgroup_id` and
// `num_subgroups` come from the device) — and the first lane the subgroups' partials, in
// order: one barrier where the workgroup-memory tree takes eight. Repeated over the partials
// by the host until one is left.

struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;
const PER_LANE: u32 = 16u;

// One partial per subgroup (a subgroup has at least one lane).
var<workgroup> partials: array<f32, WG>;

@compute @workgroup_size(256)
fn sum_subgroup(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(subgroup_id) sg: u32,
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(num_subgroups) count: u32,
) {
    let g = group_1d(wg, nwg);
    let block = WG * PER_LANE;
    if (g >= (p.n + block - 1u) / block) {
        return;
    }
    var s = 0.0;
    for (var i = 0u; i < PER_LANE; i++) {
        let idx = g * block + i * WG + li;
        if (idx < p.n) {
            s += x[idx];
        }
    }
    let part = subgroupAdd(s);
    if (lane == 0u) {
        partials[sg] = part;
    }
    workgroupBarrier();
    if (li == 0u) {
        var total = 0.0;
        for (var j = 0u; j < count; j++) {
            total += partials[j];
        }
        out[g] = total;
    }
}
