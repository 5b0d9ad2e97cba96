//! What the generator gives for the reviews context, pinned: the file list and the files a
//! reader would check first. `cargo insta review` after an intended change.

use crate::generate;

fn file<'a>(service: &'a scaffold::GeneratedService, path: &str) -> &'a str {
    service
        .files
        .get(std::path::Path::new(path))
        .unwrap_or_else(|| panic!("{path} is generated"))
}

#[test]
fn reviews_file_list() {
    let service = generate("reviews").expect("reviews scaffolds");
    let list: Vec<String> = service
        .files
        .keys()
        .map(|path| path.display().to_string())
        .collect();
    insta::assert_snapshot!(list.join("\n"));
}

#[test]
fn reviews_selected_files() {
    let service = generate("reviews").expect("reviews scaffolds");
    for path in [
        "Cargo.toml",
        "src/lib.rs",
        "src/routes.rs",
        "src/repo/reviews.rs",
        "src/copy.rs",
        "migrations/0001_schema.sql",
        "migrations/0002_seed.sql",
        "strangler.route.toml",
        "k8s/deployment.yaml",
        "README.md",
    ] {
        insta::assert_snapshot!(path.replace(['/', '.'], "_"), file(&service, path));
    }
}

#[test]
fn reviews_summary_names_bridges_and_stubs_with_their_lines() {
    let service = generate("reviews").expect("reviews scaffolds");
    let summary = &service.summary;
    let bridged: Vec<(&str, &str)> = summary
        .bridged
        .iter()
        .map(|e| (e.what.as_str(), e.at.as_str()))
        .collect();
    assert_eq!(
        bridged,
        [
            (
                "src/repo/reviews.rs::customer_exists",
                "src/repo/reviews.rs:87"
            ),
            (
                "src/repo/reviews.rs::movie_exists",
                "src/repo/reviews.rs:78"
            ),
            (
                "src/repo/reviews.rs::read_movie_rating",
                "src/repo/reviews.rs:199"
            ),
        ]
    );
    let stubbed: Vec<&str> = summary.stubbed.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(stubbed, ["src/repo/reviews.rs::refresh_movie_rating"]);
    assert_eq!(summary.tables, ["reviews"]);
    assert_eq!(summary.routes.len(), 4);
    let repo = file(&service, "src/repo/reviews.rs");
    assert!(
        repo.contains("// TODO(strangler): was SQL on table `movies` (owned by movies) at src/repo/reviews.rs:189"),
        "{repo}"
    );
    // The struct a bridge reads from JSON gained Deserialize.
    assert!(
        repo.contains("#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]"),
        "{repo}"
    );
}

#[test]
fn the_same_input_gives_the_same_files() {
    let first = generate("bookings").expect("bookings scaffolds");
    let second = generate("bookings").expect("bookings scaffolds");
    assert_eq!(first, second);
}

#[test]
fn an_unknown_context_is_refused_with_the_known_names() {
    let error = generate("payments").expect_err("no such context");
    let message = error.to_string();
    assert!(message.contains("payments"), "{message}");
    for known in ["movies", "customers", "reviews", "bookings", "fares"] {
        assert!(message.contains(known), "{message}");
    }
}

#[test]
fn an_invalid_package_name_is_refused() {
    let (model, analysis) = crate::sample();
    let error = scaffold::generate(
        model,
        analysis,
        "reviews",
        &scaffold::ScaffoldOptions {
            source_root: crate::workspace().join("sample-monolith"),
            name: Some("../evil".to_string()),
            port: 4000,
        },
    )
    .expect_err("refused");
    assert!(
        matches!(error, scaffold::ScaffoldError::InvalidName(_)),
        "{error}"
    );
}

#[test]
fn bookings_calls_into_other_contexts_become_stubs_naming_the_call_sites() {
    let service = generate("bookings").expect("bookings scaffolds");
    let fares = file(&service, "src/services/fares.rs");
    assert!(
        fares.contains("// TODO(strangler): was a call to crate::services::fares::price_order (the fares context, src/services/fares.rs:234) at src/services/bookings.rs:62"),
        "{fares}"
    );
    // Only what bookings names comes along from fares: no fare rules table code.
    assert!(!fares.contains("fn fare_table"), "{fares}");
    let schema = file(&service, "migrations/0001_schema.sql");
    assert!(schema.contains("CREATE TABLE bookings"), "{schema}");
    assert!(!schema.contains("CREATE TABLE customers"), "{schema}");
    assert!(!schema.contains("REFERENCES customers"), "{schema}");
    assert!(schema.contains("REFERENCES bookings"), "{schema}");
}
