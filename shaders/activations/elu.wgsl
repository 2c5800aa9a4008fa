// ELU(alpha = p.alpha): y = x where x > 0, else alpha (e^x - 1) (→ -alpha for large -x, NaN
// stays NaN; e^x - 1 without cancelling near 0); y' = 1 where x > 0, else alpha e^x.
fn f(x: vec4<f32>) -> vec4<f32> {
    return select(p.alpha * expm1_4(x), x, positive4(x));
}

fn df(x: vec4<f32>, y: vec4<f32>) -> vec4<f32> {
    let d = select(p.alpha * exp(x), vec4<f32>(1.0), positive4(x));
    return select(d, x, nan4(x)); // NaN stays NaN, whatever `exp` makes of it
}
