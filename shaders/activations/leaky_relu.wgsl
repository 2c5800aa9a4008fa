// LeakyReLU(slope = p.alpha): y = x where x > 0, else slope · x (NaN stays NaN); y' = 1 where
// x > 0, else slope. x > 0 is decided on the bits, as for ReLU.
fn f(x: vec4<f32>) -> vec4<f32> {
    return select(p.alpha * x, x, positive4(x));
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return select(vec4<f32>(p.alpha), vec4<f32>(1.0), positive4(x));
}
