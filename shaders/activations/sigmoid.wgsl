// Sigmoid: y = σ(x) = 1 / (1 + e^-x) (0 and 1 at ±inf, no overflow); y' = σ(x) σ(-x).
fn f(x: vec4<f32>) -> vec4<f32> {
    return sigmoid4(x);
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return y * sigmoid4(-x);
}
