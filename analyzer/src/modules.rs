//! Module paths: which crate each `.rs` file belongs to and under which module path, found by
//! following `mod` declarations from each crate root (`foo.rs` + `foo/`, `mod.rs`,
//! `#[path = "..."]`). Files no declaration reaches get a path guessed from their location.
//! Files reached only through a `#[cfg(test)]` declaration (and the files they declare) are
//! marked as test code, which the model leaves out as it leaves out inline test modules: test
//! code calls into every context, and would otherwise glue them together.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::discover::{join, parent};
use crate::facts::FileFacts;
use crate::model::CrateInfo;

/// Where a file sits in the crate structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilePlace {
    /// Index into the crate list.
    pub crate_index: usize,
    /// Module path inside the crate, without the leading `crate`.
    pub module: Vec<String>,
    /// Reached through `mod` declarations.
    pub declared: bool,
    /// Reached only through a `#[cfg(test)] mod name;` declaration (or from such a file): test
    /// code, which the model leaves out.
    pub test_only: bool,
}

/// Normalizes `a/b/../c` to `a/c`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".rs").unwrap_or(name)
}

/// Assigns every file (by index into `files`) a place.
pub(crate) fn place_files(
    crates: &[CrateInfo],
    files: &[String],
    facts: &[FileFacts],
) -> Vec<FilePlace> {
    let index_of: BTreeMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i))
        .collect();
    let mut places: Vec<Option<FilePlace>> = vec![None; files.len()];
    let roots: BTreeSet<&str> = crates.iter().map(|c| c.root_file.as_str()).collect();
    // Libraries first, so a file reachable from both a library and a binary belongs to the
    // library (the binary uses it through the library).
    let mut order: Vec<usize> = (0..crates.len()).collect();
    order.sort_by_key(|&i| (crates[i].kind, i));
    // Files declared by test-only declarations wait until every crate's own tree is placed: a
    // file that ordinary code also declares is ordinary code.
    let mut test_queue = VecDeque::new();
    for crate_index in order {
        let Some(&root) = index_of.get(crates[crate_index].root_file.as_str()) else {
            continue;
        };
        if places[root].is_some() {
            continue;
        }
        let mut queue = VecDeque::from([(root, Vec::<String>::new())]);
        while let Some((file, module)) = queue.pop_front() {
            if places[file].is_some() {
                continue;
            }
            for (child, child_module, test_only) in
                declared_children(files, facts, &index_of, &roots, file, &module)
            {
                if test_only {
                    test_queue.push_back((child, child_module, crate_index));
                } else {
                    queue.push_back((child, child_module));
                }
            }
            places[file] = Some(FilePlace {
                crate_index,
                module,
                declared: true,
                test_only: false,
            });
        }
    }
    while let Some((file, module, crate_index)) = test_queue.pop_front() {
        if places[file].is_some() {
            continue;
        }
        for (child, child_module, _) in
            declared_children(files, facts, &index_of, &roots, file, &module)
        {
            test_queue.push_back((child, child_module, crate_index));
        }
        places[file] = Some(FilePlace {
            crate_index,
            module,
            declared: true,
            test_only: true,
        });
    }
    files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            places[index]
                .take()
                .unwrap_or_else(|| guess_place(crates, file))
        })
        .collect()
}

/// The files `file`'s `mod` declarations name, with their module paths and whether the
/// declaration is test-only.
fn declared_children(
    files: &[String],
    facts: &[FileFacts],
    index_of: &BTreeMap<&str, usize>,
    roots: &BTreeSet<&str>,
    file: usize,
    module: &[String],
) -> Vec<(usize, Vec<String>, bool)> {
    let path = files[file].as_str();
    let is_mod_rs = roots.contains(path) || path.ends_with("/mod.rs") || path == "mod.rs";
    let own_dir = if is_mod_rs {
        parent(path).to_string()
    } else {
        join(parent(path), file_stem(path))
    };
    let mut children = Vec::new();
    for declaration in &facts[file].mod_declarations {
        let inline = &facts[file].modules[declaration.module].inline_path;
        let mut dir = own_dir.clone();
        for name in inline {
            dir = join(&dir, name);
        }
        let candidates = match &declaration.path_attribute {
            Some(attribute) if inline.is_empty() => vec![join(parent(path), attribute)],
            Some(attribute) => vec![join(&dir, attribute)],
            None => vec![
                join(&dir, &format!("{}.rs", declaration.name)),
                join(&dir, &format!("{}/mod.rs", declaration.name)),
            ],
        };
        let found = candidates
            .iter()
            .find_map(|candidate| index_of.get(normalize(candidate).as_str()).copied());
        if let Some(child) = found {
            let mut child_module = module.to_vec();
            child_module.extend(inline.iter().cloned());
            child_module.push(declaration.name.clone());
            children.push((child, child_module, declaration.test_only));
        }
    }
    children
}

/// A place for a file no `mod` declaration reaches: the innermost crate directory holding it
/// (its library if it has one), and a module path from the file's location under `src/`.
fn guess_place(crates: &[CrateInfo], file: &str) -> FilePlace {
    let crate_index = crates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.dir.is_empty() || file.starts_with(&format!("{}/", c.dir)))
        .max_by_key(|(i, c)| {
            (
                c.dir.len(),
                std::cmp::Reverse(c.kind),
                std::cmp::Reverse(*i),
            )
        })
        .map_or(0, |(i, _)| i);
    let dir = crates.get(crate_index).map_or("", |c| c.dir.as_str());
    let inside = if dir.is_empty() {
        file
    } else {
        file.strip_prefix(dir)
            .map_or(file, |r| r.trim_start_matches('/'))
    };
    let inside = inside.strip_prefix("src/").unwrap_or(inside);
    let mut module: Vec<String> = inside
        .trim_end_matches(".rs")
        .split('/')
        .filter(|part| !part.is_empty())
        .map(|part| part.replace(|c: char| !(c.is_alphanumeric() || c == '_'), "_"))
        .collect();
    if matches!(
        module.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        module.pop();
    }
    FilePlace {
        crate_index,
        module,
        declared: false,
        test_only: false,
    }
}
