//! Reviews keep the movie's average rating in step, in the same transaction as the change.

use serde_json::json;

use crate::support::{Server, create_customer, create_movie};

#[test]
fn reviews_update_the_average_rating() {
    let server = Server::start();
    let movie = create_movie(&server, "Rated Film");
    let ana = create_customer(&server, "ana@example.org");
    let ben = create_customer(&server, "ben@example.org");
    let path = format!("/api/movies/{movie}/reviews");

    let first = server.post(
        &path,
        &json!({"customer_id": ana, "rating": 5, "title": "Loved it"}),
    );
    assert_eq!(first.status, 201, "{first:?}");
    assert_eq!(first.body["movie_rating"]["average_rating"], 5.0);
    let second = server.post(
        &path,
        &json!({"customer_id": ben, "rating": 2, "title": "Meh", "body": "Too long."}),
    );
    assert_eq!(second.status, 201, "{second:?}");
    assert_eq!(second.body["movie_rating"]["average_rating"], 3.5);
    assert_eq!(second.body["movie_rating"]["review_count"], 2);

    let detail = server.get(&format!("/api/movies/{movie}"));
    assert_eq!(detail.body["average_rating"], 3.5);
    assert_eq!(detail.body["review_count"], 2);

    let list = server.get(&format!("{path}?sort=lowest&per_page=1"));
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total"], 2);
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.body["items"][0]["rating"], 2);
    assert_eq!(list.body["stars_histogram"], json!([0, 1, 0, 0, 1]));

    let duplicate = server.post(
        &path,
        &json!({"customer_id": ana, "rating": 1, "title": "Again"}),
    );
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.error_code(), "already_reviewed");
    assert_eq!(
        server.get(&format!("/api/movies/{movie}")).body["average_rating"],
        3.5
    );

    let review = second.body["review"]["id"].as_i64().expect("review id");
    assert_eq!(
        server.get(&format!("/api/reviews/{review}")).body["title"],
        "Meh"
    );
    let deleted = server.delete(&format!("/api/reviews/{review}"));
    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert_eq!(deleted.body["movie_rating"]["average_rating"], 5.0);
    assert_eq!(
        server.get(&format!("/api/movies/{movie}")).body["review_count"],
        1
    );
    assert_eq!(server.get(&format!("/api/reviews/{review}")).status, 404);

    let last = first.body["review"]["id"].as_i64().expect("review id");
    assert_eq!(server.delete(&format!("/api/reviews/{last}")).status, 200);
    let detail = server.get(&format!("/api/movies/{movie}"));
    assert!(
        detail.body["average_rating"].is_null(),
        "no reviews, no average"
    );
    assert_eq!(detail.body["review_count"], 0);
}

#[test]
fn invalid_reviews_are_refused() {
    let server = Server::start();
    let cases = [
        (
            "/api/movies/1/reviews",
            json!({"customer_id": 3, "rating": 6, "title": "x"}),
            400,
            "validation_failed",
        ),
        (
            "/api/movies/1/reviews",
            json!({"customer_id": 3, "rating": 0, "title": "x"}),
            400,
            "validation_failed",
        ),
        (
            "/api/movies/1/reviews",
            json!({"customer_id": 3, "rating": 4, "title": "  "}),
            400,
            "validation_failed",
        ),
        (
            "/api/movies/1/reviews",
            json!({"customer_id": 3, "rating": "four", "title": "x"}),
            400,
            "invalid_body",
        ),
        (
            "/api/movies/999/reviews",
            json!({"customer_id": 3, "rating": 4, "title": "x"}),
            404,
            "movie_not_found",
        ),
        (
            "/api/movies/1/reviews",
            json!({"customer_id": 999, "rating": 4, "title": "x"}),
            404,
            "customer_not_found",
        ),
    ];
    for (path, body, status, code) in cases {
        let response = server.post(path, &body);
        assert_eq!(response.status, status, "{body}: {response:?}");
        assert_eq!(response.error_code(), code, "{body}");
    }
    let list = server.get("/api/movies/1/reviews");
    assert_eq!(list.body["total"], 2, "seeded reviews only");
    assert_eq!(server.get("/api/movies/1/reviews?sort=best").status, 400);
}
