//! Typed ids, so a customer id can never be passed where a showtime id is expected. They are
//! plain SQLite rowids on the wire and in the database.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

entity_id!(
    /// A row of `movies`.
    MovieId
);
entity_id!(
    /// A row of `screens`.
    ScreenId
);
entity_id!(
    /// A row of `seats`.
    SeatId
);
entity_id!(
    /// A row of `showtimes`.
    ShowtimeId
);
entity_id!(
    /// A row of `customers`.
    CustomerId
);
entity_id!(
    /// A row of `reviews`.
    ReviewId
);
entity_id!(
    /// A row of `bookings`.
    BookingId
);
