use wgpu_backprop::bench::measure_auto;
use wgpu_backprop::ops::{gemm_with, MatmulKernel, Transpose};
use wgpu_backprop::{Gpu, Result, Tensor};
fn main() -> Result<()> {
    let gpu = Gpu::new()?;
    let (no, yes) = (Transpose::No, Transpose::Yes);
    // (m, k, n, ta, tb): forward batch 32, eval 512, dX, dW, 256³, 1024³ NT/TN
    for (m, k, n, ta, tb) in [
        (32, 64, 128, no, no),
        (512, 64, 128, no, no),
        (32, 128, 64, no, yes),
        (64, 32, 128, yes, no),
        (256, 256, 256, no, no),
        (128, 128, 128, no, no),
        (1024, 1024, 1024, no, yes),
        (1024, 1024, 1024, yes, no),
    ] {
        let sa = if ta == yes { [k, m] } else { [m, k] };
        let sb = if tb == yes { [n, k] } else { [k, n] };
        let a = Tensor::from_slice(&gpu, &vec![0.5f32; m * k], &sa)?;
        let b = Tensor::from_slice(&gpu, &vec![0.5f32; k * n], &sb)?;
        let mut line = format!("{m}x{k}x{n} {ta:?}{tb:?}:");
        for kernel in [
            MatmulKernel::Tiled,
            MatmulKernel::Register,
            MatmulKernel::Texture,
        ] {
            let t = measure_auto(&gpu, 3, || {
                gemm_with(kernel, (&a, ta), (&b, tb), None).map(drop)
            })?;
            line += &format!(" {kernel:?} {:.3} ms", t.median_s * 1e3);
        }
        println!("{line}");
    }
    Ok(())
}
