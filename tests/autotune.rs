//! The autotuner, end to end on the real device but with a fake clock (fixed timings per
//! variant, a budget counted in fake time), so that nothing here depends on which kernel a
//! real clock favours or on how long anything takes: the fastest fake wins and is persisted,
//! a second `Gpu` reads it back without timing, another identity's file is ignored, a failing
//! candidate is skipped (never the user's error), a spent budget gives the static choice and
//! keeps it out of the file, `AUTOTUNE=off` is deterministic. With the real clock only what
//! holds whatever it says: the choice is a candidate, persisted, read back, results right.
//! One test: the cache folder is set through the environment, which all threads share.

mod common;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wgpu_backprop::rng::Rng;
use wgpu_backprop::{ops, Error, Gpu, Result, TuneClock, TuneSource, Tuned};

/// Fake timings: milliseconds per run by variant (others `default_ms`), variants that fail,
/// and a clock that moves by the fake time run plus `per_call` for each timing.
struct Fake {
    ms: Vec<(&'static str, f64)>,
    default_ms: f64,
    fail: Vec<&'static str>,
    per_call: Duration,
    now: Mutex<Duration>,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn new(ms: &[(&'static str, f64)]) -> Fake {
        Fake {
            ms: ms.to_vec(),
            default_ms: 10.0,
            fail: Vec::new(),
            per_call: Duration::ZERO,
            now: Mutex::new(Duration::ZERO),
            calls: Mutex::new(Vec::new()),
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }
}

impl TuneClock for Fake {
    fn now(&self) -> Duration {
        *self.now.lock().expect("now")
    }
    fn time(
        &self,
        _gpu: &Gpu,
        variant: &str,
        runs: usize,
        work: &mut dyn FnMut() -> Result<()>,
    ) -> Result<f64> {
        self.calls.lock().expect("calls").push(variant.to_string());
        if self.fail.contains(&variant) {
            return Err(Error::Device {
                op: "fake clock",
                message: format!("{variant} fails on purpose"),
            });
        }
        for _ in 0..runs {
            work()?; // the real kernel runs: its errors are real
        }
        let ms = self
            .ms
            .iter()
            .find(|(v, _)| *v == variant)
            .map_or(self.default_ms, |m| m.1);
        let seconds = ms * 1e-3 * runs as f64;
        *self.now.lock().expect("now") += Duration::from_secs_f64(seconds) + self.per_call;
        Ok(seconds)
    }
}

/// A `Gpu` of its own timed by `clock`.
fn gpu_with(clock: &Arc<Fake>) -> Gpu {
    let gpu = own_gpu();
    gpu.set_tune_clock(clock.clone());
    gpu
}

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

/// The product's class as tuned on `gpu`.
fn product_class(gpu: &Gpu) -> Option<Tuned> {
    gpu.tuned()
        .into_iter()
        .find(|t| t.class.starts_with("matmul NN") && t.class.ends_with("m<=128 n<=64 k<=128"))
}

/// `product` on the static choice, forced.
fn static_product(gpu: &Gpu) -> Vec<u32> {
    let mut rng = Rng::new(9);
    let a = upload(gpu, &rand_vec(&mut rng, 128 * 96, -1.0, 1.0), &[128, 96]);
    let b = upload(gpu, &rand_vec(&mut rng, 96 * 64, -1.0, 1.0), &[96, 64]);
    let cpu_device = gpu.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let fixed = if cpu_device {
        ops::MatmulKernel::Register
    } else {
        ops::MatmulKernel::Vec4
    };
    let no = ops::Transpose::No;
    let c = ops::gemm_with(fixed, (&a, no), (&b, no), None).unwrap();
    read(&c).iter().map(|v| v.to_bits()).collect()
}

fn file_text(gpu: &Gpu) -> String {
    let path = gpu.tune_file().expect("a cache directory is set");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The fastest fake wins (vec4 is a candidate everywhere for this aligned product), the static
/// choice is timed first, the choice is persisted and read back by a second `Gpu` untimed.
fn fastest_fake_wins_and_is_read_back() {
    let clock = Arc::new(Fake::new(&[
        ("vec4", 1.0),
        ("register", 3.0),
        ("tiled", 5.0),
    ]));
    let first = gpu_with(&clock);
    let bits = product(&first);
    let t = product_class(&first).expect("the class was tuned");
    assert_eq!(t.variant, "vec4", "{t:?}");
    assert_eq!(t.source, TuneSource::Timed, "{t:?}");
    let cpu_device = first.adapter_info().device_type == wgpu::DeviceType::Cpu;
    let static_name = if cpu_device { "register" } else { "vec4" };
    assert_eq!(t.timings_ms[0].0, static_name, "static choice first: {t:?}");
    assert!(t.timings_ms.len() >= 3 && t.skipped.is_empty(), "{t:?}");
    assert!(file_text(&first).contains(&format!("{}\tvec4", t.class)));

    let idle = Arc::new(Fake::new(&[]));
    let second = gpu_with(&idle);
    let again = product_class(&second).expect("read from the file");
    assert_eq!(
        (again.variant.as_str(), again.source),
        ("vec4", TuneSource::File)
    );
    assert_eq!(product(&second), bits, "the same kernel, the same bits");
    assert!(
        idle.calls().is_empty(),
        "read back, not timed: {:?}",
        idle.calls()
    );
    assert_eq!(second.tuning_time(), Duration::ZERO);

    // A file of another identity (adapter, driver, build, kernels) is ignored.
    let path = second.tune_file().expect("the file");
    let other = file_text(&second).replacen("adapter ", "adapter another driver ", 1);
    std::fs::write(&path, other).unwrap();
    let third = gpu_with(&Arc::new(Fake::new(&[])));
    assert!(
        third.tuned().is_empty(),
        "another adapter's choices were used"
    );
    product(&third);
    let t3 = product_class(&third).expect("timed anew");
    assert_eq!(t3.source, TuneSource::Timed, "{t3:?}");
    assert!(t3.timings_ms.len() >= 2, "{t3:?}");
}

/// Softmax rows of 512 (all three row kernels take them): tuned the same way, results right.
fn softmax_is_tuned_by_the_fake_too() {
    let clock = Arc::new(Fake::new(&[("per_workgroup", 0.1)]));
    let gpu = gpu_with(&clock);
    let x = rand_vec(&mut Rng::new(4), 128 * 512, -5.0, 5.0);
    let y = ops::softmax_forward(&upload(&gpu, &x, &[128, 512])).unwrap();
    let want = wgpu_backprop::reference::softmax(&x, 512);
    assert_close("tuned softmax", &read(&y), &want, F32_TOL);
    let sm = gpu
        .tuned()
        .into_iter()
        .find(|t| t.class.starts_with("softmax_forward"));
    let sm = sm.expect("softmax tuned");
    assert_eq!(
        (sm.variant.as_str(), sm.timings_ms.len()),
        ("per_workgroup", 3),
        "{sm:?}"
    );
}

/// A candidate that fails while timed is skipped and noted; the user's op succeeds.
fn a_failing_candidate_is_skipped() {
    let mut fake = Fake::new(&[("vec4", 1.0), ("register", 3.0), ("tiled", 5.0)]);
    fake.fail = vec!["vec4"];
    let gpu = gpu_with(&Arc::new(fake));
    product(&gpu);
    let t = product_class(&gpu).expect("tuned");
    assert_ne!(t.variant, "vec4", "{t:?}");
    assert_eq!(t.skipped.len(), 1, "{t:?}");
    assert!(t.skipped[0].1.contains("fails on purpose"), "{t:?}");
}

/// A budget spent among the candidates: the fastest of those timed, for this process only;
/// spent before a class comes up: the static choice, untimed, not written either.
fn a_spent_budget_is_not_written_as_timed() {
    let mut fake = Fake::new(&[("vec4", 1.0), ("register", 3.0), ("tiled", 5.0)]);
    fake.per_call = Duration::from_secs(10); // every timing spends the whole budget
    let gpu = gpu_with(&Arc::new(fake));
    let bits = product(&gpu);
    let t = product_class(&gpu).expect("tuned");
    assert_eq!(t.source, TuneSource::Partial, "{t:?}");
    assert_eq!(t.timings_ms.len(), 1, "only the static choice: {t:?}");
    assert_eq!(bits, static_product(&gpu), "the static choice ran");
    // The next class: untimed, the static choice.
    let x = rand_vec(&mut Rng::new(4), 128 * 512, -5.0, 5.0);
    ops::softmax_forward(&upload(&gpu, &x, &[128, 512])).unwrap();
    let sm = gpu
        .tuned()
        .into_iter()
        .find(|t| t.class.starts_with("softmax_forward"));
    let sm = sm.expect("kept for this process");
    assert_eq!(
        (sm.source, sm.timings_ms.len()),
        (TuneSource::Untimed, 0),
        "{sm:?}"
    );
    let text = file_text(&gpu);
    assert!(
        !text.contains(&t.class) && !text.contains(&sm.class),
        "{text}"
    );
}

/// The real clock: whatever it favours, the choice is a candidate, persisted, read back.
fn the_real_clock_chooses_a_candidate_and_persists_it() {
    let first = own_gpu();
    product(&first);
    let t = product_class(&first).expect("tuned");
    let names: Vec<&str> = t.timings_ms.iter().map(|(v, _)| v.as_str()).collect();
    assert!(names.contains(&t.variant.as_str()), "{t:?}");
    if t.source == TuneSource::Timed {
        assert!(file_text(&first).contains(&format!("{}\t{}", t.class, t.variant)));
        let second = own_gpu();
        assert_eq!(product_class(&second).map(|t| t.variant), Some(t.variant));
        product(&second);
        assert_eq!(second.tuning_time(), Duration::ZERO);
    }
}

/// Pinned choices (a resumed checkpoint's) are used untimed, whatever the clock would say.
fn pinned_choices_are_used_untimed() {
    let clock = Arc::new(Fake::new(&[("vec4", 0.01)]));
    let gpu = gpu_with(&clock);
    let class = {
        let probe = gpu_with(&Arc::new(Fake::new(&[])));
        product(&probe);
        product_class(&probe).expect("tuned").class
    };
    // A candidate on every device, neither the static choice nor the fake's favourite.
    let (name, kernel) = if gpu.adapter_info().device_type == wgpu::DeviceType::Cpu {
        ("tiled", ops::MatmulKernel::Tiled)
    } else {
        ("blocked64", ops::MatmulKernel::Blocked64)
    };
    gpu.pin_tuned(&[(class.clone(), name.into())]);
    let bits = product(&gpu);
    assert!(clock.calls().is_empty(), "{:?}", clock.calls());
    let t = product_class(&gpu).expect("pinned");
    assert_eq!((t.variant.as_str(), t.source), (name, TuneSource::Pinned));
    let mut rng = Rng::new(9);
    let a = upload(&gpu, &rand_vec(&mut rng, 128 * 96, -1.0, 1.0), &[128, 96]);
    let b = upload(&gpu, &rand_vec(&mut rng, 96 * 64, -1.0, 1.0), &[96, 64]);
    let no = ops::Transpose::No;
    let forced = ops::gemm_with(kernel, (&a, no), (&b, no), None).unwrap();
    let want: Vec<u32> = read(&forced).iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, want, "the pinned kernel ran");
}

/// Off: nothing timed, nothing read, the static choice every time (bit for bit).
fn off_runs_the_static_choice() {
    std::env::set_var("WGPU_BACKPROP_AUTOTUNE", "off");
    let clock = Arc::new(Fake::new(&[("tiled", 0.01)]));
    let off = gpu_with(&clock);
    let (x, y) = (product(&off), product(&off));
    assert_eq!(x, y);
    assert_eq!(
        x,
        static_product(&off),
        "AUTOTUNE=off runs the static choice"
    );
    assert!(off.tuned().is_empty() && clock.calls().is_empty());
    std::env::remove_var("WGPU_BACKPROP_AUTOTUNE");
}

#[test]
fn the_tuner_decides_by_its_clock_and_persists_only_complete_searches() {
    let base = std::env::temp_dir().join(format!("wgpu-backprop-tune-{}", std::process::id()));
    std::env::remove_var("WGPU_BACKPROP_AUTOTUNE");
    let sections: [(&str, fn()); 7] = [
        ("fastest", fastest_fake_wins_and_is_read_back),
        ("softmax", softmax_is_tuned_by_the_fake_too),
        ("failing", a_failing_candidate_is_skipped),
        ("budget", a_spent_budget_is_not_written_as_timed),
        ("pinned", pinned_choices_are_used_untimed),
        ("real", the_real_clock_chooses_a_candidate_and_persists_it),
        ("off", off_runs_the_static_choice),
    ];
    for (name, section) in sections {
        let dir = base.join(name); // each section starts with an empty cache
        let _ = std::fs::remove_dir_all(&dir);
        std::env::set_var("WGPU_BACKPROP_CACHE_DIR", &dir);
        section();
    }
    std::env::remove_var("WGPU_BACKPROP_CACHE_DIR");
    let _ = std::fs::remove_dir_all(&base);
}
