//! Integration tests of the sample monolith: each starts the real binary on an ephemeral
//! loopback port with a temp database and talks HTTP to it.

mod booking_flow;
mod catalog;
mod contexts;
mod errors;
mod last_seat_race;
mod reviews;
mod support;
