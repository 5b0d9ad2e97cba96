//! The data layer: every SQL statement of the application, one module per business area (the
//! catalog has two: movies and showtimes).

pub mod bookings;
pub mod customers;
pub mod fares;
pub mod movies;
pub mod reviews;
pub mod showtimes;
