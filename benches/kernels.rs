//! `cargo bench`: the kernels at the small sizes, timed on the GPU (timestamp queries where the
//! adapter has them) through criterion's custom-timing hook. Each iteration records one op;
//! criterion decides how many. The demo's `wgpu-backprop bench` covers the large sizes and
//! prints GFLOP/s and GB/s.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wgpu_backprop::bench::{measure, suite, Work};
use wgpu_backprop::Gpu;

fn kernels(c: &mut Criterion) {
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) => panic!("benchmarks need a GPU adapter: {e}"),
    };
    let mut group = c.benchmark_group(gpu.adapter_name().to_string());
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for case in suite(&gpu, false) {
        let Ok(mut case) = case else { continue };
        // The small sizes: skip the 2048³ matmul and keep cargo bench short.
        if case.shape == "2048x2048x2048" {
            continue;
        }
        group.throughput(match case.work {
            Work::Flops(f) => Throughput::Elements(f as u64),
            Work::Bytes(b) => Throughput::Bytes(b as u64),
            Work::Tokens(t) => Throughput::Elements(t as u64),
        });
        group.bench_function(format!("{}/{}", case.op, case.shape), |b| {
            b.iter_custom(|iters| {
                let reps = usize::try_from(iters).unwrap_or(usize::MAX);
                match measure(&gpu, 1, reps, &mut case.run) {
                    Ok(m) => Duration::from_secs_f64(m.median_s * iters as f64),
                    Err(e) => panic!("{} {}: {e}", case.op, case.shape),
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
