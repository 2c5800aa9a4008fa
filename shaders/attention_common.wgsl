// Fused causal attention, FlashAttention-2 style: the parts its three kernels share. A
// generated header in front (`kernels/attention.rs`) sets DM (the row length the kernels
// hold: D ≤ DM, zero-padded), DV = DM / 4, BC (rows of a staged tile: 2 · BC · DM floats =
// 16 KiB) and the unrolled row functions over the private rows pa..pd and the tiles ta, tb
// (`dot_pa_ta(r)`, `axpy_pb_tb(r, s)`, `load_pa(base)`, …), unrolled so that the rows stay in
// registers and no loop over D counts against a driver's loop cap.
//
// q, k, v, o: [BH, T, D] contiguous (a head's rows at bh · T · D); lse, delta: [BH, T].
// A workgroup of BR invocations owns BR rows of one head (queries for the forward and dq,
// keys for dk/dv) and streams the other side through workgroup memory, BC rows at a time.

struct Params {
    bh: u32,     // batch × heads
    t: u32,      // sequence length
    d: u32,      // head size
    causal: u32, // 1: query i sees keys j ≤ i only
    scale: f32,  // 1 / √D
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

const BR: u32 = 64u; // rows a workgroup owns, one per invocation

var<workgroup> ta: array<vec4<f32>, BC * DV>;
var<workgroup> tb: array<vec4<f32>, BC * DV>;

var<private> pa: array<vec4<f32>, DV>;
var<private> pb: array<vec4<f32>, DV>;
var<private> pc: array<vec4<f32>, DV>;
var<private> pd: array<vec4<f32>, DV>;

// The most negative finite f32: the running maximum before any key (no infinity as a marker).
const LOWEST: f32 = -3.4028234663852886e38;

// Element c of a row (zero past D) into a tile's vec4 slot: tiles hold DM columns per row.
fn tile_slot(r: u32, c: u32) -> u32 {
    return r * DV + c / 4u;
}

// The end of the key range query row `i` sees (exclusive).
fn keys_seen(i: u32) -> u32 {
    return select(p.t, min(p.t, i + 1u), p.causal != 0u);
}

// How many rows of the tile starting at r0 lie below `end` (0 when none).
fn rows_below(r0: u32, end: u32) -> u32 {
    return select(0u, min(BC, end - r0), end > r0);
}
