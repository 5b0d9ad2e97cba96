-- The cinema's schema. One database for every business area, as monoliths have it.

-- movies: catalog, screens, seats, showtimes
CREATE TABLE movies (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    genre TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 600),
    age_rating TEXT NOT NULL,
    release_year INTEGER NOT NULL,
    synopsis TEXT NOT NULL DEFAULT '',
    -- maintained by the reviews code on every review change
    average_rating REAL,
    review_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (title, release_year)
);

CREATE TABLE screens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    row_count INTEGER NOT NULL CHECK (row_count BETWEEN 1 AND 26),
    seats_per_row INTEGER NOT NULL CHECK (seats_per_row BETWEEN 1 AND 50)
);

CREATE TABLE seats (
    id INTEGER PRIMARY KEY,
    screen_id INTEGER NOT NULL REFERENCES screens (id),
    row_label TEXT NOT NULL,
    seat_number INTEGER NOT NULL,
    seat_class TEXT NOT NULL CHECK (seat_class IN ('standard', 'premium', 'accessible')),
    UNIQUE (screen_id, row_label, seat_number)
);

CREATE TABLE showtimes (
    id INTEGER PRIMARY KEY,
    movie_id INTEGER NOT NULL REFERENCES movies (id),
    screen_id INTEGER NOT NULL REFERENCES screens (id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    base_price_cents INTEGER NOT NULL CHECK (base_price_cents >= 0),
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled'))
);
CREATE INDEX showtimes_by_movie ON showtimes (movie_id, starts_at);
CREATE INDEX showtimes_by_screen ON showtimes (screen_id, starts_at);

-- customers: accounts and profiles
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    birth_date TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE customer_profiles (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    phone TEXT,
    favorite_genre TEXT,
    preferred_seat_class TEXT,
    marketing_opt_in INTEGER NOT NULL DEFAULT 0,
    loyalty_points INTEGER NOT NULL DEFAULT 0 CHECK (loyalty_points >= 0),
    updated_at TEXT NOT NULL
);

-- reviews: ratings and comments
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    movie_id INTEGER NOT NULL REFERENCES movies (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (movie_id, customer_id)
);

-- bookings: seat reservations
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    showtime_id INTEGER NOT NULL REFERENCES showtimes (id),
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
    discount_code TEXT,
    refund_cents INTEGER,
    created_at TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX bookings_by_customer ON bookings (customer_id, created_at);

CREATE TABLE booking_seats (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES bookings (id),
    showtime_id INTEGER NOT NULL REFERENCES showtimes (id),
    seat_id INTEGER NOT NULL REFERENCES seats (id),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    released INTEGER NOT NULL DEFAULT 0
);
-- The real guard against double booking: one live holder per seat and showtime.
CREATE UNIQUE INDEX booking_seats_one_holder ON booking_seats (showtime_id, seat_id) WHERE released = 0;
CREATE INDEX booking_seats_by_booking ON booking_seats (booking_id);

-- fares: pricing rules and discounts
CREATE TABLE fare_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('time_of_day', 'weekday', 'demand')),
    start_hour INTEGER,
    end_hour INTEGER,
    weekdays TEXT,
    min_occupancy_percent INTEGER,
    percent_adjustment INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE seat_class_prices (
    seat_class TEXT PRIMARY KEY,
    surcharge_cents INTEGER NOT NULL
);

CREATE TABLE discount_codes (
    code TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    percent_off INTEGER NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
    max_uses INTEGER,
    times_used INTEGER NOT NULL DEFAULT 0,
    valid_until TEXT
);
