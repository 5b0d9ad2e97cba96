//! Business rules of reviews: one review per customer and movie, 1-5 stars, and the movie's
//! average rating recomputed in the same transaction as every change. This area talks to the
//! rest of the monolith only through its repo's existence checks and rating update, which is
//! what makes it the first candidate for extraction.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::common::errors::{AppError, AppResult, is_unique_violation};
use crate::common::ids::{CustomerId, MovieId, ReviewId};
use crate::common::pagination::{Page, PageRequest};
use crate::common::validation;
use crate::repo::reviews::{self as review_repo, RatingSummary, ReviewOrder, ReviewRow};

/// A review as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReviewInput {
    /// The author.
    pub customer_id: i64,
    /// 1-5 stars.
    pub rating: i64,
    /// Headline, 1-120 characters.
    pub title: String,
    /// Up to 4000 characters.
    #[serde(default)]
    pub body: String,
}

/// A page of a movie's reviews with its rating summary.
#[derive(Debug, Serialize)]
pub struct MovieReviews {
    /// The movie.
    pub movie_id: MovieId,
    /// Average and count.
    #[serde(flatten)]
    pub rating: RatingSummary,
    /// Reviews with one to five stars.
    pub stars_histogram: [i64; 5],
    /// The page of reviews.
    #[serde(flatten)]
    pub page: Page<ReviewRow>,
}

/// A review just written or removed, with the movie's new rating.
#[derive(Debug, Serialize)]
pub struct ReviewChange {
    /// The review.
    pub review: ReviewRow,
    /// The movie's rating after the change.
    pub movie_rating: RatingSummary,
}

/// Parses the `sort` query value.
pub fn parse_order(sort: Option<&str>) -> AppResult<ReviewOrder> {
    match sort.map(str::trim) {
        None | Some("") | Some("newest") => Ok(ReviewOrder::Newest),
        Some("highest") => Ok(ReviewOrder::Highest),
        Some("lowest") => Ok(ReviewOrder::Lowest),
        Some(_) => Err(AppError::validation(
            "sort",
            "must be one of newest, highest, lowest",
        )),
    }
}

fn require_movie(conn: &Connection, movie: MovieId) -> AppResult<()> {
    if review_repo::movie_exists(conn, movie)? {
        Ok(())
    } else {
        Err(AppError::not_found(
            "movie_not_found",
            format!("no movie with id {movie}"),
        ))
    }
}

/// One page of a movie's reviews.
pub fn list_reviews(
    conn: &Connection,
    movie: MovieId,
    order: ReviewOrder,
    page: PageRequest,
) -> AppResult<MovieReviews> {
    require_movie(conn, movie)?;
    let total = review_repo::count_reviews_of_movie(conn, movie)?;
    let items = review_repo::list_reviews_of_movie(conn, movie, order, page)?;
    Ok(MovieReviews {
        movie_id: movie,
        rating: review_repo::read_movie_rating(conn, movie)?,
        stars_histogram: review_repo::rating_histogram(conn, movie)?,
        page: Page::new(items, page, total),
    })
}

/// Records locally a review the system of record (the monolith) has written, and answers as
/// the monolith did: the same checks in the same order, so a refused review gets the same
/// error, then the monolith's row (its id and `created_at`) and the movie's new rating.
///
/// Changed by hand: the generated code inserted the review with an id of its own. While the
/// monolith still records review writes (see `handlers::reviews`), this is what a mirrored
/// (shadow) write and a written-through write both end in, so both stores keep one id per
/// review.
pub fn create_review(
    conn: &Connection,
    movie: MovieId,
    input: &ReviewInput,
) -> AppResult<ReviewChange> {
    validation::in_range("rating", input.rating, 1, 5)?;
    validation::required_text("title", &input.title, 120)?;
    validation::optional_text("body", &input.body, 4000)?;
    require_movie(conn, movie)?;
    let customer = CustomerId(input.customer_id);
    if !review_repo::customer_exists(conn, customer)? {
        return Err(AppError::not_found(
            "customer_not_found",
            format!("no customer with id {customer}"),
        ));
    }
    if review_repo::find_review_by_author(conn, movie, customer)?.is_some() {
        return Err(already_reviewed(customer, movie));
    }
    let recorded = review_repo::find_recorded_review(movie, customer)?.ok_or_else(|| {
        AppError::Internal(format!(
            "the monolith has no review of movie {movie} by customer {customer}"
        ))
    })?;
    record_review(conn, &recorded)
}

/// Stores a review as the monolith wrote it and answers with the movie's new rating. (Added
/// by hand.)
pub fn record_review(conn: &Connection, review: &ReviewRow) -> AppResult<ReviewChange> {
    review_repo::upsert_review(conn, review).map_err(|err| match err {
        AppError::Database(db) if is_unique_violation(&db) => {
            already_reviewed(review.customer_id, review.movie_id)
        }
        other => other,
    })?;
    let movie_rating = review_repo::refresh_movie_rating(conn, review.movie_id)?;
    Ok(ReviewChange {
        review: get_review(conn, review.id)?,
        movie_rating,
    })
}

fn already_reviewed(customer: CustomerId, movie: MovieId) -> AppError {
    AppError::conflict(
        "already_reviewed",
        format!("customer {customer} has already reviewed movie {movie}"),
    )
}

/// The review, or a 404.
pub fn get_review(conn: &Connection, id: ReviewId) -> AppResult<ReviewRow> {
    review_repo::find_review(conn, id)?
        .ok_or_else(|| AppError::not_found("review_not_found", format!("no review with id {id}")))
}

/// Removes a review and updates the movie's average rating.
pub fn delete_review(conn: &Connection, id: ReviewId) -> AppResult<ReviewChange> {
    let review = get_review(conn, id)?;
    review_repo::delete_review(conn, id)?;
    let movie_rating = review_repo::refresh_movie_rating(conn, review.movie_id)?;
    Ok(ReviewChange {
        review,
        movie_rating,
    })
}
