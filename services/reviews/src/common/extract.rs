//! Request extractors that turn every malformed input (bad JSON, wrong field types, a path id
//! that is not a number, an unparsable query string) into our JSON error body with a 400,
//! instead of axum's plain-text rejections.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::common::errors::AppError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::UnsupportedMediaType(
                "expected a body with content-type application/json".to_string(),
            )),
            Err(JsonRejection::JsonDataError(err)) => {
                Err(AppError::invalid("invalid_body", err.body_text()))
            }
            Err(JsonRejection::JsonSyntaxError(err)) => {
                Err(AppError::invalid("malformed_json", err.body_text()))
            }
            Err(other) => Err(AppError::invalid("unreadable_body", other.body_text())),
        }
    }
}

/// The single `{id}` segment of a path, as a positive integer.
#[derive(Debug, Clone, Copy)]
pub struct IdParam(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|err| AppError::invalid("invalid_path", err.body_text()))?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(IdParam(id)),
            _ => Err(AppError::invalid(
                "invalid_id",
                format!("'{raw}' is not a valid id: expected a positive whole number"),
            )),
        }
    }
}

/// The single text segment of a path (e.g. a discount code).
#[derive(Debug, Clone)]
pub struct TextParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TextParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|err| AppError::invalid("invalid_path", err.body_text()))?;
        Ok(TextParam(raw))
    }
}

/// Query-string parameters of type `T`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state)
            .await
            .map_err(|err| AppError::invalid("invalid_query", err.body_text()))?;
        Ok(QueryParams(value))
    }
}
