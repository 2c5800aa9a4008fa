//! Published figures of common cards, found by the adapter's name: compute units (SMs, Apple GPU
//! cores), peak f32 throughput without tensor cores, and memory bandwidth. The matmul rules size
//! their tiles to the compute units ([`Profile::compute_units`](crate::Profile)); the GPU report
//! prints each kernel as a fraction of these peaks beside the ones it measures itself.

/// One card's published figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Card {
    /// What the adapter's name contains (the first match in [`CARDS`] wins: longer names
    /// first).
    pub matches: &'static str,
    /// Streaming multiprocessors (NVIDIA) or GPU cores (Apple).
    pub compute_units: u32,
    /// Peak f32 FMA throughput, TFLOP/s (CUDA cores or ALUs, no tensor cores).
    pub f32_tflops: f64,
    /// Peak memory bandwidth, GB/s.
    pub gbps: f64,
}

const fn card(matches: &'static str, compute_units: u32, f32_tflops: f64, gbps: f64) -> Card {
    Card {
        matches,
        compute_units,
        f32_tflops,
        gbps,
    }
}

/// The table, most specific names first. NVIDIA's from its data sheets (H100 SXM5, H100 PCIe,
/// H200 SXM, A100 40/80 GB, L4, RTX 4090, RTX 3090); Apple's for the largest GPU of each chip
/// (Apple publishes cores and bandwidth; f32 is cores × 128 ALUs × 2 × clock).
pub const CARDS: &[Card] = &[
    card("H100 PCIe", 114, 51.2, 2_000.0),
    card("H100 NVL", 132, 60.0, 3_900.0),
    card("H100", 132, 66.9, 3_350.0),
    card("H200", 132, 66.9, 4_800.0),
    card("A100 80GB", 108, 19.5, 2_039.0),
    card("A100-SXM4-80GB", 108, 19.5, 2_039.0),
    card("A100", 108, 19.5, 1_555.0),
    card("L4", 58, 30.3, 300.0),
    card("RTX 4090", 128, 82.6, 1_008.0),
    card("RTX 3090", 82, 35.6, 936.0),
    card("Apple M1 Ultra", 64, 21.2, 800.0),
    card("Apple M1 Max", 32, 10.6, 400.0),
    card("Apple M1 Pro", 16, 5.3, 200.0),
    card("Apple M1", 8, 2.6, 68.0),
    card("Apple M2 Ultra", 76, 27.2, 800.0),
    card("Apple M2 Max", 38, 13.6, 400.0),
    card("Apple M2 Pro", 19, 6.8, 200.0),
    card("Apple M2", 10, 3.6, 100.0),
    card("Apple M3 Max", 40, 16.4, 400.0),
    card("Apple M3 Pro", 18, 7.4, 150.0),
    card("Apple M3", 10, 4.1, 100.0),
    card("Apple M4 Max", 40, 18.4, 546.0),
    card("Apple M4 Pro", 20, 9.2, 273.0),
    card("Apple M4", 10, 4.6, 120.0),
];

/// The card whose name the adapter's contains, if any. "NVIDIA L40" is not an L4: a match must
/// end the name or be followed by a space, a dash or a bracket.
pub fn lookup(adapter_name: &str) -> Option<&'static Card> {
    CARDS.iter().find(|c| {
        adapter_name.match_indices(c.matches).any(|(at, m)| {
            let rest = &adapter_name[at + m.len()..];
            rest.is_empty() || rest.starts_with([' ', '-', '(', ','])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::lookup;

    #[test]
    fn cards_are_found_by_the_names_drivers_give() {
        let cu = |name: &str| lookup(name).map(|c| c.compute_units);
        assert_eq!(cu("NVIDIA H100 80GB HBM3"), Some(132));
        assert_eq!(cu("NVIDIA H100 PCIe"), Some(114));
        assert_eq!(cu("NVIDIA H200"), Some(132));
        assert_eq!(cu("NVIDIA A100-SXM4-80GB"), Some(108));
        assert_eq!(
            lookup("NVIDIA A100-SXM4-80GB").map(|c| c.gbps),
            Some(2_039.0)
        );
        assert_eq!(
            lookup("NVIDIA A100-PCIE-40GB").map(|c| c.gbps),
            Some(1_555.0)
        );
        assert_eq!(cu("NVIDIA L4"), Some(58));
        assert_eq!(cu("NVIDIA L40S"), None, "an L40S is not an L4");
        assert_eq!(cu("NVIDIA GeForce RTX 4090"), Some(128));
        assert_eq!(cu("Apple M1 Pro"), Some(16));
        assert_eq!(cu("Apple M1"), Some(8));
        assert_eq!(cu("Apple M2 Max"), Some(38));
        assert_eq!(cu("llvmpipe (LLVM 15.0.6, 256 bits)"), None);
    }
}
