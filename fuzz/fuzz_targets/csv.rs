//! Fuzzes the csv reader: see `checks::csv` in fuzz/checks.rs for what must hold.
#![no_main]

include!("../checks.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::csv(data));
