//! The proposal held to hand-written ground truths: the sample monolith and fixture monoliths of
//! other styles (each `contexts.json` was written from design intent, not from the tool's output).

use std::path::{Path, PathBuf};

use analyzer::score::{GroundTruth, Score, score};
use analyzer::{AnalyzeOptions, analyze};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer sits in the workspace")
        .to_path_buf()
}

fn score_tree(root: &Path) -> Score {
    let truth: GroundTruth = serde_json::from_str(
        &std::fs::read_to_string(root.join("contexts.json")).expect("contexts.json"),
    )
    .expect("ground truth parses");
    let analysis = analyze(root, "tree", &AnalyzeOptions::default()).expect("analysis runs");
    score(&truth, &analysis)
}

fn assert_scores(root: &Path, min_ari: f64) {
    let score = score_tree(root);
    let report = format!("{}: {score:#?}", root.display());
    assert!(score.ari >= min_ari, "ARI below {min_ari}: {report}");
    assert_eq!(score.files_missing, 0, "{report}");
    assert_eq!(score.route_recall, 1.0, "every route found: {report}");
    assert!(
        score.route_contexts >= 0.9,
        "routes in their context: {report}"
    );
    assert!(score.table_owners >= 0.9, "table owners: {report}");
}

/// Moves the analysis proposes that the ground truth does not make: each one is a function a
/// team would be told to move for no reason.
fn extra_moves(root: &Path) -> Vec<String> {
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("contexts.json")).unwrap())
            .unwrap();
    let true_moves: Vec<&str> = truth["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["modules"].as_array().unwrap())
        .filter_map(|m| m.as_str())
        .filter(|m| m.contains("::"))
        .collect();
    let analysis = analyze(root, "tree", &AnalyzeOptions::default()).unwrap();
    analysis
        .moves
        .iter()
        .map(|m| m.function.clone())
        .filter(|f| !true_moves.contains(&f.as_str()))
        .collect()
}

#[test]
fn sample_monolith_matches_its_ground_truth() {
    let root = workspace_root().join("sample-monolith");
    let score = score_tree(&root);
    let report = format!("{score:#?}");
    assert!(score.ari >= 0.9, "{report}");
    assert_eq!(score.table_owners, 1.0, "every table owner right: {report}");
    assert_eq!(
        score.route_contexts, 1.0,
        "every route in its context: {report}"
    );
    assert_scores(&root, 0.9);
}

#[test]
fn fixture_monoliths_of_other_styles_score_well() {
    let dir = workspace_root().join("analyzer/tests/fixtures/monoliths");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        panic!("no fixture monoliths under {}", dir.display());
    };
    let mut roots: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("contexts.json").exists())
        .collect();
    roots.sort();
    assert!(
        roots.len() >= 2,
        "at least two fixture monoliths: {roots:?}"
    );
    for root in roots {
        assert_scores(&root, 0.8);
        assert_eq!(
            extra_moves(&root),
            Vec::<String>::new(),
            "{}",
            root.display()
        );
    }
}

#[test]
fn two_runs_give_identical_json() {
    let root = workspace_root().join("sample-monolith");
    let run = || {
        serde_json::to_string_pretty(
            &analyze(&root, "sample-monolith", &AnalyzeOptions::default()).unwrap(),
        )
        .unwrap()
    };
    assert_eq!(run(), run());
}
