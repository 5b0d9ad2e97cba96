//! Bad input never panics: each problem is a diagnostic and the rest of the tree is analyzed.

use std::fs;
use std::path::Path;

use analyzer::{AnalyzeError, ModelOptions};

/// A one-crate tree with a good module beside whatever the test adds.
fn tree_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all: Vec<(&str, &[u8])> = vec![
        (
            "Cargo.toml",
            b"[package]\nname = \"bad\"\nversion = \"0.1.0\"\n\n[dependencies]\nrusqlite = \"0.31\"\n",
        ),
        (
            "src/good.rs",
            b"pub fn count(c: &rusqlite::Connection) { c.execute(\"DELETE FROM holds\", []); }\n",
        ),
    ];
    all.extend_from_slice(files);
    for (path, bytes) in all {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, bytes).expect("write");
    }
    dir
}

fn build(root: &Path) -> analyzer::CodeModel {
    analyzer::build_model(root, &ModelOptions::default()).expect("a model")
}

fn assert_good_module_analyzed(model: &analyzer::CodeModel) {
    let writes: Vec<&str> = model
        .items
        .values()
        .flat_map(|item| &item.sql)
        .map(|access| access.table.as_str())
        .collect();
    assert_eq!(writes, ["holds"], "the good module is still analyzed");
}

fn diagnostic_for<'a>(model: &'a analyzer::CodeModel, file: &str) -> &'a str {
    model
        .diagnostics
        .iter()
        .find(|d| d.file == file)
        .map(|d| d.message.as_str())
        .unwrap_or_else(|| panic!("no diagnostic for {file}: {:#?}", model.diagnostics))
}

#[test]
fn invalid_utf8_is_a_diagnostic() {
    let dir = tree_with(&[
        ("src/lib.rs", b"mod good;\nmod latin1;\n"),
        ("src/latin1.rs", b"// caf\xe9\nfn f() {}\n"),
    ]);
    let model = build(dir.path());
    assert!(diagnostic_for(&model, "src/latin1.rs").contains("UTF-8"));
    assert_good_module_analyzed(&model);
}

#[test]
fn a_file_syn_cannot_parse_is_a_diagnostic_with_its_line() {
    let dir = tree_with(&[
        ("src/lib.rs", b"mod good;\nmod broken;\n"),
        ("src/broken.rs", b"fn ok() {}\n\nfn broken( {\n"),
    ]);
    let model = build(dir.path());
    let diagnostic = model
        .diagnostics
        .iter()
        .find(|d| d.file == "src/broken.rs")
        .expect("diagnostic");
    assert!(diagnostic.message.contains("syntax"), "{diagnostic:?}");
    assert!(diagnostic.line.is_some());
    assert!(!model.files["src/broken.rs"].parsed);
    assert_good_module_analyzed(&model);
}

#[test]
fn test_modules_are_stepped_over_so_a_syntax_error_in_one_costs_nothing() {
    // A unit-test module is never part of the model; its body is not parsed at all, so code
    // there that syn would reject (say, newer syntax) does not cost the file its facts.
    let dir = tree_with(&[
        (
            "src/lib.rs",
            b"mod good;
mod tested;
",
        ),
        (
            "src/tested.rs",
            b"pub fn clear(c: &rusqlite::Connection) { c.execute(\"DELETE FROM seats\", []); }\n\n\
              #[cfg(test)]\npub(crate) mod tests {\n    fn t() { let = ; }\n}\n\n\
              pub fn after() { clear_all(); }\n\n\
              #[cfg(not(test))]\nmod live {\n    pub fn kept() {}\n}\n",
        ),
    ]);
    let model = build(dir.path());
    assert!(
        model.files["src/tested.rs"].parsed,
        "{:#?}",
        model.diagnostics
    );
    assert!(
        model.diagnostics.iter().all(|d| d.file != "src/tested.rs"),
        "{:#?}",
        model.diagnostics
    );
    let mut names: Vec<&str> = model
        .items
        .values()
        .filter(|item| item.file == "src/tested.rs")
        .map(|item| item.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["after", "clear", "kept"]);
}

#[test]
fn deep_nesting_is_refused_or_parsed_but_never_overflows_the_stack() {
    let brackets = format!(
        "fn f() {{ let x = {}1{}; }}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let chain = format!("fn g() {{ let y = x{}; }}\n", ".m()".repeat(20_000));
    let sums = format!("fn h() {{ let z = 1{}; }}\n", " + 1".repeat(50_000));
    let dir = tree_with(&[
        (
            "src/lib.rs",
            b"mod good;\nmod brackets;\nmod chain;\nmod sums;\n",
        ),
        ("src/brackets.rs", brackets.as_bytes()),
        ("src/chain.rs", chain.as_bytes()),
        ("src/sums.rs", sums.as_bytes()),
    ]);
    let model = build(dir.path());
    assert!(diagnostic_for(&model, "src/brackets.rs").contains("nest"));
    assert!(model.files["src/chain.rs"].parsed);
    assert!(model.files["src/sums.rs"].parsed);
    assert_good_module_analyzed(&model);
}

#[test]
fn an_oversized_file_is_skipped_with_a_diagnostic() {
    let big = "// padding\n".repeat(10_000);
    let dir = tree_with(&[
        ("src/lib.rs", b"mod good;\nmod generated;\n"),
        ("src/generated.rs", big.as_bytes()),
    ]);
    let options = ModelOptions {
        max_file_bytes: 50_000,
        ..ModelOptions::default()
    };
    let model = analyzer::build_model(dir.path(), &options).expect("a model");
    assert!(diagnostic_for(&model, "src/generated.rs").contains("over the limit"));
    assert_good_module_analyzed(&model);
}

#[test]
fn sql_the_parser_rejects_is_a_diagnostic_and_still_scanned() {
    let dir = tree_with(&[
        ("src/lib.rs", b"mod good;\n"),
        (
            "migrations/001.sql",
            b"CREATE TABLE holds (id INTEGER);\nPRAGMA foreign_keys = off;\nCREATE TABLE odd (id INT) ENGINE FANCY ((;\n",
        ),
    ]);
    let model = build(dir.path());
    assert!(diagnostic_for(&model, "migrations/001.sql").contains("not parsed"));
    assert!(model.tables.contains_key("holds"));
    assert!(
        model.tables.contains_key("odd"),
        "the scan recovers the table name"
    );
    assert_good_module_analyzed(&model);
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_does_not_hang_or_fail() {
    let dir = tree_with(&[("src/lib.rs", b"mod good;\n")]);
    std::os::unix::fs::symlink(dir.path(), dir.path().join("src/loop")).expect("symlink");
    std::os::unix::fs::symlink("missing-target", dir.path().join("src/dangling.rs"))
        .expect("symlink");
    let model = build(dir.path());
    assert_good_module_analyzed(&model);
}

#[test]
fn an_empty_directory_gives_an_empty_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = build(dir.path());
    assert!(model.files.is_empty() && model.items.is_empty() && model.routes.is_empty());
    assert!(model.diagnostics.is_empty());
}

#[test]
fn a_missing_root_is_the_only_error() {
    let error = analyzer::build_model(Path::new("/nonexistent/monolith"), &ModelOptions::default())
        .expect_err("no such root");
    assert!(matches!(error, AnalyzeError::Root { .. }));
    assert!(error.to_string().contains("/nonexistent/monolith"));
}

#[test]
fn loose_files_without_a_manifest_are_still_analyzed() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(dir.path().join("src/repo")).expect("mkdir");
    fs::write(
        dir.path().join("src/repo/holds.rs"),
        "pub fn clear(c: &Conn) { c.execute(\"DELETE FROM holds\"); }\n",
    )
    .expect("write");
    let model = build(dir.path());
    let file = &model.files["src/repo/holds.rs"];
    assert_eq!(file.module_path, "crate::repo::holds");
    assert!(!file.declared);
    assert_good_module_analyzed(&model);
}

#[test]
fn two_builds_serialize_to_identical_json() {
    let root = crate::summary::fixture("axum_layered");
    let first = serde_json::to_string(&build(&root)).expect("json");
    let second = serde_json::to_string(&build(&root)).expect("json");
    assert_eq!(first, second);
    let options = ModelOptions {
        threads: 1,
        ..ModelOptions::default()
    };
    let single = analyzer::build_model(&root, &options).expect("model");
    assert_eq!(serde_json::to_string(&single).expect("json"), first);
}

#[test]
fn glob_reexport_cycles_and_chains_resolve_quickly() {
    // Found on the crates.io sources: modules re-exporting each other's globs made the
    // resolver's search exponential. Now it is memoized and cuts cycles.
    let mut lib = String::from("pub mod hub;\n");
    let mut hub = String::new();
    for index in 0..40 {
        lib.push_str(&format!("pub mod m{index};\n"));
        hub.push_str(&format!("pub use crate::m{index}::*;\n"));
    }
    let dir = tree_with(&[
        ("src/lib.rs", lib.as_bytes()),
        ("src/hub.rs", hub.as_bytes()),
    ]);
    for index in 0..40 {
        let next = (index + 1) % 40;
        let text = format!(
            "pub use crate::hub::*;\npub use crate::m{next}::*;\npub fn f{index}() {{ missing(); Unknown::new(); f{next}(); }}\n"
        );
        fs::write(dir.path().join(format!("src/m{index}.rs")), text).expect("write");
    }
    let model = build(dir.path());
    let calls = &model.items["bad::m0::f0"].references;
    assert!(
        calls.iter().any(|r| r.target == "bad::m1::f1"),
        "f1 is found through the glob: {calls:?}"
    );
}

/// A `service` call through a struct field (tower's style, as in hyper-util's pool) is not
/// router wiring: no route, and no diagnostic about the "routes of" its argument.
#[test]
fn a_service_call_on_a_field_is_not_router_wiring() {
    let dir = tree_with(&[(
        "src/lib.rs",
        b"pub mod good;\npub struct Pool<T> { targeter: T }\n\
          impl<T: Fn(u8) -> u8> Pool<T> {\n\
              pub fn call(&self, req: u8) -> u8 { (self.targeter)(req); self.targeter.service(req) }\n\
          }\n",
    )]);
    let model = build(dir.path());
    assert!(model.routes.is_empty(), "{:?}", model.routes);
    assert!(
        model
            .diagnostics
            .iter()
            .all(|d| !d.message.contains("routes of")),
        "{:?}",
        model.diagnostics
    );
    assert_good_module_analyzed(&model);
}
