//! HTTP handlers of bookings: book, look up, cancel, and a customer's booking history.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::common::db::Db;
use crate::common::errors::AppResult;
use crate::common::extract::{IdParam, JsonBody, QueryParams};
use crate::common::ids::{BookingId, CustomerId};
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::Timestamp;
use crate::repo::bookings::BookingRow;
use crate::services::bookings::{self, BookingDetail, BookingInput};

/// Query of `GET /api/customers/{id}/bookings`.
#[derive(Debug, Deserialize)]
pub struct CustomerBookingsQuery {
    /// `confirmed` or `cancelled`.
    pub status: Option<String>,
    /// Page number.
    pub page: Option<String>,
    /// Page size.
    pub per_page: Option<String>,
}

/// `POST /api/bookings`: books seats (409 when one is taken).
pub async fn create_booking(
    State(db): State<Db>,
    JsonBody(input): JsonBody<BookingInput>,
) -> AppResult<(StatusCode, Json<BookingDetail>)> {
    let booking = db
        .write(move |tx| bookings::create_booking(tx, &input, Timestamp::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(booking)))
}

/// `GET /api/bookings/{id}`: one booking with its seats.
pub async fn get_booking(
    State(db): State<Db>,
    IdParam(id): IdParam,
) -> AppResult<Json<BookingDetail>> {
    let booking = db
        .read(move |conn| bookings::get_booking(conn, BookingId(id)))
        .await?;
    Ok(Json(booking))
}

/// `POST /api/bookings/{id}/cancel`: cancels and refunds.
pub async fn cancel_booking(
    State(db): State<Db>,
    IdParam(id): IdParam,
) -> AppResult<Json<BookingDetail>> {
    let booking = db
        .write(move |tx| bookings::cancel_booking(tx, BookingId(id), Timestamp::now()))
        .await?;
    Ok(Json(booking))
}

/// `GET /api/customers/{id}/bookings`: a customer's bookings.
pub async fn list_customer_bookings(
    State(db): State<Db>,
    IdParam(id): IdParam,
    QueryParams(query): QueryParams<CustomerBookingsQuery>,
) -> AppResult<Json<Page<BookingRow>>> {
    let page = PageRequest::from_query(query.page.as_deref(), query.per_page.as_deref())?;
    let list = db
        .read(move |conn| {
            bookings::list_customer_bookings(conn, CustomerId(id), query.status.as_deref(), page)
        })
        .await?;
    Ok(Json(list))
}
