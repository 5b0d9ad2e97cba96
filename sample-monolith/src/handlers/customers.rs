//! HTTP handlers of customer accounts and profiles.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::common::db::Db;
use crate::common::errors::AppResult;
use crate::common::extract::{IdParam, JsonBody, QueryParams};
use crate::common::ids::CustomerId;
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::Timestamp;
use crate::services::customers::{self, CustomerDetail, CustomerInput, ProfileInput};

/// Query of `GET /api/customers`.
#[derive(Debug, Deserialize)]
pub struct CustomerListQuery {
    /// Name or e-mail contains this text.
    pub q: Option<String>,
    /// Page number.
    pub page: Option<String>,
    /// Page size.
    pub per_page: Option<String>,
}

/// `POST /api/customers`: opens an account.
pub async fn create_customer(
    State(db): State<Db>,
    JsonBody(input): JsonBody<CustomerInput>,
) -> AppResult<(StatusCode, Json<CustomerDetail>)> {
    let customer = db
        .write(move |tx| customers::create_customer(tx, &input, Timestamp::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(customer)))
}

/// `GET /api/customers`: accounts, searched and paginated.
pub async fn list_customers(
    State(db): State<Db>,
    QueryParams(query): QueryParams<CustomerListQuery>,
) -> AppResult<Json<Page<CustomerDetail>>> {
    let page = PageRequest::from_query(query.page.as_deref(), query.per_page.as_deref())?;
    let list = db
        .read(move |conn| customers::list_customers(conn, query.q.as_deref(), page))
        .await?;
    Ok(Json(list))
}

/// `GET /api/customers/{id}`: one account with its profile and loyalty tier.
pub async fn get_customer(
    State(db): State<Db>,
    IdParam(id): IdParam,
) -> AppResult<Json<CustomerDetail>> {
    let customer = db
        .read(move |conn| customers::get_customer(conn, CustomerId(id)))
        .await?;
    Ok(Json(customer))
}

/// `PUT /api/customers/{id}/profile`: replaces profile preferences.
pub async fn update_profile(
    State(db): State<Db>,
    IdParam(id): IdParam,
    JsonBody(input): JsonBody<ProfileInput>,
) -> AppResult<Json<CustomerDetail>> {
    let customer = db
        .write(move |tx| customers::update_profile(tx, CustomerId(id), &input, Timestamp::now()))
        .await?;
    Ok(Json(customer))
}
