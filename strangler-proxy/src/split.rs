//! The traffic split: which side of a route (primary or candidate) serves a request.
//!
//! A route's weight `w` (0-100) sends the request to the candidate iff its bucket, a number in
//! `[0, 10000)`, is below `w * 100`. With a sticky key the bucket is a stable hash of the key, so
//! a user keeps their side at a given weight, and raising the weight only grows the candidate's
//! range: users move from primary to candidate, never back. Without a key (or when the request
//! lacks it) the bucket is drawn per request.

use http::header::COOKIE;

use crate::config::StickyKey;
use crate::ids::{random_u64, stable_hash};
use crate::message::FieldList;

/// Number of buckets: weights have a resolution of 1/10000 internally.
pub const BUCKETS: u64 = 10_000;

/// Which upstream of a route serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// The incumbent (usually the monolith).
    Primary,
    /// The new service.
    Candidate,
}

impl Side {
    /// `primary` or `candidate`, as used in logs, metrics and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Primary => "primary",
            Side::Candidate => "candidate",
        }
    }
}

/// The bucket of a sticky key value.
pub fn bucket_of(key: &[u8]) -> u64 {
    stable_hash(key) % BUCKETS
}

/// The side for a bucket at a weight.
pub fn side_for_bucket(bucket: u64, weight: u8) -> Side {
    if bucket < u64::from(weight.min(100)) * (BUCKETS / 100) {
        Side::Candidate
    } else {
        Side::Primary
    }
}

/// Chooses the side of one request.
pub(crate) fn choose_side(weight: u8, sticky: Option<&StickyKey>, fields: &FieldList) -> Side {
    match weight {
        0 => return Side::Primary,
        100.. => return Side::Candidate,
        _ => {}
    }
    let bucket = sticky
        .and_then(|key| sticky_value(key, fields))
        .map(bucket_of)
        .unwrap_or_else(|| random_u64() % BUCKETS);
    side_for_bucket(bucket, weight)
}

/// The value of a sticky (or rate-limit) key in a request, if present and non-empty.
pub(crate) fn sticky_value<'h>(key: &StickyKey, fields: &'h FieldList) -> Option<&'h [u8]> {
    match key {
        StickyKey::Header(name) => fields.get(name.as_str()).filter(|value| !value.is_empty()),
        StickyKey::Cookie(name) => fields
            .get_all(COOKIE.as_str())
            .find_map(|value| cookie_value(value, name.as_bytes())),
    }
}

fn cookie_value<'h>(header: &'h [u8], name: &[u8]) -> Option<&'h [u8]> {
    header.split(|b| *b == b';').find_map(|pair| {
        let pair = pair.trim_ascii();
        let at = pair.iter().position(|b| *b == b'=')?;
        let (key, value) = (&pair[..at], &pair[at + 1..]);
        (key.trim_ascii() == name && !value.is_empty()).then_some(value.trim_ascii())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_the_weight_never_moves_a_bucket_back() {
        for bucket in 0..BUCKETS {
            let mut seen_candidate = false;
            for weight in 0..=100 {
                let side = side_for_bucket(bucket, weight);
                assert!(
                    !(seen_candidate && side == Side::Primary),
                    "bucket {bucket} at {weight}"
                );
                seen_candidate |= side == Side::Candidate;
            }
            assert!(seen_candidate);
        }
    }

    #[test]
    fn cookies_are_found_among_others() {
        assert_eq!(
            cookie_value(b"a=1; session=xyz; b=2", b"session"),
            Some(&b"xyz"[..])
        );
        assert_eq!(cookie_value(b"sessionx=1", b"session"), None);
        assert_eq!(cookie_value(b"session=", b"session"), None);
    }
}
