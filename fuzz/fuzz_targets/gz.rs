//! The gzip path of `Dataset::load_idx`: `gunzip` with a cap, then `parse_idx`. A stream that
//! inflates beyond the cap (a gzip bomb) is an `Err`, and no more than cap + 1 bytes are held.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wgpu_backprop::data::{gunzip, parse_idx};

/// Small enough that a bomb costs the fuzzer milliseconds; the library's own cap is 1 GiB.
const CAP: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = gunzip(data, CAP) {
        assert!(bytes.len() as u64 <= CAP);
        let _ = parse_idx(&bytes);
    }
});
