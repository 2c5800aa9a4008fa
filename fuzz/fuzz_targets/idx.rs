//! Fuzzes the idx reader: see `checks::idx` in fuzz/checks.rs for what must hold.
#![no_main]

include!("../checks.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::idx(data));
