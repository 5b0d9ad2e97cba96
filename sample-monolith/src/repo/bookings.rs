//! SQL of bookings and the seats they hold. Reading a booking joins the customer, the showtime,
//! the movie and the screen, because a ticket shows all of them.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::common::errors::AppResult;
use crate::common::ids::{BookingId, CustomerId, MovieId, SeatId, ShowtimeId};
use crate::common::pagination::PageRequest;

/// The customer on a booking.
#[derive(Debug, Clone, Serialize)]
pub struct BookingCustomer {
    /// Id.
    pub id: CustomerId,
    /// Full name.
    pub full_name: String,
    /// E-mail address.
    pub email: String,
}

/// The showing a booking is for.
#[derive(Debug, Clone, Serialize)]
pub struct BookingShowtime {
    /// Id.
    pub id: ShowtimeId,
    /// The movie.
    pub movie_id: MovieId,
    /// Its title.
    pub movie_title: String,
    /// Screen name.
    pub screen_name: String,
    /// Start.
    pub starts_at: String,
}

/// A booking with its customer and showing.
#[derive(Debug, Clone, Serialize)]
pub struct BookingRow {
    /// Id.
    pub id: BookingId,
    /// `confirmed` or `cancelled`.
    pub status: String,
    /// Who booked.
    pub customer: BookingCustomer,
    /// For which showing.
    pub showtime: BookingShowtime,
    /// What was paid.
    pub total_cents: i64,
    /// Discount code used.
    pub discount_code: Option<String>,
    /// Refunded on cancellation.
    pub refund_cents: Option<i64>,
    /// When it was booked.
    pub created_at: String,
    /// When it was cancelled.
    pub cancelled_at: Option<String>,
}

/// A seat held (or once held) by a booking.
#[derive(Debug, Clone, Serialize)]
pub struct BookedSeat {
    /// Seat id.
    pub seat_id: SeatId,
    /// Label such as `C7`.
    pub label: String,
    /// Seat class.
    pub seat_class: String,
    /// Price paid for this seat before order discounts.
    pub price_cents: i64,
}

/// A new booking, priced.
#[derive(Debug, Clone)]
pub struct NewBookingRow {
    /// Who books.
    pub customer_id: CustomerId,
    /// Which showing.
    pub showtime_id: ShowtimeId,
    /// What is paid.
    pub total_cents: i64,
    /// Discount code used.
    pub discount_code: Option<String>,
}

fn booking_from_row(row: &Row<'_>) -> rusqlite::Result<BookingRow> {
    Ok(BookingRow {
        id: BookingId(row.get(0)?),
        status: row.get(1)?,
        total_cents: row.get(2)?,
        discount_code: row.get(3)?,
        refund_cents: row.get(4)?,
        created_at: row.get(5)?,
        cancelled_at: row.get(6)?,
        customer: BookingCustomer {
            id: CustomerId(row.get(7)?),
            full_name: row.get(8)?,
            email: row.get(9)?,
        },
        showtime: BookingShowtime {
            id: ShowtimeId(row.get(10)?),
            movie_id: MovieId(row.get(11)?),
            movie_title: row.get(12)?,
            screen_name: row.get(13)?,
            starts_at: row.get(14)?,
        },
    })
}

/// Inserts a confirmed booking.
pub fn insert_booking(conn: &Connection, new: &NewBookingRow, now: &str) -> AppResult<BookingId> {
    conn.execute(
        "INSERT INTO bookings (customer_id, showtime_id, status, total_cents, discount_code, created_at)
         VALUES (?1, ?2, 'confirmed', ?3, ?4, ?5)",
        params![
            new.customer_id.0,
            new.showtime_id.0,
            new.total_cents,
            new.discount_code,
            now
        ],
    )?;
    Ok(BookingId(conn.last_insert_rowid()))
}

/// Holds a seat for a booking. Fails with a UNIQUE violation when another live booking holds
/// it: this constraint, not a prior check, is what stops two customers getting one seat.
pub fn insert_booking_seat(
    conn: &Connection,
    booking: BookingId,
    showtime: ShowtimeId,
    seat: SeatId,
    price_cents: i64,
) -> AppResult<()> {
    conn.execute(
        "INSERT INTO booking_seats (booking_id, showtime_id, seat_id, price_cents, released)
         VALUES (?1, ?2, ?3, ?4, 0)",
        params![booking.0, showtime.0, seat.0, price_cents],
    )?;
    Ok(())
}

/// The booking with this id, joined with its customer, showtime, movie and screen.
pub fn find_booking(conn: &Connection, id: BookingId) -> AppResult<Option<BookingRow>> {
    Ok(conn
        .query_row(
            "SELECT b.id, b.status, b.total_cents, b.discount_code, b.refund_cents, b.created_at,
                    b.cancelled_at, c.id, c.full_name, c.email, s.id, m.id, m.title, sc.name,
                    s.starts_at
             FROM bookings b
             JOIN customers c ON c.id = b.customer_id
             JOIN showtimes s ON s.id = b.showtime_id
             JOIN movies m ON m.id = s.movie_id
             JOIN screens sc ON sc.id = s.screen_id
             WHERE b.id = ?1",
            [id.0],
            booking_from_row,
        )
        .optional()?)
}

/// The seats of a booking, in seat order.
pub fn seats_of_booking(conn: &Connection, id: BookingId) -> AppResult<Vec<BookedSeat>> {
    let mut stmt = conn.prepare(
        "SELECT se.id, se.row_label || se.seat_number, se.seat_class, bs.price_cents
         FROM booking_seats bs
         JOIN seats se ON se.id = bs.seat_id
         WHERE bs.booking_id = ?1
         ORDER BY se.row_label, se.seat_number",
    )?;
    let rows = stmt.query_map([id.0], |row| {
        Ok(BookedSeat {
            seat_id: SeatId(row.get(0)?),
            label: row.get(1)?,
            seat_class: row.get(2)?,
            price_cents: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Marks a confirmed booking cancelled; returns false when it was not confirmed.
pub fn mark_cancelled(
    conn: &Connection,
    id: BookingId,
    refund_cents: i64,
    now: &str,
) -> AppResult<bool> {
    let changed = conn.execute(
        "UPDATE bookings SET status = 'cancelled', refund_cents = ?2, cancelled_at = ?3
         WHERE id = ?1 AND status = 'confirmed'",
        params![id.0, refund_cents, now],
    )?;
    Ok(changed == 1)
}

/// Frees the seats of a booking for others.
pub fn release_seats(conn: &Connection, id: BookingId) -> AppResult<usize> {
    Ok(conn.execute(
        "UPDATE booking_seats SET released = 1 WHERE booking_id = ?1 AND released = 0",
        [id.0],
    )?)
}

/// Number of a customer's bookings, optionally only those with `status`.
pub fn count_bookings_of_customer(
    conn: &Connection,
    customer: CustomerId,
    status: Option<&str>,
) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM bookings WHERE customer_id = ?1 AND (?2 IS NULL OR status = ?2)",
        params![customer.0, status],
        |row| row.get(0),
    )?)
}

/// One page of a customer's bookings, most recent showing first.
pub fn list_bookings_of_customer(
    conn: &Connection,
    customer: CustomerId,
    status: Option<&str>,
    page: PageRequest,
) -> AppResult<Vec<BookingRow>> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.status, b.total_cents, b.discount_code, b.refund_cents, b.created_at,
                b.cancelled_at, c.id, c.full_name, c.email, s.id, m.id, m.title, sc.name,
                s.starts_at
         FROM bookings b
         JOIN customers c ON c.id = b.customer_id
         JOIN showtimes s ON s.id = b.showtime_id
         JOIN movies m ON m.id = s.movie_id
         JOIN screens sc ON sc.id = s.screen_id
         WHERE b.customer_id = ?1 AND (?2 IS NULL OR b.status = ?2)
         ORDER BY s.starts_at DESC, b.id DESC
         LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt.query_map(
        params![customer.0, status, page.limit(), page.offset()],
        booking_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
