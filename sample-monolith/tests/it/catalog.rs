//! The seeded catalog, pagination and filters, and a restart on the same database file.

use serde_json::json;

use crate::support::Server;

#[test]
fn serves_seeded_data_with_pagination() {
    let server = Server::start();
    let health = server.get("/healthz");
    assert_eq!((health.status, &health.body["status"]), (200, &json!("ok")));

    let page = server.get("/api/movies?page=3&per_page=2");
    assert_eq!(page.status, 200);
    assert_eq!(page.body["total"], 6);
    assert_eq!(page.body["page"], 3);
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(2));
    let beyond = server.get("/api/movies?page=4&per_page=2");
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["total"], 6);

    let drama = server.get("/api/movies?genre=drama");
    assert_eq!(drama.body["total"], 1);
    assert_eq!(drama.body["items"][0]["title"], "The Last Projectionist");
    let search = server.get("/api/movies?q=ORBIT");
    assert_eq!(search.body["items"][0]["title"], "Orbital Drift");
    let best = server.get("/api/movies?sort=rating&per_page=1");
    assert_eq!(best.body["items"][0]["average_rating"], 4.5);

    let screens = server.get("/api/screens");
    let capacities: Vec<i64> = screens
        .body
        .as_array()
        .expect("screens")
        .iter()
        .filter_map(|s| s["capacity"].as_i64())
        .collect();
    assert_eq!(capacities, [96, 60, 24]);
    let studio = server.get("/api/screens/3");
    assert_eq!(studio.body["premium_seats"], 12);
    assert_eq!(studio.body["accessible_seats"], 2);

    let showtimes = server.get("/api/movies/1/showtimes?per_page=1");
    assert_eq!(showtimes.body["total"], 2);
    assert_eq!(
        showtimes.body["items"][0]["starts_at"],
        "2030-06-01T14:00:00Z"
    );
    let seats = server.get("/api/showtimes/5/seats");
    assert_eq!(seats.body["seats"].as_array().map(Vec::len), Some(24));

    let customers = server.get("/api/customers?q=hopper");
    assert_eq!(customers.body["total"], 1);
    assert_eq!(customers.body["items"][0]["loyalty_tier"], "silver");
}

#[test]
fn catalog_and_profile_changes_persist_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("cinema.db");
    let mut server = Server::start_on(&db);
    let created = server.post(
        "/api/movies",
        &json!({"title": "Restart Story", "genre": "comedy", "duration_minutes": 90,
                "age_rating": "PG", "release_year": 2026, "synopsis": "Twice."}),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_i64().expect("id");
    let updated = server.put(
        &format!("/api/movies/{id}"),
        &json!({"title": "Restart Story II", "genre": "comedy", "duration_minutes": 95,
                "age_rating": "PG", "release_year": 2026}),
    );
    assert_eq!(updated.status, 200, "{updated:?}");
    let profile = server.put(
        "/api/customers/3/profile",
        &json!({"phone": "+44 20 7946 0003", "favorite_genre": "comedy",
                "preferred_seat_class": "premium", "marketing_opt_in": true}),
    );
    assert_eq!(profile.status, 200, "{profile:?}");
    assert!(server.stop().success(), "graceful exit on SIGTERM");

    let server = Server::start_on(&db);
    let movies = server.get("/api/movies?per_page=100");
    assert_eq!(movies.body["total"], 7, "seed data is applied once");
    assert_eq!(
        server.get(&format!("/api/movies/{id}")).body["title"],
        "Restart Story II"
    );
    let customer = server.get("/api/customers/3");
    assert_eq!(customer.body["profile"]["favorite_genre"], "comedy");
    assert_eq!(customer.body["profile"]["marketing_opt_in"], true);

    let deleted = server.delete(&format!("/api/movies/{id}"));
    assert_eq!(deleted.status, 204);
    assert_eq!(server.get(&format!("/api/movies/{id}")).status, 404);
}
