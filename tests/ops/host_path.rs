//! The host path: every dispatch's `Params` in a slot of the uniform ring (written just before
//! its window is submitted) and bind groups cached per kernel and buffers. Thousands of ops
//! with different params across many submit windows each keep their own params; recycled
//! buffers (cache hits) read their new contents; trimming the pool drops the cached bind
//! groups and work goes on.

use crate::common::*;
use wgpu_backprop::ops;
use wgpu_backprop::Tensor;

#[test]
fn every_op_keeps_its_params_across_submit_windows() {
    let gpu = gpu();
    // 2,500 sums of different lengths, nothing read until the end: more dispatches than the
    // ring has slots and than one window holds.
    let sums: Vec<(usize, Tensor)> = (0..2_500)
        .map(|i| {
            let len = i % 97 + 1;
            let t = Tensor::from_slice(&gpu, &vec![1.0; len], &[len]).unwrap();
            (len, ops::sum_all(&t).unwrap())
        })
        .collect();
    for (i, (len, s)) in sums.iter().enumerate() {
        assert_eq!(read(s), vec![*len as f32], "sum {i} of {len} ones");
    }
}

#[test]
fn recycled_buffers_and_trimmed_pools_give_fresh_results() {
    let gpu = gpu();
    for round in 0..200 {
        // Dropped every round: the pool hands the same buffers back, the bind group is a hit.
        let v: Vec<f32> = (0..64)
            .map(|j| (j as f32 - 31.5) * (round as f32 + 1.0))
            .collect();
        let x = Tensor::from_slice(&gpu, &v, &[64]).unwrap();
        let y = ops::relu_forward(&x).unwrap();
        let want: Vec<f32> = v.iter().map(|&a| if a > 0.0 { a } else { 0.0 }).collect();
        assert_eq!(read(&y), want, "round {round}");
        if round % 50 == 49 {
            gpu.trim_pool();
        }
    }
}

/// A window whose slots equal the last one's writes nothing to the ring; one that differs in
/// a middle slot writes that range only. Each window here is read back before the next.
#[test]
fn windows_that_repeat_or_change_one_slot_read_their_own_params() {
    let gpu = gpu();
    for lens in [
        [5, 7, 9],
        [5, 7, 9],
        [5, 7, 9],
        [5, 8, 9],
        [5, 8, 9],
        [6, 8, 9],
    ] {
        let sums: Vec<Tensor> = lens
            .iter()
            .map(|&len| {
                let t = Tensor::from_slice(&gpu, &vec![1.0; len], &[len]).unwrap();
                ops::sum_all(&t).unwrap()
            })
            .collect();
        let got: Vec<f32> = sums.iter().map(|s| read(s)[0]).collect();
        let want: Vec<f32> = lens.iter().map(|&l| l as f32).collect();
        assert_eq!(got, want, "window {lens:?}");
    }
}
