// The properties the fuzz targets check, shared word for word with the regression test
// (`tests/fuzz_regressions.rs` includes this file): each reader returns `Ok` or `Err` on any
// bytes, never panics, and what it accepts is consistent.

/// The readers of files from strangers and what each must hold.
#[allow(dead_code)]
pub mod checks {
    use wgpu_backprop::data::{gunzip, parse_idx, Dataset};
    use wgpu_backprop::model::Sequential;
    use wgpu_backprop::{Gpu, Layer};

    /// The cap the gz target inflates to: small enough that a bomb costs milliseconds (the
    /// library's own cap, `data::MAX_INFLATED_BYTES`, is 1 GiB).
    pub const GZ_CAP: u64 = 1 << 20;

    /// `Sequential::from_safetensors`: a model it accepts saves to bytes that load back to
    /// the same layers and the same parameters, bit for bit.
    pub fn safetensors(gpu: &Gpu, data: &[u8]) {
        if let Ok(model) = Sequential::from_safetensors(gpu, data) {
            let saved = model.to_safetensors().expect("a loaded model saves");
            let again = Sequential::from_safetensors(gpu, &saved).expect("a saved model loads");
            assert_eq!(again.config(), model.config());
            let bits = |m: &Sequential| -> Vec<Vec<u32>> {
                let params = m.parameters();
                let values = params.iter().map(|p| p.value.to_vec().expect("reads back"));
                values.map(|v| v.iter().map(|x| x.to_bits()).collect()).collect()
            };
            assert_eq!(bits(&again), bits(&model));
        }
    }

    /// `parse_idx` and `Dataset::from_idx` (the first byte says where the images end and the
    /// labels begin): what parses is consistent.
    pub fn idx(data: &[u8]) {
        let Some((&cut, rest)) = data.split_first() else {
            return;
        };
        if let Ok((dims, bytes)) = parse_idx(rest) {
            assert_eq!(dims.iter().product::<usize>(), bytes.len());
        }
        let (images, labels) = rest.split_at(usize::from(cut).min(rest.len()));
        for (i, l) in [(images, labels), (labels, images)] {
            if let Ok(set) = Dataset::from_idx(i, l) {
                assert_eq!(set.features().len(), set.len() * set.dim());
            }
        }
    }

    /// `Dataset::parse_csv` on any text: rows are whole, labels below the class count.
    pub fn csv(data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        if let Ok(set) = Dataset::parse_csv(&text, 1.0 / 16.0) {
            assert_eq!(set.features().len(), set.len() * set.dim());
            assert!(set.labels().iter().all(|&l| (l as usize) < set.classes()));
        }
    }

    /// The gzip path of `Dataset::load_idx`: `gunzip` never yields more than its cap (a bomb
    /// is an `Err`), then `parse_idx`.
    pub fn gz(data: &[u8]) {
        if let Ok(bytes) = gunzip(data, GZ_CAP) {
            assert!(bytes.len() as u64 <= GZ_CAP);
            let _ = parse_idx(&bytes);
        }
    }
}
