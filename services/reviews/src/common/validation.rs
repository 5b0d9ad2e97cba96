//! Input checks every area repeats: trimmed required text with a length limit, e-mail shape,
//! numeric ranges and closed vocabularies. Each failure names the field, so a 400 tells the
//! client exactly what to fix.

use crate::common::errors::{AppError, AppResult};

/// Trims `value` and requires 1..=`max_chars` characters.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::validation(field, "must not be empty"));
    }
    optional_text(field, trimmed, max_chars)
}

/// Trims `value` and allows 0..=`max_chars` characters.
pub fn optional_text(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.chars().count() > max_chars {
        return Err(AppError::validation(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// A plausible e-mail address, lower-cased: one `@`, a non-empty local part and a dotted
/// domain. Deliverability is not our business.
pub fn email(field: &str, value: &str) -> AppResult<String> {
    let address = required_text(field, value, 254)?.to_lowercase();
    let valid = match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !address.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(address)
    } else {
        Err(AppError::validation(field, "is not a valid e-mail address"))
    }
}

/// Requires `min <= value <= max`.
pub fn in_range(field: &str, value: i64, min: i64, max: i64) -> AppResult<i64> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::validation(
            field,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// Requires `value` to be one of `allowed` (exact match) and returns the canonical spelling.
pub fn one_of(field: &str, value: &str, allowed: &[&'static str]) -> AppResult<&'static str> {
    allowed
        .iter()
        .find(|candidate| **candidate == value.trim())
        .copied()
        .ok_or_else(|| {
            AppError::validation(field, format!("must be one of {}", allowed.join(", ")))
        })
}
