//! Generated kernels: the register and texture matmuls must be fully unrolled (blocks of C in
//! named vec4 accumulators) for CPU devices to keep them in registers, which no one should
//! write by hand. These tests hold the generators and fail when a committed file differs from
//! its generator's output; `REGENERATE=1 cargo test --test codegen` rewrites them.

mod register;
mod texture;

/// Fails when `shaders/<name>` differs from `want` (rewrites it first under `REGENERATE`).
fn check(name: &str, want: &str) {
    let path = format!("{}/shaders/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("REGENERATE").is_some() {
        std::fs::write(&path, want).expect("write the generated kernel");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{path} is stale: run `REGENERATE=1 cargo test --test codegen`"
    );
}

#[test]
fn register_kernel_matches_its_generator() {
    check("matmul_register.wgsl", &register::generate());
}

#[test]
fn texture_kernel_matches_its_generator() {
    check("matmul_texture.wgsl", &texture::generate());
}
