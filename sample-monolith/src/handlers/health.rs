//! Liveness for load balancers and the strangler proxy: the process answers and its database
//! file can be queried.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::common::db::Db;
use crate::common::errors::AppResult;

/// `GET /healthz`.
pub async fn healthz(State(db): State<Db>) -> AppResult<Json<Value>> {
    let one: i64 = db
        .read(|conn| Ok(conn.query_row("SELECT 1", [], |row| row.get(0))?))
        .await?;
    Ok(Json(
        json!({"status": "ok", "database": if one == 1 { "ok" } else { "degraded" }}),
    ))
}
