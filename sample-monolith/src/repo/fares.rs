//! SQL of fares: pricing rules, discount codes, and the booking figures prices depend on
//! (seats already sold, what a booking cost and when its showing starts).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::common::errors::AppResult;
use crate::common::ids::{BookingId, ShowtimeId};

/// A row of `fare_rules`.
#[derive(Debug, Clone, Serialize)]
pub struct FareRuleRow {
    /// Id.
    pub id: i64,
    /// Name shown on a quote, e.g. `Matinee`.
    pub name: String,
    /// `time_of_day`, `weekday` or `demand`.
    pub kind: String,
    /// First hour the rule applies (time_of_day).
    pub start_hour: Option<i64>,
    /// Hour the rule stops applying, exclusive (time_of_day).
    pub end_hour: Option<i64>,
    /// Comma-separated ISO weekdays, 1 = Monday (weekday).
    pub weekdays: Option<String>,
    /// Occupancy from which the rule applies (demand).
    pub min_occupancy_percent: Option<i64>,
    /// Price change in percent, negative for a reduction.
    pub percent_adjustment: i64,
}

/// A row of `discount_codes`.
#[derive(Debug, Clone, Serialize)]
pub struct DiscountRow {
    /// The code customers type, upper case.
    pub code: String,
    /// What it is for.
    pub description: String,
    /// Reduction in percent.
    pub percent_off: i64,
    /// Redemptions allowed, unlimited when absent.
    pub max_uses: Option<i64>,
    /// Redemptions so far.
    pub times_used: i64,
    /// Last moment it can be used, forever when absent.
    pub valid_until: Option<String>,
}

/// What a cancellation refund depends on.
#[derive(Debug, Clone)]
pub struct BookingPriceFacts {
    /// What the customer paid.
    pub total_cents: i64,
    /// When the showing starts.
    pub starts_at: String,
}

fn rule_from_row(row: &Row<'_>) -> rusqlite::Result<FareRuleRow> {
    Ok(FareRuleRow {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: row.get(2)?,
        start_hour: row.get(3)?,
        end_hour: row.get(4)?,
        weekdays: row.get(5)?,
        min_occupancy_percent: row.get(6)?,
        percent_adjustment: row.get(7)?,
    })
}

fn discount_from_row(row: &Row<'_>) -> rusqlite::Result<DiscountRow> {
    Ok(DiscountRow {
        code: row.get(0)?,
        description: row.get(1)?,
        percent_off: row.get(2)?,
        max_uses: row.get(3)?,
        times_used: row.get(4)?,
        valid_until: row.get(5)?,
    })
}

/// The fare rules in force, by id.
pub fn active_fare_rules(conn: &Connection) -> AppResult<Vec<FareRuleRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, kind, start_hour, end_hour, weekdays, min_occupancy_percent,
                percent_adjustment
         FROM fare_rules
         WHERE active = 1
         ORDER BY id",
    )?;
    let rows = stmt.query_map([], rule_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Seats of a showtime held by confirmed bookings.
pub fn seats_sold(conn: &Connection, showtime: ShowtimeId) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*)
         FROM booking_seats bs
         JOIN bookings b ON b.id = bs.booking_id
         WHERE bs.showtime_id = ?1 AND bs.released = 0 AND b.status = 'confirmed'",
        [showtime.0],
        |row| row.get(0),
    )?)
}

/// What a booking cost and when its showing starts.
pub fn booking_price_facts(
    conn: &Connection,
    booking: BookingId,
) -> AppResult<Option<BookingPriceFacts>> {
    Ok(conn
        .query_row(
            "SELECT b.total_cents, s.starts_at
             FROM bookings b
             JOIN showtimes s ON s.id = b.showtime_id
             WHERE b.id = ?1",
            [booking.0],
            |row| {
                Ok(BookingPriceFacts {
                    total_cents: row.get(0)?,
                    starts_at: row.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The discount code, if it exists.
pub fn find_discount(conn: &Connection, code: &str) -> AppResult<Option<DiscountRow>> {
    Ok(conn
        .query_row(
            "SELECT code, description, percent_off, max_uses, times_used, valid_until
             FROM discount_codes WHERE code = ?1",
            [code],
            discount_from_row,
        )
        .optional()?)
}

/// Inserts a discount code; fails with a UNIQUE violation when the code exists.
pub fn insert_discount(conn: &Connection, discount: &DiscountRow) -> AppResult<()> {
    conn.execute(
        "INSERT INTO discount_codes (code, description, percent_off, max_uses, times_used, valid_until)
         VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        params![
            discount.code,
            discount.description,
            discount.percent_off,
            discount.max_uses,
            discount.valid_until
        ],
    )?;
    Ok(())
}

/// Counts one use of a code if it has uses left; returns false when it has none.
pub fn redeem_discount(conn: &Connection, code: &str) -> AppResult<bool> {
    let changed = conn.execute(
        "UPDATE discount_codes SET times_used = times_used + 1
         WHERE code = ?1 AND (max_uses IS NULL OR times_used < max_uses)",
        [code],
    )?;
    Ok(changed == 1)
}
