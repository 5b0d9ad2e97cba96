//! HTTP handlers of reviews, and the router of `/api/reviews` that the application nests.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::common::db::Db;
use crate::common::errors::{AppError, AppResult};
use crate::common::extract::{IdParam, JsonBody, QueryParams};
use crate::common::ids::{MovieId, ReviewId};
use crate::common::pagination::PageRequest;
use crate::repo::reviews::{self as review_repo, ReviewRow};
use crate::services::reviews::{self, MovieReviews, ReviewInput};

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
    let _settled = REPLICATION.read().await;
    let list = db
        .read(move |conn| reviews::list_reviews(conn, MovieId(id), order, page))
        .await?;
    Ok(Json(list))
}

/// `POST /api/movies/{id}/reviews`: writes a review and updates the movie's rating.
///
/// Completed by hand. While the reviews routes are being cut over, the monolith stays the
/// system of record for review writes (it also owns the movie's rating, which it updates in
/// the same transaction), and this service keeps a copy with the same ids:
///
/// - a write sent to this service is written through: sent to the monolith first, and on
///   success recorded here with the monolith's id and `created_at`; the client gets the
///   monolith's answer;
/// - a write the proxy mirrors here (`x-strangler-shadow: 1`, after the monolith answered it)
///   is recorded the same way, without writing it a second time to the monolith.
///
/// Reads are served from this service's own database.
pub async fn create_movie_review(
    State(db): State<Db>,
    IdParam(id): IdParam,
    headers: HeaderMap,
    JsonBody(input): JsonBody<ReviewInput>,
) -> AppResult<Response> {
    if is_mirror(&headers) {
        let _replicating = REPLICATION.write().await;
        let change = db
            .write(move |tx| reviews::create_review(tx, MovieId(id), &input))
            .await?;
        return Ok((StatusCode::CREATED, Json(change)).into_response());
    }
    let body = serde_json::to_string(&input)
        .map_err(|err| AppError::Internal(format!("cannot encode the review: {err}")))?;
    let path = format!("/api/movies/{id}/reviews");
    let (status, answer) = write_through("POST", path, Some(body)).await?;
    if status == 201 {
        let review = recorded_review(&answer)?;
        db.write(move |tx| review_repo::upsert_review(tx, &review))
            .await?;
    }
    Ok(json_answer(status, answer))
}

/// `GET /api/reviews/{id}`: one review.
pub async fn get_review(State(db): State<Db>, IdParam(id): IdParam) -> AppResult<Json<ReviewRow>> {
    let _settled = REPLICATION.read().await;
    let review = db
        .read(move |conn| reviews::get_review(conn, ReviewId(id)))
        .await?;
    Ok(Json(review))
}

/// `DELETE /api/reviews/{id}`: removes a review and updates the movie's rating.
///
/// Completed by hand, like `create_movie_review`: written through to the monolith, or, when
/// mirrored by the proxy, applied here only.
pub async fn delete_review(
    State(db): State<Db>,
    IdParam(id): IdParam,
    headers: HeaderMap,
) -> AppResult<Response> {
    if is_mirror(&headers) {
        let _replicating = REPLICATION.write().await;
        let change = db
            .write(move |tx| reviews::delete_review(tx, ReviewId(id)))
            .await?;
        return Ok(Json(change).into_response());
    }
    let (status, answer) = write_through("DELETE", format!("/api/reviews/{id}"), None).await?;
    if status == 200 || status == 404 {
        db.write(move |tx| review_repo::delete_review(tx, ReviewId(id)))
            .await?;
    }
    Ok(json_answer(status, answer))
}

/// Held for writing while a mirrored write is recorded, and for reading by every read: a read
/// the proxy mirrors right after a write it mirrored sees that write, as the monolith's answer
/// did. (Added by hand.)
static REPLICATION: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Whether the proxy mirrored this request (the monolith has answered it already).
fn is_mirror(headers: &HeaderMap) -> bool {
    headers
        .get("x-strangler-shadow")
        .is_some_and(|value| value.as_bytes() == b"1")
}

/// Sends a write to the monolith, the system of record: its status and JSON answer.
async fn write_through(
    method: &'static str,
    path: String,
    body: Option<String>,
) -> AppResult<(u16, String)> {
    tokio::task::spawn_blocking(move || {
        crate::upstream::send("monolith", method, &path, body.as_deref())
    })
    .await
    .map_err(|err| AppError::Internal(format!("write-through task failed: {err}")))?
    .map_err(AppError::Internal)
}

/// The `review` of a `{"review": ..., "movie_rating": ...}` answer.
fn recorded_review(answer: &str) -> AppResult<ReviewRow> {
    #[derive(Deserialize)]
    struct Change {
        review: ReviewRow,
    }
    serde_json::from_str::<Change>(answer)
        .map(|change| change.review)
        .map_err(|err| AppError::Internal(format!("unexpected answer from the monolith: {err}")))
}

/// The monolith's answer, passed on as it came.
fn json_answer(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
