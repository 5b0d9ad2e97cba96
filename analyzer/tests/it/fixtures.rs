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
