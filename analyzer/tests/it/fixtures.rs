//! Fixture trees of different styles, each pinned by a snapshot of its model summary and by
//! assertions on the rules that matter most to the coupling graph.

use crate::summary::{model_of, summary};

#[test]
fn axum_layered_summary() {
    let model = model_of("axum_layered");
    insta::assert_snapshot!(summary(&model));
}

#[test]
fn actix_features_summary() {
    let model = model_of("actix_features");
    insta::assert_snapshot!(summary(&model));
}

#[test]
fn workspace_summary() {
    let model = model_of("workspace");
    insta::assert_snapshot!(summary(&model));
}

#[test]
fn diesel_app_summary() {
    let model = model_of("diesel_app");
    insta::assert_snapshot!(summary(&model));
}

/// Test code declared in a file of its own (`#[cfg(test)] mod tests;`) stays out of the model
/// like inline test modules do, with the files it declares in turn; a file that ordinary code
/// also declares stays in.
#[test]
fn files_declared_only_by_test_code_are_left_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: [(&str, &str); 7] = [
        (
            "Cargo.toml",
            "[package]\nname = \"tested\"\nversion = \"0.1.0\"\n",
        ),
        (
            "src/lib.rs",
            "pub mod orders;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\n#[path = \"shared.rs\"]\nmod shared_in_tests;\npub mod shared;\n\
             #[cfg(test)]\nmod more {\n    mod deep;\n}\n",
        ),
        (
            "src/orders.rs",
            "pub fn place() { crate::shared::log(); }\n",
        ),
        ("src/shared.rs", "pub fn log() {}\n"),
        (
            "src/tests.rs",
            "mod helpers;\nfn checks_orders() { crate::orders::place(); helpers::setup(); }\n",
        ),
        (
            "src/tests/helpers.rs",
            "pub fn setup() { let _ = \"DELETE FROM orders\"; }\n",
        ),
        (
            "src/more/deep.rs",
            "fn deeper() { crate::orders::place(); }\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let model =
        analyzer::build_model(dir.path(), &analyzer::ModelOptions::default()).expect("a model");
    let files: Vec<&str> = model.files.keys().map(String::as_str).collect();
    assert_eq!(files, ["src/lib.rs", "src/orders.rs", "src/shared.rs"]);
    let mut items: Vec<&str> = model.items.keys().map(String::as_str).collect();
    items.sort_unstable();
    assert_eq!(items, ["tested::orders::place", "tested::shared::log"]);
    assert!(model.diagnostics.is_empty(), "{:#?}", model.diagnostics);
}
