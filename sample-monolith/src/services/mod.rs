//! The business rules: one module per business area, each working on a database connection
//! (inside the caller's transaction for writes) and calling other areas where the business
//! needs it.

pub mod bookings;
pub mod customers;
pub mod fares;
pub mod movies;
pub mod reviews;
