//! SQL of showtimes: scheduling, the screen calendar and the seat map of one showing.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::common::errors::AppResult;
use crate::common::ids::{MovieId, ScreenId, SeatId, ShowtimeId};
use crate::common::pagination::PageRequest;

/// A showtime with its movie, screen, capacity and seats sold.
#[derive(Debug, Clone, Serialize)]
pub struct ShowtimeRow {
    /// Id.
    pub id: ShowtimeId,
    /// The movie shown.
    pub movie_id: MovieId,
    /// The movie's title.
    pub movie_title: String,
    /// Where it is shown.
    pub screen_id: ScreenId,
    /// The screen's name.
    pub screen_name: String,
    /// Start, `YYYY-MM-DDTHH:MM:SSZ`.
    pub starts_at: String,
    /// End including cleaning time.
    pub ends_at: String,
    /// Ticket price before fare rules.
    pub base_price_cents: i64,
    /// `scheduled` or `cancelled`.
    pub status: String,
    /// Seats of the screen.
    pub capacity: i64,
    /// Seats currently held by confirmed bookings.
    pub seats_sold: i64,
}

/// A new showtime, validated.
#[derive(Debug, Clone)]
pub struct NewShowtimeRow {
    /// The movie.
    pub movie_id: MovieId,
    /// The screen.
    pub screen_id: ScreenId,
    /// Start.
    pub starts_at: String,
    /// End including cleaning time.
    pub ends_at: String,
    /// Ticket price before fare rules.
    pub base_price_cents: i64,
}

/// One seat of a showing and whether it can still be booked.
#[derive(Debug, Clone, Serialize)]
pub struct SeatAvailability {
    /// Seat id.
    pub seat_id: SeatId,
    /// Label such as `C7`.
    pub label: String,
    /// Seat class.
    pub seat_class: String,
    /// False once a confirmed booking holds it.
    pub available: bool,
}

fn showtime_from_row(row: &Row<'_>) -> rusqlite::Result<ShowtimeRow> {
    Ok(ShowtimeRow {
        id: ShowtimeId(row.get(0)?),
        movie_id: MovieId(row.get(1)?),
        movie_title: row.get(2)?,
        screen_id: ScreenId(row.get(3)?),
        screen_name: row.get(4)?,
        starts_at: row.get(5)?,
        ends_at: row.get(6)?,
        base_price_cents: row.get(7)?,
        status: row.get(8)?,
        capacity: row.get(9)?,
        seats_sold: row.get(10)?,
    })
}

/// The showtime with this id, joined with its movie and screen.
pub fn find_showtime(conn: &Connection, id: ShowtimeId) -> AppResult<Option<ShowtimeRow>> {
    Ok(conn
        .query_row(
            "SELECT s.id, s.movie_id, m.title, s.screen_id, sc.name, s.starts_at, s.ends_at,
                    s.base_price_cents, s.status,
                    (SELECT COUNT(*) FROM seats se WHERE se.screen_id = s.screen_id),
                    (SELECT COUNT(*) FROM booking_seats bs
                      WHERE bs.showtime_id = s.id AND bs.released = 0)
             FROM showtimes s
             JOIN movies m ON m.id = s.movie_id
             JOIN screens sc ON sc.id = s.screen_id
             WHERE s.id = ?1",
            [id.0],
            showtime_from_row,
        )
        .optional()?)
}

/// Number of showtimes of a movie starting at or after `from`.
pub fn count_showtimes_of_movie(conn: &Connection, movie: MovieId, from: &str) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM showtimes WHERE movie_id = ?1 AND starts_at >= ?2",
        params![movie.0, from],
        |row| row.get(0),
    )?)
}

/// One page of a movie's showtimes starting at or after `from`, soonest first.
pub fn list_showtimes_of_movie(
    conn: &Connection,
    movie: MovieId,
    from: &str,
    page: PageRequest,
) -> AppResult<Vec<ShowtimeRow>> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.movie_id, m.title, s.screen_id, sc.name, s.starts_at, s.ends_at,
                s.base_price_cents, s.status,
                (SELECT COUNT(*) FROM seats se WHERE se.screen_id = s.screen_id),
                (SELECT COUNT(*) FROM booking_seats bs
                  WHERE bs.showtime_id = s.id AND bs.released = 0)
         FROM showtimes s
         JOIN movies m ON m.id = s.movie_id
         JOIN screens sc ON sc.id = s.screen_id
         WHERE s.movie_id = ?1 AND s.starts_at >= ?2
         ORDER BY s.starts_at, s.id
         LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt.query_map(
        params![movie.0, from, page.limit(), page.offset()],
        showtime_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// True when a scheduled showtime on the screen overlaps `[starts_at, ends_at)`.
pub fn screen_has_overlap(
    conn: &Connection,
    screen: ScreenId,
    starts_at: &str,
    ends_at: &str,
) -> AppResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(
            SELECT 1 FROM showtimes
            WHERE screen_id = ?1 AND status = 'scheduled' AND starts_at < ?3 AND ends_at > ?2
         )",
        params![screen.0, starts_at, ends_at],
        |row| row.get(0),
    )?)
}

/// Inserts a showtime.
pub fn insert_showtime(conn: &Connection, new: &NewShowtimeRow) -> AppResult<ShowtimeId> {
    conn.execute(
        "INSERT INTO showtimes (movie_id, screen_id, starts_at, ends_at, base_price_cents, status)
         VALUES (?1, ?2, ?3, ?4, ?5, 'scheduled')",
        params![
            new.movie_id.0,
            new.screen_id.0,
            new.starts_at,
            new.ends_at,
            new.base_price_cents
        ],
    )?;
    Ok(ShowtimeId(conn.last_insert_rowid()))
}

/// Every seat of the showtime's screen with its availability, front row first.
pub fn seat_map(conn: &Connection, id: ShowtimeId) -> AppResult<Vec<SeatAvailability>> {
    let mut stmt = conn.prepare(
        "SELECT se.id, se.row_label || se.seat_number, se.seat_class, bs.id IS NULL
         FROM showtimes s
         JOIN seats se ON se.screen_id = s.screen_id
         LEFT JOIN booking_seats bs
           ON bs.seat_id = se.id AND bs.showtime_id = s.id AND bs.released = 0
         WHERE s.id = ?1
         ORDER BY se.row_label, se.seat_number",
    )?;
    let rows = stmt.query_map([id.0], |row| {
        Ok(SeatAvailability {
            seat_id: SeatId(row.get(0)?),
            label: row.get(1)?,
            seat_class: row.get(2)?,
            available: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
