//! One error type shared by every layer, so a repo failure, a rule broken in a service and a bad
//! request body all reach the client the same way: a status code and
//! `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The client sent something malformed or against the rules (400).
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code, e.g. `validation_failed`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The client named something that does not exist (404).
    #[error("{message}")]
    NotFound {
        /// Stable machine-readable code, e.g. `movie_not_found`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The request is valid but clashes with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable machine-readable code, e.g. `seat_taken`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The content type of the body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// SQLite failed in a way the client cannot fix.
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    /// A bug or an environment failure (a panicked worker, for instance).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The result type of every handler, service and repo function.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A 400 with the given code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// A 400 `validation_failed` naming the offending field.
    pub fn validation(field: &str, problem: impl std::fmt::Display) -> AppError {
        AppError::invalid("validation_failed", format!("{field}: {problem}"))
    }

    /// A 404 with the given code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::NotFound {
            code,
            message: message.into(),
        }
    }

    /// A 409 with the given code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::Invalid { code, .. } => (StatusCode::BAD_REQUEST, code),
            AppError::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            AppError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            AppError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            AppError::Database(err) if is_busy(err) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_busy")
            }
            AppError::Database(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            // Details of server faults go to the log, not to the client.
            tracing::error!(error = %error_chain(&self), "request failed");
            "the server could not complete the request".to_string()
        } else {
            self.to_string()
        };
        let body = json!({"error": {"code": code, "message": message}});
        (status, Json(body)).into_response()
    }
}

/// The error and all its causes on one line, for the log.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        line.push_str(": ");
        line.push_str(&inner.to_string());
        cause = inner.source();
    }
    line
}

/// True when SQLite refused a write because a UNIQUE constraint (or primary key) already holds
/// the value: the signal for a 409.
pub fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_extended_error_code(),
        Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
