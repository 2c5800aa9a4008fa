//! Which matmul kernel runs: the forced kernels' fallbacks where they cannot take a shape, and
//! for `Auto` the static choice (on CPU devices by measured thresholds, on GPUs by a table of
//! rules) refined by the autotuner over the family's candidates (`matmul_family.rs`) within a
//! shape class.

use crate::error::Result;
use crate::kernels::Tile;
use crate::ops::matmul::{gemm_with, MatmulKernel, Transpose};
use crate::ops::matmul_blocked as blocked;
use crate::ops::matmul_family::{self as family, Setting, Takes};
use crate::ops::matmul_texture as texture;
use crate::tensor::Tensor;

/// The longest K the register kernel takes (K/4 + 256 loop iterations per invocation).
const REGISTER_MAX_K: usize = 131_072;

/// Whether `Auto` takes the register kernel on a CPU device. Measured on llvmpipe (Mesa 22.3):
/// the register kernel is 3–4× faster than the tiled one for NN, NT and TT at every size, but
/// its Aᵀ·B variant costs a fixed ~13 ms per dispatch (256³: 16 ms against 6 ms tiled; 1024³:
/// 102 ms against 290 ms), so that variant waits for products of 2^27 multiply-adds or more.
fn auto_register(ta: Transpose, tb: Transpose, fmas: usize) -> bool {
    !(ta == Transpose::Yes && tb == Transpose::No) || fmas >= 1 << 27
}

/// Products from this many multiply-adds take the texture kernel on CPU devices: untuned, and
/// as one of the autotuner's candidates.
/// Measured on llvmpipe (wall clock, one run): 256³ 3.4 ms against register 12.2; 1024³ 103
/// against 753 (NT) and 114 against 772 (TN). Smaller products gain less (128³ 1.17 against
/// 1.52; 512×64×128 1.7 against 3.6) than loading two more pipelines costs the first run of
/// `train` (its tuning went from ~750 ms to 866–985 ms with its 512×64×128 class on the
/// texture kernel); below 32×64×128 the packing costs more than it saves (0.93 against 0.73).
pub(crate) const TEXTURE_MIN_FMAS: usize = 1 << 23;

/// The same for products whose rows are not whole vec4s (N = 10 classes, say): the register
/// kernel cannot take them, and the tiled one is far slower than the texture kernel there.
/// Measured on llvmpipe (wall clock per call with its round trip, 20 calls): 64×1568×10 (the
/// MNIST CNN's last layer) 32.1 ms tiled against 3.6 texture; 128×512×10 12.0 against 2.6;
/// 1000×64×10 11.9 against 2.0; 256×1024×30 38.9 against 6.0. Smaller products gain too
/// (32×256×10: 5.6 against 0.7), but below 2^18 they stay on the tiled kernel so that the MLP's
/// training loads no texture pipelines.
pub(crate) const TEXTURE_MIN_FMAS_UNALIGNED: usize = 1 << 18;

/// Whether the texture kernel pays on a CPU device for `fmas` multiply-adds, rows `aligned`
/// (whole vec4s) or not.
pub(crate) fn texture_pays(aligned: bool, fmas: usize) -> bool {
    fmas >= if aligned {
        TEXTURE_MIN_FMAS
    } else {
        TEXTURE_MIN_FMAS_UNALIGNED
    }
}

/// Products smaller than this many multiply-adds take the static choice untuned.
const TUNE_MIN_FMAS: usize = 1 << 16;

/// The autotuner's shape class: the transposes, whether every row is whole vec4s (`a4`, else
/// `a1`: the vec4 kernels take only those), and each dimension rounded up to a power of 2.
fn tune_class(
    (ta, tb): (Transpose, Transpose),
    aligned: bool,
    (m, n, k): (usize, usize, usize),
) -> String {
    let t = |t: Transpose| if t == Transpose::Yes { 'T' } else { 'N' };
    let p = |d: usize| d.next_power_of_two();
    format!(
        "matmul {}{} a{} m<={} n<={} k<={}",
        t(ta),
        t(tb),
        if aligned { 4 } else { 1 },
        p(m),
        p(n),
        p(k)
    )
}

/// One line of [`GPU_RULES`]: what it says, when it holds, the kernel then.
type Rule = (&'static str, fn(Shape) -> bool, MatmulKernel);

/// What the static GPU choice looks at.
#[derive(Clone, Copy, Debug)]
struct Shape {
    mnk: (usize, usize, usize),
    trans_b: bool,
    aligned: bool,
    /// The device's compute units ([`Profile::compute_units`](crate::Profile)).
    units: usize,
}

impl Shape {
    /// Output tiles of bm × bn.
    fn tiles(self, bm: usize, bn: usize) -> usize {
        self.mnk.0.div_ceil(bm) * self.mnk.1.div_ceil(bn)
    }
}

/// The static choice on GPUs (untuned, `WGPU_BACKPROP_AUTOTUNE=off`, the autotuner's first
/// candidate): the first rule that holds, each tile sized to keep the card's compute units
/// busy. Linear's dX = dY·Wᵀ has a transposed B, which the vec4 kernel reads 16 rows apart
/// per warp (an estimated 2–5 TFLOP/s on an H100 against a 28 target), so it never gets one;
/// products of few rows (M ≤ 64: conv's forward) to 64×128, whose 128-row tiles would be half
/// empty; big products to the 128×128 tile (the most reuse per load) where there are two
/// tiles per compute unit, smaller ones to the smaller tiles while each has one per unit;
/// few output tiles over a long K to split-K, which puts the idle GPU on K's ranges.
const GPU_RULES: [Rule; 7] = [
    (
        "fewer than 64 64x64 output tiles and K >= 4096",
        |s| blocked::split_useful(s.mnk),
        MatmulKernel::SplitK,
    ),
    (
        "M <= 64 and a 64x128 tile per compute unit",
        |s| s.mnk.0 <= 64 && s.tiles(64, 128) >= s.units,
        MatmulKernel::Blocked64x128,
    ),
    (
        "M > 64 and two 128x128 output tiles per compute unit",
        |s| s.mnk.0 > 64 && s.tiles(128, 128) >= 2 * s.units,
        MatmulKernel::Blocked128,
    ),
    (
        "M > 64 and a 128x64 tile per compute unit",
        |s| s.mnk.0 > 64 && s.tiles(128, 64) >= s.units,
        MatmulKernel::Blocked128x64,
    ),
    (
        "a 64x64 tile per compute unit",
        |s| s.tiles(64, 64) >= s.units,
        MatmulKernel::Blocked64,
    ),
    (
        "rows are whole vec4s and B is not transposed",
        |s| s.aligned && !s.trans_b,
        MatmulKernel::Vec4,
    ),
    ("anything else", |_| true, MatmulKernel::Blocked64),
];

/// The first of [`GPU_RULES`] that holds for `shape`.
fn gpu_static_choice(shape: Shape) -> MatmulKernel {
    GPU_RULES
        .iter()
        .find(|(_, holds, _)| holds(shape))
        .map_or(MatmulKernel::Blocked64, |r| r.2)
}

/// The rules as (what it says, the kernel's name), in order: for ARCHITECTURE.md's table and
/// the GPU report.
pub fn gpu_rules() -> Vec<(&'static str, &'static str)> {
    GPU_RULES.iter().map(|r| (r.0, r.2.name())).collect()
}

/// The kernel that runs: as asked, or for `Auto` the tuned (or static) one. The vec4 kernels
/// (register, vec4) read whole vec4s: K, N and (transposed A) M must be multiples of 4, or
/// the tiled kernel runs.
pub(crate) fn choose(
    kernel: MatmulKernel,
    (a, ta): (&Tensor, Transpose),
    (b, tb): (&Tensor, Transpose),
    bias: Option<&Tensor>,
    (m, n, k): (usize, usize, usize),
) -> Result<MatmulKernel> {
    let aligned = blocked::rows_are_vec4(ta == Transpose::Yes, (m, n, k)) && k <= REGISTER_MAX_K;
    let storage_32k =
        a.gpu().profile().workgroup_storage as usize >= Tile::T128x128K16.workgroup_bytes();
    if let Some(variant) = family::variant(kernel) {
        let takes = match variant.takes {
            Takes::Any => true,
            Takes::Vec4Rows => aligned,
            Takes::Textures => texture::takes(a.gpu(), (m, n, k)),
            Takes::Storage32K => storage_32k,
        };
        return Ok(if takes { kernel } else { MatmulKernel::Tiled });
    }
    let gpu = a.gpu();
    let (cpu, discrete) = (gpu.profile().cpu, gpu.profile().discrete);
    let textured = texture::takes(gpu, (m, n, k));
    let fallback = if cpu {
        if textured && texture_pays(aligned, m * n * k) {
            MatmulKernel::Texture
        } else if aligned && auto_register(ta, tb, m * n * k) {
            MatmulKernel::Register
        } else {
            MatmulKernel::Tiled
        }
    } else {
        gpu_static_choice(Shape {
            mnk: (m, n, k),
            trans_b: tb == Transpose::Yes,
            aligned,
            units: gpu.profile().compute_units as usize,
        })
    };
    if m * n * k < TUNE_MIN_FMAS {
        return Ok(fallback);
    }
    let mut list = family::candidates(&Setting {
        cpu,
        discrete,
        aligned,
        textured,
        storage_32k,
        trans_b: tb == Transpose::Yes,
        mnk: (m, n, k),
    });
    if !list.contains(&fallback) {
        list.insert(0, fallback);
    }
    let names: Vec<&'static str> = list.iter().map(|c| c.name()).collect();
    let run = |i: usize| gemm_with(list[i], (a, ta), (b, tb), bias).map(drop);
    let static_choice = list.iter().position(|&f| f == fallback).unwrap_or(0);
    let class = tune_class((ta, tb), aligned, (m, n, k));
    Ok(list[gpu.pick(&class, &names, static_choice, run)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shape on a device of 32 compute units (unknown cards).
    fn shape(mnk: (usize, usize, usize), trans_b: bool) -> Shape {
        on(32, mnk, trans_b)
    }

    fn on(units: usize, mnk: (usize, usize, usize), trans_b: bool) -> Shape {
        let aligned = mnk.1.is_multiple_of(4) && mnk.2.is_multiple_of(4);
        Shape {
            mnk,
            trans_b,
            aligned,
            units,
        }
    }

    #[test]
    fn unaligned_products_take_textures_sooner_but_not_the_mlps() {
        // The MNIST CNN's last layer (N = 10: no register kernel) and a wider aligned one.
        assert!(texture_pays(false, 64 * 1568 * 10));
        assert!(!texture_pays(true, 64 * 1568 * 12));
        // The digits MLP's last layer, forward and backward, stays off the texture pipelines.
        for fmas in [32 * 128 * 10, 128 * 32 * 10] {
            assert!(!texture_pays(false, fmas));
        }
        assert!(texture_pays(true, 1024 * 1024 * 1024));
    }

    #[test]
    fn the_gpu_static_choice_follows_its_table() {
        use MatmulKernel::*;
        // Linear's dX = dY·Wᵀ (1024×4096 · (4096×4096)ᵀ): never vec4 with a transposed B.
        assert_eq!(
            gpu_static_choice(shape((1024, 4096, 4096), true)),
            Blocked128
        );
        assert_eq!(gpu_static_choice(shape((128, 96, 64), true)), Blocked64);
        for n in [256, 1024, 4096] {
            assert_ne!(gpu_static_choice(shape((n, n, n), true)), Vec4);
        }
        // Large products on the 128×128 tile, small aligned ones on vec4.
        assert_eq!(
            gpu_static_choice(shape((4096, 4096, 4096), false)),
            Blocked128
        );
        assert_eq!(
            gpu_static_choice(shape((1024, 1024, 1024), false)),
            Blocked128
        );
        assert_eq!(gpu_static_choice(shape((128, 64, 96), false)), Vec4);
        assert_eq!(gpu_static_choice(shape((127, 65, 33), false)), Blocked64);
        // Few output tiles, long K: split-K.
        assert_eq!(gpu_static_choice(shape((64, 64, 65_536), false)), SplitK);
        assert_eq!(gpu_static_choice(shape((64, 64, 65_536), true)), SplitK);
    }

    #[test]
    fn the_rules_keep_a_132_unit_card_busy() {
        use MatmulKernel::*;
        let h100 = |mnk, tb| gpu_static_choice(on(132, mnk, tb));
        // 1024³ has 64 tiles of 128×128: half of an H100's SMs would idle; 256 of 64×64 do not.
        assert_eq!(h100((1024, 1024, 1024), false), Blocked64);
        // 2048²: 256 tiles of 128×128, under two per SM; 512 of 128×64. 4096²: 1,024.
        assert_eq!(h100((2048, 2048, 2048), false), Blocked128x64);
        assert_eq!(h100((4096, 4096, 4096), true), Blocked128);
        // 2048×1024: 128 tiles of 128×128 (under 264), 256 of 128×64.
        assert_eq!(h100((2048, 1024, 1024), false), Blocked128x64);
        // Conv's forward, M = 64 output channels over 64×64 images of a batch of 8: 64×128.
        assert_eq!(h100((64, 32_768, 576), false), Blocked64x128);
        // The same on a 32-unit card: also 64×128 (256 tiles), never a half-empty 128-row tile.
        assert_eq!(
            gpu_static_choice(on(32, (64, 32_768, 576), false)),
            Blocked64x128
        );
        // Small products: vec4 when aligned and B is not transposed, else 64×64.
        assert_eq!(h100((256, 256, 256), false), Vec4);
        assert_eq!(h100((256, 256, 256), true), Blocked64);
        // Every rule names a kernel of the family.
        for (_, name) in gpu_rules() {
            assert!(
                MatmulKernel::FORCED.iter().any(|k| k.name() == name),
                "{name}"
            );
        }
    }

    #[test]
    fn discrete_gpus_time_neither_tiled_nor_register_and_the_order_is_kept() {
        use MatmulKernel::*;
        let mnk = (1024, 1024, 1024);
        let setting = |cpu, discrete, textured| Setting {
            cpu,
            discrete,
            aligned: true,
            textured,
            storage_32k: true,
            trans_b: false,
            mnk,
        };
        let discrete = family::candidates(&setting(false, true, false));
        assert_eq!(
            discrete,
            vec![Blocked128, Blocked128K16, Blocked128x64, Blocked64, Vec4]
        );
        let integrated = family::candidates(&setting(false, false, false));
        assert_eq!(
            integrated[..4],
            [Blocked128, Blocked128K16, Blocked128x64, Blocked64]
        );
        assert_eq!(integrated[4..], [Tiled, Register, Vec4]);
        let small_m = Setting {
            mnk: (64, 4096, 576),
            storage_32k: false,
            ..setting(false, true, false)
        };
        assert_eq!(
            family::candidates(&small_m),
            vec![Blocked128, Blocked128x64, Blocked64x128, Blocked64, Vec4]
        );
        // Linear's dX (a transposed B): the rules never give it vec4, so it is not timed.
        let dx = Setting {
            trans_b: true,
            ..setting(false, true, false)
        };
        assert!(!family::candidates(&dx).contains(&Vec4));
        let cpu = family::candidates(&setting(true, false, true));
        assert_eq!(cpu, vec![Tiled, Register, Vec4, Texture]);
    }

    #[test]
    fn the_tune_class_tells_aligned_from_unaligned_shapes() {
        let no = (Transpose::No, Transpose::No);
        let a = tune_class(no, true, (128, 64, 96));
        let b = tune_class(no, false, (127, 63, 95));
        assert_ne!(a, b);
        assert_eq!(a, "matmul NN a4 m<=128 n<=64 k<=128");
    }
}
