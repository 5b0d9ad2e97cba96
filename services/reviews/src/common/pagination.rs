//! Pagination of every list endpoint: `?page=1&per_page=20` in, `{"items", "page", "per_page",
//! "total"}` out. Raw values arrive as text so a bad number is a clear 400, not a generic
//! deserialization failure.

use serde::Serialize;

use crate::common::errors::{AppError, AppResult};

/// Default page size when the client gives none.
pub const DEFAULT_PER_PAGE: i64 = 20;
/// Largest page size a client may ask for.
pub const MAX_PER_PAGE: i64 = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: i64,
    /// Items per page, 1..=[`MAX_PER_PAGE`].
    pub per_page: i64,
}

impl PageRequest {
    /// Validates the raw `page` and `per_page` query values.
    pub fn from_query(page: Option<&str>, per_page: Option<&str>) -> AppResult<PageRequest> {
        let page = parse_positive("page", page, 1, 1_000_000)?;
        let per_page = parse_positive("per_page", per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
        Ok(PageRequest { page, per_page })
    }

    /// The SQL `LIMIT`.
    pub fn limit(&self) -> i64 {
        self.per_page
    }

    /// The SQL `OFFSET`.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

fn parse_positive(field: &str, raw: Option<&str>, default: i64, max: i64) -> AppResult<i64> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(value) if (1..=max).contains(&value) => Ok(value),
        _ => Err(AppError::invalid(
            "invalid_pagination",
            format!("{field} must be a whole number between 1 and {max}"),
        )),
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// 1-based page number.
    pub page: i64,
    /// Page size asked for.
    pub per_page: i64,
    /// Items over all pages.
    pub total: i64,
}

impl<T> Page<T> {
    /// Wraps one page of items with its request and the overall total.
    pub fn new(items: Vec<T>, request: PageRequest, total: i64) -> Page<T> {
        Page {
            items,
            page: request.page,
            per_page: request.per_page,
            total,
        }
    }
}
