//! Booking rules: a booking holds one or more seats of a showing for one customer, is priced by
//! fares at the moment it is made, redeems its discount code, earns loyalty points, and can be
//! cancelled (with a refund fares computes) until shortly before the showing. All of it runs in
//! the caller's transaction, so a seat already taken undoes everything.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::common::errors::{AppError, AppResult, is_unique_violation};
use crate::common::ids::{BookingId, CustomerId, ShowtimeId};
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::Timestamp;
use crate::common::validation;
use crate::repo::bookings::{self as booking_repo, BookedSeat, BookingRow, NewBookingRow};
use crate::services::{customers, fares};

/// Booking statuses.
pub const STATUSES: [&str; 2] = ["cancelled", "confirmed"];

/// A booking as a client sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct BookingInput {
    /// Who books.
    pub customer_id: i64,
    /// Which showing.
    pub showtime_id: i64,
    /// Seat labels such as `C7`.
    pub seats: Vec<String>,
    /// A discount code.
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// A booking with its seats.
#[derive(Debug, Serialize)]
pub struct BookingDetail {
    /// The booking, customer and showing.
    #[serde(flatten)]
    pub booking: BookingRow,
    /// Its seats.
    pub seats: Vec<BookedSeat>,
}

/// Loads a booking with its seats, or a 404.
pub fn get_booking(conn: &Connection, id: BookingId) -> AppResult<BookingDetail> {
    let booking = booking_repo::find_booking(conn, id)?.ok_or_else(|| {
        AppError::not_found("booking_not_found", format!("no booking with id {id}"))
    })?;
    let seats = booking_repo::seats_of_booking(conn, id)?;
    Ok(BookingDetail { booking, seats })
}

/// Books seats: prices the order, holds every seat (409 `seat_taken` when one is held already),
/// redeems the code and credits loyalty points.
pub fn create_booking(
    conn: &Connection,
    input: &BookingInput,
    now: Timestamp,
) -> AppResult<BookingDetail> {
    let customer = CustomerId(input.customer_id);
    customers::require_customer(conn, customer)?;
    let quote = fares::price_order(
        conn,
        &fares::QuoteInput {
            showtime_id: input.showtime_id,
            seats: input.seats.clone(),
            customer_id: Some(customer.0),
            discount_code: input.discount_code.clone(),
        },
        now,
    )?;
    let showtime = ShowtimeId(input.showtime_id);
    let booking = booking_repo::insert_booking(
        conn,
        &NewBookingRow {
            customer_id: customer,
            showtime_id: showtime,
            total_cents: quote.total_cents,
            discount_code: quote.discount_code.clone(),
        },
        &now.to_string(),
    )?;
    for seat in &quote.seats {
        booking_repo::insert_booking_seat(conn, booking, showtime, seat.seat_id, seat.price_cents)
            .map_err(|err| match err {
                AppError::Database(db) if is_unique_violation(&db) => AppError::conflict(
                    "seat_taken",
                    format!(
                        "seat {} is already taken for showtime {showtime}",
                        seat.label
                    ),
                ),
                other => other,
            })?;
    }
    if let Some(code) = &quote.discount_code {
        fares::redeem_discount(conn, code)?;
    }
    customers::award_loyalty_points(conn, customer, quote.total_cents)?;
    get_booking(conn, booking)
}

/// Cancels a confirmed booking: frees its seats, records the refund, takes back its points.
pub fn cancel_booking(
    conn: &Connection,
    id: BookingId,
    now: Timestamp,
) -> AppResult<BookingDetail> {
    let current = get_booking(conn, id)?;
    if current.booking.status != "confirmed" {
        return Err(AppError::conflict(
            "already_cancelled",
            format!("booking {id} is already cancelled"),
        ));
    }
    let refund = fares::refund_for_cancellation(conn, id, now)?;
    if !booking_repo::mark_cancelled(conn, id, refund.refund_cents, &now.to_string())? {
        return Err(AppError::conflict(
            "already_cancelled",
            format!("booking {id} is already cancelled"),
        ));
    }
    booking_repo::release_seats(conn, id)?;
    customers::revoke_loyalty_points(
        conn,
        current.booking.customer.id,
        current.booking.total_cents,
    )?;
    get_booking(conn, id)
}

/// One page of a customer's bookings, optionally filtered by status.
pub fn list_customer_bookings(
    conn: &Connection,
    customer: CustomerId,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<BookingRow>> {
    let status = status
        .map(|s| validation::one_of("status", s, &STATUSES))
        .transpose()?;
    customers::require_customer(conn, customer)?;
    let total = booking_repo::count_bookings_of_customer(conn, customer, status)?;
    let items = booking_repo::list_bookings_of_customer(conn, customer, status, page)?;
    Ok(Page::new(items, page, total))
}
