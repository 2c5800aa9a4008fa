//! The little JSON the crate writes by hand (the self-check's report, the kernel inventory):
//! strings quoted and escaped, numbers that JSON can hold.

/// `text` as a JSON string.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `x` as a JSON number; `null` for infinities and NaN, which JSON has no words for.
pub(crate) fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:e}")
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_are_escaped_and_non_finite_numbers_are_null() {
        assert_eq!(super::quote("a\"b\\\n\u{1}"), "\"a\\\"b\\\\\\n\\u0001\"");
        assert_eq!(super::number(f64::INFINITY), "null");
        assert_eq!(super::number(0.5), "5e-1");
    }
}
