//! The hand-written ground truth stays true to the code: every source file is listed exactly
//! once, and every route the router registers belongs to exactly one context.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(crate_dir()).expect("inside crate");
            out.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn truth() -> Value {
    let text = std::fs::read_to_string(crate_dir().join("contexts.json")).expect("contexts.json");
    serde_json::from_str(&text).expect("contexts.json is JSON")
}

#[test]
fn every_source_file_is_listed_once() {
    let truth = truth();
    assert_eq!(truth["schema_version"], 1);
    let mut listed = Vec::new();
    for context in truth["contexts"].as_array().expect("contexts") {
        for module in context["modules"].as_array().expect("modules") {
            let module = module.as_str().expect("path");
            if !module.contains("::") {
                listed.push(module.to_string());
            }
        }
    }
    for shared in truth["shared"].as_array().expect("shared") {
        listed.push(shared.as_str().expect("path").to_string());
    }
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "a file is listed twice");
    let mut on_disk = BTreeSet::new();
    rust_files(&crate_dir().join("src"), &mut on_disk);
    assert_eq!(unique, on_disk);
}

#[test]
fn every_table_has_an_owning_context() {
    let truth = truth();
    let contexts: BTreeSet<&str> = truth["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    let schema =
        std::fs::read_to_string(crate_dir().join("migrations/0001_schema.sql")).expect("schema");
    let created: BTreeSet<String> = schema
        .lines()
        .filter_map(|l| l.strip_prefix("CREATE TABLE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let owned: BTreeSet<String> = truth["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            assert!(
                contexts.contains(t["owner"].as_str().expect("owner")),
                "{t}"
            );
            t["name"].as_str().expect("name").to_string()
        })
        .collect();
    assert_eq!(created, owned);
}

#[test]
fn routes_match_the_router() {
    let truth = truth();
    let listed: Vec<String> = truth["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .flat_map(|c| c["routes"].as_array().expect("routes").iter())
        .map(|r| r.as_str().expect("route").to_string())
        .collect();
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "a route is listed twice");
    let app = std::fs::read_to_string(crate_dir().join("src/app.rs")).expect("app.rs");
    let reviews =
        std::fs::read_to_string(crate_dir().join("src/handlers/reviews.rs")).expect("reviews.rs");
    // Handler references (`get(movies::list_movies)`, `.put(...)`) are counted in the router
    // sources; every one of them must be a listed route, plus /healthz which is shared.
    let registrations = [&app, &reviews]
        .iter()
        .map(|src| {
            ["get(", "post(", "put(", "delete("]
                .iter()
                .map(|verb| src.matches(verb).count())
                .sum::<usize>()
        })
        .sum::<usize>();
    assert_eq!(
        registrations,
        listed.len() + 1,
        "routes in contexts.json vs router"
    );
    for route in &listed {
        let (_, path) = route.split_once(' ').expect("METHOD /path");
        let local = path.strip_prefix("/api/reviews").unwrap_or(path);
        assert!(
            app.contains(&format!("\"{path}\"")) || reviews.contains(&format!("\"{local}\"")),
            "{route} is not registered"
        );
    }
}
