-- Seed data so a fresh start serves a cinema right away.

INSERT INTO screens (id, name, row_count, seats_per_row) VALUES
    (1, 'Grand Hall', 8, 12),
    (2, 'Screen 2', 6, 10),
    (3, 'Studio', 4, 6);

-- Seats A1.. for every screen: the back two rows are premium, the first two seats of the front
-- row are accessible, everything else is standard.
WITH RECURSIVE counter (n) AS (
    SELECT 0
    UNION ALL
    SELECT n + 1 FROM counter WHERE n < 49
)
INSERT INTO seats (screen_id, row_label, seat_number, seat_class)
SELECT
    screens.id,
    char(65 + row_index.n),
    seat_index.n + 1,
    CASE
        WHEN row_index.n >= screens.row_count - 2 THEN 'premium'
        WHEN row_index.n = 0 AND seat_index.n < 2 THEN 'accessible'
        ELSE 'standard'
    END
FROM screens
JOIN counter AS row_index ON row_index.n < screens.row_count
JOIN counter AS seat_index ON seat_index.n < screens.seats_per_row
ORDER BY screens.id, row_index.n, seat_index.n;

INSERT INTO movies (id, title, genre, duration_minutes, age_rating, release_year, synopsis, created_at) VALUES
    (1, 'The Last Projectionist', 'drama', 118, 'PG-13', 2024, 'A small-town cinema fights to stay open.', '2025-01-01T00:00:00Z'),
    (2, 'Orbital Drift', 'science-fiction', 132, 'PG-13', 2025, 'Two engineers repair a failing space station.', '2025-01-01T00:00:00Z'),
    (3, 'Paper Lanterns', 'animation', 94, 'G', 2023, 'A girl folds her way through a paper city.', '2025-01-01T00:00:00Z'),
    (4, 'Night Shift at the Depot', 'thriller', 107, 'R', 2025, 'A bus driver finds a passenger who should not exist.', '2025-01-01T00:00:00Z'),
    (5, 'Second Helpings', 'comedy', 101, 'PG', 2024, 'A chef opens a restaurant next to her rival.', '2025-01-01T00:00:00Z'),
    (6, 'Quiet Water', 'documentary', 88, 'G', 2022, 'A year on a northern lake.', '2025-01-01T00:00:00Z');

INSERT INTO showtimes (movie_id, screen_id, starts_at, ends_at, base_price_cents) VALUES
    (1, 1, '2030-06-01T14:00:00Z', '2030-06-01T16:13:00Z', 1200),
    (1, 1, '2030-06-01T19:30:00Z', '2030-06-01T21:43:00Z', 1200),
    (2, 2, '2030-06-01T18:00:00Z', '2030-06-01T20:27:00Z', 1350),
    (2, 1, '2030-06-02T22:15:00Z', '2030-06-03T00:42:00Z', 1350),
    (3, 3, '2030-06-02T11:00:00Z', '2030-06-02T12:49:00Z', 900),
    (4, 2, '2030-06-03T21:00:00Z', '2030-06-03T23:02:00Z', 1250),
    (5, 3, '2030-06-04T17:30:00Z', '2030-06-04T19:26:00Z', 1100),
    (6, 3, '2030-06-05T15:00:00Z', '2030-06-05T16:43:00Z', 900);

INSERT INTO customers (id, email, full_name, birth_date, created_at) VALUES
    (1, 'ada@example.org', 'Ada Byron', '1990-12-10', '2025-01-01T00:00:00Z'),
    (2, 'grace@example.org', 'Grace Hopper', '1956-12-09', '2025-01-01T00:00:00Z'),
    (3, 'alan@example.org', 'Alan Turing', NULL, '2025-01-01T00:00:00Z');

INSERT INTO customer_profiles (customer_id, phone, favorite_genre, preferred_seat_class, marketing_opt_in, loyalty_points, updated_at) VALUES
    (1, '+44 20 7946 0001', 'science-fiction', 'premium', 1, 120, '2025-01-01T00:00:00Z'),
    (2, NULL, 'documentary', 'standard', 0, 650, '2025-01-01T00:00:00Z'),
    (3, NULL, NULL, NULL, 0, 0, '2025-01-01T00:00:00Z');

INSERT INTO reviews (movie_id, customer_id, rating, title, body, created_at) VALUES
    (1, 1, 5, 'A love letter to cinema', 'Bring tissues.', '2025-02-01T20:00:00Z'),
    (1, 2, 4, 'Warm and slow', 'The second act drags a little.', '2025-02-03T21:00:00Z'),
    (2, 3, 3, 'Pretty, thin plot', '', '2025-02-05T22:00:00Z');

UPDATE movies
SET average_rating = (SELECT ROUND(AVG(rating), 2) FROM reviews WHERE reviews.movie_id = movies.id),
    review_count = (SELECT COUNT(*) FROM reviews WHERE reviews.movie_id = movies.id);

INSERT INTO fare_rules (name, kind, start_hour, end_hour, weekdays, min_occupancy_percent, percent_adjustment) VALUES
    ('Matinee', 'time_of_day', 0, 17, NULL, NULL, -20),
    ('Late night', 'time_of_day', 22, 24, NULL, NULL, -10),
    ('Weekend', 'weekday', NULL, NULL, '6,7', NULL, 15),
    ('High demand', 'demand', NULL, NULL, NULL, 80, 10);

INSERT INTO seat_class_prices (seat_class, surcharge_cents) VALUES
    ('standard', 0),
    ('premium', 350),
    ('accessible', 0);

INSERT INTO discount_codes (code, description, percent_off, max_uses, valid_until) VALUES
    ('STUDENT10', 'Ten percent off for students', 10, NULL, NULL),
    ('WELCOME25', 'A quarter off your first visit', 25, 500, '2035-12-31T23:59:59Z'),
    ('SPRING2020', 'Expired spring promotion', 15, NULL, '2020-06-01T00:00:00Z');
