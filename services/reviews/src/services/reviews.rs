//! Business rules of reviews: one review per customer and movie, 1-5 stars, and the movie's
//! average rating recomputed in the same transaction as every change. This area talks to the
//! rest of the monolith only through its repo's existence checks and rating update, which is
//! what makes it the first candidate for extraction.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::common::errors::{AppError, AppResult, is_unique_violation};
use crate::common::ids::{CustomerId, MovieId, ReviewId};
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::Timestamp;
use crate::common::validation;
use crate::repo::reviews::{
    self as review_repo, NewReviewRow, RatingSummary, ReviewOrder, ReviewRow,
};

/// A review as a client sends it.
#[derive(Debug, Clone, Deserialize)]
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

/// Writes a review and updates the movie's average rating.
pub fn create_review(
    conn: &Connection,
    movie: MovieId,
    input: &ReviewInput,
    now: Timestamp,
) -> AppResult<ReviewChange> {
    let rating = validation::in_range("rating", input.rating, 1, 5)?;
    let title = validation::required_text("title", &input.title, 120)?;
    let body = validation::optional_text("body", &input.body, 4000)?;
    require_movie(conn, movie)?;
    let customer = CustomerId(input.customer_id);
    if !review_repo::customer_exists(conn, customer)? {
        return Err(AppError::not_found(
            "customer_not_found",
            format!("no customer with id {customer}"),
        ));
    }
    let new = NewReviewRow {
        movie_id: movie,
        customer_id: customer,
        rating,
        title,
        body,
    };
    let id = review_repo::insert_review(conn, &new, &now.to_string()).map_err(|err| match err {
        AppError::Database(db) if is_unique_violation(&db) => AppError::conflict(
            "already_reviewed",
            format!("customer {customer} has already reviewed movie {movie}"),
        ),
        other => other,
    })?;
    let movie_rating = review_repo::refresh_movie_rating(conn, movie)?;
    Ok(ReviewChange {
        review: get_review(conn, id)?,
        movie_rating,
    })
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
