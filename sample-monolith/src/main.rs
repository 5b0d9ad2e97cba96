//! The movie-booking monolith: placeholder until the sample-monolith issue lands.

fn main() {}
