//! The autotuner: a shape class is timed once, the choice persisted, read back by a second
//! `Gpu` without timing, ignored when the file is of another adapter or driver; with
//! `WGPU_BACKPROP_AUTOTUNE=off` nothing is timed and the static choice runs. One test: the
//! cache folder is set through the environment, which all threads of a process share.

mod common;
use common::*;
use wgpu_backprop::ops;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::Gpu;

/// A 128×96 · 96×64 product, checked against f64; returns the result's bits.
fn product(gpu: &Gpu) -> Vec<u32> {
    let mut rng = Rng::new(9);
    let (m, k, n) = (128, 96, 64);
    let a = rand_vec(&mut rng, m * k, -1.0, 1.0);
    let b = rand_vec(&mut rng, k * n, -1.0, 1.0);
    let c = ops::matmul(&upload(gpu, &a, &[m, k]), &upload(gpu, &b, &[k, n])).unwrap();
    let got = read(&c);
    assert_matmul_close("tuned matmul", &got, &a, &b, [m, k, n]);
    got.iter().map(|v| v.to_bits()).collect()
}

const CLASS: &str = "matmul NN m<=128 n<=64 k<=128";

#[test]
fn choices_are_timed_once_persisted_and_tied_to_the_adapter() {
    let dir = std::env::temp_dir().join(format!("wgpu-backprop-tune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::env::set_var("WGPU_BACKPROP_CACHE_DIR", &dir);
    std::env::remove_var("WGPU_BACKPROP_AUTOTUNE");

    // First Gpu: the class is new, every candidate is timed (CPU devices: tiled, register,
    // vec4 — the texture kernel only for bigger products; GPUs also the three blocked tiles),
    // the choice lands in a file.
    let first = own_gpu();
    let cpu_device = first.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let candidates = if cpu_device { 3 } else { 6 };
    product(&first);
    let tuned = first.tuned();
    let t = tuned
        .iter()
        .find(|t| t.class == CLASS)
        .expect("the class was tuned");
    assert_eq!(
        t.timings_ms.len(),
        candidates,
        "every candidate timed: {t:?}"
    );
    let fastest = t
        .timings_ms
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(v, _)| v.clone());
    assert_eq!(Some(t.variant.clone()), fastest, "the fastest won: {t:?}");
    if cpu_device {
        assert_eq!(t.variant, "register", "llvmpipe's measured choice: {t:?}");
    }
    // Softmax rows of 512 (all three row kernels take them): tuned the same way, results
    // right.
    let x = rand_vec(&mut Rng::new(4), 128 * 512, -5.0, 5.0);
    let y = ops::softmax_forward(&upload(&first, &x, &[128, 512])).unwrap();
    let sm = "softmax_forward r<=128 c<=512";
    let s = first
        .tuned()
        .into_iter()
        .find(|t| t.class == sm)
        .expect("softmax tuned");
    assert_eq!(s.timings_ms.len(), 3, "{s:?}");
    assert_close(
        "tuned softmax",
        &read(&y),
        &wgpu_backprop::reference::softmax(&x, 512),
        F32_TOL,
    );
    // lavapipe: the first run's tuning stays under 1 s; a GPU's budget is larger (more
    // candidates, each compiling pipelines), and what is under way past it finishes.
    let limit = if cpu_device {
        std::time::Duration::from_secs(1)
    } else {
        first.tuning_budget() + std::time::Duration::from_secs(1)
    };
    assert!(first.tuning_time() < limit, "{:?}", first.tuning_time());
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let file = files
        .iter()
        .find(|p| p.to_string_lossy().contains("autotune-"))
        .expect("a tune file")
        .clone();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("{CLASS}\t{}", t.variant)), "{text}");

    // Second Gpu, same adapter: the choice is read, nothing is timed.
    let second = own_gpu();
    let again = second.tuned();
    let read_back = again
        .iter()
        .find(|t| t.class == CLASS)
        .expect("read from the file");
    assert_eq!(read_back.variant, t.variant);
    assert!(read_back.timings_ms.is_empty());
    product(&second);
    assert_eq!(second.tuning_time(), std::time::Duration::ZERO);

    // A file of another driver (same name, other adapter line) is ignored: timed anew.
    let other = text.replacen("adapter ", "adapter another driver ", 1);
    std::fs::write(&file, other).unwrap();
    let third = own_gpu();
    assert!(
        third.tuned().is_empty(),
        "another adapter's choices were used"
    );
    product(&third);
    let retimed = third.tuned();
    let t3 = retimed
        .iter()
        .find(|t| t.class == CLASS)
        .expect("timed anew");
    assert_eq!(t3.timings_ms.len(), candidates, "{t3:?}");

    // Off: nothing timed, nothing read, the static choice every time (bit for bit).
    std::env::set_var("WGPU_BACKPROP_AUTOTUNE", "off");
    let off = own_gpu();
    let (x, y) = (product(&off), product(&off));
    assert_eq!(x, y);
    let mut rng = Rng::new(9);
    let a = upload(&off, &rand_vec(&mut rng, 128 * 96, -1.0, 1.0), &[128, 96]);
    let b = upload(&off, &rand_vec(&mut rng, 96 * 64, -1.0, 1.0), &[96, 64]);
    let fixed = if cpu_device {
        ops::MatmulKernel::Register
    } else {
        ops::MatmulKernel::Vec4
    };
    let want = ops::gemm_with(
        fixed,
        (&a, ops::Transpose::No),
        (&b, ops::Transpose::No),
        None,
    );
    let want: Vec<u32> = read(&want.unwrap()).iter().map(|v| v.to_bits()).collect();
    assert_eq!(x, want, "AUTOTUNE=off runs the static choice");
    assert!(off.tuned().is_empty());
    assert_eq!(off.tuning_time(), std::time::Duration::ZERO);
    std::env::remove_var("WGPU_BACKPROP_AUTOTUNE");
    std::env::remove_var("WGPU_BACKPROP_CACHE_DIR");
    let _ = std::fs::remove_dir_all(&dir);
}
