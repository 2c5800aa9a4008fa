//! `parse_idx` and `Dataset::from_idx` on arbitrary bytes (the first byte says where the images
//! end and the labels begin): `Ok` or `Err`, never a panic; what parses is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wgpu_backprop::data::{parse_idx, Dataset};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    if let Ok((dims, bytes)) = parse_idx(rest) {
        assert_eq!(dims.iter().product::<usize>(), bytes.len());
    }
    let (images, labels) = rest.split_at(usize::from(cut).min(rest.len()));
    if let Ok(set) = Dataset::from_idx(labels, images) {
        assert_eq!(set.features().len(), set.len() * set.dim());
    }
    if let Ok(set) = Dataset::from_idx(images, labels) {
        assert_eq!(set.features().len(), set.len() * set.dim());
    }
});
