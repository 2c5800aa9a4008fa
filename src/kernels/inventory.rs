//! Every pipeline the crate can build, composed as the registry composes it for one WGSL
//! compiler (each source with its shared parts and generated headers, and every combination of
//! its kernels' override flags), as JSON: for checking the kernels with a compiler this crate
//! does not link, such as Tint (`scripts/tint/check.mjs`, run by CI through Dawn). The demo
//! prints it with `wgpu-backprop kernels --json`. Not a stable API.

use super::decl::{Access, Compiler};
use super::registry::{kernels, sources};
use crate::json::quote;

/// The JSON inventory for Tint (the compiler of a browser's WebGPU): `{"sources": {name: wgsl},
/// "pipelines": [{"source", "entry", "constants": {flag: 0|1, WG: size}, "bindings": [kind]}]}`, where a
/// binding kind is `uniform` (binding 0, dynamic offset), `read`, `read_write`, `texture` or
/// `write_texture`; `features` lists what a device needs for a source (`subgroups`), and
/// `workgroup_bytes` the workgroup memory it declares where that passes WebGPU's default
/// 16 KiB (0 otherwise).
pub fn tint_json() -> String {
    let mut listed = Vec::new();
    for source in sources() {
        let features = if source.needs_subgroups {
            "[\"subgroups\"]"
        } else {
            "[]"
        };
        listed.push(format!(
            "{}:{{\"wgsl\":{},\"features\":{features},\"workgroup_bytes\":{}}}",
            quote(source.name),
            quote(&source.wgsl_for(Compiler::Tint)),
            source.workgroup_bytes
        ));
    }
    let mut pipelines = Vec::new();
    for k in kernels() {
        let mut bindings = vec![quote("uniform")];
        bindings.extend(k.bindings.iter().map(|a| {
            quote(match a {
                Access::Read => "read",
                Access::ReadWrite => "read_write",
                Access::Texture => "texture",
                Access::WriteTexture => "write_texture",
            })
        }));
        for spec in 0..1u32 << k.flags.len() {
            let constants: Vec<String> = k
                .constants(spec)
                .into_iter()
                .map(|(name, value)| format!("{}:{value}", quote(name)))
                .collect();
            pipelines.push(format!(
                "{{\"source\":{},\"entry\":{},\"constants\":{{{}}},\"bindings\":[{}]}}",
                quote(k.source.name),
                quote(k.entry),
                constants.join(","),
                bindings.join(",")
            ));
        }
    }
    format!(
        "{{\"sources\":{{{}}},\"pipelines\":[\n{}\n]}}\n",
        listed.join(",\n"),
        pipelines.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_inventory_lists_every_kernel_and_specialisation() {
        let json = super::tint_json();
        let pipelines = json.matches("\"entry\":").count();
        let want: usize = super::kernels().iter().map(|k| 1 << k.flags.len()).sum();
        assert_eq!(pipelines, want);
        assert!(
            json.contains("enable subgroups;"),
            "Tint needs the directive"
        );
    }
}
