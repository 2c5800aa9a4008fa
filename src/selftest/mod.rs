//! `selftest`: is this library right on *this* adapter? Every kernel variant, forced one by
//! one, and every `Auto` choice, against the f64 CPU reference, over shapes that break the
//! tiling and values that break careless code: one [`Row`] per kernel × case family with its
//! worst error relative to the tolerance. The demo's `selftest` command, Python's
//! `wgpu_backprop.selftest()` and the test suite all run this one list.
//!
//! Where the arithmetic allows, the data are small integers, so that every product, sum and
//! partial sum is exact in f32 and the tolerance is zero: any indexing, tiling or reduction
//! fault shows as a wrong number, however small. Softmax, Linear and the large products use
//! random floats against f64 with the usual rounding bounds.

mod activations;
mod images;
mod layers;
mod matmul;
mod nonfinite;
mod rows;

use web_time::Instant;

use crate::error::Result;
use crate::gpu::Gpu;
use crate::json::{number, quote};
use crate::rng::Rng;

/// What to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// A subset for a minute on a CPU device: fewer shapes, no 1024³ products and no rows of
    /// a million.
    pub quick: bool,
}

/// One kernel × case family.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The kernel as forced (`"matmul tiled"`) or `"… auto"`.
    pub kernel: String,
    /// The cases, e.g. `"shapes × transposes (exact)"`.
    pub family: String,
    /// How many cases ran.
    pub cases: usize,
    /// The largest error relative to its tolerance over the cases (≤ 1 passes; 0 for exact
    /// agreement; infinite where exactness was required and missed, or NaN did not meet NaN).
    pub worst: f64,
    /// Where the worst error was: case, element, got, expected.
    pub worst_at: String,
    /// The first error an op returned, if any (the row then fails).
    pub error: Option<String>,
    /// Wall time of the family's ops and readbacks, seconds (what a step costs; not part of
    /// the verdict).
    pub seconds: f64,
}

impl Row {
    /// The table's header line.
    pub fn header() -> String {
        format!(
            "{:<28} {:<40} {:>6} {:>10} {:>8}  result\n",
            "kernel", "cases", "count", "worst/tol", "seconds"
        )
    }

    /// Whether every case agreed within tolerance and none failed.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.worst <= 1.0
    }

    /// The row as a line of the table.
    pub fn line(&self) -> String {
        let verdict = match (&self.error, self.passed()) {
            (Some(e), _) => format!("FAIL: {e}"),
            (None, true) => "pass".to_string(),
            (None, false) => format!("FAIL: worst {}", self.worst_at),
        };
        format!(
            "{:<28} {:<40} {:>6} {:>10.3e} {:>8.2}  {verdict}\n",
            self.kernel, self.family, self.cases, self.worst, self.seconds
        )
    }

    /// The row as one JSON object.
    pub fn json(&self) -> String {
        format!(
            "{{\"kernel\":{},\"family\":{},\"cases\":{},\"worst\":{},\"worst_at\":{},\
             \"error\":{},\"seconds\":{:.3},\"passed\":{}}}",
            quote(&self.kernel),
            quote(&self.family),
            self.cases,
            number(self.worst),
            quote(&self.worst_at),
            self.error.as_deref().map_or("null".into(), quote),
            self.seconds,
            self.passed()
        )
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The adapter's name, backend, driver and driver info.
    pub adapter: String,
    /// How WGSL reached the device ([`Profile::shader_compiler`](crate::Profile)).
    pub shaders: String,
    /// Every row, in the order run.
    pub rows: Vec<Row>,
    /// The autotuner's choices after the run (`class`, `variant`, how it was made: timed in
    /// this run, or read from an earlier run's file): what `Auto` takes on this adapter.
    pub auto_choices: Vec<(String, String, String)>,
    /// Wall time of the whole run, seconds.
    pub seconds: f64,
}

impl Report {
    /// Whether every row passed.
    pub fn passed(&self) -> bool {
        self.rows.iter().all(Row::passed)
    }

    /// A table for people: one line per row, then the verdict.
    pub fn table(&self) -> String {
        let mut out = format!(
            "selftest on {}\nshaders: {}\n{}",
            self.adapter,
            self.shaders,
            Row::header()
        );
        for r in &self.rows {
            out.push_str(&r.line());
        }
        for (class, variant, how) in &self.auto_choices {
            out.push_str(&format!("auto: {class} -> {variant} ({how})\n"));
        }
        let failed = self.rows.iter().filter(|r| !r.passed()).count();
        out.push_str(&format!(
            "{} of {} rows passed in {:.1} s{}\n",
            self.rows.len() - failed,
            self.rows.len(),
            self.seconds,
            if failed == 0 { "" } else { ": FAILED" }
        ));
        out
    }

    /// The report as one JSON object.
    pub fn json(&self) -> String {
        let rows: Vec<String> = self.rows.iter().map(Row::json).collect();
        let auto: Vec<String> = self
            .auto_choices
            .iter()
            .map(|(c, v, h)| format!("[{},{},{}]", quote(c), quote(v), quote(h)))
            .collect();
        format!(
            "{{\"adapter\":{},\"shaders\":{},\"passed\":{},\"seconds\":{:.3},\"rows\":[{}],\
             \"auto\":[{}]}}",
            quote(&self.adapter),
            quote(&self.shaders),
            self.passed(),
            self.seconds,
            rows.join(","),
            auto.join(",")
        )
    }
}

/// Runs the self-check on `gpu` (blocking; in a browser use [`run_async`]). Never panics and
/// never stops early: an op's `Err` fails its row and the rest still runs.
#[cfg(not(target_arch = "wasm32"))]
pub fn run(gpu: &Gpu, options: &Options) -> Report {
    run_with(gpu, options, &mut |_| {})
}

/// [`run`], calling `on_row` with each row as soon as it is done (to print progress, or keep
/// what ran when a time limit cuts the run short).
#[cfg(not(target_arch = "wasm32"))]
pub fn run_with(gpu: &Gpu, options: &Options, on_row: &mut dyn FnMut(&Row)) -> Report {
    // The body's reads block natively, so this future is ready at its first poll.
    pollster::block_on(run_async(gpu, options, on_row))
}

/// [`run_with`] without blocking, for a web page: every readback is awaited, so the page's
/// event loop runs (and can draw `on_row`'s rows) while the device works. Natively it gives
/// the same rows as [`run_with`].
pub async fn run_async(gpu: &Gpu, options: &Options, on_row: &mut dyn FnMut(&Row)) -> Report {
    let start = Instant::now();
    let info = gpu.adapter_info();
    let mut rows = Rows {
        rows: Vec::new(),
        on_row,
    };
    // Quick rows first, so that a report cut short by its budget still has some; the big
    // products last.
    layers::run(gpu, options, &mut rows).await;
    rows::run(gpu, options, &mut rows).await;
    nonfinite::run(gpu, options, &mut rows).await;
    activations::run(gpu, options, &mut rows).await;
    images::run(gpu, options, &mut rows).await;
    matmul::run(gpu, options, &mut rows).await;
    let rows = rows.rows;
    Report {
        adapter: format!(
            "{} ({:?}, driver {} {})",
            info.name, info.backend, info.driver, info.driver_info
        ),
        shaders: gpu.profile().shader_compiler.clone(),
        rows,
        auto_choices: gpu
            .tuned()
            .into_iter()
            .map(|t| (t.class, t.variant, format!("{:?}", t.source).to_lowercase()))
            .collect(),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The rows so far, each passed on as it is added.
pub(crate) struct Rows<'a> {
    rows: Vec<Row>,
    on_row: &'a mut dyn FnMut(&Row),
}

impl Rows<'_> {
    pub(crate) fn push(&mut self, row: Row) {
        (self.on_row)(&row);
        self.rows.push(row);
    }

    pub(crate) fn extend(&mut self, rows: impl IntoIterator<Item = Row>) {
        rows.into_iter().for_each(|r| self.push(r));
    }
}

/// |got − want| ≤ abs + rel·scale per element; `abs` and `rel` both 0: exact.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tol {
    pub abs: f64,
    pub rel: f64,
}

/// Exact agreement (integer data).
pub(crate) const EXACT: Tol = Tol { abs: 0.0, rel: 0.0 };

/// A family being run: its cases' worst error and first failure.
pub(crate) struct Family {
    row: Row,
}

impl Family {
    pub(crate) fn new(kernel: impl Into<String>, family: &str) -> Family {
        Family {
            row: Row {
                kernel: kernel.into(),
                family: family.to_string(),
                cases: 0,
                worst: 0.0,
                worst_at: String::new(),
                error: None,
                seconds: 0.0,
            },
        }
    }

    /// Runs `work` (a case's GPU work and readback), adding its wall time to the row's.
    pub(crate) async fn time<R>(&mut self, work: impl std::future::Future<Output = R>) -> R {
        let start = Instant::now();
        let out = work.await;
        self.row.seconds += start.elapsed().as_secs_f64();
        out
    }

    /// Compares one case: `got` against `want`, each element within `tol` of its `scale`
    /// (`None`: |want|). An `Err` from the op fails the row (the first one is kept).
    pub(crate) fn check(
        &mut self,
        case: &str,
        got: Result<Vec<f32>>,
        want: &[f64],
        scale: Option<&[f64]>,
        tol: Tol,
    ) {
        self.row.cases += 1;
        let got = match got {
            Ok(g) => g,
            Err(e) => return self.fail(case, &e),
        };
        if got.len() != want.len() {
            self.row.worst = f64::INFINITY;
            self.row.worst_at = format!("{case}: {} values, expected {}", got.len(), want.len());
            return;
        }
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let s = scale.map_or(w.abs(), |s| s[i]);
            let ratio = ratio(f64::from(g), w, tol.abs + tol.rel * s);
            if ratio > self.row.worst || (ratio.is_infinite() && self.row.worst_at.is_empty()) {
                self.row.worst = ratio;
                self.row.worst_at = format!("{case}: element {i} got {g:e}, expected {w:e}");
            }
        }
    }

    /// Fails the row with `error` (the first one is kept).
    pub(crate) fn fail(&mut self, case: &str, error: &dyn std::fmt::Display) {
        if self.row.error.is_none() {
            self.row.error = Some(format!("{case}: {error}"));
        }
    }

    /// The finished row.
    pub(crate) fn done(self) -> Row {
        self.row
    }
}

/// |got − want| / allowed; NaN must meet NaN and an infinity the same infinity (0 then);
/// with nothing allowed, 0 for exact agreement and infinity otherwise.
fn ratio(got: f64, want: f64, allowed: f64) -> f64 {
    if got.is_nan() || want.is_nan() {
        return if got.is_nan() && want.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if got.is_infinite() || want.is_infinite() {
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    let err = (got - want).abs();
    if err == 0.0 {
        0.0
    } else if allowed > 0.0 {
        err / allowed
    } else {
        f64::INFINITY
    }
}

/// Small integers in [-`max`, `max`], as f32 values and their f64 twins.
pub(crate) fn integers(rng: &mut Rng, n: usize, max: i64) -> (Vec<f32>, Vec<f64>) {
    let span = (2 * max + 1) as usize;
    let v: Vec<f64> = (0..n)
        .map(|_| rng.below(span) as f64 - max as f64)
        .collect();
    (v.iter().map(|&x| x as f32).collect(), v)
}

/// Uniform floats in [lo, hi), as f32 values and their f64 twins.
pub(crate) fn floats(rng: &mut Rng, n: usize, lo: f32, hi: f32) -> (Vec<f32>, Vec<f64>) {
    let v: Vec<f32> = (0..n).map(|_| rng.uniform(lo, hi)).collect();
    let w = v.iter().map(|&x| f64::from(x)).collect();
    (v, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_treat_nan_infinity_and_exactness_strictly() {
        assert_eq!(ratio(f64::NAN, f64::NAN, 0.0), 0.0);
        assert!(ratio(0.0, f64::NAN, 1.0).is_infinite());
        assert!(ratio(f64::NAN, 0.0, 1.0).is_infinite());
        assert_eq!(ratio(f64::INFINITY, f64::INFINITY, 0.0), 0.0);
        assert!(ratio(f64::NEG_INFINITY, f64::INFINITY, 1.0).is_infinite());
        assert!(
            ratio(1.0, 1.0 + 1e-9, 0.0).is_infinite(),
            "exact means exact"
        );
        assert_eq!(ratio(3.0, 3.0, 0.0), 0.0);
        assert!((ratio(1.0, 1.5, 1.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_family_names_its_worst_element_and_keeps_the_first_error() {
        let mut f = Family::new("k", "f");
        f.check("a", Ok(vec![1.0, 2.0, 4.0]), &[1.0, 2.0, 3.0], None, EXACT);
        f.check("b", Ok(vec![1.0]), &[1.0], None, EXACT);
        let e = crate::Error::InvalidArgument {
            op: "x",
            message: "m".into(),
        };
        f.check("c", Err(e), &[1.0], None, EXACT);
        let row = f.done();
        assert_eq!(row.cases, 3);
        assert!(!row.passed());
        assert!(
            row.worst_at.starts_with("a: element 2 got 4"),
            "{}",
            row.worst_at
        );
        assert!(row.error.as_deref().is_some_and(|e| e.starts_with("c: ")));
    }
}
