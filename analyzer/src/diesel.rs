//! Diesel: tables declared by `table!` blocks and foreign keys by `joinable!`, read from the
//! macros' tokens (they are not Rust syntax syn can parse as items).
//!
//! Which functions use those tables is decided in `resolve`, from the paths they mention
//! (`users::table`, `users::dsl::*`, `users::name`), once every table name is known.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::extract::line_of;
use crate::facts::{DieselJoin, DieselTable};

/// The value of a `#[sql_name = "..."]` attribute's tokens, if that is what they hold.
fn sql_name(attribute: &TokenStream) -> Option<String> {
    let trees: Vec<TokenTree> = attribute.clone().into_iter().collect();
    match trees.as_slice() {
        [
            TokenTree::Ident(name),
            TokenTree::Punct(eq),
            TokenTree::Literal(value),
        ] if name == "sql_name" && eq.as_char() == '=' => {
            let parsed: syn::LitStr = syn::parse_str(&value.to_string()).ok()?;
            Some(parsed.value())
        }
        _ => None,
    }
}

/// The tables of one `table! { ... }` invocation (it may declare several).
pub(crate) fn parse_table_macro(tokens: &TokenStream) -> Vec<DieselTable> {
    let mut tables = Vec::new();
    let mut last_ident: Option<(String, u32)> = None;
    let mut primary_key = Vec::new();
    let mut renamed: Option<String> = None;
    for tree in tokens.clone() {
        match tree {
            TokenTree::Ident(ident) => {
                last_ident = Some((ident.to_string(), line_of(ident.span())));
                primary_key.clear();
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Bracket => {
                if let Some(name) = sql_name(&group.stream()) {
                    renamed = Some(name);
                }
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Parenthesis => {
                primary_key = group
                    .stream()
                    .into_iter()
                    .filter_map(|t| match t {
                        TokenTree::Ident(i) => Some(i.to_string()),
                        _ => None,
                    })
                    .collect();
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                if let Some((name, line)) = last_ident.take() {
                    let columns = parse_columns(&group.stream());
                    let primary_key = if primary_key.is_empty() {
                        vec!["id".to_string()]
                    } else {
                        std::mem::take(&mut primary_key)
                    };
                    tables.push(DieselTable {
                        name: renamed.take().unwrap_or(name).to_lowercase(),
                        columns,
                        primary_key,
                        line,
                    });
                }
            }
            _ => {}
        }
    }
    tables
}

/// `id -> Integer, name -> Nullable<Text>,` to `(name, type)` pairs.
fn parse_columns(body: &TokenStream) -> Vec<(String, String)> {
    let mut columns = Vec::new();
    let trees: Vec<TokenTree> = body.clone().into_iter().collect();
    let mut index = 0;
    while index < trees.len() {
        // Skip attributes (`#[sql_name = ...]`, doc comments).
        if matches!(&trees[index], TokenTree::Punct(p) if p.as_char() == '#') {
            index += 2;
            continue;
        }
        let (
            Some(TokenTree::Ident(name)),
            Some(TokenTree::Punct(dash)),
            Some(TokenTree::Punct(gt)),
        ) = (trees.get(index), trees.get(index + 1), trees.get(index + 2))
        else {
            index += 1;
            continue;
        };
        if dash.as_char() != '-' || gt.as_char() != '>' {
            index += 1;
            continue;
        }
        let mut type_text = String::new();
        index += 3;
        while index < trees.len() {
            if matches!(&trees[index], TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            type_text.push_str(&trees[index].to_string());
            index += 1;
        }
        columns.push((name.to_string().to_lowercase(), type_text));
        index += 1;
    }
    columns
}

/// `joinable!(posts -> users (user_id));`
pub(crate) fn parse_joinable_macro(tokens: &TokenStream) -> Option<DieselJoin> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    match trees.as_slice() {
        [
            TokenTree::Ident(child),
            TokenTree::Punct(_),
            TokenTree::Punct(_),
            TokenTree::Ident(parent),
            TokenTree::Group(column),
            ..,
        ] => Some(DieselJoin {
            child: child.to_string().to_lowercase(),
            parent: parent.to_string().to_lowercase(),
            column: column.stream().to_string().trim().to_lowercase(),
        }),
        _ => None,
    }
}
