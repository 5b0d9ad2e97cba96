//! Which `use` lines of a carried file still belong: once items are dropped and bodies
//! replaced, some imports name nothing the file uses, or point at modules the service does not
//! have. Each `use` tree is split into its leaves and a leaf stays when the remaining code names
//! it and, for `crate::` paths, when the service defines it.

use std::collections::{BTreeMap, BTreeSet};

use quote::ToTokens;

/// Keeps the `use` leaves that the file's remaining code names and that exist in the service.
/// The items come in groups (one per item of the original file, empty when it was dropped);
/// each `use` is replaced, in its group, by the leaves that stay.
pub(crate) fn filter_uses(
    groups: Vec<Vec<syn::Item>>,
    defined: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Vec<syn::Item>> {
    let mut used_idents = BTreeSet::new();
    for item in groups
        .iter()
        .flatten()
        .filter(|i| !matches!(i, syn::Item::Use(_)))
    {
        collect_idents(item.to_token_stream(), &mut used_idents);
    }
    groups
        .into_iter()
        .map(|group| {
            group
                .into_iter()
                .flat_map(|item| filter_use(item, &used_idents, defined))
                .collect()
        })
        .collect()
}

fn filter_use(
    item: syn::Item,
    used_idents: &BTreeSet<String>,
    defined: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<syn::Item> {
    let syn::Item::Use(use_item) = &item else {
        return vec![item];
    };
    let mut leaves = Vec::new();
    flatten_use(&use_item.tree, Vec::new(), &mut leaves);
    let needs: Vec<Need> = leaves
        .iter()
        .map(|leaf| leaf.need(used_idents, defined))
        .collect();
    if needs.iter().all(|need| *need == Need::Keep) {
        return vec![item];
    }
    let mut out = Vec::new();
    for (leaf, need) in leaves.iter().zip(needs) {
        if need == Need::Drop {
            continue;
        }
        if let Ok(tree) = syn::parse_str::<syn::UseTree>(&leaf.render()) {
            let mut single = use_item.clone();
            single.tree = tree;
            if need == Need::KeepAllowUnused {
                single
                    .attrs
                    .push(syn::parse_quote!(#[allow(unused_imports)]));
            }
            out.push(syn::Item::Use(single));
        }
    }
    out
}

/// Identifiers the code names, except inside `crate::...` paths (which need no import).
fn collect_idents(tokens: proc_macro2::TokenStream, out: &mut BTreeSet<String>) {
    let mut in_crate_path = false;
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) => {
                if ident == "crate" {
                    in_crate_path = true;
                } else if !in_crate_path {
                    out.insert(ident.to_string());
                }
            }
            proc_macro2::TokenTree::Punct(punct) if punct.as_char() == ':' => {}
            proc_macro2::TokenTree::Group(group) => {
                in_crate_path = false;
                collect_idents(group.stream(), out);
            }
            proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {
                in_crate_path = false;
            }
        }
    }
}

/// One imported name of a `use` tree.
struct UseLeaf {
    path: Vec<String>,
    name: String,
    alias: Option<String>,
}

impl UseLeaf {
    fn render(&self) -> String {
        let mut text = self.path.join("::");
        if !text.is_empty() {
            text.push_str("::");
        }
        text.push_str(&self.name);
        if let Some(alias) = &self.alias {
            text.push_str(" as ");
            text.push_str(alias);
        }
        text
    }

    fn need(&self, used: &BTreeSet<String>, defined: &BTreeMap<String, BTreeSet<String>>) -> Need {
        if self.name == "*" {
            return Need::Keep;
        }
        let binding = match (&self.alias, self.name.as_str()) {
            (Some(alias), _) => alias.clone(),
            (None, "self") => self.path.last().cloned().unwrap_or_default(),
            (None, name) => name.to_string(),
        };
        let external = self.path.first().map(String::as_str) != Some("crate");
        if !used.contains(&binding) {
            // Extension traits work without being named (`.optional()`); whether the kept code
            // still calls their methods is unknown here, so they stay, allowed to go unused.
            let trait_like = binding.ends_with("Ext")
                || binding.ends_with("Extension")
                || matches!(binding.as_str(), "Write" | "Read" | "BufRead");
            return if external && trait_like && self.alias.as_deref() != Some("_") {
                Need::KeepAllowUnused
            } else {
                Need::Drop
            };
        }
        if external {
            return Need::Keep;
        }
        let module = self.path.join("::");
        match defined.get(&module) {
            Some(names) if self.name == "self" || names.contains(&self.name) => Need::Keep,
            _ => Need::Drop,
        }
    }
}

/// Whether a `use` leaf stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Keep,
    KeepAllowUnused,
    Drop,
}

fn flatten_use(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<UseLeaf>) {
    match tree {
        syn::UseTree::Path(path) => {
            let mut prefix = prefix;
            prefix.push(path.ident.to_string());
            flatten_use(&path.tree, prefix, out);
        }
        syn::UseTree::Name(name) => out.push(UseLeaf {
            path: prefix,
            name: name.ident.to_string(),
            alias: None,
        }),
        syn::UseTree::Rename(rename) => out.push(UseLeaf {
            path: prefix,
            name: rename.ident.to_string(),
            alias: Some(rename.rename.to_string()),
        }),
        syn::UseTree::Glob(_) => out.push(UseLeaf {
            path: prefix,
            name: "*".to_string(),
            alias: None,
        }),
        syn::UseTree::Group(group) => {
            for inner in &group.items {
                flatten_use(inner, prefix.clone(), out);
            }
        }
    }
}
