//! Money in integer cents, with the one rounding rule the whole cinema uses (half away from
//! zero), so a fare quoted by fares and the refund computed for bookings never disagree by a
//! cent.

/// `percent` of `cents`, rounded half away from zero.
pub fn percent_of(cents: i64, percent: i64) -> i64 {
    // i128 so that no input, however absurd, can overflow.
    let product = i128::from(cents) * i128::from(percent);
    let rounded = (product.abs() + 50) / 100;
    let signed = if product < 0 { -rounded } else { rounded };
    i64::try_from(signed).unwrap_or(if signed < 0 { i64::MIN } else { i64::MAX })
}

/// `cents` adjusted by `percent` (e.g. -20 for twenty percent off), never below zero.
pub fn adjust_by_percent(cents: i64, percent: i64) -> i64 {
    cents.saturating_add(percent_of(cents, percent)).max(0)
}

/// Formats cents as `12.50`, for messages shown to people.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}
