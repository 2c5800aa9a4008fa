// Tanh: y = tanh x (±1 for large |x|); y' = sech² x.
fn f(x: vec4<f32>) -> vec4<f32> {
    return tanh4(x);
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return sech2_4(x);
}
