// GELU, tanh approximation (PyTorch's approximate="tanh"): with u = √(2/π) (x + 0.044715 x³),
//   y = x/2 · (1 + tanh u) = x σ(2u)
//   y' = σ(2u) + 2x √(2/π) (1 + 3 · 0.044715 x²) · σ(2u) σ(-2u)
// (1 + tanh u = 2σ(2u) and 1 - tanh² u = 4σ(2u)σ(-2u): no difference that cancels; at ±inf
// the limits, 0 or x and 0 or 1, not -inf · 0).
const GELU_C: f32 = 0.7978845608028654; // √(2/π)
const GELU_K: f32 = 0.044715;

fn f(x: vec4<f32>) -> vec4<f32> {
    return times4(x, sigmoid4(2.0 * GELU_C * (x + GELU_K * x * x * x)));
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    let u2 = 2.0 * GELU_C * (x + GELU_K * x * x * x);
    let s = sigmoid4(u2);
    return s + times4(2.0 * x * GELU_C * (1.0 + 3.0 * GELU_K * x * x), s * sigmoid4(-u2));
}
