//! The booking journey end to end: customer, movie, showtime, fare quoted, seats booked,
//! booking cancelled with a refund, seats free again.

use serde_json::json;

use crate::support::{Server, create_customer, create_movie, create_showtime};

#[test]
fn customer_books_quoted_seats_and_cancels() {
    let server = Server::start();
    let customer = create_customer(&server, "flow@example.org");
    let movie = create_movie(&server, "Flow Test");
    // A Monday evening: no time-of-day, weekday or demand rule applies.
    let showtime = create_showtime(&server, movie, 2, "2030-07-01T19:00:00Z", 1000);

    let order = json!({
        "showtime_id": showtime, "seats": ["C3", "f5"], "customer_id": customer,
        "discount_code": "student10"
    });
    let quote = server.post("/api/fares/quote", &order);
    assert_eq!(quote.status, 200, "{quote:?}");
    assert_eq!(quote.body["seats"][0]["price_cents"], 1000, "standard seat");
    assert_eq!(quote.body["seats"][1]["price_cents"], 1350, "premium seat");
    assert_eq!(quote.body["subtotal_cents"], 2350);
    assert_eq!(quote.body["discounts"][0]["name"], "STUDENT10");
    assert_eq!(quote.body["total_cents"], 2115);

    let booked = server.post(
        "/api/bookings",
        &json!({"customer_id": customer, "showtime_id": showtime, "seats": ["C3", "F5"],
                "discount_code": "STUDENT10"}),
    );
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking = booked.body["id"].as_i64().expect("booking id");
    assert_eq!(booked.body["status"], "confirmed");
    assert_eq!(booked.body["total_cents"], quote.body["total_cents"]);
    assert_eq!(booked.body["customer"]["email"], "flow@example.org");
    assert_eq!(booked.body["showtime"]["movie_title"], "Flow Test");
    let labels: Vec<&str> = booked.body["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert_eq!(labels, ["C3", "F5"]);

    let fetched = server.get(&format!("/api/bookings/{booking}"));
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body["seats"], booked.body["seats"]);
    assert_eq!(
        server.get(&format!("/api/showtimes/{showtime}")).body["seats_sold"],
        2
    );
    assert!(!seat_available(&server, showtime, "C3"));
    assert!(seat_available(&server, showtime, "C4"));
    assert_eq!(
        server.get(&format!("/api/customers/{customer}")).body["profile"]["loyalty_points"],
        21
    );
    assert_eq!(server.get("/api/discounts/STUDENT10").body["times_used"], 1);
    let history = server.get(&format!(
        "/api/customers/{customer}/bookings?status=confirmed"
    ));
    assert_eq!(history.body["total"], 1);
    assert_eq!(history.body["items"][0]["id"], booking);

    let cancelled = server.post(&format!("/api/bookings/{booking}/cancel"), &json!({}));
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        cancelled.body["refund_cents"], 2115,
        "full refund weeks ahead"
    );
    assert!(seat_available(&server, showtime, "C3"));
    assert_eq!(
        server.get(&format!("/api/showtimes/{showtime}")).body["seats_sold"],
        0
    );
    assert_eq!(
        server.get(&format!("/api/customers/{customer}")).body["profile"]["loyalty_points"],
        0
    );
    let again = server.post(&format!("/api/bookings/{booking}/cancel"), &json!({}));
    assert_eq!(again.status, 409);
    assert_eq!(again.error_code(), "already_cancelled");

    let other = create_customer(&server, "second@example.org");
    let rebooked = server.post(
        "/api/bookings",
        &json!({"customer_id": other, "showtime_id": showtime, "seats": ["C3"]}),
    );
    assert_eq!(
        rebooked.status, 201,
        "a released seat can be booked again: {rebooked:?}"
    );
}

#[test]
fn fare_rules_and_customer_discounts_apply() {
    let server = Server::start();
    // Seeded showtime 1 is a Saturday matinee; customer 2 is a senior with a silver card.
    let quote = server.post(
        "/api/fares/quote",
        &json!({"showtime_id": 1, "seats": ["D4"], "customer_id": 2}),
    );
    assert_eq!(quote.status, 200, "{quote:?}");
    let rules: Vec<&str> = quote.body["seats"][0]["adjustments"]
        .as_array()
        .expect("adjustments")
        .iter()
        .filter_map(|a| a["rule"].as_str())
        .collect();
    assert_eq!(rules, ["Matinee", "Weekend"]);
    assert_eq!(
        quote.body["seats"][0]["price_cents"], 1140,
        "1200 -20% +15%"
    );
    assert_eq!(
        quote.body["discounts"][0]["name"], "senior",
        "the better discount wins"
    );
    assert_eq!(quote.body["total_cents"], 969);

    let rules = server.get("/api/fares/rules");
    assert_eq!(rules.status, 200);
    assert_eq!(rules.body["rules"].as_array().map(Vec::len), Some(4));
    assert_eq!(rules.body["seat_class_surcharges"]["premium"], 350);
}

fn seat_available(server: &Server, showtime: i64, label: &str) -> bool {
    let map = server.get(&format!("/api/showtimes/{showtime}/seats"));
    assert_eq!(map.status, 200);
    map.body["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .find(|s| s["label"] == label)
        .and_then(|s| s["available"].as_bool())
        .expect("seat in map")
}

/// A time relative to now, formatted by SQLite so the test needs no date library.
fn now_plus_minutes(minutes: i64) -> String {
    let conn = rusqlite::Connection::open_in_memory().expect("in-memory sqlite");
    conn.query_row(
        "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?1)",
        [format!("{minutes:+} minutes")],
        |row| row.get(0),
    )
    .expect("strftime")
}

#[test]
fn cancellation_policy_depends_on_time_left() {
    let server = Server::start();
    let customer = create_customer(&server, "late@example.org");
    let movie = create_movie(&server, "Soon");
    let in_three_hours = create_showtime(&server, movie, 1, &now_plus_minutes(180), 1000);
    let in_one_hour = create_showtime(&server, movie, 2, &now_plus_minutes(70), 1000);

    let book = |showtime: i64| {
        let booked = server.post(
            "/api/bookings",
            &json!({"customer_id": customer, "showtime_id": showtime, "seats": ["D5"]}),
        );
        assert_eq!(booked.status, 201, "{booked:?}");
        booked.body["id"].as_i64().expect("booking id")
    };
    let half = book(in_three_hours);
    let cancelled = server.post(&format!("/api/bookings/{half}/cancel"), &json!({}));
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    let total = cancelled.body["total_cents"].as_i64().expect("total");
    assert_eq!(
        cancelled.body["refund_cents"],
        (total + 1) / 2,
        "half refund"
    );

    let late = book(in_one_hour);
    let refused = server.post(&format!("/api/bookings/{late}/cancel"), &json!({}));
    assert_eq!(refused.status, 409);
    assert_eq!(refused.error_code(), "too_late_to_cancel");
    assert_eq!(
        server.get(&format!("/api/bookings/{late}")).body["status"],
        "confirmed"
    );
}

#[test]
fn started_showtimes_are_not_sold() {
    let server = Server::start();
    // Scheduling in the past is refused by the API, so write one straight into the file, as
    // time passing would.
    let conn = rusqlite::Connection::open(server.db_path()).expect("open database");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute(
        "INSERT INTO showtimes (movie_id, screen_id, starts_at, ends_at, base_price_cents)
         VALUES (1, 3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-10 minutes'),
                 strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+120 minutes'), 900)",
        [],
    )
    .expect("insert started showtime");
    let started = conn.last_insert_rowid();
    drop(conn);
    let refused = server.post(
        "/api/bookings",
        &json!({"customer_id": 1, "showtime_id": started, "seats": ["A3"]}),
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(refused.error_code(), "showtime_started");
}
