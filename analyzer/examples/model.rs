//! Prints the code model of a tree as JSON: `cargo run -p analyzer --example model -- PATH`.
#![allow(clippy::print_stdout)]

fn main() {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    match analyzer::build_model(std::path::Path::new(&root), &Default::default()) {
        Ok(model) => println!("{}", serde_json::to_string_pretty(&model).unwrap()),
        Err(error) => println!("error: {error}"),
    }
}
