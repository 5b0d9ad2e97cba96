//! Prints the analysis JSON of a tree: `cargo run -p analyzer --example analyze -- PATH`.
#![allow(clippy::print_stdout)]

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    match analyzer::analyze(
        std::path::Path::new(&root),
        &root,
        &analyzer::AnalyzeOptions::default(),
    ) {
        Ok(analysis) => println!("{}", serde_json::to_string_pretty(&analysis).unwrap()),
        Err(error) => println!("error: {error}"),
    }
}
