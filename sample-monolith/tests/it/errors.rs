//! Every error status the API promises, with its JSON body, and the guarantee that a failed
//! request writes nothing.

use serde_json::{Value, json};

use crate::support::{Server, create_customer, create_movie, create_showtime};

fn assert_error(response: &crate::support::Response, status: u16, code: &str, what: &str) {
    assert_eq!(response.status, status, "{what}: {response:?}");
    assert_eq!(response.error_code(), code, "{what}");
}

#[test]
fn malformed_and_invalid_input_is_400() {
    let server = Server::start();
    let malformed = server.raw(
        "POST",
        "/api/customers",
        Some("application/json"),
        b"{\"email\":",
    );
    assert_error(&malformed, 400, "malformed_json", "truncated JSON");
    let wrong_type = server.post("/api/customers", &json!({"email": 5, "full_name": "X"}));
    assert_error(&wrong_type, 400, "invalid_body", "number for a string");
    let missing = server.post("/api/movies", &json!({"title": "No genre"}));
    assert_error(&missing, 400, "invalid_body", "missing fields");
    let no_type = server.raw("POST", "/api/customers", None, b"{}");
    assert_error(&no_type, 415, "unsupported_media_type", "no content type");

    let invalid: [(&str, Value, &str); 9] = [
        (
            "/api/customers",
            json!({"email": "not-an-email", "full_name": "X"}),
            "email",
        ),
        (
            "/api/customers",
            json!({"email": "a@b.org", "full_name": ""}),
            "empty name",
        ),
        (
            "/api/customers",
            json!({"email": "a@b.org", "full_name": "X", "birth_date": "1990-02-30"}),
            "bad date",
        ),
        (
            "/api/movies",
            json!({"title": "T", "genre": "opera", "duration_minutes": 90, "age_rating": "PG", "release_year": 2020}),
            "genre",
        ),
        (
            "/api/movies",
            json!({"title": "T", "genre": "drama", "duration_minutes": 0, "age_rating": "PG", "release_year": 2020}),
            "duration",
        ),
        (
            "/api/showtimes",
            json!({"movie_id": 1, "screen_id": 1, "starts_at": "soon", "base_price_cents": 100}),
            "start format",
        ),
        (
            "/api/showtimes",
            json!({"movie_id": 1, "screen_id": 1, "starts_at": "2001-01-01T10:00", "base_price_cents": 100}),
            "past start",
        ),
        (
            "/api/bookings",
            json!({"customer_id": 1, "showtime_id": 1, "seats": []}),
            "no seats",
        ),
        (
            "/api/fares/quote",
            json!({"showtime_id": 1, "seats": ["A1", "a1"]}),
            "same seat twice",
        ),
    ];
    for (path, body, what) in invalid {
        assert_error(&server.post(path, &body), 400, "validation_failed", what);
    }
    assert_error(
        &server.post(
            "/api/fares/quote",
            &json!({"showtime_id": 1, "seats": ["1A"]}),
        ),
        400,
        "validation_failed",
        "seat label",
    );
    assert_error(&server.get("/api/movies/abc"), 400, "invalid_id", "text id");
    assert_error(
        &server.get("/api/movies/-3"),
        400,
        "invalid_id",
        "negative id",
    );
    assert_error(
        &server.get("/api/movies?page=0"),
        400,
        "invalid_pagination",
        "page 0",
    );
    assert_error(
        &server.get("/api/customers?per_page=1000"),
        400,
        "invalid_pagination",
        "huge page",
    );
    assert_error(
        &server.get("/api/movies?sort=length"),
        400,
        "validation_failed",
        "sort",
    );
    assert_error(
        &server.get("/api/customers/1/bookings?status=pending"),
        400,
        "validation_failed",
        "status filter",
    );
}

#[test]
fn unknown_things_are_404() {
    let server = Server::start();
    let cases = [
        ("/api/movies/999", "movie_not_found"),
        ("/api/movies/999/showtimes", "movie_not_found"),
        ("/api/movies/999/reviews", "movie_not_found"),
        ("/api/showtimes/999", "showtime_not_found"),
        ("/api/showtimes/999/seats", "showtime_not_found"),
        ("/api/screens/999", "screen_not_found"),
        ("/api/customers/999", "customer_not_found"),
        ("/api/customers/999/bookings", "customer_not_found"),
        ("/api/bookings/999", "booking_not_found"),
        ("/api/reviews/999", "review_not_found"),
        ("/api/discounts/NOPE99", "discount_not_found"),
        ("/api/no-such-thing", "route_not_found"),
    ];
    for (path, code) in cases {
        assert_error(&server.get(path), 404, code, path);
    }
    let posts = [
        (
            "/api/bookings",
            json!({"customer_id": 999, "showtime_id": 1, "seats": ["A3"]}),
            "customer_not_found",
        ),
        (
            "/api/bookings",
            json!({"customer_id": 1, "showtime_id": 999, "seats": ["A3"]}),
            "showtime_not_found",
        ),
        (
            "/api/bookings",
            json!({"customer_id": 1, "showtime_id": 5, "seats": ["Z3"]}),
            "seat_not_found",
        ),
        ("/api/bookings/999/cancel", json!({}), "booking_not_found"),
        (
            "/api/showtimes",
            json!({"movie_id": 999, "screen_id": 1, "starts_at": "2031-01-01T10:00", "base_price_cents": 100}),
            "movie_not_found",
        ),
        (
            "/api/showtimes",
            json!({"movie_id": 1, "screen_id": 999, "starts_at": "2031-01-01T10:00", "base_price_cents": 100}),
            "screen_not_found",
        ),
        (
            "/api/fares/quote",
            json!({"showtime_id": 1, "seats": ["A3"], "discount_code": "NOPE99"}),
            "discount_not_found",
        ),
    ];
    for (path, body, code) in posts {
        assert_error(&server.post(path, &body), 404, code, &body.to_string());
    }
    assert_error(
        &server.put("/api/customers/999/profile", &json!({})),
        404,
        "customer_not_found",
        "profile",
    );
    assert_error(
        &server.delete("/api/movies/999"),
        404,
        "movie_not_found",
        "delete",
    );
    let wrong_method = server.delete("/api/screens");
    assert_error(&wrong_method, 405, "method_not_allowed", "DELETE on a list");
}

#[test]
fn conflicts_are_409() {
    let server = Server::start();
    assert_error(
        &server.post(
            "/api/customers",
            &json!({"email": "ADA@example.org", "full_name": "Ada"}),
        ),
        409,
        "email_taken",
        "e-mail is case-insensitive",
    );
    assert_error(
        &server.post(
            "/api/movies",
            &json!({"title": "Orbital Drift", "genre": "drama", "duration_minutes": 90,
                    "age_rating": "PG", "release_year": 2025}),
        ),
        409,
        "movie_exists",
        "same title and year",
    );
    assert_error(
        &server.delete("/api/movies/1"),
        409,
        "movie_has_showtimes",
        "scheduled movie",
    );
    let movie = create_movie(&server, "Overlap");
    create_showtime(&server, movie, 1, "2031-03-03T18:00:00Z", 1000);
    let overlap = server.post(
        "/api/showtimes",
        &json!({"movie_id": movie, "screen_id": 1, "starts_at": "2031-03-03T19:00:00Z",
                "base_price_cents": 1000}),
    );
    assert_error(&overlap, 409, "screen_busy", "overlapping showing");
    assert_error(
        &server.post(
            "/api/fares/quote",
            &json!({"showtime_id": 1, "seats": ["A3"], "discount_code": "SPRING2020"}),
        ),
        409,
        "discount_expired",
        "expired code",
    );
    let code = server.post(
        "/api/discounts",
        &json!({"code": "once1", "description": "One use", "percent_off": 50, "max_uses": 1}),
    );
    assert_eq!(code.status, 201, "{code:?}");
    assert_error(
        &server.post(
            "/api/discounts",
            &json!({"code": "ONCE1", "description": "again", "percent_off": 5}),
        ),
        409,
        "discount_exists",
        "duplicate code",
    );
    let customer = create_customer(&server, "conflicts@example.org");
    let first = server.post(
        "/api/bookings",
        &json!({"customer_id": customer, "showtime_id": 3, "seats": ["B1"], "discount_code": "ONCE1"}),
    );
    assert_eq!(first.status, 201, "{first:?}");
    assert_error(
        &server.post(
            "/api/bookings",
            &json!({"customer_id": customer, "showtime_id": 3, "seats": ["B2"], "discount_code": "ONCE1"}),
        ),
        409,
        "discount_exhausted",
        "used-up code",
    );
    assert_error(
        &server.post(
            "/api/bookings",
            &json!({"customer_id": 1, "showtime_id": 3, "seats": ["B1"]}),
        ),
        409,
        "seat_taken",
        "taken seat",
    );
}

#[test]
fn a_failed_booking_writes_nothing() {
    let server = Server::start();
    let customer = create_customer(&server, "atomic@example.org");
    let taken = server.post(
        "/api/bookings",
        &json!({"customer_id": 1, "showtime_id": 6, "seats": ["C5"]}),
    );
    assert_eq!(taken.status, 201, "{taken:?}");
    let uses_before = server.get("/api/discounts/WELCOME25").body["times_used"].clone();

    // C4 is free, C5 is taken: the booking fails after C4 was inserted, and must roll back.
    let failed = server.post(
        "/api/bookings",
        &json!({"customer_id": customer, "showtime_id": 6, "seats": ["C4", "C5"],
                "discount_code": "WELCOME25"}),
    );
    assert_error(&failed, 409, "seat_taken", "second seat taken");
    let map = server.get("/api/showtimes/6/seats");
    let c4 = map.body["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .find(|s| s["label"] == "C4")
        .expect("C4")
        .clone();
    assert_eq!(c4["available"], true, "the free seat was not kept");
    assert_eq!(
        server
            .get(&format!("/api/customers/{customer}/bookings"))
            .body["total"],
        0
    );
    assert_eq!(
        server.get("/api/discounts/WELCOME25").body["times_used"],
        uses_before
    );
    assert_eq!(
        server.get(&format!("/api/customers/{customer}")).body["profile"]["loyalty_points"],
        0
    );
    assert_eq!(server.get("/api/showtimes/6").body["seats_sold"], 1);
}
