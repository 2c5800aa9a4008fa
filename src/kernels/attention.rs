//! The per-size part of the fused attention kernels (`shaders/attention_*.wgsl`), written out
//! for each row length DM they hold (32, 64 or 128: D ≤ DM, zero-padded): its constants, and
//! the row functions over the private rows `pa`..`pd` and the staged tiles `ta`, `tb`, unrolled
//! over the DM / 4 vec4s of a row. Unrolled, the rows stay in registers (an indexed private
//! array would live in memory), and no loop over D counts against llvmpipe's cap of 65,535
//! loop iterations per invocation (T = 1,024 with D = 128 would pass it).

use std::fmt::Write;

/// Which attention kernel a header is for: each needs its own set of row functions (each
/// calls only the `quad_*`/`put_*` readers and writers its kernel's file defines).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AttentionPart {
    /// `attention_forward.wgsl`: q in pa, o accumulated in pb.
    Forward,
    /// `attention_dq.wgsl`: q in pa, dO in pb, dq accumulated in pc.
    Dq,
    /// `attention_dkv.wgsl`: k in pa, v in pb, dk in pc, dv in pd.
    Dkv,
}

/// Rows of a staged tile for a row length of `dm`: two tiles of BC × DM floats fill 16 KiB,
/// WebGPU's default workgroup storage.
pub(crate) const fn attention_tile_rows(dm: usize) -> usize {
    2048 / dm
}

/// One statement per vec4 of a row, `{i}` standing for its index.
/// A `sum` function returns the f32 `acc` its statements add to.
fn unrolled(s: &mut String, dv: usize, signature: &str, body: &str, sum: bool) {
    let _ = writeln!(s, "fn {signature} {{");
    if sum {
        s.push_str("    var acc = 0.0;\n");
    }
    for i in 0..dv {
        let _ = writeln!(s, "    {};", body.replace("{i}", &i.to_string()));
    }
    if sum {
        s.push_str("    return acc;\n");
    }
    s.push_str("}\n");
}

/// The WGSL that goes in front of `attention_common.wgsl` for kernel `part` holding rows of
/// `dm` floats.
pub(crate) fn attention_header(part: AttentionPart, dm: usize) -> String {
    use AttentionPart::*;
    let dv = dm / 4;
    let mut s = format!(
        "const DM: u32 = {dm}u;\nconst DV: u32 = {dv}u;\nconst BC: u32 = {}u;\n",
        attention_tile_rows(dm)
    );
    let u = &mut s;
    unrolled(
        u,
        dv,
        "dot_pa_ta(r: u32) -> f32",
        "acc += dot(pa[{i}], ta[r * DV + {i}u])",
        true,
    );
    unrolled(
        u,
        dv,
        "load_pa(base: u32)",
        "pa[{i}] = quad_a(base, {i}u * 4u)",
        false,
    );
    match part {
        Forward => {
            unrolled(u, dv, "clear_pb()", "pb[{i}] = vec4<f32>(0.0)", false);
            unrolled(u, dv, "scale_pb(c: f32)", "pb[{i}] *= c", false);
            unrolled(
                u,
                dv,
                "axpy_pb_tb(r: u32, e: f32)",
                "pb[{i}] = fma(vec4<f32>(e), tb[r * DV + {i}u], pb[{i}])",
                false,
            );
            unrolled(
                u,
                dv,
                "store_pb(base: u32, f: f32)",
                "put_b(base, {i}u * 4u, pb[{i}] * f)",
                false,
            );
        }
        Dq | Dkv => {
            unrolled(
                u,
                dv,
                "load_pb(base: u32)",
                "pb[{i}] = quad_b(base, {i}u * 4u)",
                false,
            );
            unrolled(
                u,
                dv,
                "dot_pb_tb(r: u32) -> f32",
                "acc += dot(pb[{i}], tb[r * DV + {i}u])",
                true,
            );
            unrolled(u, dv, "clear_pc()", "pc[{i}] = vec4<f32>(0.0)", false);
            unrolled(
                u,
                dv,
                "axpy_pc_ta(r: u32, e: f32)",
                "pc[{i}] = fma(vec4<f32>(e), ta[r * DV + {i}u], pc[{i}])",
                false,
            );
            unrolled(
                u,
                dv,
                "store_pc(base: u32, f: f32)",
                "put_c(base, {i}u * 4u, pc[{i}] * f)",
                false,
            );
        }
    }
    match part {
        Dq => unrolled(
            u,
            dv,
            "delta_of(base: u32) -> f32",
            "acc += dot(pb[{i}], quad_o(base, {i}u * 4u))",
            true,
        ),
        Dkv => {
            unrolled(u, dv, "clear_pd()", "pd[{i}] = vec4<f32>(0.0)", false);
            unrolled(
                u,
                dv,
                "axpy_pd_tb(r: u32, e: f32)",
                "pd[{i}] = fma(vec4<f32>(e), tb[r * DV + {i}u], pd[{i}])",
                false,
            );
            unrolled(
                u,
                dv,
                "store_pd(base: u32, f: f32)",
                "put_d(base, {i}u * 4u, pd[{i}] * f)",
                false,
            );
        }
        Forward => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{attention_header, AttentionPart};

    #[test]
    fn every_vec4_of_a_row_is_touched_once_per_function() {
        for dm in [32, 64, 128] {
            let text = attention_header(AttentionPart::Dkv, dm);
            let dv = dm / 4;
            assert_eq!(text.matches("dot(pa[").count(), dv);
            assert_eq!(text.matches("put_d(base").count(), dv);
            assert!(text.contains(&format!("pa[{}]", dv - 1)));
            assert!(!text.contains(&format!("pa[{dv}]")));
        }
    }
}
