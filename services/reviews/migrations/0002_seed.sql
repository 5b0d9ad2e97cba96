-- The statements of the monolith's migrations/0002_seed.sql about tables the reviews context owns.

-- Nothing here for this service: its rows come from the monolith's database through `copy-from`.
