//! The bundled sample monolith against its ground truth (`sample-monolith/contexts.json`): every
//! route and every table is found, and the direct reads and writes of each context's modules
//! give exactly the readers and writers the ground truth lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use analyzer::{Access, ModelOptions};
use serde_json::Value;

fn ground_truth() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-monolith/contexts.json");
    let text = std::fs::read_to_string(&path).expect("contexts.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

fn model() -> analyzer::CodeModel {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-monolith");
    analyzer::build_model(&root, &ModelOptions::default()).expect("model")
}

/// Context of each module entry (`FILE` or `FILE::fn`).
fn context_of_module(truth: &Value) -> BTreeMap<String, String> {
    let mut owners = BTreeMap::new();
    for context in truth["contexts"].as_array().expect("contexts") {
        let name = context["name"].as_str().expect("name").to_string();
        for module in strings(&context["modules"]) {
            owners.insert(module, name.clone());
        }
    }
    owners
}

#[test]
fn every_route_is_found_with_its_handler_in_the_right_context() {
    let truth = ground_truth();
    let model = model();
    let owners = context_of_module(&truth);
    let found: BTreeMap<String, &analyzer::Route> =
        model.routes.iter().map(|r| (r.label(), r)).collect();
    for context in truth["contexts"].as_array().expect("contexts") {
        let name = context["name"].as_str().expect("name");
        for label in strings(&context["routes"]) {
            let route = found
                .get(&label)
                .unwrap_or_else(|| panic!("route {label} not found; found {:?}", found.keys()));
            let handler = route
                .handler
                .as_ref()
                .and_then(|id| model.items.get(id))
                .unwrap_or_else(|| panic!("handler of {label} not resolved: {route:?}"));
            let handler_context = owners
                .get(&handler.unit_label())
                .or_else(|| owners.get(&handler.file));
            assert_eq!(
                handler_context.map(String::as_str),
                Some(name),
                "{label} is served by {}",
                handler.id
            );
        }
    }
}

#[test]
fn every_table_is_found_with_the_right_readers_and_writers() {
    let truth = ground_truth();
    let model = model();
    let owners = context_of_module(&truth);
    let mut readers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut writers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in model.items.values() {
        let Some(context) = owners
            .get(&item.unit_label())
            .or_else(|| owners.get(&item.file))
        else {
            continue; // shared kernel
        };
        for access in &item.sql {
            let sets = match access.access {
                Access::Read => &mut readers,
                Access::Write => &mut writers,
            };
            sets.entry(access.table.clone())
                .or_default()
                .insert(context.clone());
        }
    }
    for table in truth["tables"].as_array().expect("tables") {
        let name = table["name"].as_str().expect("name");
        assert!(model.tables.contains_key(name), "table {name} not declared");
        let expected_readers: BTreeSet<String> = strings(&table["readers"]).into_iter().collect();
        let expected_writers: BTreeSet<String> = strings(&table["writers"]).into_iter().collect();
        assert_eq!(
            readers.get(name).cloned().unwrap_or_default(),
            expected_readers,
            "readers of {name}"
        );
        assert_eq!(
            writers.get(name).cloned().unwrap_or_default(),
            expected_writers,
            "writers of {name}"
        );
    }
}

#[test]
fn the_sample_monolith_raises_no_diagnostic() {
    let model = model();
    assert!(model.diagnostics.is_empty(), "{:#?}", model.diagnostics);
    assert!(model.files.values().all(|f| f.parsed && f.declared));
}
