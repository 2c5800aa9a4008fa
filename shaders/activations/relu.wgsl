// ReLU: y = x where x > 0, else +0 (NaN stays NaN, -0 → +0); ReLU'(x) = 1 where x > 0, else 0
// (ReLU'(0) = 0, ReLU'(NaN) = 0). Decided on the bits, as the matmul epilogue's ReLU, so a fused
// Linear + ReLU gives the same bits.
fn f(x: vec4<f32>) -> vec4<f32> {
    return select(vec4<f32>(0.0), x, positive4(x) | nan4(x));
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return select(vec4<f32>(0.0), vec4<f32>(1.0), positive4(x));
}
