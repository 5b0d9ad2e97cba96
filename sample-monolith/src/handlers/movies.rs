//! HTTP handlers of the catalog: movies, screens, showtimes and seat maps.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::common::db::Db;
use crate::common::errors::{AppError, AppResult};
use crate::common::extract::{IdParam, JsonBody, QueryParams};
use crate::common::ids::{MovieId, ScreenId, ShowtimeId};
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::Timestamp;
use crate::repo::movies::{MovieFilter, MovieRow, ScreenRow};
use crate::repo::showtimes::ShowtimeRow;
use crate::services::movies::{self, MovieDetail, MovieInput, SeatMap, ShowtimeInput};

/// Query of `GET /api/movies`.
#[derive(Debug, Deserialize)]
pub struct MovieListQuery {
    /// Only this genre.
    pub genre: Option<String>,
    /// Title contains this text.
    pub q: Option<String>,
    /// `title` (default) or `rating`.
    pub sort: Option<String>,
    /// Page number.
    pub page: Option<String>,
    /// Page size.
    pub per_page: Option<String>,
}

/// Query of `GET /api/movies/{id}/showtimes`.
#[derive(Debug, Deserialize)]
pub struct ShowtimeListQuery {
    /// Only showtimes starting at or after this time (default: now).
    pub from: Option<String>,
    /// Page number.
    pub page: Option<String>,
    /// Page size.
    pub per_page: Option<String>,
}

/// `GET /api/movies`: the catalog, filtered and paginated.
pub async fn list_movies(
    State(db): State<Db>,
    QueryParams(query): QueryParams<MovieListQuery>,
) -> AppResult<Json<Page<MovieRow>>> {
    let page = PageRequest::from_query(query.page.as_deref(), query.per_page.as_deref())?;
    let by_rating = match query.sort.as_deref().map(str::trim) {
        None | Some("") | Some("title") => false,
        Some("rating") => true,
        Some(_) => return Err(AppError::validation("sort", "must be title or rating")),
    };
    let filter = MovieFilter {
        genre: query.genre.filter(|g| !g.trim().is_empty()),
        title_contains: query.q.filter(|q| !q.trim().is_empty()),
        by_rating,
    };
    let movies = db
        .read(move |conn| movies::list_movies(conn, filter, page))
        .await?;
    Ok(Json(movies))
}

/// `POST /api/movies`: adds a movie.
pub async fn create_movie(
    State(db): State<Db>,
    JsonBody(input): JsonBody<MovieInput>,
) -> AppResult<(StatusCode, Json<MovieRow>)> {
    let movie = db
        .write(move |tx| movies::create_movie(tx, &input, Timestamp::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(movie)))
}

/// `GET /api/movies/{id}`: a movie with its next showtimes.
pub async fn get_movie(State(db): State<Db>, IdParam(id): IdParam) -> AppResult<Json<MovieDetail>> {
    let movie = db
        .read(move |conn| movies::get_movie(conn, MovieId(id), Timestamp::now()))
        .await?;
    Ok(Json(movie))
}

/// `PUT /api/movies/{id}`: replaces a movie's fields.
pub async fn update_movie(
    State(db): State<Db>,
    IdParam(id): IdParam,
    JsonBody(input): JsonBody<MovieInput>,
) -> AppResult<Json<MovieRow>> {
    let movie = db
        .write(move |tx| movies::update_movie(tx, MovieId(id), &input))
        .await?;
    Ok(Json(movie))
}

/// `DELETE /api/movies/{id}`: removes a movie that was never scheduled.
pub async fn delete_movie(State(db): State<Db>, IdParam(id): IdParam) -> AppResult<StatusCode> {
    db.write(move |tx| movies::delete_movie(tx, MovieId(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/movies/{id}/showtimes`: a movie's coming showtimes.
pub async fn list_movie_showtimes(
    State(db): State<Db>,
    IdParam(id): IdParam,
    QueryParams(query): QueryParams<ShowtimeListQuery>,
) -> AppResult<Json<Page<ShowtimeRow>>> {
    let page = PageRequest::from_query(query.page.as_deref(), query.per_page.as_deref())?;
    let showtimes = db
        .read(move |conn| {
            movies::list_showtimes_of_movie(
                conn,
                MovieId(id),
                query.from.as_deref(),
                page,
                Timestamp::now(),
            )
        })
        .await?;
    Ok(Json(showtimes))
}

/// `POST /api/showtimes`: schedules a showing.
pub async fn create_showtime(
    State(db): State<Db>,
    JsonBody(input): JsonBody<ShowtimeInput>,
) -> AppResult<(StatusCode, Json<ShowtimeRow>)> {
    let showtime = db
        .write(move |tx| movies::create_showtime(tx, &input, Timestamp::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(showtime)))
}

/// `GET /api/showtimes/{id}`: one showing with seats sold.
pub async fn get_showtime(
    State(db): State<Db>,
    IdParam(id): IdParam,
) -> AppResult<Json<ShowtimeRow>> {
    let showtime = db
        .read(move |conn| movies::get_showtime(conn, ShowtimeId(id)))
        .await?;
    Ok(Json(showtime))
}

/// `GET /api/showtimes/{id}/seats`: the seat map of a showing.
pub async fn get_seat_map(State(db): State<Db>, IdParam(id): IdParam) -> AppResult<Json<SeatMap>> {
    let seats = db
        .read(move |conn| movies::seat_map(conn, ShowtimeId(id)))
        .await?;
    Ok(Json(seats))
}

/// `GET /api/screens`: every screen.
pub async fn list_screens(State(db): State<Db>) -> AppResult<Json<Vec<ScreenRow>>> {
    let screens = db.read(movies::list_screens).await?;
    Ok(Json(screens))
}

/// `GET /api/screens/{id}`: one screen.
pub async fn get_screen(State(db): State<Db>, IdParam(id): IdParam) -> AppResult<Json<ScreenRow>> {
    let screen = db
        .read(move |conn| movies::get_screen(conn, ScreenId(id)))
        .await?;
    Ok(Json(screen))
}
