//! Every kernel, in every specialisation the host can ask for, validated by naga (the version
//! wgpu uses) and written as SPIR-V (Vulkan), MSL (Metal), HLSL (DX12) and GLSL ES 3.1 (GL),
//! so a kernel that would not build on a backend this machine lacks fails here. Run with
//! `--nocapture` to see the count of kernel × specialisation × backend translations.

use naga::back::{glsl, hlsl, msl, spv};
use naga::valid::{Capabilities, ModuleInfo, ValidationFlags, Validator};
use naga::{Module, ShaderStage};

use super::decl::Kernel;
use super::registry::{kernels, sources};

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
        .constants(spec)
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
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
    let all = kernels();
    for source in sources() {
        let name = source.name;
        let wgsl = source.wgsl();
        let module = naga::front::wgsl::parse_str(&wgsl)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&wgsl)));
        let info = validate(&module).unwrap_or_else(|e| panic!("{name}: {e}"));
        for ep in &module.entry_points {
            assert!(
                all.iter()
                    .any(|k| std::ptr::eq(k.source, source) && k.entry == ep.name),
                "{name} entry point {} has no kernel declared",
                ep.name
            );
        }
        for k in all.iter().filter(|k| std::ptr::eq(k.source, source)) {
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

/// `Err` unless the `Params` struct of `k`'s source has the fields, offsets and size of the
/// uniform `k` is declared with, and the entry point's workgroup size is the declared one.
fn check_declaration(k: &Kernel, module: &naga::Module) -> Result<(), String> {
    let name = k.source.name;
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Params"))
        .ok_or_else(|| format!("{name} has no Params struct"))?;
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        return Err(format!("{name}: Params is not a struct"));
    };
    let wgsl_fields: Vec<(String, u32)> = members
        .iter()
        .map(|m| (m.name.clone().unwrap_or_default(), m.offset))
        .collect();
    let (fields, size) = k.params;
    let host_fields: Vec<(String, u32)> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.to_string(), 4 * i as u32))
        .collect();
    if wgsl_fields != host_fields || *span as usize != size {
        return Err(format!(
            "{} ({name}): WGSL Params {wgsl_fields:?} ({span} bytes) but the declared uniform has \
             {host_fields:?} ({size} bytes)",
            k.entry
        ));
    }
    let ep = module
        .entry_points
        .iter()
        .find(|e| e.name == k.entry)
        .ok_or_else(|| format!("{name} has no entry point {}", k.entry))?;
    if ep.workgroup_size != k.workgroup {
        return Err(format!(
            "{} ({name}): @workgroup_size {:?} but declared {:?}",
            k.entry, ep.workgroup_size, k.workgroup
        ));
    }
    Ok(())
}

/// Every declared kernel's uniform mirrors its WGSL `Params`, and its workgroup size (from
/// which launches work out their grids) is the shader's.
#[test]
fn every_declaration_matches_its_wgsl() {
    let mut failures = Vec::new();
    for k in kernels() {
        let wgsl = k.source.wgsl();
        let module = naga::front::wgsl::parse_str(&wgsl).expect("parses");
        // Overrides resolved as the pipeline resolves them: `WG` sizes some workgroups.
        let info = validate(&module).unwrap_or_else(|e| panic!("{}: {e}", k.source.name));
        let module = match specialise(&module, &info, k, 0) {
            Ok((module, _)) => module,
            Err(e) => {
                failures.push(format!("{}: overrides: {e}", k.entry));
                continue;
            }
        };
        if let Err(e) = check_declaration(k, &module) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The matmul kernels keep their accumulators and operands in named variables: a driver that
/// does not unroll keeps an indexed private array in local memory (a memory access per FMA).
/// The vec4 kernel had `var acc: array<vec4<f32>, 4>` until it was written out.
#[test]
fn matmul_kernels_keep_no_private_arrays() {
    let matmuls = [
        "matmul_vec4",
        "matmul_register",
        "matmul_texture",
        "matmul_blocked_",
    ];
    let sources = sources().into_iter().filter(|s| {
        matmuls
            .iter()
            .any(|m| s.name == *m || (m.ends_with('_') && s.name.starts_with(m)))
    });
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
                    found.push(format!("{} {name}: var {:?}", source.name, var.name));
                }
            }
        }
    }
    assert!(found.is_empty(), "private arrays: {found:?}");
}

/// Every WGSL file under `shaders/` is part of some declared kernel's source, so none escapes
/// the checks above (a module whose `KERNELS` is missing from `ops::inventory` fails here).
#[test]
fn every_shader_file_belongs_to_a_declared_kernel() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("shaders/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "wgsl") {
                files.push(path);
            }
        }
    }
    let sources = sources();
    let unused: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("a readable shader");
            !sources.iter().any(|s| s.parts.contains(&text.as_str()))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(files.len() > 20, "found only {files:?}");
    assert!(unused.is_empty(), "not in any declared kernel: {unused:?}");
}
