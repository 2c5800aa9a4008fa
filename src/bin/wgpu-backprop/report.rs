//! `wgpu-backprop report-summary DIR` (hidden): the `summary.md` of a GPU report kit run
//! (`scripts/gpu-report.sh`), from the files its `run.sh` leaves in DIR — `steps.tsv` (name,
//! exit status, seconds, limit), `info.out`, `selftest.out` (JSON), `bench-cold.out` and
//! `bench-tuned.out` (`bench --json` lines), `train.out`, `bench-unchecked.out`. Readable
//! alone: the adapter, the self-check's verdict, each op's rate beside the H100 anchors, the
//! variants the autotuner chose, and the wall time of every step. Missing or cut-short files
//! give "not measured", never an error.

use std::fmt::Write as _;
use std::path::Path;

use super::report_why as why;

/// A published figure to measure against (H100 SXM, f32), rates in GFLOP/s or GB/s as the
/// bench prints them.
struct Anchor {
    op: &'static str,
    shape: &'static str,
    what: &'static str,
    /// cuBLAS or PyTorch.
    peer: f64,
    /// burn 0.22 through wgpu.
    burn: f64,
    /// Ours, where the project has one (0: none).
    target: f64,
}

const fn anchor(
    (op, shape, what): (&'static str, &'static str, &'static str),
    peer: f64,
    burn: f64,
    target: f64,
) -> Anchor {
    Anchor {
        op,
        shape,
        what,
        peer,
        burn,
        target,
    }
}

const ANCHORS: [Anchor; 6] = [
    anchor(
        ("matmul", "1024x1024x1024", "matmul 1024³ (TFLOP/s)"),
        29_700.0,
        1_500.0,
        0.0,
    ),
    anchor(
        ("matmul", "4096x4096x4096", "matmul 4096³ (TFLOP/s)"),
        51_000.0,
        19_100.0,
        30_000.0,
    ),
    anchor(
        ("matmul", "8192x8192x8192", "matmul 8192³ (TFLOP/s)"),
        51_900.0,
        20_200.0,
        0.0,
    ),
    anchor(
        (
            "linear_fwd_bwd",
            "1024x4096x4096",
            "Linear fwd+bwd 1024×4096→4096 (TFLOP/s)",
        ),
        48_300.0,
        19_700.0,
        28_000.0,
    ),
    anchor(
        ("softmax_fwd", "4096x1024", "softmax fwd 4096×1024 (GB/s)"),
        1_173.0,
        102.0,
        1_000.0,
    ),
    anchor(
        ("relu_fwd", "4096x4096", "ReLU fwd 4096² (GB/s)"),
        2_186.0,
        672.0,
        2_000.0,
    ),
];

/// One `bench --json` line, the fields the summary needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct BenchRow {
    pub op: String,
    pub shape: String,
    /// ("gflops" | "gbps" | "tokens_per_s" | "us" | "ms", value)
    pub rate: (String, f64),
    pub method: String,
}

/// The value of `"key":` in a flat JSON object line: a string's contents or a number's text.
pub(super) fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[at..];
    if let Some(s) = rest.strip_prefix('"') {
        return s.find('"').map(|end| &s[..end]);
    }
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

pub(super) fn bench_rows(text: &str) -> Vec<BenchRow> {
    text.lines()
        .filter(|l| l.starts_with('{') && l.contains("\"op\":"))
        .filter_map(|l| {
            let rate = ["gflops", "gbps", "tokens_per_s", "us", "ms"]
                .iter()
                .find_map(|u| Some((u.to_string(), field(l, u)?.parse().ok()?)))?;
            Some(BenchRow {
                op: field(l, "op")?.to_string(),
                shape: field(l, "shape")?.to_string(),
                rate,
                method: field(l, "method").unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// `"tuned"` lines: (class, variant, timings as printed).
fn tuned_rows(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|l| l.contains("\"tuned\":"))
        .filter_map(|l| {
            let timings = l.split("\"timings_ms\":").nth(1).unwrap_or("{}");
            let timings = timings.trim_end_matches('}').trim_start_matches('{');
            Some((
                field(l, "tuned")?.to_string(),
                field(l, "variant")?.to_string(),
                timings.replace('"', ""),
            ))
        })
        .collect()
}

fn rate_of(rows: &[BenchRow], op: &str, shape: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.op == op && r.shape == shape)
        .map(|r| r.rate.1)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

/// The summary's markdown.
pub fn summary(dir: &Path) -> String {
    let mut md = String::new();
    let info = read(dir, "info.out");
    let adapter = info
        .lines()
        .find_map(|l| l.strip_prefix("adapter:"))
        .map_or("(no adapter line: see info.out)".to_string(), |a| {
            a.trim().to_string()
        });
    let _ = writeln!(md, "# GPU report: {adapter}\n");
    let stopped = read(dir, "stopped.out");
    if !stopped.is_empty() {
        let _ = writeln!(md, "**Stopped:** {}\n", stopped.trim());
    }
    for key in [
        "backend:",
        "device type:",
        "driver:",
        "shaders:",
        "compute units:",
        "features:",
    ] {
        if let Some(l) = info.lines().find(|l| l.starts_with(key)) {
            let _ = writeln!(md, "- {}", l.trim());
        }
    }
    md.push('\n');
    selftest_section(&mut md, &read(dir, "selftest.out"));
    let peaks = why::peaks(&read(dir, "calibrate.out"), &info);
    why::calibration_section(&mut md, &peaks);
    anchors_section(&mut md, dir);
    let tuned = bench_rows(&read(dir, "bench-tuned.out"));
    let cold = bench_rows(&read(dir, "bench-cold.out"));
    why::fractions_section(
        &mut md,
        if tuned.is_empty() { &cold } else { &tuned },
        &peaks,
    );
    why::dispatches_section(&mut md, &read(dir, "bench-tuned.out"));
    tuned_section(&mut md, &read(dir, "bench-cold.out"));
    why::compiles_section(&mut md, &read(dir, "bench-cold.out"));
    why::nvidia_section(&mut md, &read(dir, "nvidia-smi.csv"));
    steps_section(&mut md, &read(dir, "steps.tsv"));
    md
}

fn selftest_section(md: &mut String, text: &str) {
    let _ = writeln!(md, "## Self-check\n");
    let Some(json) = text.lines().find(|l| l.starts_with("{\"adapter\":")) else {
        // Cut short: the rows done so far, one JSON object each.
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("{\"kernel\":"))
            .collect();
        let failed = rows
            .iter()
            .filter(|r| r.contains("\"passed\":false"))
            .count();
        let _ = writeln!(
            md,
            "Not finished: {} rows done, {failed} failed (selftest.out in report.tar.gz).\n",
            rows.len()
        );
        return;
    };
    let rows: Vec<&str> = json.split("{\"kernel\":").skip(1).collect();
    let failed: Vec<&&str> = rows
        .iter()
        .filter(|r| r.contains("\"passed\":false"))
        .collect();
    let verdict = if failed.is_empty() {
        "PASSED"
    } else {
        "FAILED"
    };
    let _ = writeln!(
        md,
        "{verdict}: {} of {} rows ({} s).\n",
        rows.len() - failed.len(),
        rows.len(),
        field(json, "seconds").unwrap_or("?")
    );
    for r in failed {
        let row = format!("{{\"kernel\":{r}");
        let _ = writeln!(
            md,
            "- {} / {}: {} {}",
            field(&row, "kernel").unwrap_or("?"),
            field(&row, "family").unwrap_or("?"),
            field(&row, "worst_at").unwrap_or(""),
            field(&row, "error").unwrap_or("")
        );
    }
    md.push('\n');
}

fn anchors_section(md: &mut String, dir: &Path) {
    let cold = bench_rows(&read(dir, "bench-cold.out"));
    let tuned = bench_rows(&read(dir, "bench-tuned.out"));
    let _ = writeln!(
        md,
        "## Rates beside the anchors (anchors: H100 SXM, f32)\n\n\
         | op | ours, first run | ours, tuned | cuBLAS / PyTorch | burn 0.22 | target |\n\
         | --- | --- | --- | --- | --- | --- |"
    );
    for a in &ANCHORS {
        let tera = a.what.contains("TFLOP");
        let show = |v: Option<f64>| match v {
            Some(v) if tera => format!("{:.2}", v / 1e3),
            Some(v) => format!("{v:.0}"),
            None => "not measured".to_string(),
        };
        let target = if a.target > 0.0 {
            show(Some(a.target))
        } else {
            "—".into()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {target} |",
            a.what,
            show(rate_of(&cold, a.op, a.shape)),
            show(rate_of(&tuned, a.op, a.shape)),
            show(Some(a.peer)),
            show(Some(a.burn))
        );
    }
    let unchecked = bench_rows(&read(dir, "bench-unchecked.out"));
    if !unchecked.is_empty() {
        let _ = writeln!(
            md,
            "\n### Without wgpu's runtime checks (WGPU_BACKPROP_UNCHECKED=1)\n"
        );
        for r in &unchecked {
            let _ = writeln!(md, "- {} {}: {:.2} {}", r.op, r.shape, r.rate.1, r.rate.0);
        }
    }
    md.push('\n');
}

fn tuned_section(md: &mut String, cold: &str) {
    let _ = writeln!(
        md,
        "## Variants the autotuner chose (first run, timings in ms)\n"
    );
    let rows = tuned_rows(cold);
    if rows.is_empty() {
        let _ = writeln!(
            md,
            "None printed (the first bench was cut short: see cache/ in report.tar.gz).\n"
        );
    }
    for (class, variant, timings) in rows {
        let _ = writeln!(md, "- `{class}` → **{variant}** ({timings})");
    }
    md.push('\n');
}

fn steps_section(md: &mut String, steps: &str) {
    let _ = writeln!(
        md,
        "## Steps\n\n| step | exit | seconds | limit |\n| --- | --- | --- | --- |"
    );
    for l in steps.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if let [name, rc, secs, limit] = f[..] {
            let rc = match rc {
                "124" | "137" => "timed out (output kept)",
                "0" => "0",
                other => other,
            };
            let _ = writeln!(md, "| {name} | {rc} | {secs} | {limit} |");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_and_fields_are_read() {
        let line = r#"{"adapter":"NVIDIA H100 (Vulkan)","op":"matmul","shape":"4096x4096x4096","median_ms":4.1,"min_ms":4.0,"gflops":33512.100,"runs":10,"reps":5,"method":"timestamps"}"#;
        let rows = bench_rows(line);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].op, "matmul");
        assert_eq!(rows[0].rate, ("gflops".to_string(), 33512.1));
        assert_eq!(field(line, "runs"), Some("10"));
        let t = r#"{"adapter":"x","tuned":"matmul NN a4 m<=64","variant":"vec4","timings_ms":{"vec4":0.1,"tiled":0.2}}"#;
        let tuned = tuned_rows(t);
        assert_eq!(tuned[0].1, "vec4");
        assert_eq!(tuned[0].2, "vec4:0.1,tiled:0.2");
    }

    #[test]
    fn a_summary_of_nothing_says_not_measured() {
        let dir = std::env::temp_dir().join(format!("report-empty-{}", std::process::id()));
        let md = summary(&dir);
        assert!(
            md.contains("not measured") && md.contains("Not finished"),
            "{md}"
        );
    }
}
