//! Cheap randomness and identifiers: request ids, W3C trace context, per-request coin flips, and
//! the sticky hash. Nothing here needs to be cryptographic; it needs to be fast and well spread.

use std::cell::Cell;
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(std::thread::current().id()));
}

/// SplitMix64's finalizer: spreads the bits of any 64-bit value.
pub(crate) fn mix64(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// A fresh pseudo-random 64-bit value from a per-thread SplitMix64 sequence.
pub(crate) fn random_u64() -> u64 {
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(next);
        mix64(next)
    })
}

/// FNV-1a over the bytes, then mixed: a stable hash (the same on every machine and release),
/// so a user's bucket does not move when the proxy restarts or is upgraded.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(hash)
}

/// Writes `value` as 16 lower-case hex digits into `out` (which must hold exactly 16 bytes).
fn write_hex(out: &mut [u8], value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (index, byte) in out.iter_mut().enumerate() {
        *byte = HEX[((value >> ((15 - index) * 4)) & 0xf) as usize];
    }
}

/// 32 lower-case hex digits (128 random bits), usable both as a request id and a trace id.
/// Built on the stack: the request path makes one per request.
pub(crate) fn trace_id_bytes() -> [u8; 32] {
    let mut id = [0; 32];
    write_hex(&mut id[..16], random_u64());
    write_hex(&mut id[16..], random_u64() | 1);
    id
}

/// [`trace_id_bytes`] as a `String`.
#[cfg(test)]
pub(crate) fn new_trace_id() -> String {
    trace_id_bytes().iter().map(|b| char::from(*b)).collect()
}

/// A `traceparent` for a request that came without one: version 00, sampled, with a fresh
/// parent id.
pub(crate) fn traceparent_bytes(trace_id: &[u8; 32]) -> [u8; 55] {
    let mut value = [0; 55];
    value[..3].copy_from_slice(b"00-");
    value[3..35].copy_from_slice(trace_id);
    value[35] = b'-';
    write_hex(&mut value[36..52], random_u64() | 1);
    value[52..].copy_from_slice(b"-01");
    value
}

/// [`traceparent_bytes`] as a `String`, for a trace id given as text (32 hex digits).
#[cfg(test)]
pub(crate) fn new_traceparent(trace_id: &str) -> String {
    let mut id = [b'0'; 32];
    id.copy_from_slice(&trace_id.as_bytes()[..32]);
    traceparent_bytes(&id)
        .iter()
        .map(|b| char::from(*b))
        .collect()
}

/// Is this a well-formed W3C `traceparent` (version 00 layout, non-zero ids)?
pub(crate) fn is_valid_traceparent(value: &[u8]) -> bool {
    if value.len() < 55 || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
        return false;
    }
    if value.len() > 55 && value[55] != b'-' {
        return false;
    }
    let hex = |range: std::ops::Range<usize>| {
        value[range.clone()]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            && value[range].iter().any(|b| *b != b'0')
    };
    &value[0..2] != b"ff"
        && value[0..2].iter().all(|b| b.is_ascii_hexdigit())
        && hex(3..35)
        && hex(36..52)
        && value[53..55].iter().all(|b| b.is_ascii_hexdigit())
}

/// Is a client's `X-Request-Id` acceptable to pass on (short, visible ASCII)?
pub(crate) fn is_acceptable_request_id(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= 128 && value.iter().all(|b| b.is_ascii_graphic())
}

/// Now as RFC 3339 UTC with milliseconds, e.g. `2026-11-22T07:20:44.123Z`.
pub(crate) fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn generated_trace_context_is_valid() {
        let trace = new_trace_id();
        assert_eq!(trace.len(), 32);
        assert!(is_valid_traceparent(new_traceparent(&trace).as_bytes()));
        assert!(!is_valid_traceparent(
            b"00-00000000000000000000000000000000-0000000000000001-01"
        ));
        assert!(!is_valid_traceparent(b"garbage"));
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash(b"user-1"), stable_hash(b"user-1"));
        assert_ne!(stable_hash(b"user-1"), stable_hash(b"user-2"));
    }
}
