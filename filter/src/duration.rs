//! One duration grammar for every surface: jose's (`"30s"`, `"1.5m"`, `"2 hours"`,
//! `"1w"`), plus `ms` for the millisecond timeouts of Envoy configurations.
//!
//! The npm package reads `clockTolerance`, `maxTokenAge` and `RemoteJwks` options with
//! it, the Envoy filter its configuration's durations, so `"5m"` means the same in both.

/// Parses a duration into milliseconds.
///
/// A non-negative decimal number, an optional single space, then a unit: `ms`;
/// `s`, `sec`, `secs`, `second`, `seconds`; `m`, `min`, `mins`, `minute`, `minutes`;
/// `h`, `hr`, `hrs`, `hour`, `hours`; `d`, `day`, `days`; `w`, `week`, `weeks`;
/// `y`, `yr`, `yrs`, `year`, `years` (365.25 days, as jose). Units are case-insensitive.
/// A bare number is seconds. Fractions round to the nearest millisecond. Signs,
/// exponents, `ago`/`from now` and values beyond 10,000 years are refused (`None`).
///
/// ```
/// use jwtgate::duration::parse_millis;
/// assert_eq!(parse_millis("30s"), Some(30_000));
/// assert_eq!(parse_millis("1.5m"), Some(90_000));
/// assert_eq!(parse_millis("2 hours"), Some(7_200_000));
/// assert_eq!(parse_millis("1w"), Some(604_800_000));
/// assert_eq!(parse_millis("250ms"), Some(250));
/// assert_eq!(parse_millis("0.5"), Some(500));
/// assert_eq!(parse_millis("-1s"), None);
/// assert_eq!(parse_millis("5 fortnights"), None);
/// ```
pub fn parse_millis(text: &str) -> Option<u64> {
    let t = text.trim();
    let digits_end = t
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(t.len());
    let (number, rest) = t.split_at(digits_end);
    let unit = rest.strip_prefix(' ').unwrap_or(rest);
    let per_unit: u64 = match unit.to_ascii_lowercase().as_str() {
        "ms" => 1,
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 604_800_000,
        "y" | "yr" | "yrs" | "year" | "years" => 31_557_600_000,
        _ => return None,
    };
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) if !w.is_empty() && !f.is_empty() => (w, f),
        Some(_) => return None,
        None => (number, ""),
    };
    if whole.is_empty() || whole.len() > 15 || frac.contains('.') {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    // Six fraction digits times the largest unit stay below 2^64, so u64 arithmetic is
    // exact (u128 division costs ~1 KB of wasm); further digits are cut.
    let frac = frac.get(..frac.len().min(6)).unwrap_or("");
    let scale = 10u64.pow(u32::try_from(frac.len()).ok()?);
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let millis = whole.checked_mul(per_unit)?;
    let part = frac.checked_mul(per_unit)?.checked_add(scale / 2)? / scale;
    let total = millis.checked_add(part)?;
    (total <= 10_000 * 31_557_600_000).then_some(total)
}

/// [`parse_millis`] in whole seconds, rounded to the nearest (`"1.5s"` is 2 s), for
/// policy fields that count seconds.
///
/// ```
/// assert_eq!(jwtgate::duration::parse_seconds("1.5m"), Some(90));
/// ```
pub fn parse_seconds(text: &str) -> Option<u64> {
    parse_millis(text).map(|ms| (ms + 500) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jose_grammar() {
        for (t, ms) in [
            ("0", 0),
            ("1", 1000),
            ("1s", 1000),
            ("1 sec", 1000),
            ("10 SECONDS", 10_000),
            ("1.25s", 1250),
            ("3 mins", 180_000),
            ("1h", 3_600_000),
            ("1 day", 86_400_000),
            ("2weeks", 1_209_600_000),
            ("1y", 31_557_600_000),
            ("0.0005s", 1),
            ("  5m  ", 300_000),
        ] {
            assert_eq!(parse_millis(t), Some(ms), "{t}");
        }
        for t in [
            "",
            "s",
            ".5s",
            "5.s",
            "1..2s",
            "1.2.3s",
            "+1s",
            "-1s",
            "1e3s",
            "1  s",
            "5 min ago",
            "1 fortnight",
            "99999999999999999y",
            "1\u{a0}s",
        ] {
            assert_eq!(parse_millis(t), None, "{t}");
        }
    }
}
