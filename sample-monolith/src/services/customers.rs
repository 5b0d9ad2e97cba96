//! Business rules of customer accounts: sign-up validation, profile preferences and the loyalty
//! programme. Bookings award and revoke points here; fares read the loyalty tier and the age.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::common::errors::{AppError, AppResult, is_unique_violation};
use crate::common::ids::CustomerId;
use crate::common::pagination::{Page, PageRequest};
use crate::common::time::{Date, Timestamp};
use crate::common::validation;
use crate::repo::customers::{self as customer_repo, CustomerRow, ProfileFields};
use crate::services::movies::GENRES;

/// Seat classes a customer may prefer.
pub const SEAT_CLASSES: [&str; 3] = ["accessible", "premium", "standard"];
/// Points for a silver card.
pub const SILVER_POINTS: i64 = 250;
/// Points for a gold card.
pub const GOLD_POINTS: i64 = 1000;

/// A sign-up as a client sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomerInput {
    /// E-mail address, unique.
    pub email: String,
    /// Full name, 1-120 characters.
    pub full_name: String,
    /// `YYYY-MM-DD`, optional.
    #[serde(default)]
    pub birth_date: Option<String>,
}

/// A profile change as a client sends it (all fields replace the stored ones).
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileInput {
    /// Phone number: digits, spaces, `+`, `-`, `(`, `)`; up to 30 characters.
    #[serde(default)]
    pub phone: Option<String>,
    /// One of the catalog's genres.
    #[serde(default)]
    pub favorite_genre: Option<String>,
    /// One of [`SEAT_CLASSES`].
    #[serde(default)]
    pub preferred_seat_class: Option<String>,
    /// Consent to marketing e-mail.
    #[serde(default)]
    pub marketing_opt_in: bool,
}

/// Loyalty card level, earned by points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoyaltyTier {
    /// Fewer than [`SILVER_POINTS`].
    Basic,
    /// At least [`SILVER_POINTS`].
    Silver,
    /// At least [`GOLD_POINTS`].
    Gold,
}

impl LoyaltyTier {
    /// The tier a number of points earns.
    pub fn for_points(points: i64) -> LoyaltyTier {
        if points >= GOLD_POINTS {
            LoyaltyTier::Gold
        } else if points >= SILVER_POINTS {
            LoyaltyTier::Silver
        } else {
            LoyaltyTier::Basic
        }
    }
}

/// A customer with their loyalty tier.
#[derive(Debug, Serialize)]
pub struct CustomerDetail {
    /// Account and profile.
    #[serde(flatten)]
    pub customer: CustomerRow,
    /// Current tier.
    pub loyalty_tier: LoyaltyTier,
}

/// What fares need to know about a customer.
#[derive(Debug, Clone, Copy)]
pub struct PricingProfile {
    /// Loyalty tier.
    pub tier: LoyaltyTier,
    /// Age in completed years, when the birth date is known.
    pub age: Option<i64>,
}

fn detail(customer: CustomerRow) -> CustomerDetail {
    let loyalty_tier = LoyaltyTier::for_points(customer.profile.loyalty_points);
    CustomerDetail {
        customer,
        loyalty_tier,
    }
}

fn load(conn: &Connection, id: CustomerId) -> AppResult<CustomerRow> {
    customer_repo::find_customer(conn, id)?.ok_or_else(|| {
        AppError::not_found("customer_not_found", format!("no customer with id {id}"))
    })
}

/// Fails with a 404 unless the customer exists.
pub fn require_customer(conn: &Connection, id: CustomerId) -> AppResult<()> {
    load(conn, id).map(|_| ())
}

/// Opens an account.
pub fn create_customer(
    conn: &Connection,
    input: &CustomerInput,
    now: Timestamp,
) -> AppResult<CustomerDetail> {
    let email = validation::email("email", &input.email)?;
    let full_name = validation::required_text("full_name", &input.full_name, 120)?;
    let birth_date = match input.birth_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let date = Date::parse(text)
                .ok_or_else(|| AppError::validation("birth_date", "expected YYYY-MM-DD"))?;
            if date > now.date() {
                return Err(AppError::validation(
                    "birth_date",
                    "must not be in the future",
                ));
            }
            Some(date.to_string())
        }
    };
    let id = customer_repo::insert_customer(
        conn,
        &email,
        &full_name,
        birth_date.as_deref(),
        &now.to_string(),
    )
    .map_err(|err| match err {
        AppError::Database(db) if is_unique_violation(&db) => AppError::conflict(
            "email_taken",
            format!("an account with e-mail {email} already exists"),
        ),
        other => other,
    })?;
    get_customer(conn, id)
}

/// The customer, or a 404.
pub fn get_customer(conn: &Connection, id: CustomerId) -> AppResult<CustomerDetail> {
    load(conn, id).map(detail)
}

/// One page of customers, optionally searched by name or e-mail.
pub fn list_customers(
    conn: &Connection,
    search: Option<&str>,
    page: PageRequest,
) -> AppResult<Page<CustomerDetail>> {
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let total = customer_repo::count_customers(conn, search)?;
    let items = customer_repo::list_customers(conn, search, page)?
        .into_iter()
        .map(detail)
        .collect();
    Ok(Page::new(items, page, total))
}

fn validate_phone(phone: &str) -> AppResult<String> {
    let phone = validation::required_text("phone", phone, 30)?;
    let allowed = |c: char| c.is_ascii_digit() || " +-()".contains(c);
    if phone.chars().all(allowed) && phone.chars().filter(char::is_ascii_digit).count() >= 5 {
        Ok(phone)
    } else {
        Err(AppError::validation(
            "phone",
            "expected a phone number such as +44 20 7946 0001",
        ))
    }
}

/// Replaces a customer's profile preferences.
pub fn update_profile(
    conn: &Connection,
    id: CustomerId,
    input: &ProfileInput,
    now: Timestamp,
) -> AppResult<CustomerDetail> {
    let fields = ProfileFields {
        phone: input.phone.as_deref().map(validate_phone).transpose()?,
        favorite_genre: input
            .favorite_genre
            .as_deref()
            .map(|g| validation::one_of("favorite_genre", g, &GENRES).map(str::to_string))
            .transpose()?,
        preferred_seat_class: input
            .preferred_seat_class
            .as_deref()
            .map(|c| {
                validation::one_of("preferred_seat_class", c, &SEAT_CLASSES).map(str::to_string)
            })
            .transpose()?,
        marketing_opt_in: input.marketing_opt_in,
    };
    if !customer_repo::update_profile(conn, id, &fields, &now.to_string())? {
        return Err(AppError::not_found(
            "customer_not_found",
            format!("no customer with id {id}"),
        ));
    }
    get_customer(conn, id)
}

/// Loyalty tier and age of a customer, for fare discounts.
pub fn pricing_profile(
    conn: &Connection,
    id: CustomerId,
    now: Timestamp,
) -> AppResult<PricingProfile> {
    let customer = load(conn, id)?;
    let age = customer
        .birth_date
        .as_deref()
        .and_then(Date::parse)
        .map(|birth| birth.years_until(now.date()));
    Ok(PricingProfile {
        tier: LoyaltyTier::for_points(customer.profile.loyalty_points),
        age,
    })
}

/// One point per whole currency unit spent.
pub fn points_for(total_cents: i64) -> i64 {
    total_cents.max(0) / 100
}

/// Credits the points a booking earns.
pub fn award_loyalty_points(conn: &Connection, id: CustomerId, total_cents: i64) -> AppResult<()> {
    customer_repo::add_loyalty_points(conn, id, points_for(total_cents))
}

/// Takes back the points of a cancelled booking.
pub fn revoke_loyalty_points(conn: &Connection, id: CustomerId, total_cents: i64) -> AppResult<()> {
    customer_repo::add_loyalty_points(conn, id, -points_for(total_cents))
}
