//! HTTP handlers of fares: quotes, the fare table and discount codes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::common::db::Db;
use crate::common::errors::AppResult;
use crate::common::extract::{JsonBody, TextParam};
use crate::common::time::Timestamp;
use crate::services::fares::{self, DiscountInput, DiscountStatus, FareTable, Quote, QuoteInput};

/// `POST /api/fares/quote`: prices seats without booking them.
pub async fn quote_fare(
    State(db): State<Db>,
    JsonBody(input): JsonBody<QuoteInput>,
) -> AppResult<Json<Quote>> {
    let quote = db
        .read(move |conn| fares::price_order(conn, &input, Timestamp::now()))
        .await?;
    Ok(Json(quote))
}

/// `GET /api/fares/rules`: the fare rules and surcharges in force.
pub async fn list_fare_rules(State(db): State<Db>) -> AppResult<Json<FareTable>> {
    let table = db.read(fares::fare_table).await?;
    Ok(Json(table))
}

/// `POST /api/discounts`: creates a discount code.
pub async fn create_discount(
    State(db): State<Db>,
    JsonBody(input): JsonBody<DiscountInput>,
) -> AppResult<(StatusCode, Json<DiscountStatus>)> {
    let discount = db
        .write(move |tx| fares::create_discount(tx, &input, Timestamp::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(discount)))
}

/// `GET /api/discounts/{code}`: a discount code and whether it is usable.
pub async fn get_discount(
    State(db): State<Db>,
    TextParam(code): TextParam,
) -> AppResult<Json<DiscountStatus>> {
    let discount = db
        .read(move |conn| fares::get_discount(conn, &code, Timestamp::now()))
        .await?;
    Ok(Json(discount))
}
