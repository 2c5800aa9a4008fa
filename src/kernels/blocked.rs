//! The per-tile part of the blocked matmul (`shaders/matmul_blocked.wgsl`), written out for
//! each tile: its constants, and the multiply and store steps unrolled over named
//! accumulators. Naga does not unroll loops, and a driver that does not either (wgpu's loop
//! bounding can stop it) would keep an indexed accumulator array in memory instead of
//! registers; named variables are registers whatever the driver does.

use std::fmt::Write;

/// The WGSL that goes in front of `matmul_blocked.wgsl` for a BM × BN tile, K slices of BK:
/// `const BM`, `BN`, `BK`, `STAGES`; `var<private> acc_r_h` (row r of the invocation's
/// TM = BM / 16, columns 4h..4h+4 of its TN = BN / 16); `fn multiply(abase, bbase, lid)`, one
/// K slice from the tiles' buffers at `abase`, `bbase` (vec4 indices); `fn store_all(base,
/// row0, col0, lid)`; and the staging of a slice, `fn fetch_all(li, row0, col0, k0, kend)`
/// into `qa_t`, `qb_t` and `fn put_all(li, buf)`: each of the 256 invocations stages quads
/// li + 256·t for t < STAGES (a slice of BM·BK/4 or BN·BK/4 vec4s: 2 where that passes 256).
pub(crate) fn tile_header(bm: usize, bn: usize, bk: usize) -> String {
    let (tm, tn) = (bm / 16, bn / 16);
    let (groups_m, groups_n) = (tm / 4, tn / 4);
    let stages = (bm.max(bn) * bk / 4).div_ceil(256);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "const BM: u32 = {bm}u;\nconst BN: u32 = {bn}u;\nconst BK: u32 = {bk}u;\n\
         const STAGES: u32 = {stages}u;"
    );
    staging(&mut s, stages);
    for r in 0..tm {
        for h in 0..groups_n {
            let _ = writeln!(s, "var<private> acc_{r}_{h}: vec4<f32>;");
        }
    }
    // One K slice: per k, TM/4 vec4s of A and TN/4 of B from workgroup memory (rows g·64 +
    // 4·lid.y + i, columns h·64 + 4·lid.x + j), TM·TN/4 vec4 FMAs.
    s.push_str("fn multiply(abase: u32, bbase: u32, lid: vec3<u32>) {\n");
    s.push_str("    for (var kk = 0u; kk < BK; kk++) {\n");
    for g in 0..groups_m {
        let _ = writeln!(
            s,
            "        let av{g} = tile_a[abase + kk * (BM / 4u) + {}u + lid.y];",
            g * 16
        );
    }
    for h in 0..groups_n {
        let _ = writeln!(
            s,
            "        let bv{h} = tile_b[bbase + kk * (BN / 4u) + {}u + lid.x];",
            h * 16
        );
    }
    for g in 0..groups_m {
        for (i, lane) in ["x", "y", "z", "w"].iter().enumerate() {
            let r = g * 4 + i;
            for h in 0..groups_n {
                let _ = writeln!(
                    s,
                    "        acc_{r}_{h} = fma(vec4<f32>(av{g}.{lane}), bv{h}, acc_{r}_{h});"
                );
            }
        }
    }
    s.push_str("    }\n}\n");
    // The epilogue: each accumulator to its four elements of C.
    s.push_str("fn store_all(base: u32, row0: u32, col0: u32, lid: vec3<u32>) {\n");
    for g in 0..groups_m {
        for i in 0..4 {
            let r = g * 4 + i;
            for h in 0..groups_n {
                let _ = writeln!(
                    s,
                    "    store_quad(base, row0 + {}u + lid.y * 4u, col0 + {}u + lid.x * 4u, acc_{r}_{h});",
                    g * 64 + i,
                    h * 64
                );
            }
        }
    }
    s.push_str("}\n");
    s
}

/// `qa_t`, `qb_t` and the two staging steps, unrolled over `stages` quads per invocation.
fn staging(s: &mut String, stages: usize) {
    for t in 0..stages {
        let _ = writeln!(
            s,
            "var<private> qa_{t}: vec4<f32>;\nvar<private> qb_{t}: vec4<f32>;"
        );
    }
    s.push_str("fn fetch_all(li: u32, row0: u32, col0: u32, k0: u32, kend: u32) {\n");
    for t in 0..stages {
        let _ = writeln!(
            s,
            "    qa_{t} = fetch_a(li + {o}u, row0, k0, kend);\n    \
             qb_{t} = fetch_b(li + {o}u, col0, k0, kend);",
            o = t * 256
        );
    }
    s.push_str("}\nfn put_all(li: u32, buf: u32) {\n");
    for t in 0..stages {
        let _ = writeln!(
            s,
            "    put_a(li + {o}u, buf, qa_{t});\n    put_b(li + {o}u, buf, qb_{t});",
            o = t * 256
        );
    }
    s.push_str("}\n");
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_accumulator_is_multiplied_and_stored_once() {
        for (bm, bn, bk) in [(128, 128, 8), (128, 64, 8), (64, 64, 16), (64, 128, 8)] {
            let text = super::tile_header(bm, bn, bk);
            let accs = (bm / 16) * (bn / 64);
            assert_eq!(text.matches("var<private> acc_").count(), accs);
            assert_eq!(text.matches(" = fma(").count(), accs);
            assert_eq!(text.matches("store_quad(").count(), accs);
        }
    }

    #[test]
    fn every_quad_of_a_slice_is_staged_once() {
        // (tile, vec4s per invocation): 128×128 with BK = 16 is 512 quads of each operand.
        for ((bm, bn, bk), stages) in [((128, 128, 8), 1), ((64, 128, 8), 1), ((128, 128, 16), 2)] {
            let text = super::tile_header(bm, bn, bk);
            assert!(text.contains(&format!("const STAGES: u32 = {stages}u;")));
            assert_eq!(text.matches("= fetch_a(li + ").count(), stages);
            assert_eq!(text.matches("put_b(li + ").count(), stages);
            assert!(!text.contains(&format!("li + {}u", stages * 256)));
        }
    }
}
