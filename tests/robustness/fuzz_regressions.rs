//! The fuzz targets' seeds and every input a fuzzer ever found a fault with, run through the
//! same checks as the fuzzers (fuzz/checks.rs) on every `cargo test`; plus the hostile cases
//! by name: headers claiming huge dimensions and a gzip bomb.
//! Found inputs go in tests/fuzz_regressions/<target>/ (README, "Fuzzing").

use crate::common::*;
use std::path::Path;

include!("../../fuzz/checks.rs");

/// Every file of `dir` (none if it does not exist), with its name.
fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(&p).expect("readable"),
            )
        })
        .collect();
    files.sort();
    files
}

/// The seeds and found inputs of `target`; at least one of them must exist.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = inputs(&root.join("fuzz/seeds").join(target));
    all.extend(inputs(&root.join("tests/fuzz_regressions").join(target)));
    assert!(!all.is_empty(), "no seeds for {target}");
    all
}

fn run_all(target: &str, check: impl Fn(&[u8])) {
    for (name, bytes) in corpus(target) {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(ok.is_ok(), "{target}: {name} fails its check");
    }
}

#[test]
fn safetensors_seeds_and_found_inputs() {
    let gpu = gpu();
    run_all("safetensors", |b| checks::safetensors(&gpu, b));
}

#[test]
fn idx_seeds_and_found_inputs() {
    run_all("idx", checks::idx);
}

#[test]
fn csv_seeds_and_found_inputs() {
    run_all("csv", checks::csv);
}

#[test]
fn gz_seeds_and_found_inputs() {
    run_all("gz", checks::gz);
}

#[test]
fn an_idx_header_claiming_huge_dimensions_is_an_error_without_allocating() {
    // 2^32-1 × 2^32-1 images of 3 bytes: the product overflows, the data is 3 bytes.
    let huge = wgpu_backprop::data::encode_idx(&[u32::MAX, u32::MAX], &[1, 2, 3]);
    let e = wgpu_backprop::data::parse_idx(&huge).unwrap_err();
    assert!(e.to_string().contains("do not match"), "{e}");
    let labels = wgpu_backprop::data::encode_idx(&[u32::MAX], &[]);
    assert!(wgpu_backprop::data::Dataset::from_idx(&huge, &labels).is_err());
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    use std::io::Write;
    // 64 MiB of zeros in about 64 KiB; the cap is 1 MiB.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    let bomb = enc.finish().unwrap();
    let e = wgpu_backprop::data::gunzip(&bomb, checks::GZ_CAP).unwrap_err();
    assert!(
        matches!(e, wgpu_backprop::Error::TooLarge { requested, limit, .. }
            if limit == checks::GZ_CAP && requested == checks::GZ_CAP + 1),
        "{e}"
    );
    // The same bomb as a `.gz` IDX file is an error too (under the library's 1 GiB cap it
    // inflates fully and then fails as an IDX; beyond, it would stop at the cap).
    let dir = std::env::temp_dir().join(format!("wgpu-backprop-bomb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bomb-idx1-ubyte.gz");
    std::fs::write(&path, &bomb).unwrap();
    assert!(wgpu_backprop::data::Dataset::load_idx(&path, &path).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
