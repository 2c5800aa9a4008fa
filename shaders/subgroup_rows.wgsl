// Shared by the subgroup row kernels (softmax_subgroup.wgsl, layernorm_subgroup.wgsl,
// loss_subgroup.wgsl), for devices with SUBGROUP: one subgroup per row, so a row's max, sums
// and flags are `subgroupMax`/`subgroupAdd`/`subgroupOr`, no workgroup memory and no
// barrier. A 256-wide workgroup holds `num_subgroups` rows, whatever the device's subgroup size
// (4 to 128: nothing here assumes one; the host dispatches for the largest). A row past the
// last still runs its subgroup's reductions (they must be reached by the whole subgroup) over
// no elements. Rows are read as vec4s where `cols` is a multiple of 4 (VEC4), else element by
// element from the same vec4 binding.

override VEC4: bool = false;

// The row of a subgroup.
fn subgroup_row(wg: vec3<u32>, nwg: vec3<u32>, sg: u32, count: u32) -> u32 {
    return group_1d(wg, nwg) * count + sg;
}

// Element i of a flat buffer bound as vec4s.
fn at4(q: vec4<f32>, i: u32) -> f32 {
    return q[i & 3u];
}
