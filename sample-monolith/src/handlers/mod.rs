//! The HTTP layer: one module per business area, each turning requests into service calls.

pub mod bookings;
pub mod customers;
pub mod fares;
pub mod health;
pub mod movies;
pub mod reviews;
