//! Scores an analysis against a ground truth written by hand (a `contexts.json` in the shape of
//! the analysis contract): how close is the proposal to what an architect drew?
//!
//! Used by the tests that hold the analyzer to its sample monoliths, and by `strangler analyze
//! --truth FILE`, so that a student can compare a proposal with the expected answer.
//!
//! - **ARI**, the adjusted Rand index over files (Hubert and Arabie, 1985): 1 for the same
//!   grouping, about 0 for a random one. The shared kernel counts as one more group.
//! - **table owners** and **route contexts**: the share of tables (routes) whose proposed context
//!   corresponds to the true one, contexts being matched by the majority of their files (names
//!   may differ).
//! - **moves**: how many of the true `FILE::fn` placements the proposal also makes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::analysis::Analysis;

/// A ground truth: the contract's context, shared and table fields, nothing else required.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroundTruth {
    /// True contexts.
    #[serde(default)]
    pub contexts: Vec<TrueContext>,
    /// Files of the shared kernel.
    #[serde(default)]
    pub shared: Vec<String>,
    /// Tables and their owners.
    #[serde(default)]
    pub tables: Vec<TrueTable>,
}

/// One true context.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrueContext {
    /// Name.
    pub name: String,
    /// Files and `FILE::fn` entries.
    #[serde(default)]
    pub modules: Vec<String>,
    /// Routes, `METHOD /path`.
    #[serde(default)]
    pub routes: Vec<String>,
}

/// One true table.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrueTable {
    /// Table name.
    pub name: String,
    /// Owning context.
    #[serde(default)]
    pub owner: Option<String>,
}

/// How close a proposal is to the truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Adjusted Rand index over files.
    pub ari: f64,
    /// Files of the truth.
    pub files: usize,
    /// Files of the truth the analysis does not place at all.
    pub files_missing: usize,
    /// Share of tables whose owner matches.
    pub table_owners: f64,
    /// Share of true routes the analysis found.
    pub route_recall: f64,
    /// Share of true routes placed in the matching context.
    pub route_contexts: f64,
    /// True moves also proposed, out of all true moves.
    pub moves_found: (usize, usize),
    /// Tables whose owner does not match: (table, expected, proposed).
    pub wrong_owners: Vec<(String, String, String)>,
    /// Files in a different group than expected: (file, expected, proposed).
    pub misplaced_files: Vec<(String, String, String)>,
}

const SHARED: &str = "(shared)";

fn normalize_path(path: &str) -> String {
    path.trim().trim_start_matches("./").to_string()
}

/// `GET /api/movies/{}`: method upper case, parameters of any syntax as `{}`, no trailing `/`.
pub fn normalize_route(route: &str) -> String {
    let (method, path) = route.trim().split_once(' ').unwrap_or(("", route));
    let segments: Vec<String> = path
        .trim()
        .split('/')
        .map(|segment| {
            let is_param = (segment.starts_with('{') && segment.ends_with('}'))
                || segment.starts_with(':')
                || (segment.starts_with('<') && segment.ends_with('>'));
            if is_param {
                "{}".to_string()
            } else {
                segment.to_string()
            }
        })
        .collect();
    let path = segments.join("/");
    let path = path.trim_end_matches('/');
    format!(
        "{} {}",
        method.to_ascii_uppercase(),
        if path.is_empty() { "/" } else { path }
    )
}

/// Scores `analysis` against `truth`.
pub fn score(truth: &GroundTruth, analysis: &Analysis) -> Score {
    let mut true_files: BTreeMap<String, String> = BTreeMap::new();
    let mut true_moves: BTreeMap<String, String> = BTreeMap::new();
    let mut true_routes: BTreeMap<String, String> = BTreeMap::new();
    for context in &truth.contexts {
        for module in &context.modules {
            let target = if module.contains("::") {
                &mut true_moves
            } else {
                &mut true_files
            };
            target.insert(normalize_path(module), context.name.clone());
        }
        for route in &context.routes {
            true_routes.insert(normalize_route(route), context.name.clone());
        }
    }
    for file in &truth.shared {
        true_files.insert(normalize_path(file), SHARED.into());
    }

    let mut got_files: BTreeMap<String, String> = BTreeMap::new();
    let mut got_moves: BTreeMap<String, String> = BTreeMap::new();
    let mut got_routes: BTreeMap<String, String> = BTreeMap::new();
    let mut got_owner: BTreeMap<String, String> = BTreeMap::new();
    for context in &analysis.contexts {
        for module in &context.modules {
            let target = if module.contains("::") {
                &mut got_moves
            } else {
                &mut got_files
            };
            target.insert(normalize_path(module), context.name.clone());
        }
        for route in &context.routes {
            got_routes.insert(normalize_route(route), context.name.clone());
        }
    }
    for file in &analysis.shared {
        got_files.insert(normalize_path(file), SHARED.into());
    }
    for table in &analysis.tables {
        if let Some(owner) = &table.owner {
            got_owner.insert(table.name.to_ascii_lowercase(), owner.clone());
        }
    }

    // Proposed context -> true context, by majority of files.
    let mut votes: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for (file, truth_context) in &true_files {
        if let Some(got) = got_files.get(file) {
            *votes
                .entry(got.as_str())
                .or_default()
                .entry(truth_context.as_str())
                .or_default() += 1;
        }
    }
    let mapping: BTreeMap<&str, &str> = votes
        .iter()
        .filter_map(|(got, counts)| {
            counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(truth, _)| (*got, *truth))
        })
        .collect();
    let mapped = |got: &str| mapping.get(got).copied().unwrap_or(got).to_string();

    let labels_truth: Vec<&str> = true_files.values().map(String::as_str).collect();
    let labels_got: Vec<String> = true_files
        .keys()
        .map(|file| {
            got_files
                .get(file)
                .cloned()
                .unwrap_or_else(|| format!("(missing) {file}"))
        })
        .collect();
    let ari = adjusted_rand_index(&labels_truth, &labels_got);

    let mut wrong_owners = Vec::new();
    let mut owners_right = 0;
    let owned: Vec<&TrueTable> = truth.tables.iter().filter(|t| t.owner.is_some()).collect();
    for table in &owned {
        let expected = table.owner.clone().unwrap_or_default();
        let proposed = got_owner
            .get(&table.name.to_ascii_lowercase())
            .map(|o| mapped(o))
            .unwrap_or_else(|| "(none)".into());
        if proposed == expected {
            owners_right += 1;
        } else {
            wrong_owners.push((table.name.clone(), expected, proposed));
        }
    }
    let found_routes = true_routes
        .keys()
        .filter(|r| got_routes.contains_key(*r))
        .count();
    let right_routes = true_routes
        .iter()
        .filter(|(r, c)| got_routes.get(*r).is_some_and(|g| mapped(g) == **c))
        .count();
    let moves_right = true_moves
        .iter()
        .filter(|(f, c)| got_moves.get(*f).is_some_and(|g| mapped(g) == **c))
        .count();
    let misplaced_files = true_files
        .iter()
        .filter_map(|(file, expected)| {
            let got = got_files
                .get(file)
                .map(|g| if g == SHARED { g.clone() } else { mapped(g) })
                .unwrap_or_else(|| "(missing)".into());
            (got != *expected).then(|| (file.clone(), expected.clone(), got))
        })
        .collect();
    let share = |right: usize, all: usize| {
        if all == 0 {
            1.0
        } else {
            right as f64 / all as f64
        }
    };
    Score {
        ari,
        files: true_files.len(),
        files_missing: true_files
            .keys()
            .filter(|f| !got_files.contains_key(*f))
            .count(),
        table_owners: share(owners_right, owned.len()),
        route_recall: share(found_routes, true_routes.len()),
        route_contexts: share(right_routes, true_routes.len()),
        moves_found: (moves_right, true_moves.len()),
        wrong_owners,
        misplaced_files,
    }
}

/// Adjusted Rand index of two labelings of the same items.
pub fn adjusted_rand_index<A: Ord, B: Ord>(a: &[A], b: &[B]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 1.0;
    }
    let pairs = |count: usize| (count * count.saturating_sub(1)) as f64 / 2.0;
    let mut joint: BTreeMap<(&A, &B), usize> = BTreeMap::new();
    let mut rows: BTreeMap<&A, usize> = BTreeMap::new();
    let mut cols: BTreeMap<&B, usize> = BTreeMap::new();
    for i in 0..n {
        *joint.entry((&a[i], &b[i])).or_default() += 1;
        *rows.entry(&a[i]).or_default() += 1;
        *cols.entry(&b[i]).or_default() += 1;
    }
    let index: f64 = joint.values().map(|&c| pairs(c)).sum();
    let sum_rows: f64 = rows.values().map(|&c| pairs(c)).sum();
    let sum_cols: f64 = cols.values().map(|&c| pairs(c)).sum();
    let expected = sum_rows * sum_cols / pairs(n);
    let max = (sum_rows + sum_cols) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        1.0
    } else {
        (index - expected) / (max - expected)
    }
}

/// Contexts named in the truth, for messages.
pub fn truth_context_names(truth: &GroundTruth) -> BTreeSet<String> {
    truth.contexts.iter().map(|c| c.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_of_identical_and_relabelled_partitions_is_one() {
        assert_eq!(
            adjusted_rand_index(&[1, 1, 2, 2], &["a", "a", "b", "b"]),
            1.0
        );
    }

    #[test]
    fn ari_of_a_bad_partition_is_low() {
        let truth = [1, 1, 1, 2, 2, 2];
        let got = [1, 2, 1, 2, 1, 2];
        assert!(adjusted_rand_index(&truth, &got) < 0.1);
    }

    #[test]
    fn routes_normalise_parameter_syntax() {
        assert_eq!(normalize_route("get /a/:id/"), "GET /a/{}");
        assert_eq!(normalize_route("GET /a/{id}"), "GET /a/{}");
        assert_eq!(normalize_route("GET /a/<id>"), "GET /a/{}");
        assert_eq!(normalize_route("GET /"), "GET /");
    }
}
