//! Every kernel, in every specialisation the host can ask for, validated by naga (the version
//! wgpu uses) and written as SPIR-V (Vulkan), MSL (Metal), HLSL (DX12) and GLSL ES 3.1 (GL),
//! so a kernel that would not build on a backend this machine lacks fails here. Run with
//! `--nocapture` to see the count of kernel × specialisation × backend translations.

use naga::back::{glsl, hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use naga::{Module, ShaderStage};

use super::registry::{Kernel, Source, ALL};

const BACKENDS: [&str; 4] = ["spir-v", "msl", "hlsl", "glsl"];

fn validate(module: &Module) -> Result<ModuleInfo, String> {
    // SUBGROUP: `reduce_subgroup.wgsl` (wgpu enables it with the device feature).
    Validator::new(
        ValidationFlags::all(),
        Capabilities::default() | Capabilities::SUBGROUP,
    )
    .validate(module)
    .map_err(|e| format!("{:?}", e.into_inner()))
}

/// The module with the kernel's flags set as `spec` asks, overrides resolved.
fn specialise(
    module: &Module,
    info: &ModuleInfo,
    k: &Kernel,
    spec: u32,
) -> Result<(Module, ModuleInfo), String> {
    let constants: naga::back::PipelineConstants = k
        .flags
        .iter()
        .enumerate()
        .map(|(i, f)| (f.to_string(), f64::from(spec >> i & 1)))
        .collect();
    let stage = Some((ShaderStage::Compute, k.entry));
    let (m, i) = naga::back::pipeline_constants::process_overrides(module, info, stage, &constants)
        .map_err(|e| format!("{e:?}"))?;
    Ok((m.into_owned(), i.into_owned()))
}

/// Writes the specialised module for `backend`; `Err` carries naga's message.
fn translate(backend: &str, m: &Module, i: &ModuleInfo, entry: &str) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Debug| format!("{e:?}");
    match backend {
        "spir-v" => {
            let po = spv::PipelineOptions {
                shader_stage: ShaderStage::Compute,
                entry_point: entry.into(),
            };
            spv::write_vec(m, i, &spv::Options::default(), Some(&po)).map_err(|e| err(&e))?;
        }
        "msl" => {
            let po = msl::PipelineOptions {
                entry_point: Some((ShaderStage::Compute, entry.into())),
                ..Default::default()
            };
            msl::write_string(m, i, &msl::Options::default(), &po).map_err(|e| err(&e))?;
        }
        "hlsl" => {
            let po = hlsl::PipelineOptions {
                entry_point: Some((ShaderStage::Compute, entry.into())),
            };
            let options = hlsl::Options::default();
            let mut out = String::new();
            hlsl::Writer::new(&mut out, &options, &po)
                .write(m, i, None)
                .map_err(|e| err(&e))?;
        }
        _ => {
            let options = glsl::Options {
                version: glsl::Version::Embedded {
                    version: 310,
                    is_webgl: false,
                },
                ..Default::default()
            };
            let po = glsl::PipelineOptions {
                shader_stage: ShaderStage::Compute,
                entry_point: entry.into(),
                multiview: None,
            };
            let mut out = String::new();
            glsl::Writer::new(&mut out, m, i, &options, &po, Default::default())
                .and_then(|mut w| w.write())
                .map_err(|e| err(&e))?;
        }
    }
    Ok(())
}

#[test]
fn every_kernel_translates_for_every_backend() {
    let mut failures = Vec::new();
    let mut pairs = 0;
    for source in Source::ALL {
        let wgsl = source.wgsl();
        let module = naga::front::wgsl::parse_str(&wgsl)
            .unwrap_or_else(|e| panic!("{source:?}: {}", e.emit_to_string(&wgsl)));
        let info = validate(&module).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        for ep in &module.entry_points {
            assert!(
                ALL.iter().any(|k| k.source == source && k.entry == ep.name),
                "{source:?} entry point {} is missing from registry::ALL",
                ep.name
            );
        }
        for k in ALL.iter().filter(|k| k.source == source) {
            for spec in 0..1u32 << k.flags.len() {
                let (m, i) = match specialise(&module, &info, k, spec) {
                    Ok(mi) => mi,
                    Err(e) => {
                        failures.push(format!("{} spec {spec:#b}: overrides: {e}", k.entry));
                        continue;
                    }
                };
                for backend in BACKENDS {
                    pairs += 1;
                    if let Err(e) = translate(backend, &m, &i, k.entry) {
                        failures.push(format!("{} spec {spec:#b} → {backend}: {e}", k.entry));
                    }
                }
            }
        }
    }
    println!("translated {pairs} kernel × specialisation × backend pairs");
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `Err` unless the `Params` struct of `T::SOURCE` has `T`'s fields, offsets and size.
fn check_uniform<T: super::params::Uniform>() -> Result<(), String> {
    let source = T::SOURCE;
    let wgsl = source.wgsl();
    let module = naga::front::wgsl::parse_str(&wgsl).map_err(|e| e.emit_to_string(&wgsl))?;
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Params"))
        .ok_or_else(|| format!("{source:?} has no Params struct"))?;
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        return Err(format!("{source:?}: Params is not a struct"));
    };
    let wgsl_fields: Vec<(String, u32)> = members
        .iter()
        .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
        .collect();
    let host_fields: Vec<(String, u32)> = T::FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| (f.to_string(), 4 * i as u32))
        .collect();
    let host_size = std::mem::size_of::<T>() as u32;
    if wgsl_fields != host_fields || *span != host_size {
        return Err(format!(
            "{source:?}: WGSL Params {wgsl_fields:?} ({span} bytes) but the host struct has \
             {host_fields:?} ({host_size} bytes)"
        ));
    }
    Ok(())
}

#[test]
fn every_uniform_struct_mirrors_its_wgsl_params() {
    use super::params::*;
    let checks = [
        (MatmulParams::SOURCE, check_uniform::<MatmulParams>()),
        (
            MatmulBlockedParams::SOURCE,
            check_uniform::<MatmulBlockedParams>(),
        ),
        (
            MatmulSplitParams::SOURCE,
            check_uniform::<MatmulSplitParams>(),
        ),
        (
            MatmulRegisterParams::SOURCE,
            check_uniform::<MatmulRegisterParams>(),
        ),
        (
            MatmulVec4Params::SOURCE,
            check_uniform::<MatmulVec4Params>(),
        ),
        (
            PackTextureParams::SOURCE,
            check_uniform::<PackTextureParams>(),
        ),
        (
            MatmulTextureParams::SOURCE,
            check_uniform::<MatmulTextureParams>(),
        ),
        (ReduceParams::SOURCE, check_uniform::<ReduceParams>()),
        (
            ReduceSubgroupParams::SOURCE,
            check_uniform::<ReduceSubgroupParams>(),
        ),
        (SoftmaxParams::SOURCE, check_uniform::<SoftmaxParams>()),
        (
            SoftmaxChunkedParams::SOURCE,
            check_uniform::<SoftmaxChunkedParams>(),
        ),
        (
            SoftmaxRegsParams::SOURCE,
            check_uniform::<SoftmaxRegsParams>(),
        ),
        (ReluParams::SOURCE, check_uniform::<ReluParams>()),
        (JacobianParams::SOURCE, check_uniform::<JacobianParams>()),
        (LossParams::SOURCE, check_uniform::<LossParams>()),
        (OptimParams::SOURCE, check_uniform::<OptimParams>()),
    ];
    let failures: Vec<String> = checks.iter().filter_map(|(_, r)| r.clone().err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for source in Source::ALL {
        assert!(
            // One struct per family: every tile of the blocked matmul shares one.
            checks
                .iter()
                .any(|(s, _)| std::mem::discriminant(s) == std::mem::discriminant(&source)),
            "{source:?} has no host uniform struct"
        );
    }
}

/// The matmul kernels keep their accumulators and operands in named variables: a driver that
/// does not unroll keeps an indexed private array in local memory (a memory access per FMA).
/// The vec4 kernel had `var acc: array<vec4<f32>, 4>` until it was written out.
#[test]
fn matmul_kernels_keep_no_private_arrays() {
    let sources = [
        Source::MatmulVec4,
        Source::MatmulRegister,
        Source::MatmulTexture,
        Source::MatmulBlocked(super::Tile::T128x128),
        Source::MatmulBlocked(super::Tile::T128x64),
        Source::MatmulBlocked(super::Tile::T64x64),
    ];
    let mut found = Vec::new();
    for source in sources {
        let wgsl = source.wgsl();
        let module = naga::front::wgsl::parse_str(&wgsl).expect("parses");
        let functions = module
            .functions
            .iter()
            .map(|(_, f)| f)
            .chain(module.entry_points.iter().map(|e| &e.function));
        for f in functions {
            for (_, var) in f.local_variables.iter() {
                if let naga::TypeInner::Array { .. } = module.types[var.ty].inner {
                    let name = f.name.clone().unwrap_or_default();
                    found.push(format!("{source:?} {name}: var {:?}", var.name));
                }
            }
        }
    }
    assert!(found.is_empty(), "private arrays: {found:?}");
}
