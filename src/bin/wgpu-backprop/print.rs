//! Printing arrays the way numpy does (8 decimals, trailing zeros trimmed, columns aligned),
//! so the demo's output reads like the lab's.

/// Formats `data` with `shape` ([n] or [rows, cols]) like `numpy.array2string`.
pub fn np(data: &[f32], shape: &[usize]) -> String {
    let cells: Vec<String> = data.iter().map(|&v| trim(v)).collect();
    let split: Vec<(&str, &str)> = cells
        .iter()
        .map(|c| c.split_at(c.find('.').unwrap_or(c.len())))
        .collect();
    let wi = split.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
    let wf = split.iter().map(|(_, f)| f.len()).max().unwrap_or(0);
    let cell = |k: usize| format!("{:>wi$}{:<wf$}", split[k].0, split[k].1);
    let cols = shape.last().copied().unwrap_or(data.len()).max(1);
    let rows: Vec<String> = (0..data.len().div_ceil(cols))
        .map(|r| {
            let row: Vec<String> = (r * cols..((r + 1) * cols).min(data.len()))
                .map(cell)
                .collect();
            format!("[{}]", row.join(" "))
        })
        .collect();
    if shape.len() == 2 {
        format!("[{}]", rows.join("\n "))
    } else {
        rows.concat()
    }
}

/// The shortest decimal that reads back as the same f32 (as numpy prints float32), rounded to
/// at most 8 decimals, keeping the point: 2 → "2.", 0.49 → "0.49".
fn trim(v: f32) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let shortest = format!("{v}");
    let decimals = shortest.split('.').nth(1).map_or(0, str::len);
    let s = if decimals > 8 {
        format!("{v:.8}")
    } else {
        format!("{v:.1}")
    };
    let s = if decimals > 8 || decimals == 0 {
        s
    } else {
        shortest
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').to_string()
    } else {
        format!("{s}.")
    };
    if s == "-0." {
        "0.".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::np;

    #[test]
    fn matches_numpy_layout() {
        assert_eq!(np(&[0.0, 1.0, 2.0], &[3]), "[0. 1. 2.]");
        assert_eq!(np(&[-0.5, 0.25], &[2]), "[-0.5   0.25]");
        assert_eq!(np(&[0.49, 0.012345678], &[2]), "[0.49       0.01234568]");
        assert_eq!(
            np(&[1.0, -2.0, 3.0, 4.0], &[2, 2]),
            "[[ 1. -2.]\n [ 3.  4.]]"
        );
    }
}
