//! Discovery: walk the tree (honouring `.gitignore`, skipping `target/`), find the crates from
//! their `Cargo.toml`, and list the `.rs` and `.sql` files to analyze.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::model::{CrateInfo, CrateKind, Diagnostic, SqlDialect};

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    pub crates: Vec<CrateInfo>,
    /// `.rs` files relative to the root, sorted.
    pub rust_files: Vec<String>,
    /// `.sql` files relative to the root, sorted.
    pub sql_files: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Path relative to the root with `/` separators.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Joins a relative directory and a file name the way the model spells paths.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Parent directory of a relative path (`""` at the top).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Walks `root`. Unreadable entries and symlink loops become diagnostics.
pub(crate) fn walk(root: &Path, include_tests: bool) -> Discovery {
    let mut discovery = Discovery::default();
    let mut manifests = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            !(entry.file_type().is_some_and(|t| t.is_dir()) && name == "target")
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                discovery.diagnostics.push(Diagnostic {
                    file: ".".to_string(),
                    line: None,
                    message: format!("skipped while walking the tree: {error}"),
                });
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let relative_path = relative(root, path);
        match path.extension().and_then(|e| e.to_str()) {
            Some("rs") => discovery.rust_files.push(relative_path),
            Some("sql") => discovery.sql_files.push(relative_path),
            Some("toml") if entry.file_name() == "Cargo.toml" => {
                manifests.push((relative_path, path.to_path_buf()));
            }
            _ => {}
        }
    }
    manifests.sort();
    for (relative_path, path) in manifests {
        read_manifest(root, &relative_path, &path, &mut discovery);
    }
    discovery
        .crates
        .sort_by(|a, b| (&a.dir, a.kind, &a.name).cmp(&(&b.dir, b.kind, &b.name)));
    if !include_tests {
        let package_dirs: BTreeSet<String> =
            discovery.crates.iter().map(|c| c.dir.clone()).collect();
        discovery
            .rust_files
            .retain(|file| !is_test_or_tooling(file, &package_dirs));
    }
    discovery.rust_files.sort();
    discovery.sql_files.sort();
    discovery
}

/// Tests, examples, benches and build scripts of a package: not part of the running system.
fn is_test_or_tooling(file: &str, package_dirs: &BTreeSet<String>) -> bool {
    package_dirs.iter().any(|dir| {
        let inside = if dir.is_empty() {
            Some(file)
        } else {
            file.strip_prefix(dir.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
        };
        inside.is_some_and(|rest| {
            rest == "build.rs"
                || ["tests/", "examples/", "benches/", "fuzz/"]
                    .iter()
                    .any(|p| rest.starts_with(p))
        })
    })
}

fn rust_name(name: &str) -> String {
    name.replace('-', "_")
}

fn read_manifest(root: &Path, relative_path: &str, path: &Path, discovery: &mut Discovery) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            discovery.diagnostics.push(Diagnostic {
                file: relative_path.to_string(),
                line: None,
                message: format!("cannot read: {error}"),
            });
            return;
        }
    };
    let manifest: toml::Table = match text.parse() {
        Ok(manifest) => manifest,
        Err(error) => {
            discovery.diagnostics.push(Diagnostic {
                file: relative_path.to_string(),
                line: None,
                message: format!("not valid TOML: {}", error.message()),
            });
            return;
        }
    };
    let Some(package) = manifest.get("package").and_then(|p| p.as_table()) else {
        return; // a virtual workspace manifest
    };
    let Some(package_name) = package.get("name").and_then(|n| n.as_str()) else {
        return;
    };
    let dir = parent(relative_path).to_string();
    let dependencies = dependency_names(&manifest);
    let exists = |file: &str| root.join(join(&dir, file)).is_file();
    let mut push = |name: String, file: String, kind: CrateKind| {
        discovery.crates.push(CrateInfo {
            name,
            dir: dir.clone(),
            root_file: join(&dir, &file),
            kind,
            dependencies: dependencies.clone(),
        });
    };
    let lib = manifest.get("lib").and_then(|l| l.as_table());
    let lib_path = lib
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
        .map(str::to_string)
        .or_else(|| exists("src/lib.rs").then(|| "src/lib.rs".to_string()));
    let lib_name = lib
        .and_then(|l| l.get("name"))
        .and_then(|n| n.as_str())
        .map_or_else(|| rust_name(package_name), rust_name);
    let has_lib = lib_path.is_some();
    if let Some(file) = lib_path {
        push(lib_name.clone(), file, CrateKind::Lib);
    }
    // A binary beside a library gets a distinct name so item ids stay unique.
    let bin_name = |name: &str| {
        let name = rust_name(name);
        if has_lib && name == lib_name {
            format!("{name}_bin")
        } else {
            name
        }
    };
    let mut bin_files = BTreeSet::new();
    if let Some(bins) = manifest.get("bin").and_then(|b| b.as_array()) {
        for bin in bins.iter().filter_map(|b| b.as_table()) {
            let name = bin
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or(package_name);
            let file = bin
                .get("path")
                .and_then(|p| p.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    if rust_name(name) == rust_name(package_name) && exists("src/main.rs") {
                        "src/main.rs".to_string()
                    } else {
                        format!("src/bin/{name}.rs")
                    }
                });
            if exists(&file) && bin_files.insert(file.clone()) {
                push(bin_name(name), file, CrateKind::Bin);
            }
        }
    }
    if exists("src/main.rs") && bin_files.insert("src/main.rs".to_string()) {
        push(
            bin_name(package_name),
            "src/main.rs".to_string(),
            CrateKind::Bin,
        );
    }
    let bin_dir = root.join(join(&dir, "src/bin"));
    if let Ok(entries) = std::fs::read_dir(&bin_dir) {
        let mut found: Vec<(String, String)> = Vec::new();
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let entry_path: PathBuf = entry.path();
            if let Some(stem) = file_name.strip_suffix(".rs") {
                found.push((stem.to_string(), format!("src/bin/{file_name}")));
            } else if entry_path.join("main.rs").is_file() {
                found.push((file_name.clone(), format!("src/bin/{file_name}/main.rs")));
            }
        }
        found.sort();
        for (name, file) in found {
            if bin_files.insert(file.clone()) {
                push(bin_name(&name), file, CrateKind::Bin);
            }
        }
    }
}

/// The names code uses for a package's dependencies (`[dependencies]` keys, `-` as `_`).
fn dependency_names(manifest: &toml::Table) -> Vec<String> {
    let mut names = BTreeSet::new();
    let mut add_table = |table: Option<&toml::Value>| {
        if let Some(table) = table.and_then(|t| t.as_table()) {
            names.extend(table.keys().map(|k| rust_name(k)));
        }
    };
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        add_table(manifest.get(section));
    }
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        for target in targets.values().filter_map(|t| t.as_table()) {
            for section in ["dependencies", "dev-dependencies"] {
                add_table(target.get(section));
            }
        }
    }
    names.into_iter().collect()
}

/// The SQL dialect the crates' database drivers suggest; generic when none or several do.
pub(crate) fn detect_dialect(crates: &[CrateInfo]) -> SqlDialect {
    let mut found = BTreeSet::new();
    for dependency in crates.iter().flat_map(|c| &c.dependencies) {
        let dialect = match dependency.as_str() {
            "rusqlite" | "libsqlite3_sys" | "sqlite" => SqlDialect::Sqlite,
            "postgres" | "tokio_postgres" | "deadpool_postgres" | "bb8_postgres" => {
                SqlDialect::Postgres
            }
            "mysql" | "mysql_async" => SqlDialect::Mysql,
            _ => continue,
        };
        found.insert(dialect);
    }
    if found.len() == 1 {
        found.into_iter().next().unwrap_or_default()
    } else {
        SqlDialect::Generic
    }
}
