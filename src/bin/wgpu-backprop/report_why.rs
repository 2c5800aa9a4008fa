//! The parts of a GPU report's `summary.md` that say *why* a case is slow (`report.rs` has the
//! rest): the device's own peaks measured first (`calibrate.out`: a vec4 copy and an FMA loop)
//! beside its published ones (the card table, through `info.out`), every case as a fraction
//! of both, the GPU time of each dispatch inside the composite ops, the slowest pipeline
//! compiles of the cold run, and the clocks, power and temperature `nvidia-smi` sampled.

use std::fmt::Write as _;

use super::report::{bench_rows, field, BenchRow};

/// This device's peaks: (GB/s from the copy, GFLOP/s from the FMA loop), measured and
/// published.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Peaks {
    pub copy_gbps: Option<f64>,
    pub fma_gflops: Option<f64>,
    pub card_gbps: Option<f64>,
    pub card_gflops: Option<f64>,
}

/// The peaks from `calibrate.out` and `info.out`'s "compute units: N (T TFLOP/s f32, B GB/s
/// published)" line.
pub fn peaks(calibrate: &str, info: &str) -> Peaks {
    let rows = bench_rows(calibrate);
    let rate = |op: &str| rows.iter().find(|r| r.op == op).map(|r| r.rate.1);
    let card = info
        .lines()
        .find_map(|l| l.strip_prefix("compute units:"))
        .and_then(|l| l.split_once('(').map(|(_, rest)| rest.to_string()));
    let number_before = |text: &str, unit: &str| -> Option<f64> {
        let at = text.find(unit)?;
        text[..at].split_whitespace().last()?.parse().ok()
    };
    Peaks {
        copy_gbps: rate("calibrate_copy"),
        fma_gflops: rate("calibrate_fma"),
        card_gbps: card.as_deref().and_then(|c| number_before(c, "GB/s")),
        card_gflops: card
            .as_deref()
            .and_then(|c| number_before(c, "TFLOP/s"))
            .map(|t| t * 1e3),
    }
}

fn percent(v: f64, of: Option<f64>) -> String {
    match of {
        Some(p) if p > 0.0 => format!("{:.1} %", 100.0 * v / p),
        _ => "—".into(),
    }
}

/// The calibration table.
pub fn calibration_section(md: &mut String, p: &Peaks) {
    let show =
        |v: Option<f64>, unit: &str| v.map_or("not measured".into(), |v| format!("{v:.1} {unit}"));
    let _ = writeln!(
        md,
        "## This device's peaks (calibration, measured first)\n\n\
         | | measured | published |\n| --- | --- | --- |\n\
         | memory (vec4 copy, read + write) | {} | {} |\n\
         | f32 FMA (8 chains per invocation) | {} | {} |\n",
        show(p.copy_gbps, "GB/s"),
        show(p.card_gbps, "GB/s"),
        show(p.fma_gflops, "GFLOP/s"),
        show(p.card_gflops, "GFLOP/s"),
    );
}

/// Every case as a fraction of the peaks: bandwidth-bound ops (GB/s) of the copy, products
/// (GFLOP/s) of the FMA loop.
pub fn fractions_section(md: &mut String, rows: &[BenchRow], p: &Peaks) {
    let _ = writeln!(
        md,
        "## Every case as a fraction of the peaks (tuned run)\n\n\
         | op | shape | rate | of measured peak | of published peak |\n| --- | --- | --- | --- | --- |"
    );
    for r in rows.iter().filter(|r| !r.op.starts_with("calibrate_")) {
        let (unit, measured, published) = match r.rate.0.as_str() {
            "gflops" => ("GFLOP/s", p.fma_gflops, p.card_gflops),
            "gbps" => ("GB/s", p.copy_gbps, p.card_gbps),
            _ => continue,
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} {unit} | {} | {} |",
            r.op,
            r.shape,
            r.rate.1,
            percent(r.rate.1, measured),
            percent(r.rate.1, published)
        );
    }
    md.push('\n');
}

/// One `"dispatches"` line: op, shape, and each dispatch's (kernel, ms).
type Dispatches = (String, String, Vec<(String, f64)>);

/// The `"dispatches"` lines of a bench's output.
pub fn dispatch_rows(text: &str) -> Vec<Dispatches> {
    text.lines()
        .filter(|l| l.contains("\"dispatches\":"))
        .filter_map(|l| {
            let list = l.split("\"ms\":[").nth(1)?.trim_end_matches(['}', ']']);
            let times = list
                .split("],[")
                .filter_map(|pair| {
                    let pair = pair.trim_matches(['[', ']']);
                    let (name, ms) = pair.rsplit_once(',')?;
                    Some((name.trim_matches('"').to_string(), ms.parse().ok()?))
                })
                .collect();
            Some((
                field(l, "dispatches")?.into(),
                field(l, "shape")?.into(),
                times,
            ))
        })
        .collect()
}

/// Inside the composite ops: each dispatch's GPU time and share.
pub fn dispatches_section(md: &mut String, text: &str) {
    let rows = dispatch_rows(text);
    let _ = writeln!(
        md,
        "## Inside the composite ops (one call, a pass per dispatch)\n"
    );
    if rows.is_empty() {
        let _ = writeln!(
            md,
            "Not measured (no TIMESTAMP_QUERY, or the run was cut short).\n"
        );
        return;
    }
    for (op, shape, times) in rows {
        let total: f64 = times.iter().map(|t| t.1).sum();
        let parts: Vec<String> = times
            .iter()
            .map(|(k, ms)| format!("{k} {ms:.3} ms ({:.0} %)", 100.0 * ms / total.max(1e-12)))
            .collect();
        let _ = writeln!(md, "- {op} {shape}: {}", parts.join(", "));
    }
    md.push('\n');
}

/// The cold run's pipeline compiles: the total and the slowest ten.
pub fn compiles_section(md: &mut String, cold: &str) {
    let mut times: Vec<(String, f64)> = cold
        .lines()
        .filter(|l| l.contains("\"compiled\":"))
        .filter_map(|l| Some((field(l, "compiled")?.into(), field(l, "ms")?.parse().ok()?)))
        .collect();
    let _ = writeln!(
        md,
        "## Pipeline compiles (cold run: its own empty caches)\n"
    );
    if times.is_empty() {
        let _ = writeln!(md, "Not printed (the cold run was cut short).\n");
        return;
    }
    let total: f64 = times.iter().map(|t| t.1).sum();
    times.sort_by(|a, b| b.1.total_cmp(&a.1));
    let _ = writeln!(
        md,
        "{} pipelines, {:.2} s in all; the slowest:\n",
        times.len(),
        total / 1e3
    );
    for (label, ms) in times.iter().take(10) {
        let _ = writeln!(md, "- {label}: {ms:.1} ms");
    }
    md.push('\n');
}

/// `nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,utilization.gpu
/// --format=csv,noheader,nounits` samples: the range of each.
pub fn nvidia_section(md: &mut String, csv: &str) {
    let names = [
        "SM clock (MHz)",
        "memory clock (MHz)",
        "power (W)",
        "temperature (°C)",
        "utilisation (%)",
    ];
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for line in csv.lines() {
        for (i, v) in line.split(',').enumerate().take(names.len()) {
            if let Ok(v) = v.trim().parse::<f64>() {
                cols[i].push(v);
            }
        }
    }
    let _ = writeln!(
        md,
        "## Clocks, power, temperature (nvidia-smi, sampled during the run)\n"
    );
    if cols[0].is_empty() {
        let _ = writeln!(md, "Not sampled (no nvidia-smi on this host).\n");
        return;
    }
    let _ = writeln!(md, "| | min | max | samples |\n| --- | --- | --- | --- |");
    for (name, c) in names.iter().zip(&cols) {
        let min = c.iter().copied().fold(f64::INFINITY, f64::min);
        let max = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !c.is_empty() {
            let _ = writeln!(md, "| {name} | {min:.0} | {max:.0} | {} |", c.len());
        }
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_fractions_dispatches_and_samples_are_read() {
        let cal = r#"{"adapter":"a","op":"calibrate_copy","shape":"256 MiB","median_ms":1,"min_ms":1,"gbps":3000.000,"runs":10,"reps":1,"method":"timestamps"}
{"adapter":"a","op":"calibrate_fma","shape":"x","median_ms":1,"min_ms":1,"gflops":50000.000,"runs":10,"reps":1,"method":"timestamps"}"#;
        let info = "compute units: 132 (66.9 TFLOP/s f32, 3350 GB/s published)";
        let p = peaks(cal, info);
        assert_eq!(p.copy_gbps, Some(3000.0));
        assert_eq!(p.fma_gflops, Some(50000.0));
        assert_eq!(p.card_gbps, Some(3350.0));
        assert_eq!(p.card_gflops, Some(66_900.0));
        let rows = bench_rows(
            r#"{"op":"softmax_fwd","shape":"4096x1024","gbps":1500.000,"method":"timestamps"}"#,
        );
        let mut md = String::new();
        fractions_section(&mut md, &rows, &p);
        assert!(md.contains("| 50.0 % | 44.8 % |"), "{md}");
        let d = r#"{"adapter":"a","dispatches":"linear_fwd_bwd","shape":"1x2x3","ms":[["matmul_blocked",0.500000],["column_sum",0.100000]]}"#;
        let rows = dispatch_rows(d);
        assert_eq!(
            rows[0].2,
            vec![("matmul_blocked".into(), 0.5), ("column_sum".into(), 0.1)]
        );
        let mut md = String::new();
        nvidia_section(
            &mut md,
            "1980, 2619, 350.4, 45, 99\n1755, 2619, 690.0, 61, 100\n",
        );
        assert!(md.contains("| SM clock (MHz) | 1755 | 1980 | 2 |"), "{md}");
        assert!(md.contains("| power (W) | 350 | 690 | 2 |"), "{md}");
    }
}
