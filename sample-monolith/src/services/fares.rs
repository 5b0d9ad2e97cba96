//! Fare calculation: a seat's price is the showtime's base price plus its seat-class surcharge,
//! adjusted by the fare rules that apply (time of day, weekday, demand); the order then gets
//! the best customer discount (senior or loyalty) and an optional discount code. Bookings call
//! [`price_order`], [`redeem_discount`] and [`refund_for_cancellation`] directly.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::common::errors::{AppError, AppResult, is_unique_violation};
use crate::common::ids::{BookingId, CustomerId, SeatId, ShowtimeId};
use crate::common::money;
use crate::common::time::Timestamp;
use crate::common::validation;
use crate::repo::fares::{self as fare_repo, DiscountRow, FareRuleRow};
use crate::repo::movies as movie_repo;
use crate::services::customers::{self, LoyaltyTier};
use crate::services::movies;

/// Age from which the senior discount applies.
pub const SENIOR_AGE: i64 = 65;
/// Senior discount in percent.
pub const SENIOR_PERCENT: i64 = 15;
/// Hours before the start from which a cancellation is refunded in full.
pub const FULL_REFUND_HOURS: i64 = 48;
/// Hours before the start after which a booking can no longer be cancelled.
pub const LAST_CANCEL_HOURS: i64 = 2;
/// Refund in percent between [`LAST_CANCEL_HOURS`] and [`FULL_REFUND_HOURS`].
pub const LATE_REFUND_PERCENT: i64 = 50;

/// A quote request as a client sends it (bookings send the same fields).
#[derive(Debug, Clone, Deserialize)]
pub struct QuoteInput {
    /// The showing.
    pub showtime_id: i64,
    /// Seat labels such as `C7`.
    pub seats: Vec<String>,
    /// The customer, for senior and loyalty discounts.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// A discount code.
    #[serde(default)]
    pub discount_code: Option<String>,
}

/// One fare rule applied to a seat.
#[derive(Debug, Clone, Serialize)]
pub struct Adjustment {
    /// Rule name.
    pub rule: String,
    /// Price change in percent.
    pub percent: i64,
}

/// The price of one seat.
#[derive(Debug, Clone, Serialize)]
pub struct SeatPrice {
    /// Seat id.
    pub seat_id: SeatId,
    /// Label such as `C7`.
    pub label: String,
    /// Seat class.
    pub seat_class: String,
    /// The showtime's base price.
    pub base_cents: i64,
    /// Seat-class surcharge.
    pub surcharge_cents: i64,
    /// Fare rules applied.
    pub adjustments: Vec<Adjustment>,
    /// Final seat price before order discounts.
    pub price_cents: i64,
}

/// One discount applied to the order.
#[derive(Debug, Clone, Serialize)]
pub struct DiscountLine {
    /// `senior`, `loyalty_silver`, `loyalty_gold` or the discount code.
    pub name: String,
    /// Reduction in percent.
    pub percent: i64,
    /// Reduction in cents.
    pub amount_cents: i64,
}

/// A priced order.
#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    /// The showing.
    pub showtime_id: ShowtimeId,
    /// Its movie.
    pub movie_title: String,
    /// When it starts.
    pub starts_at: String,
    /// Seats sold before this order, in percent of capacity.
    pub occupancy_percent: i64,
    /// Each seat's price.
    pub seats: Vec<SeatPrice>,
    /// Sum of seat prices.
    pub subtotal_cents: i64,
    /// Order discounts, in the order applied.
    pub discounts: Vec<DiscountLine>,
    /// What the customer pays.
    pub total_cents: i64,
    /// The total as people read it, e.g. `21.60`.
    pub total_display: String,
    /// The discount code used, normalized, when one was given.
    pub discount_code: Option<String>,
}

/// The fare rules and seat-class surcharges in force.
#[derive(Debug, Serialize)]
pub struct FareTable {
    /// Rules in force.
    pub rules: Vec<FareRuleRow>,
    /// Surcharge in cents by seat class.
    pub seat_class_surcharges: BTreeMap<String, i64>,
}

/// A refund for a cancellation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Refund {
    /// Share of the price refunded.
    pub percent: i64,
    /// Amount refunded.
    pub refund_cents: i64,
}

/// A discount code as an administrator sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct DiscountInput {
    /// 3-20 letters or digits; stored upper case.
    pub code: String,
    /// What it is for.
    pub description: String,
    /// 1-100.
    pub percent_off: i64,
    /// Redemptions allowed.
    #[serde(default)]
    pub max_uses: Option<i64>,
    /// Last moment it can be used.
    #[serde(default)]
    pub valid_until: Option<String>,
}

/// A discount code and whether it can be used now.
#[derive(Debug, Serialize)]
pub struct DiscountStatus {
    /// The code.
    #[serde(flatten)]
    pub discount: DiscountRow,
    /// True when neither expired nor used up.
    pub usable: bool,
}

/// Normalizes a code as typed by a customer.
pub fn normalize_code(code: &str) -> AppResult<String> {
    let code = code.trim().to_ascii_uppercase();
    if (3..=20).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err(AppError::validation(
            "discount_code",
            "expected 3-20 letters or digits",
        ))
    }
}

fn rule_applies(rule: &FareRuleRow, starts_at: Timestamp, occupancy_percent: i64) -> bool {
    match rule.kind.as_str() {
        "time_of_day" => match (rule.start_hour, rule.end_hour) {
            (Some(start), Some(end)) => (start..end).contains(&starts_at.hour()),
            _ => false,
        },
        "weekday" => rule.weekdays.as_deref().is_some_and(|days| {
            days.split(',')
                .filter_map(|day| day.trim().parse::<i64>().ok())
                .any(|day| day == starts_at.iso_weekday())
        }),
        "demand" => rule
            .min_occupancy_percent
            .is_some_and(|min| occupancy_percent >= min),
        _ => false,
    }
}

fn usable_discount(discount: &DiscountRow, now: Timestamp) -> AppResult<()> {
    let expired = discount
        .valid_until
        .as_deref()
        .and_then(Timestamp::parse)
        .is_some_and(|until| until < now);
    if expired {
        return Err(AppError::conflict(
            "discount_expired",
            format!("discount code {} has expired", discount.code),
        ));
    }
    if discount
        .max_uses
        .is_some_and(|max| discount.times_used >= max)
    {
        return Err(AppError::conflict(
            "discount_exhausted",
            format!("discount code {} has been used up", discount.code),
        ));
    }
    Ok(())
}

fn customer_discount(
    conn: &Connection,
    customer: CustomerId,
    now: Timestamp,
) -> AppResult<Option<(String, i64)>> {
    let profile = customers::pricing_profile(conn, customer, now)?;
    let loyalty = match profile.tier {
        LoyaltyTier::Gold => Some(("loyalty_gold".to_string(), 10)),
        LoyaltyTier::Silver => Some(("loyalty_silver".to_string(), 5)),
        LoyaltyTier::Basic => None,
    };
    let senior = profile
        .age
        .filter(|age| *age >= SENIOR_AGE)
        .map(|_| ("senior".to_string(), SENIOR_PERCENT));
    // Customer discounts do not stack: the better one wins.
    Ok([loyalty, senior]
        .into_iter()
        .flatten()
        .max_by_key(|(_, percent)| *percent))
}

/// Prices an order: validates the showtime, the seats, the customer and the code.
pub fn price_order(conn: &Connection, input: &QuoteInput, now: Timestamp) -> AppResult<Quote> {
    let discount_code = input
        .discount_code
        .as_deref()
        .map(normalize_code)
        .transpose()?;
    let showtime = movies::showtime_for_sale(conn, ShowtimeId(input.showtime_id), now)?;
    let seats = movies::resolve_seats(conn, showtime.screen_id, &input.seats)?;
    let starts_at = Timestamp::parse(&showtime.starts_at).ok_or_else(|| {
        AppError::Internal(format!("showtime {} has a corrupt start time", showtime.id))
    })?;
    let sold = fare_repo::seats_sold(conn, showtime.id)?;
    let occupancy_percent = if showtime.capacity > 0 {
        sold * 100 / showtime.capacity
    } else {
        100
    };
    let rules: Vec<FareRuleRow> = fare_repo::active_fare_rules(conn)?
        .into_iter()
        .filter(|rule| rule_applies(rule, starts_at, occupancy_percent))
        .collect();
    let surcharges: BTreeMap<String, i64> = movie_repo::seat_class_surcharges(conn)?
        .into_iter()
        .collect();
    let adjustments: Vec<Adjustment> = rules
        .iter()
        .map(|rule| Adjustment {
            rule: rule.name.clone(),
            percent: rule.percent_adjustment,
        })
        .collect();
    let total_percent: i64 = adjustments.iter().map(|a| a.percent).sum();
    let seat_prices: Vec<SeatPrice> = seats
        .into_iter()
        .map(|seat| {
            let surcharge_cents = surcharges.get(&seat.seat_class).copied().unwrap_or(0);
            let before = showtime.base_price_cents + surcharge_cents;
            SeatPrice {
                seat_id: seat.id,
                label: seat.label,
                seat_class: seat.seat_class,
                base_cents: showtime.base_price_cents,
                surcharge_cents,
                adjustments: adjustments.clone(),
                price_cents: money::adjust_by_percent(before, total_percent),
            }
        })
        .collect();
    let subtotal_cents: i64 = seat_prices.iter().map(|s| s.price_cents).sum();

    let mut discounts = Vec::new();
    let mut total_cents = subtotal_cents;
    if let Some(customer) = input.customer_id.map(CustomerId) {
        if let Some((name, percent)) = customer_discount(conn, customer, now)? {
            let amount_cents = money::percent_of(total_cents, percent);
            total_cents -= amount_cents;
            discounts.push(DiscountLine {
                name,
                percent,
                amount_cents,
            });
        }
    }
    if let Some(code) = &discount_code {
        let discount = fare_repo::find_discount(conn, code)?.ok_or_else(|| {
            AppError::not_found("discount_not_found", format!("no discount code {code}"))
        })?;
        usable_discount(&discount, now)?;
        let amount_cents = money::percent_of(total_cents, discount.percent_off);
        total_cents -= amount_cents;
        discounts.push(DiscountLine {
            name: discount.code,
            percent: discount.percent_off,
            amount_cents,
        });
    }
    Ok(Quote {
        showtime_id: showtime.id,
        movie_title: showtime.movie_title,
        starts_at: showtime.starts_at,
        occupancy_percent,
        seats: seat_prices,
        subtotal_cents,
        discounts,
        total_cents: total_cents.max(0),
        total_display: money::format_cents(total_cents.max(0)),
        discount_code,
    })
}

/// Counts one use of a discount code, refusing (409) when it is used up.
pub fn redeem_discount(conn: &Connection, code: &str) -> AppResult<()> {
    if fare_repo::redeem_discount(conn, code)? {
        Ok(())
    } else {
        Err(AppError::conflict(
            "discount_exhausted",
            format!("discount code {code} has been used up"),
        ))
    }
}

/// The refund a cancellation of this booking gets now: in full until
/// [`FULL_REFUND_HOURS`] before the start, half until [`LAST_CANCEL_HOURS`], then none (409).
pub fn refund_for_cancellation(
    conn: &Connection,
    booking: BookingId,
    now: Timestamp,
) -> AppResult<Refund> {
    let facts = fare_repo::booking_price_facts(conn, booking)?.ok_or_else(|| {
        AppError::not_found("booking_not_found", format!("no booking with id {booking}"))
    })?;
    let starts_at = Timestamp::parse(&facts.starts_at)
        .ok_or_else(|| AppError::Internal(format!("booking {booking} has a corrupt start time")))?;
    let hours_left = now.hours_until(starts_at);
    let percent = if hours_left >= FULL_REFUND_HOURS {
        100
    } else if hours_left >= LAST_CANCEL_HOURS {
        LATE_REFUND_PERCENT
    } else {
        return Err(AppError::conflict(
            "too_late_to_cancel",
            format!("bookings can be cancelled until {LAST_CANCEL_HOURS} hours before the showing"),
        ));
    };
    Ok(Refund {
        percent,
        refund_cents: money::percent_of(facts.total_cents, percent),
    })
}

/// The fare rules and surcharges in force.
pub fn fare_table(conn: &Connection) -> AppResult<FareTable> {
    Ok(FareTable {
        rules: fare_repo::active_fare_rules(conn)?,
        seat_class_surcharges: movie_repo::seat_class_surcharges(conn)?
            .into_iter()
            .collect(),
    })
}

/// Creates a discount code.
pub fn create_discount(
    conn: &Connection,
    input: &DiscountInput,
    now: Timestamp,
) -> AppResult<DiscountStatus> {
    let code = normalize_code(&input.code)?;
    let description = validation::required_text("description", &input.description, 200)?;
    let percent_off = validation::in_range("percent_off", input.percent_off, 1, 100)?;
    let max_uses = input
        .max_uses
        .map(|max| validation::in_range("max_uses", max, 1, 1_000_000))
        .transpose()?;
    let valid_until = match input.valid_until.as_deref() {
        None => None,
        Some(text) => {
            let until = Timestamp::parse(text).ok_or_else(|| {
                AppError::validation("valid_until", "expected YYYY-MM-DDTHH:MM[:SS][Z]")
            })?;
            if until <= now {
                return Err(AppError::validation("valid_until", "must be in the future"));
            }
            Some(until.to_string())
        }
    };
    let discount = DiscountRow {
        code,
        description,
        percent_off,
        max_uses,
        times_used: 0,
        valid_until,
    };
    fare_repo::insert_discount(conn, &discount).map_err(|err| match err {
        AppError::Database(db) if is_unique_violation(&db) => AppError::conflict(
            "discount_exists",
            format!("discount code {} already exists", discount.code),
        ),
        other => other,
    })?;
    get_discount(conn, &discount.code, now)
}

/// A discount code and whether it can be used now.
pub fn get_discount(conn: &Connection, code: &str, now: Timestamp) -> AppResult<DiscountStatus> {
    let code = normalize_code(code)?;
    let discount = fare_repo::find_discount(conn, &code)?.ok_or_else(|| {
        AppError::not_found("discount_not_found", format!("no discount code {code}"))
    })?;
    let usable = usable_discount(&discount, now).is_ok();
    Ok(DiscountStatus { discount, usable })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: &str) -> FareRuleRow {
        FareRuleRow {
            id: 1,
            name: "rule".into(),
            kind: kind.into(),
            start_hour: Some(0),
            end_hour: Some(17),
            weekdays: Some("6,7".into()),
            min_occupancy_percent: Some(80),
            percent_adjustment: -20,
        }
    }

    #[test]
    fn rules_match_hour_weekday_and_demand() {
        let saturday_afternoon = Timestamp::parse("2030-06-01T14:00").expect("valid");
        let monday_evening = Timestamp::parse("2030-06-03T19:00").expect("valid");
        assert!(rule_applies(&rule("time_of_day"), saturday_afternoon, 0));
        assert!(!rule_applies(&rule("time_of_day"), monday_evening, 0));
        assert!(rule_applies(&rule("weekday"), saturday_afternoon, 0));
        assert!(!rule_applies(&rule("weekday"), monday_evening, 0));
        assert!(rule_applies(&rule("demand"), monday_evening, 80));
        assert!(!rule_applies(&rule("demand"), monday_evening, 79));
        assert!(!rule_applies(&rule("unknown"), monday_evening, 100));
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_code(" student10 ").ok(), Some("STUDENT10".into()));
        assert!(normalize_code("x").is_err());
        assert!(normalize_code("TEN OFF").is_err());
    }
}
