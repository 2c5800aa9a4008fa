// Shared by every kernel (each source declaration puts it first): where a workgroup stands in
// a grid the host folded so that no dimension passes the device's limit.

// The linear index of a workgroup in 1-D work folded over x and y (`Work::Items`, `Groups`).
fn group_1d(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.y * nwg.x + wg.x;
}

// The row-tile index of a workgroup in 2-D work whose rows were folded over y and z
// (`Work::Tiles`: columns along x).
fn row_tile(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.z * nwg.y + wg.y;
}
