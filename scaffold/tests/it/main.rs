//! Scaffold's tests, in one binary: snapshots of what the templates and the carried code give
//! for the sample monolith's reviews context, errors, and the generated crates built, tested and
//! compared with the running monolith.

mod generated_crates;
mod snapshots;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use analyzer::analysis::Analysis;
use analyzer::contexts::ProposalOptions;
use analyzer::{CodeModel, ModelOptions};
use scaffold::{GeneratedService, ScaffoldOptions};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the scaffold crate sits in the workspace")
        .to_path_buf()
}

/// The sample monolith's model and analysis, built once.
pub fn sample() -> &'static (CodeModel, Analysis) {
    static SAMPLE: OnceLock<(CodeModel, Analysis)> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let root = workspace().join("sample-monolith");
        let model = analyzer::build_model(&root, &ModelOptions::default()).expect("model");
        let analysis =
            analyzer::analyze_model(&model, "sample-monolith", &ProposalOptions::default());
        (model, analysis)
    })
}

/// Generates one context of the sample with default options.
pub fn generate(context: &str) -> Result<GeneratedService, scaffold::ScaffoldError> {
    let (model, analysis) = sample();
    scaffold::generate(
        model,
        analysis,
        context,
        &ScaffoldOptions {
            source_root: workspace().join("sample-monolith"),
            name: None,
            port: 4000,
        },
    )
}
