//! SQL of customer accounts and their profiles (contact details, preferences, loyalty points).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::common::errors::AppResult;
use crate::common::ids::CustomerId;
use crate::common::pagination::PageRequest;

/// A customer joined with their profile.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRow {
    /// Id.
    pub id: CustomerId,
    /// Unique, lower-case e-mail address.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// `YYYY-MM-DD`, if given (senior fares need it).
    pub birth_date: Option<String>,
    /// When the account was opened.
    pub created_at: String,
    /// Profile.
    pub profile: ProfileRow,
}

/// A row of `customer_profiles`.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRow {
    /// Phone number.
    pub phone: Option<String>,
    /// Favourite genre, for recommendations.
    pub favorite_genre: Option<String>,
    /// Seat class offered first.
    pub preferred_seat_class: Option<String>,
    /// Consent to marketing e-mail.
    pub marketing_opt_in: bool,
    /// Points earned by bookings.
    pub loyalty_points: i64,
    /// Last profile change.
    pub updated_at: String,
}

/// The fields of a profile a customer may change.
#[derive(Debug, Clone)]
pub struct ProfileFields {
    /// Phone number.
    pub phone: Option<String>,
    /// Favourite genre.
    pub favorite_genre: Option<String>,
    /// Seat class offered first.
    pub preferred_seat_class: Option<String>,
    /// Consent to marketing e-mail.
    pub marketing_opt_in: bool,
}

fn customer_from_row(row: &Row<'_>) -> rusqlite::Result<CustomerRow> {
    Ok(CustomerRow {
        id: CustomerId(row.get(0)?),
        email: row.get(1)?,
        full_name: row.get(2)?,
        birth_date: row.get(3)?,
        created_at: row.get(4)?,
        profile: ProfileRow {
            phone: row.get(5)?,
            favorite_genre: row.get(6)?,
            preferred_seat_class: row.get(7)?,
            marketing_opt_in: row.get(8)?,
            loyalty_points: row.get(9)?,
            updated_at: row.get(10)?,
        },
    })
}

/// Inserts an account and its empty profile; fails with a UNIQUE violation on a known e-mail.
pub fn insert_customer(
    conn: &Connection,
    email: &str,
    full_name: &str,
    birth_date: Option<&str>,
    now: &str,
) -> AppResult<CustomerId> {
    conn.execute(
        "INSERT INTO customers (email, full_name, birth_date, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![email, full_name, birth_date, now],
    )?;
    let id = CustomerId(conn.last_insert_rowid());
    conn.execute(
        "INSERT INTO customer_profiles (customer_id, marketing_opt_in, loyalty_points, updated_at)
         VALUES (?1, 0, 0, ?2)",
        params![id.0, now],
    )?;
    Ok(id)
}

/// The customer with this id and their profile, if any.
pub fn find_customer(conn: &Connection, id: CustomerId) -> AppResult<Option<CustomerRow>> {
    Ok(conn
        .query_row(
            "SELECT c.id, c.email, c.full_name, c.birth_date, c.created_at,
                    p.phone, p.favorite_genre, p.preferred_seat_class, p.marketing_opt_in,
                    p.loyalty_points, p.updated_at
             FROM customers c
             JOIN customer_profiles p ON p.customer_id = c.id
             WHERE c.id = ?1",
            [id.0],
            customer_from_row,
        )
        .optional()?)
}

/// Number of customers whose name or e-mail contains `search`.
pub fn count_customers(conn: &Connection, search: Option<&str>) -> AppResult<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM customers
         WHERE ?1 IS NULL OR lower(full_name) LIKE '%' || lower(?1) || '%' OR email LIKE '%' || lower(?1) || '%'",
        [search],
        |row| row.get(0),
    )?)
}

/// One page of customers whose name or e-mail contains `search`, by id.
pub fn list_customers(
    conn: &Connection,
    search: Option<&str>,
    page: PageRequest,
) -> AppResult<Vec<CustomerRow>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.email, c.full_name, c.birth_date, c.created_at,
                p.phone, p.favorite_genre, p.preferred_seat_class, p.marketing_opt_in,
                p.loyalty_points, p.updated_at
         FROM customers c
         JOIN customer_profiles p ON p.customer_id = c.id
         WHERE ?1 IS NULL OR lower(c.full_name) LIKE '%' || lower(?1) || '%' OR c.email LIKE '%' || lower(?1) || '%'
         ORDER BY c.id
         LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(
        params![search, page.limit(), page.offset()],
        customer_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Overwrites the changeable profile fields; returns false when the customer does not exist.
pub fn update_profile(
    conn: &Connection,
    id: CustomerId,
    fields: &ProfileFields,
    now: &str,
) -> AppResult<bool> {
    let changed = conn.execute(
        "UPDATE customer_profiles
         SET phone = ?2, favorite_genre = ?3, preferred_seat_class = ?4, marketing_opt_in = ?5,
             updated_at = ?6
         WHERE customer_id = ?1",
        params![
            id.0,
            fields.phone,
            fields.favorite_genre,
            fields.preferred_seat_class,
            fields.marketing_opt_in,
            now
        ],
    )?;
    Ok(changed == 1)
}

/// Adds (or, with a negative delta, removes) loyalty points, never going below zero.
pub fn add_loyalty_points(conn: &Connection, id: CustomerId, delta: i64) -> AppResult<()> {
    conn.execute(
        "UPDATE customer_profiles SET loyalty_points = MAX(0, loyalty_points + ?2)
         WHERE customer_id = ?1",
        params![id.0, delta],
    )?;
    Ok(())
}
