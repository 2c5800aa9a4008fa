// GELU, exact: y = x Φ(x), Φ the normal CDF, Φ(x) = erfc(-x/√2)/2; y' = Φ(x) + x φ(x),
// φ(x) = e^(-x²/2)/√(2π). WGSL has no erf: erfc by its Chebyshev fit (Numerical Recipes'
// erfcc), relative error under 1.2e-7 everywhere, so the left tail (where 1 + erf would
// cancel) stays accurate.
fn erfc4(z: vec4<f32>) -> vec4<f32> {
    let a = abs(z);
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * exp(poly);
    return select(2.0 - r, r, z >= vec4<f32>(0.0));
}

fn phi_cdf4(x: vec4<f32>) -> vec4<f32> {
    return 0.5 * erfc4(-x * 0.7071067811865476);
}

// At ±inf the limits (0 or x, 0 or 1), not -inf · 0.
fn f(x: vec4<f32>) -> vec4<f32> {
    return times4(x, phi_cdf4(x));
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return phi_cdf4(x) + times4(x, exp(-0.5 * x * x) * 0.3989422804014327);
}
