//! HTTP handlers of reviews, and the router of `/api/reviews` that the application nests.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::common::db::Db;
use crate::common::errors::AppResult;
use crate::common::extract::{IdParam, JsonBody, QueryParams};
use crate::common::ids::{MovieId, ReviewId};
use crate::common::pagination::PageRequest;
use crate::common::time::Timestamp;
use crate::repo::reviews::ReviewRow;
use crate::services::reviews::{self, MovieReviews, ReviewChange, ReviewInput};

/// Query of `GET /api/movies/{id}/reviews`.
#[derive(Debug, Deserialize)]
pub struct ReviewListQuery {
    /// `newest` (default), `highest` or `lowest`.
    pub sort: Option<String>,
    /// Page number.
    pub page: Option<String>,
    /// Page size.
    pub per_page: Option<String>,
}

/// Routes under `/api/reviews`.
pub fn reviews_routes() -> Router<Db> {
    Router::new().route("/{id}", get(get_review).delete(delete_review))
}

/// `GET /api/movies/{id}/reviews`: a movie's reviews with its rating summary.
pub async fn list_movie_reviews(
    State(db): State<Db>,
    IdParam(id): IdParam,
    QueryParams(query): QueryParams<ReviewListQuery>,
) -> AppResult<Json<MovieReviews>> {
    let page = PageRequest::from_query(query.page.as_deref(), query.per_page.as_deref())?;
    let order = reviews::parse_order(query.sort.as_deref())?;
    let list = db
        .read(move |conn| reviews::list_reviews(conn, MovieId(id), order, page))
        .await?;
    Ok(Json(list))
}

/// `POST /api/movies/{id}/reviews`: writes a review and updates the movie's rating.
pub async fn create_movie_review(
    State(db): State<Db>,
    IdParam(id): IdParam,
    JsonBody(input): JsonBody<ReviewInput>,
) -> AppResult<(StatusCode, Json<ReviewChange>)> {
    let change = db
        .write(move |tx| reviews::create_review(tx, MovieId(id), &input, Timestamp::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(change)))
}

/// `GET /api/reviews/{id}`: one review.
pub async fn get_review(State(db): State<Db>, IdParam(id): IdParam) -> AppResult<Json<ReviewRow>> {
    let review = db
        .read(move |conn| reviews::get_review(conn, ReviewId(id)))
        .await?;
    Ok(Json(review))
}

/// `DELETE /api/reviews/{id}`: removes a review and updates the movie's rating.
pub async fn delete_review(
    State(db): State<Db>,
    IdParam(id): IdParam,
) -> AppResult<Json<ReviewChange>> {
    let change = db
        .write(move |tx| reviews::delete_review(tx, ReviewId(id)))
        .await?;
    Ok(Json(change))
}
