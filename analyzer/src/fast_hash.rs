//! The hash maps and sets of the analyzer's internal indexes.
//!
//! Why: the extraction pass and name resolution hash short names (locals, segments, module
//! keys) millions of times on a large tree, and the standard library's SipHash cost more than
//! the lookups it served. These maps only hold names from the analyzed tree and never decide
//! output order (every result is sorted), so a non-cryptographic hash is enough: a tree built
//! to collide can only make the analysis slower, never wrong. We use rust-lang's `rustc-hash`
//! (the Fx hash of the compiler) rather than a hasher of our own.

/// A `HashMap` with the Fx hasher.
pub(crate) type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;
/// A `HashSet` with the Fx hasher.
pub(crate) type FastSet<T> = rustc_hash::FxHashSet<T>;
