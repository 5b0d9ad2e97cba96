//! SQL of the movie catalog: movies, screens and their seats.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::common::errors::AppResult;
use crate::common::ids::{MovieId, ScreenId, SeatId};
use crate::common::pagination::PageRequest;

/// A row of `movies`.
#[derive(Debug, Clone, Serialize)]
pub struct MovieRow {
    /// Id.
    pub id: MovieId,
    /// Title.
    pub title: String,
    /// Genre, from [`crate::services::movies::GENRES`].
    pub genre: String,
    /// Running time.
    pub duration_minutes: i64,
    /// Age rating (G, PG, PG-13, R, NC-17).
    pub age_rating: String,
    /// Year of first release.
    pub release_year: i64,
    /// Short description.
    pub synopsis: String,
    /// Mean review rating, kept up to date by the reviews code.
    pub average_rating: Option<f64>,
    /// Number of reviews.
    pub review_count: i64,
    /// When the movie entered the catalog.
    pub created_at: String,
}

/// The fields of a movie a client may set.
#[derive(Debug, Clone)]
pub struct MovieFields {
    /// Title.
    pub title: String,
    /// Genre.
    pub genre: String,
    /// Running time.
    pub duration_minutes: i64,
    /// Age rating.
    pub age_rating: String,
    /// Year of first release.
    pub release_year: i64,
    /// Short description.
    pub synopsis: String,
}

/// Filters of the catalog listing.
#[derive(Debug, Clone, Default)]
pub struct MovieFilter {
    /// Only this genre.
    pub genre: Option<String>,
    /// Title contains this text (case-insensitive).
    pub title_contains: Option<String>,
    /// Best rated first instead of alphabetical.
    pub by_rating: bool,
}

/// A row of `screens` with its seat counts.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenRow {
    /// Id.
    pub id: ScreenId,
    /// Name shown on tickets.
    pub name: String,
    /// Rows of seats (A, B, ...).
    pub row_count: i64,
    /// Seats in each row.
    pub seats_per_row: i64,
    /// All seats.
    pub capacity: i64,
    /// Premium seats (back rows).
    pub premium_seats: i64,
    /// Wheelchair-accessible seats.
    pub accessible_seats: i64,
}

/// A row of `seats`.
#[derive(Debug, Clone, Serialize)]
pub struct SeatRow {
    /// Id.
    pub id: SeatId,
    /// Label such as `C7`.
    pub label: String,
    /// `standard`, `premium` or `accessible`.
    pub seat_class: String,
}

fn movie_from_row(row: &Row<'_>) -> rusqlite::Result<MovieRow> {
    Ok(MovieRow {
        id: MovieId(row.get(0)?),
        title: row.get(1)?,
        genre: row.get(2)?,
        duration_minutes: row.get(3)?,
        age_rating: row.get(4)?,
        release_year: row.get(5)?,
        synopsis: row.get(6)?,
        average_rating: row.get(7)?,
        review_count: row.get(8)?,
        created_at: row.get(9)?,
    })
}

/// Number of movies matching `filter`.
pub fn count_movies(conn: &Connection, filter: &MovieFilter) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM movies
         WHERE (?1 IS NULL OR genre = ?1)
           AND (?2 IS NULL OR lower(title) LIKE '%' || lower(?2) || '%')",
        params![filter.genre, filter.title_contains],
        |row| row.get(0),
    )?)
}

/// One page of movies matching `filter`.
pub fn list_movies(
    conn: &Connection,
    filter: &MovieFilter,
    page: PageRequest,
) -> AppResult<Vec<MovieRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, title, genre, duration_minutes, age_rating, release_year, synopsis,
                average_rating, review_count, created_at
         FROM movies
         WHERE (?1 IS NULL OR genre = ?1)
           AND (?2 IS NULL OR lower(title) LIKE '%' || lower(?2) || '%')
         ORDER BY CASE WHEN ?3 THEN -COALESCE(average_rating, 0) ELSE 0 END, title, id
         LIMIT ?4 OFFSET ?5",
    )?;
    let rows = stmt.query_map(
        params![
            filter.genre,
            filter.title_contains,
            filter.by_rating,
            page.limit(),
            page.offset()
        ],
        movie_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The movie with this id, if any.
pub fn find_movie(conn: &Connection, id: MovieId) -> AppResult<Option<MovieRow>> {
    Ok(conn
        .query_row(
            "SELECT id, title, genre, duration_minutes, age_rating, release_year, synopsis,
                    average_rating, review_count, created_at
             FROM movies WHERE id = ?1",
            [id.0],
            movie_from_row,
        )
        .optional()?)
}

/// Inserts a movie; fails with a UNIQUE violation when title and year already exist.
pub fn insert_movie(conn: &Connection, fields: &MovieFields, now: &str) -> AppResult<MovieId> {
    conn.execute(
        "INSERT INTO movies (title, genre, duration_minutes, age_rating, release_year, synopsis, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            fields.title,
            fields.genre,
            fields.duration_minutes,
            fields.age_rating,
            fields.release_year,
            fields.synopsis,
            now
        ],
    )?;
    Ok(MovieId(conn.last_insert_rowid()))
}

/// Overwrites the client-settable fields of a movie; returns false when it does not exist.
pub fn update_movie(conn: &Connection, id: MovieId, fields: &MovieFields) -> AppResult<bool> {
    let changed = conn.execute(
        "UPDATE movies
         SET title = ?2, genre = ?3, duration_minutes = ?4, age_rating = ?5,
             release_year = ?6, synopsis = ?7
         WHERE id = ?1",
        params![
            id.0,
            fields.title,
            fields.genre,
            fields.duration_minutes,
            fields.age_rating,
            fields.release_year,
            fields.synopsis
        ],
    )?;
    Ok(changed == 1)
}

/// Deletes a movie and, because a review of a deleted movie means nothing, its reviews.
pub fn delete_movie_and_reviews(conn: &Connection, id: MovieId) -> AppResult<bool> {
    conn.execute("DELETE FROM reviews WHERE movie_id = ?1", [id.0])?;
    let deleted = conn.execute("DELETE FROM movies WHERE id = ?1", [id.0])?;
    Ok(deleted == 1)
}

/// Number of showtimes ever scheduled for a movie.
pub fn count_showtimes_of_movie(conn: &Connection, id: MovieId) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM showtimes WHERE movie_id = ?1",
        [id.0],
        |row| row.get(0),
    )?)
}

fn screen_from_row(row: &Row<'_>) -> rusqlite::Result<ScreenRow> {
    Ok(ScreenRow {
        id: ScreenId(row.get(0)?),
        name: row.get(1)?,
        row_count: row.get(2)?,
        seats_per_row: row.get(3)?,
        capacity: row.get(4)?,
        premium_seats: row.get(5)?,
        accessible_seats: row.get(6)?,
    })
}

/// Every screen with its seat counts, by id.
pub fn list_screens(conn: &Connection) -> AppResult<Vec<ScreenRow>> {
    let mut stmt = conn.prepare(
        "SELECT sc.id, sc.name, sc.row_count, sc.seats_per_row, COUNT(se.id),
                COALESCE(SUM(se.seat_class = 'premium'), 0),
                COALESCE(SUM(se.seat_class = 'accessible'), 0)
         FROM screens sc
         LEFT JOIN seats se ON se.screen_id = sc.id
         GROUP BY sc.id
         ORDER BY sc.id",
    )?;
    let rows = stmt.query_map([], screen_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The screen with this id, if any.
pub fn find_screen(conn: &Connection, id: ScreenId) -> AppResult<Option<ScreenRow>> {
    Ok(conn
        .query_row(
            "SELECT sc.id, sc.name, sc.row_count, sc.seats_per_row, COUNT(se.id),
                    COALESCE(SUM(se.seat_class = 'premium'), 0),
                    COALESCE(SUM(se.seat_class = 'accessible'), 0)
             FROM screens sc
             LEFT JOIN seats se ON se.screen_id = sc.id
             WHERE sc.id = ?1
             GROUP BY sc.id",
            [id.0],
            screen_from_row,
        )
        .optional()?)
}

/// The seat of a screen at a row and number, if it exists.
pub fn find_seat(
    conn: &Connection,
    screen: ScreenId,
    row_label: &str,
    seat_number: i64,
) -> AppResult<Option<SeatRow>> {
    Ok(conn
        .query_row(
            "SELECT id, row_label || seat_number, seat_class
             FROM seats
             WHERE screen_id = ?1 AND row_label = ?2 AND seat_number = ?3",
            params![screen.0, row_label, seat_number],
            |row| {
                Ok(SeatRow {
                    id: SeatId(row.get(0)?),
                    label: row.get(1)?,
                    seat_class: row.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Surcharge in cents of each seat class, by class name.
///
/// This is fare data: it sits in the catalog's repo only because seat classes were first
/// priced together with screens. Only the fares code calls it.
pub fn seat_class_surcharges(conn: &Connection) -> AppResult<Vec<(String, i64)>> {
    let mut stmt = conn
        .prepare("SELECT seat_class, surcharge_cents FROM seat_class_prices ORDER BY seat_class")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
