//! The service's HTTP surface: the reviews context's routes at the monolith's paths, plus
//! the operational endpoints.

use std::path::PathBuf;

use axum::Router;
use axum::routing::{delete, get};

/// Builds the router: the context's routes over its state, then `/healthz`, `/readyz`,
/// `/metrics`, request logging and a JSON 404 for unknown paths.
pub fn router(state: crate::common::db::Db, db_path: PathBuf) -> Router {
    let context_routes = Router::new()
        .route(
            "/api/movies/{id}/reviews",
            get(crate::handlers::reviews::list_movie_reviews)
                .post(crate::handlers::reviews::create_movie_review),
        )
        .route(
            "/api/reviews/{id}",
            delete(crate::handlers::reviews::delete_review)
                .get(crate::handlers::reviews::get_review),
        )
        .with_state(state);
    context_routes
        .merge(crate::ops::router(db_path))
        .fallback(crate::ops::route_not_found)
        .layer(axum::middleware::from_fn(crate::ops::observe))
}
