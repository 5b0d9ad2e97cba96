//! Business rules of the catalog: what a valid movie is, how showtimes are scheduled without
//! double-booking a screen, and which showtimes can still be sold. Bookings and fares call
//! [`showtime_for_sale`] and [`resolve_seats`] directly.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::common::errors::{AppError, AppResult, is_unique_violation};
use crate::common::ids::{MovieId, ScreenId, ShowtimeId};
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::Timestamp;
use crate::common::validation;
use crate::repo::movies::{
    self as movie_repo, MovieFields, MovieFilter, MovieRow, ScreenRow, SeatRow,
};
use crate::repo::showtimes::{
    self as showtime_repo, NewShowtimeRow, SeatAvailability, ShowtimeRow,
};

/// Genres the catalog knows.
pub const GENRES: [&str; 9] = [
    "action",
    "animation",
    "comedy",
    "documentary",
    "drama",
    "horror",
    "romance",
    "science-fiction",
    "thriller",
];
/// Age ratings the catalog knows.
pub const AGE_RATINGS: [&str; 5] = ["G", "PG", "PG-13", "R", "NC-17"];
/// Minutes between two showings on one screen, for cleaning.
pub const CLEANING_MINUTES: i64 = 15;
/// Most seats one booking or quote may hold.
pub const MAX_SEATS_PER_ORDER: usize = 10;
/// Showtimes upcoming shown with a movie's detail.
const UPCOMING_SHOWN: i64 = 5;

/// A movie as a client sends it (create and full update).
#[derive(Debug, Clone, Deserialize)]
pub struct MovieInput {
    /// Title, 1-200 characters.
    pub title: String,
    /// One of [`GENRES`].
    pub genre: String,
    /// 1-600.
    pub duration_minutes: i64,
    /// One of [`AGE_RATINGS`].
    pub age_rating: String,
    /// 1888-2100.
    pub release_year: i64,
    /// Up to 2000 characters.
    #[serde(default)]
    pub synopsis: String,
}

/// A movie with its next showtimes.
#[derive(Debug, Serialize)]
pub struct MovieDetail {
    /// The movie.
    #[serde(flatten)]
    pub movie: MovieRow,
    /// The next few scheduled showtimes.
    pub upcoming_showtimes: Vec<ShowtimeRow>,
}

/// A showtime as a client sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct ShowtimeInput {
    /// The movie to show.
    pub movie_id: i64,
    /// The screen to show it on.
    pub screen_id: i64,
    /// Start, `YYYY-MM-DDTHH:MM[:SS][Z]`, in the future.
    pub starts_at: String,
    /// Ticket price before fare rules, 0-100000 cents.
    pub base_price_cents: i64,
}

/// The seat map of a showtime.
#[derive(Debug, Serialize)]
pub struct SeatMap {
    /// The showtime.
    pub showtime: ShowtimeRow,
    /// Its seats.
    pub seats: Vec<SeatAvailability>,
}

fn validate_movie(input: &MovieInput) -> AppResult<MovieFields> {
    Ok(MovieFields {
        title: validation::required_text("title", &input.title, 200)?,
        genre: validation::one_of("genre", &input.genre, &GENRES)?.to_string(),
        duration_minutes: validation::in_range("duration_minutes", input.duration_minutes, 1, 600)?,
        age_rating: validation::one_of("age_rating", &input.age_rating, &AGE_RATINGS)?.to_string(),
        release_year: validation::in_range("release_year", input.release_year, 1888, 2100)?,
        synopsis: validation::optional_text("synopsis", &input.synopsis, 2000)?,
    })
}

fn movie_conflict(err: AppError, fields: &MovieFields) -> AppError {
    match err {
        AppError::Database(db) if is_unique_violation(&db) => AppError::conflict(
            "movie_exists",
            format!(
                "a movie titled '{}' from {} is already in the catalog",
                fields.title, fields.release_year
            ),
        ),
        other => other,
    }
}

/// The movie, or a 404.
pub fn require_movie(conn: &Connection, id: MovieId) -> AppResult<MovieRow> {
    movie_repo::find_movie(conn, id)?
        .ok_or_else(|| AppError::not_found("movie_not_found", format!("no movie with id {id}")))
}

/// One page of the catalog.
pub fn list_movies(
    conn: &Connection,
    filter: MovieFilter,
    page: PageRequest,
) -> AppResult<Page<MovieRow>> {
    if let Some(genre) = &filter.genre {
        validation::one_of("genre", genre, &GENRES)?;
    }
    let total = movie_repo::count_movies(conn, &filter)?;
    let items = movie_repo::list_movies(conn, &filter, page)?;
    Ok(Page::new(items, page, total))
}

/// A movie with its next showtimes.
pub fn get_movie(conn: &Connection, id: MovieId, now: Timestamp) -> AppResult<MovieDetail> {
    let movie = require_movie(conn, id)?;
    let first_page = PageRequest {
        page: 1,
        per_page: UPCOMING_SHOWN,
    };
    let upcoming_showtimes =
        showtime_repo::list_showtimes_of_movie(conn, id, &now.to_string(), first_page)?
            .into_iter()
            .filter(|showtime| showtime.status == "scheduled")
            .collect();
    Ok(MovieDetail {
        movie,
        upcoming_showtimes,
    })
}

/// Adds a movie to the catalog.
pub fn create_movie(conn: &Connection, input: &MovieInput, now: Timestamp) -> AppResult<MovieRow> {
    let fields = validate_movie(input)?;
    let id = movie_repo::insert_movie(conn, &fields, &now.to_string())
        .map_err(|err| movie_conflict(err, &fields))?;
    require_movie(conn, id)
}

/// Replaces a movie's fields.
pub fn update_movie(conn: &Connection, id: MovieId, input: &MovieInput) -> AppResult<MovieRow> {
    let fields = validate_movie(input)?;
    require_movie(conn, id)?;
    movie_repo::update_movie(conn, id, &fields).map_err(|err| movie_conflict(err, &fields))?;
    require_movie(conn, id)
}

/// Removes a movie that was never scheduled (its reviews go with it).
pub fn delete_movie(conn: &Connection, id: MovieId) -> AppResult<()> {
    require_movie(conn, id)?;
    let showtimes = movie_repo::count_showtimes_of_movie(conn, id)?;
    if showtimes > 0 {
        return Err(AppError::conflict(
            "movie_has_showtimes",
            format!("movie {id} has {showtimes} showtime(s) and cannot be deleted"),
        ));
    }
    movie_repo::delete_movie_and_reviews(conn, id)?;
    Ok(())
}

/// Every screen.
pub fn list_screens(conn: &Connection) -> AppResult<Vec<ScreenRow>> {
    movie_repo::list_screens(conn)
}

/// The screen, or a 404.
pub fn get_screen(conn: &Connection, id: ScreenId) -> AppResult<ScreenRow> {
    movie_repo::find_screen(conn, id)?
        .ok_or_else(|| AppError::not_found("screen_not_found", format!("no screen with id {id}")))
}

/// The showtime, or a 404.
pub fn get_showtime(conn: &Connection, id: ShowtimeId) -> AppResult<ShowtimeRow> {
    showtime_repo::find_showtime(conn, id)?.ok_or_else(|| {
        AppError::not_found("showtime_not_found", format!("no showtime with id {id}"))
    })
}

/// A movie's showtimes from `from` on (default: now), soonest first.
pub fn list_showtimes_of_movie(
    conn: &Connection,
    id: MovieId,
    from: Option<&str>,
    page: PageRequest,
    now: Timestamp,
) -> AppResult<Page<ShowtimeRow>> {
    require_movie(conn, id)?;
    let from = match from {
        Some(text) => Timestamp::parse(text)
            .ok_or_else(|| AppError::validation("from", "expected YYYY-MM-DDTHH:MM[:SS][Z]"))?,
        None => now,
    }
    .to_string();
    let total = showtime_repo::count_showtimes_of_movie(conn, id, &from)?;
    let items = showtime_repo::list_showtimes_of_movie(conn, id, &from, page)?;
    Ok(Page::new(items, page, total))
}

/// Schedules a showing, refusing one that overlaps another showing on the same screen.
pub fn create_showtime(
    conn: &Connection,
    input: &ShowtimeInput,
    now: Timestamp,
) -> AppResult<ShowtimeRow> {
    let starts_at = Timestamp::parse(&input.starts_at)
        .ok_or_else(|| AppError::validation("starts_at", "expected YYYY-MM-DDTHH:MM[:SS][Z]"))?;
    if starts_at <= now {
        return Err(AppError::validation("starts_at", "must be in the future"));
    }
    let base_price_cents =
        validation::in_range("base_price_cents", input.base_price_cents, 0, 100_000)?;
    let movie = require_movie(conn, MovieId(input.movie_id))?;
    let screen = get_screen(conn, ScreenId(input.screen_id))?;
    let ends_at = starts_at.plus_minutes(movie.duration_minutes + CLEANING_MINUTES);
    let (starts_at, ends_at) = (starts_at.to_string(), ends_at.to_string());
    if showtime_repo::screen_has_overlap(conn, screen.id, &starts_at, &ends_at)? {
        return Err(AppError::conflict(
            "screen_busy",
            format!(
                "{} already has a showing between {starts_at} and {ends_at}",
                screen.name
            ),
        ));
    }
    let id = showtime_repo::insert_showtime(
        conn,
        &NewShowtimeRow {
            movie_id: movie.id,
            screen_id: screen.id,
            starts_at,
            ends_at,
            base_price_cents,
        },
    )?;
    get_showtime(conn, id)
}

/// The seat map of a showtime.
pub fn seat_map(conn: &Connection, id: ShowtimeId) -> AppResult<SeatMap> {
    let showtime = get_showtime(conn, id)?;
    let seats = showtime_repo::seat_map(conn, id)?;
    Ok(SeatMap { showtime, seats })
}

/// The showtime if tickets can still be sold for it: it exists (404), is not cancelled and has
/// not started (409). Shared by quoting and booking.
pub fn showtime_for_sale(
    conn: &Connection,
    id: ShowtimeId,
    now: Timestamp,
) -> AppResult<ShowtimeRow> {
    let showtime = get_showtime(conn, id)?;
    if showtime.status != "scheduled" {
        return Err(AppError::conflict(
            "showtime_cancelled",
            format!("showtime {id} was cancelled"),
        ));
    }
    let starts_at = Timestamp::parse(&showtime.starts_at)
        .ok_or_else(|| AppError::Internal(format!("showtime {id} has a corrupt start time")))?;
    if starts_at <= now {
        return Err(AppError::conflict(
            "showtime_started",
            format!("showtime {id} has already started"),
        ));
    }
    Ok(showtime)
}

/// Splits a seat label such as `C7` into its row and number.
pub fn parse_seat_label(label: &str) -> AppResult<(String, i64)> {
    let label = label.trim().to_ascii_uppercase();
    let mut chars = label.chars();
    let row = chars.next().filter(char::is_ascii_uppercase);
    let number = chars
        .as_str()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=50).contains(n));
    match (row, number) {
        (Some(row), Some(number)) if !chars.as_str().starts_with(['+', '-', '0']) => {
            Ok((row.to_string(), number))
        }
        _ => Err(AppError::validation(
            "seats",
            format!("'{label}' is not a seat label such as C7"),
        )),
    }
}

/// Turns seat labels into seats of a screen: 400 on an empty, oversized or repeated list or a
/// malformed label, 404 on a seat the screen does not have.
pub fn resolve_seats(
    conn: &Connection,
    screen: ScreenId,
    labels: &[String],
) -> AppResult<Vec<SeatRow>> {
    if labels.is_empty() {
        return Err(AppError::validation("seats", "choose at least one seat"));
    }
    if labels.len() > MAX_SEATS_PER_ORDER {
        return Err(AppError::validation(
            "seats",
            format!("at most {MAX_SEATS_PER_ORDER} seats per order"),
        ));
    }
    let mut seats: Vec<SeatRow> = Vec::with_capacity(labels.len());
    for label in labels {
        let (row, number) = parse_seat_label(label)?;
        let seat = movie_repo::find_seat(conn, screen, &row, number)?.ok_or_else(|| {
            AppError::not_found(
                "seat_not_found",
                format!("seat {row}{number} does not exist in this screen"),
            )
        })?;
        if seats.iter().any(|chosen| chosen.id == seat.id) {
            return Err(AppError::validation(
                "seats",
                format!("seat {} is listed twice", seat.label),
            ));
        }
        seats.push(seat);
    }
    Ok(seats)
}

#[cfg(test)]
mod tests {
    use super::parse_seat_label;

    #[test]
    fn seat_labels() {
        assert_eq!(parse_seat_label("c7").ok(), Some(("C".to_string(), 7)));
        assert_eq!(parse_seat_label("A12").ok(), Some(("A".to_string(), 12)));
        for bad in ["", "7", "AA1", "A0", "A01", "A+1", "A-1", "A51", "é1", "A"] {
            assert!(parse_seat_label(bad).is_err(), "{bad}");
        }
    }
}
