//! `Dataset::parse_csv` on arbitrary text: `Ok` or `Err`, never a panic; rows are whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wgpu_backprop::data::Dataset;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(set) = Dataset::parse_csv(&text, 1.0 / 16.0) {
        assert_eq!(set.features().len(), set.len() * set.dim());
        assert!(set.labels().iter().all(|&l| (l as usize) < set.classes()));
    }
});
