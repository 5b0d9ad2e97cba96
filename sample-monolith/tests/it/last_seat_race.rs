//! Many clients race for the last seat of a showing: exactly one wins, the rest get 409, and
//! the database file holds exactly one live booking of that seat afterwards.

use std::sync::{Arc, Barrier};

use serde_json::json;

use crate::support::{Server, create_customer, create_movie, create_showtime, request};

const RACERS: usize = 24;

#[test]
fn exactly_one_client_gets_the_last_seat() {
    let mut server = Server::start();
    let movie = create_movie(&server, "Sold Out");
    // The Studio screen has 24 seats, A1..D6.
    let showtime = create_showtime(&server, movie, 3, "2031-05-05T20:00:00Z", 900);
    let filler = create_customer(&server, "filler@example.org");
    let all_seats: Vec<String> = ["A", "B", "C", "D"]
        .iter()
        .flat_map(|row| (1..=6).map(move |n| format!("{row}{n}")))
        .collect();
    let (last_seat, others) = all_seats.split_last().expect("seats");
    for chunk in others.chunks(10) {
        let booked = server.post(
            "/api/bookings",
            &json!({"customer_id": filler, "showtime_id": showtime, "seats": chunk}),
        );
        assert_eq!(booked.status, 201, "{booked:?}");
    }

    let racers: Vec<i64> = (0..RACERS)
        .map(|i| create_customer(&server, &format!("racer{i}@example.org")))
        .collect();
    let barrier = Arc::new(Barrier::new(RACERS));
    let addr = server.addr;
    let handles: Vec<_> = racers
        .into_iter()
        .map(|customer| {
            let barrier = Arc::clone(&barrier);
            let seat = last_seat.clone();
            std::thread::spawn(move || {
                let body =
                    json!({"customer_id": customer, "showtime_id": showtime, "seats": [seat]});
                barrier.wait();
                let response = request(addr, "POST", "/api/bookings", Some(&body));
                (response.status, response.body)
            })
        })
        .collect();
    let results: Vec<(u16, serde_json::Value)> = handles
        .into_iter()
        .map(|h| h.join().expect("racer thread"))
        .collect();
    let statuses: Vec<u16> = results.iter().map(|(status, _)| *status).collect();
    let winners = statuses.iter().filter(|status| **status == 201).count();
    let losers: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 409)
        .collect();
    assert_eq!(winners, 1, "statuses: {statuses:?}");
    assert_eq!(losers.len(), RACERS - 1, "statuses: {statuses:?}");
    assert!(
        losers
            .iter()
            .all(|(_, body)| body["error"]["code"] == "seat_taken")
    );

    let map = server.get(&format!("/api/showtimes/{showtime}/seats"));
    let free = map.body["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .filter(|s| s["available"] == true)
        .count();
    assert_eq!(free, 0);
    assert!(server.stop().success());

    let conn = rusqlite::Connection::open(server.db_path()).expect("open database file");
    let (row_label, seat_number) = last_seat.split_at(1);
    let holders: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM booking_seats bs JOIN seats se ON se.id = bs.seat_id
             WHERE bs.showtime_id = ?1 AND se.row_label = ?2 AND se.seat_number = ?3
               AND bs.released = 0",
            rusqlite::params![
                showtime,
                row_label,
                seat_number.parse::<i64>().expect("number")
            ],
            |row| row.get(0),
        )
        .expect("count holders");
    assert_eq!(holders, 1);
    let (bookings, live_seats): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM bookings WHERE showtime_id = ?1),
                    (SELECT COUNT(*) FROM booking_seats WHERE showtime_id = ?1 AND released = 0)",
            [showtime],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("count bookings");
    assert_eq!(
        bookings, 4,
        "three filler bookings and one winner; losers left no row"
    );
    assert_eq!(live_seats, 24);
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
}
