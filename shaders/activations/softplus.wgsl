// Softplus: y = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), exact for large |x| (x for large x,
// e^x for large -x); y' = σ(x). log1p(e) for e in [0, 1] is 2 atanh(z), z = e / (2 + e) ≤ 1/3,
// by its series (all terms positive, so nothing cancels and no fast-math rewrite can lose
// digits, as it did with log(1 + e)).
fn log1p_unit4(e: vec4<f32>) -> vec4<f32> {
    let z = e / (2.0 + e);
    let z2 = z * z;
    let s = 1.0 + z2 * (1.0 / 3.0 + z2 * (1.0 / 5.0 + z2 * (1.0 / 7.0 + z2 * (1.0 / 9.0
        + z2 * (1.0 / 11.0 + z2 * (1.0 / 13.0 + z2 * (1.0 / 15.0 + z2 * (1.0 / 17.0
        + z2 * (1.0 / 19.0)))))))));
    return 2.0 * z * s;
}

fn f(x: vec4<f32>) -> vec4<f32> {
    let y = max(x, vec4<f32>(0.0)) + log1p_unit4(exp(-abs(x)));
    return select(y, x, nan4(x)); // NaN stays NaN
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    return sigmoid4(x);
}
