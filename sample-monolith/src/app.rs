//! The whole HTTP surface in one place: every route of the monolith and the handler serving it.
//! Reading this file is the quickest way to see what the application does.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::common::db::Db;
use crate::common::errors::{AppError, AppResult};
use crate::handlers::{bookings, customers, fares, health, movies, reviews};

/// Builds the application's router over a database.
pub fn build_router(db: Db) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        // catalog
        .route(
            "/api/movies",
            get(movies::list_movies).post(movies::create_movie),
        )
        .route(
            "/api/movies/{id}",
            get(movies::get_movie)
                .put(movies::update_movie)
                .delete(movies::delete_movie),
        )
        .route(
            "/api/movies/{id}/showtimes",
            get(movies::list_movie_showtimes),
        )
        .route("/api/showtimes", post(movies::create_showtime))
        .route("/api/showtimes/{id}", get(movies::get_showtime))
        .route("/api/showtimes/{id}/seats", get(movies::get_seat_map))
        .route("/api/screens", get(movies::list_screens))
        .route("/api/screens/{id}", get(movies::get_screen))
        // customers
        .route(
            "/api/customers",
            get(customers::list_customers).post(customers::create_customer),
        )
        .route("/api/customers/{id}", get(customers::get_customer))
        .route(
            "/api/customers/{id}/profile",
            axum::routing::put(customers::update_profile),
        )
        // reviews
        .route(
            "/api/movies/{id}/reviews",
            get(reviews::list_movie_reviews).post(reviews::create_movie_review),
        )
        .nest("/api/reviews", reviews::reviews_routes())
        // bookings
        .route("/api/bookings", post(bookings::create_booking))
        .route("/api/bookings/{id}", get(bookings::get_booking))
        .route("/api/bookings/{id}/cancel", post(bookings::cancel_booking))
        .route(
            "/api/customers/{id}/bookings",
            get(bookings::list_customer_bookings),
        )
        // fares
        .route("/api/fares/quote", post(fares::quote_fare))
        .route("/api/fares/rules", get(fares::list_fare_rules))
        .route("/api/discounts", post(fares::create_discount))
        .route("/api/discounts/{code}", get(fares::get_discount))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(db)
}

/// Unknown paths get the same JSON error shape as everything else.
async fn route_not_found() -> AppResult<()> {
    Err(AppError::not_found("route_not_found", "no such route"))
}

async fn method_not_allowed() -> (StatusCode, axum::Json<serde_json::Value>) {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({
            "error": {"code": "method_not_allowed", "message": "method not allowed on this route"}
        })),
    )
}
