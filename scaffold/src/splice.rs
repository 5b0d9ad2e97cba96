//! Putting a reduced file back together as text. Items that come over unchanged keep their
//! original text, with the comments and blank lines around them; items that changed (a new body,
//! a trimmed `use`, an added derive) are printed by prettyplease in their place; dropped items
//! leave nothing behind. So the carried code reads like the monolith's, comments included.

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::bodies;

/// Rebuilds a file from its original text and, for each original item, what replaces it.
pub(crate) fn splice(text: &str, original: &[syn::Item], groups: &[Vec<syn::Item>]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    // Line index (0-based) of the first line not yet written.
    let mut next_line = 0;
    for (item, group) in original.iter().zip(groups) {
        let Some((start, end)) = line_span(item) else {
            continue;
        };
        if start < next_line || end >= lines.len() {
            continue;
        }
        // What lies between the previous item and this one: comments and blank lines.
        for line in &lines[next_line..start] {
            out.push_str(line);
            out.push('\n');
        }
        if group.len() == 1 && group[0] == *item {
            for line in &lines[start..=end] {
                out.push_str(line);
                out.push('\n');
            }
        } else if !group.is_empty() {
            let printed = prettyplease::unparse(&syn::File {
                shebang: None,
                attrs: Vec::new(),
                items: group.clone(),
            });
            out.push_str(&space_items(&bodies::markers_to_comments(&printed)));
        }
        next_line = end + 1;
    }
    for line in lines.iter().skip(next_line) {
        out.push_str(line);
        out.push('\n');
    }
    collapse_blank_lines(&out)
}

/// 0-based first and last line of an item, its attributes and doc comments included.
fn line_span(item: &syn::Item) -> Option<(usize, usize)> {
    let tokens: TokenStream = item.to_token_stream();
    let mut iter = tokens.into_iter();
    let first = iter.next()?;
    let last = iter.last().unwrap_or_else(|| first.clone());
    let start = first.span().start().line;
    let end = last.span().end().line;
    (start >= 1 && end >= start).then(|| (start - 1, end - 1))
}

/// At most one blank line in a row, none at the end.
fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Puts a blank line between top-level items (prettyplease prints them back to back), keeping
/// consecutive `use` lines together.
pub(crate) fn space_items(printed: &str) -> String {
    let mut out = String::with_capacity(printed.len() + printed.len() / 20);
    let mut previous: Option<&str> = None;
    let mut item_is_use = false;
    let lines: Vec<&str> = printed.lines().collect();
    for (index, &line) in lines.iter().enumerate() {
        let top_level = !line.is_empty() && !line.starts_with([' ', '}', ')', ']']);
        let continues = line.starts_with("where") || line.starts_with("->");
        if top_level && !continues {
            // Attributes and doc comments belong to the item below them.
            let head = lines[index..]
                .iter()
                .find(|l| !l.starts_with("#[") && !l.starts_with("///"))
                .copied()
                .unwrap_or(line);
            let is_use = head.starts_with("use ") || head.starts_with("pub use ");
            let after_docs =
                previous.is_some_and(|p| p.starts_with("//!")) && !line.starts_with("//!");
            let after_item = previous
                .is_some_and(|p| !p.starts_with(' ') && (p.ends_with('}') || p.ends_with(';')));
            if after_docs || (after_item && !(item_is_use && is_use)) {
                out.push('\n');
            }
            if !line.starts_with("///") && !line.starts_with("#[") && !line.starts_with("//") {
                item_is_use = is_use;
            }
        }
        out.push_str(line);
        out.push('\n');
        if !line.trim().is_empty() {
            previous = Some(line);
        }
    }
    out
}
