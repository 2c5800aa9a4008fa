// SiLU (swish): y = x σ(x); y' = σ(x) + x σ(x) σ(-x) (at ±inf the limits: 0 or x, 0 or 1).
fn f(x: vec4<f32>) -> vec4<f32> {
    return times4(x, sigmoid4(x));
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    let s = sigmoid4(x);
    return s + times4(x, s * sigmoid4(-x));
}
