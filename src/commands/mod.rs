//! What each subcommand does once its arguments are parsed: call a library, print the result.
//! One module per subcommand, so each stays a thin shell over its library.

pub mod analyze;
pub mod demo;
pub mod export;
pub mod plan;
pub mod proxy;
pub mod scaffold;

/// Writes a generated file (`--out`), refusing to replace an existing one unless `force`.
pub fn write_output(path: &std::path::Path, text: &str, force: bool) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if path.exists() && !force {
        anyhow::bail!("{} exists; pass --force to overwrite it", path.display());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
