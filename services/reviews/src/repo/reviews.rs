//! SQL of reviews. Besides its own table it only checks that movies and customers exist and
//! keeps the movie's `average_rating` and `review_count` columns in step.

use rusqlite::Connection;
#[allow(unused_imports)]
use rusqlite::OptionalExtension;
use rusqlite::Row;
use rusqlite::params;
use serde::Serialize;

use crate::common::errors::AppResult;
use crate::common::ids::{CustomerId, MovieId, ReviewId};
use crate::common::pagination::PageRequest;

/// A row of `reviews`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ReviewRow {
    /// Id.
    pub id: ReviewId,
    /// The movie reviewed.
    pub movie_id: MovieId,
    /// The author.
    pub customer_id: CustomerId,
    /// 1-5 stars.
    pub rating: i64,
    /// Headline.
    pub title: String,
    /// Text, possibly empty.
    pub body: String,
    /// When it was written.
    pub created_at: String,
}

/// Order of a review listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOrder {
    /// Most recent first.
    Newest,
    /// Highest rating first.
    Highest,
    /// Lowest rating first.
    Lowest,
}

/// A movie's rating as stored on the movie.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
pub struct RatingSummary {
    /// Mean rating rounded to two decimals, none without reviews.
    pub average_rating: Option<f64>,
    /// Number of reviews.
    pub review_count: i64,
}

fn review_from_row(row: &Row<'_>) -> rusqlite::Result<ReviewRow> {
    Ok(ReviewRow {
        id: ReviewId(row.get(0)?),
        movie_id: MovieId(row.get(1)?),
        customer_id: CustomerId(row.get(2)?),
        rating: row.get(3)?,
        title: row.get(4)?,
        body: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// True when the movie exists.
pub fn movie_exists(conn: &Connection, id: MovieId) -> AppResult<bool> {
    let _ = &conn;
    // TODO(strangler): was SQL on table `movies` (owned by movies) at src/repo/reviews.rs:80; now GET /api/movies/{id} on the movies service
    crate::upstream::exists("movies", &format!("/api/movies/{id}"))
        .map_err(crate::common::errors::AppError::Internal)
}

/// True when the customer exists.
pub fn customer_exists(conn: &Connection, id: CustomerId) -> AppResult<bool> {
    let _ = &conn;
    // TODO(strangler): was SQL on table `customers` (owned by customers) at src/repo/reviews.rs:89; now GET /api/customers/{id} on the customers service
    crate::upstream::exists("customers", &format!("/api/customers/{id}"))
        .map_err(crate::common::errors::AppError::Internal)
}

/// The review with this id, if any.
pub fn find_review(conn: &Connection, id: ReviewId) -> AppResult<Option<ReviewRow>> {
    Ok(conn
        .query_row(
            "SELECT id, movie_id, customer_id, rating, title, body, created_at
             FROM reviews WHERE id = ?1",
            [id.0],
            review_from_row,
        )
        .optional()?)
}

/// Deletes a review; returns false when it did not exist.
pub fn delete_review(conn: &Connection, id: ReviewId) -> AppResult<bool> {
    Ok(conn.execute("DELETE FROM reviews WHERE id = ?1", [id.0])? == 1)
}

/// Number of reviews of a movie.
pub fn count_reviews_of_movie(conn: &Connection, movie: MovieId) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM reviews WHERE movie_id = ?1",
        [movie.0],
        |row| row.get(0),
    )?)
}

/// One page of a movie's reviews in the given order.
pub fn list_reviews_of_movie(
    conn: &Connection,
    movie: MovieId,
    order: ReviewOrder,
    page: PageRequest,
) -> AppResult<Vec<ReviewRow>> {
    let order_key = match order {
        ReviewOrder::Newest => 0,
        ReviewOrder::Highest => 1,
        ReviewOrder::Lowest => 2,
    };
    let mut stmt = conn.prepare(
        "SELECT id, movie_id, customer_id, rating, title, body, created_at
         FROM reviews
         WHERE movie_id = ?1
         ORDER BY CASE ?2 WHEN 1 THEN -rating WHEN 2 THEN rating ELSE 0 END,
                  created_at DESC, id DESC
         LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt.query_map(
        params![movie.0, order_key, page.limit(), page.offset()],
        review_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many reviews gave each number of stars, index 0 for one star.
pub fn rating_histogram(conn: &Connection, movie: MovieId) -> AppResult<[i64; 5]> {
    let mut stmt =
        conn.prepare("SELECT rating, COUNT(*) FROM reviews WHERE movie_id = ?1 GROUP BY rating")?;
    let rows = stmt.query_map([movie.0], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
    })?;
    let mut histogram = [0; 5];
    for row in rows {
        let (stars, count) = row?;
        if let Some(slot) = usize::try_from(stars - 1)
            .ok()
            .and_then(|i| histogram.get_mut(i))
        {
            *slot = count;
        }
    }
    Ok(histogram)
}

/// The movie's average rating and review count after a change; returns the new values.
///
/// Completed by hand (the generator left a stub: the monolith's version also stored the values
/// on `movies`, a table of the movies context). The monolith stays the system of record for
/// review writes while the reviews routes are cut over (see `handlers::reviews`) and keeps its
/// `movies` columns in step itself; here the rating is computed from this service's own
/// reviews, with the monolith's formula.
pub fn refresh_movie_rating(conn: &Connection, movie: MovieId) -> AppResult<RatingSummary> {
    read_movie_rating(conn, movie)
}

/// Stores a review exactly as the system of record wrote it (same id, same `created_at`),
/// replacing any row with that id. (Added by hand.)
pub fn upsert_review(conn: &Connection, review: &ReviewRow) -> AppResult<()> {
    conn.execute(
        "INSERT OR REPLACE INTO reviews (id, movie_id, customer_id, rating, title, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            review.id.0,
            review.movie_id.0,
            review.customer_id.0,
            review.rating,
            review.title,
            review.body,
            review.created_at
        ],
    )?;
    Ok(())
}

/// The review a customer wrote about a movie, if any (at most one: `UNIQUE (movie_id,
/// customer_id)`). (Added by hand.)
pub fn find_review_by_author(
    conn: &Connection,
    movie: MovieId,
    customer: CustomerId,
) -> AppResult<Option<ReviewRow>> {
    Ok(conn
        .query_row(
            "SELECT id, movie_id, customer_id, rating, title, body, created_at
             FROM reviews WHERE movie_id = ?1 AND customer_id = ?2",
            params![movie.0, customer.0],
            review_from_row,
        )
        .optional()?)
}

/// The review a customer wrote about a movie as the system of record (the monolith's reviews
/// API) holds it, found by paging through the movie's reviews. (Added by hand.)
pub fn find_recorded_review(movie: MovieId, customer: CustomerId) -> AppResult<Option<ReviewRow>> {
    /// The part of a review listing this lookup needs.
    #[derive(serde::Deserialize)]
    struct Listing {
        items: Vec<ReviewRow>,
        total: i64,
    }
    const PER_PAGE: i64 = 100;
    // Bounded: a movie with more than 100 000 reviews is not looked through.
    for page in 1..=1000 {
        let path =
            format!("/api/movies/{movie}/reviews?sort=newest&per_page={PER_PAGE}&page={page}");
        let Some(listing) = crate::upstream::get_optional_json::<Listing>("monolith", &path)
            .map_err(crate::common::errors::AppError::Internal)?
        else {
            return Ok(None);
        };
        if let Some(found) = listing.items.iter().find(|r| r.customer_id == customer) {
            return Ok(Some(found.clone()));
        }
        if listing.items.is_empty() || page * PER_PAGE >= listing.total {
            return Ok(None);
        }
    }
    Ok(None)
}

/// The movie's average rating (rounded to two decimals, none without reviews) and review count.
///
/// Changed by hand: the generator bridged it to the movies API (`GET /api/movies/{id}`), which
/// is correct but reads another store at another moment than this service's reviews. Computed
/// from the reviews this service holds, with the formula the monolith stores, it always agrees
/// with the reviews it is served with, and equals the monolith's value when both hold the same
/// reviews.
pub fn read_movie_rating(conn: &Connection, movie: MovieId) -> AppResult<RatingSummary> {
    Ok(conn.query_row(
        "SELECT ROUND(AVG(rating), 2), COUNT(*) FROM reviews WHERE movie_id = ?1",
        [movie.0],
        |row| {
            Ok(RatingSummary {
                average_rating: row.get(0)?,
                review_count: row.get(1)?,
            })
        },
    )?)
}
