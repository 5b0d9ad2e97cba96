//! New bodies for functions that cannot run as they were in the service: an HTTP read through
//! the owning service's route (a bridge), or a stub that returns an error. Both keep the
//! signature, so every caller still compiles, and both say in a `TODO(strangler)` comment what
//! the original code did and where.

use quote::ToTokens;
use syn::{FnArg, Pat, Signature, Type};

use crate::errors_type::{ResultShape, last_ident, option_inner};
use crate::plan::ReadThrough;

/// The statement macro the printer turns into a `// TODO(strangler): ...` line (syn has no
/// comments, so the comment is written after printing).
pub(crate) const TODO_MARKER: &str = "strangler_todo_comment";

/// What a bridge returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BridgeKind {
    /// `bool`: whether the owner answers 200 (true) or 404 (false).
    Exists,
    /// A struct read from the JSON answer; 404 is an error.
    Json(String),
    /// `Option<S>`: 404 is `None`.
    OptionalJson(String),
}

/// Decides whether a function can become a bridge: it returns `Result<bool | S | Option<S>, E>`
/// with an error constructor, and has a parameter that can fill the route's `{id}`.
pub(crate) fn bridge_kind(
    sig: &Signature,
    shape: &ResultShape,
    deserializable: &dyn Fn(&str) -> bool,
) -> Option<(BridgeKind, String)> {
    shape.error_ctor.as_ref()?;
    let id = id_parameter(sig)?;
    let ok = &shape.ok;
    if ok.to_token_stream().to_string() == "bool" {
        return Some((BridgeKind::Exists, id));
    }
    if let Some(inner) = option_inner(ok) {
        let name = single_ident(&inner)?;
        return deserializable(&name).then_some((BridgeKind::OptionalJson(name), id));
    }
    let name = single_ident(ok)?;
    deserializable(&name).then_some((BridgeKind::Json(name), id))
}

fn single_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) if path.qself.is_none() && path.path.segments.len() == 1 => {
            last_ident(ty).filter(|name| name.chars().next().is_some_and(char::is_uppercase))
        }
        _ => None,
    }
}

/// The first parameter that looks like an id: a typed id (`MovieId`), an integer or a string.
fn id_parameter(sig: &Signature) -> Option<String> {
    sig.inputs.iter().find_map(|input| {
        let FnArg::Typed(typed) = input else {
            return None;
        };
        let Pat::Ident(ident) = typed.pat.as_ref() else {
            return None;
        };
        let ty = typed.ty.to_token_stream().to_string();
        let looks_like_id = ty.ends_with("Id")
            || matches!(
                ty.as_str(),
                "i64" | "i32" | "u64" | "u32" | "& str" | "String" | "& String"
            );
        looks_like_id.then(|| ident.ident.to_string())
    })
}

/// Every name the parameters bind (so the new body can mark them used).
fn bound_names(sig: &Signature) -> Vec<String> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(_) => names.push("self".to_string()),
            FnArg::Typed(typed) => collect_pattern_names(&typed.pat, &mut names),
        }
    }
    names
}

fn collect_pattern_names(pat: &Pat, names: &mut Vec<String>) {
    match pat {
        Pat::Ident(ident) => names.push(ident.ident.to_string()),
        Pat::TupleStruct(tuple) => tuple
            .elems
            .iter()
            .for_each(|p| collect_pattern_names(p, names)),
        Pat::Tuple(tuple) => tuple
            .elems
            .iter()
            .for_each(|p| collect_pattern_names(p, names)),
        Pat::Struct(fields) => fields
            .fields
            .iter()
            .for_each(|f| collect_pattern_names(&f.pat, names)),
        Pat::Reference(reference) => collect_pattern_names(&reference.pat, names),
        Pat::Type(typed) => collect_pattern_names(&typed.pat, names),
        _ => {}
    }
}

/// Removes `mut` from parameters: the new body does not mutate them.
pub(crate) fn drop_mut_bindings(sig: &mut Signature) {
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = input
            && let Pat::Ident(ident) = typed.pat.as_mut()
        {
            ident.mutability = None;
        }
    }
}

fn mark_used(sig: &Signature) -> String {
    let names: Vec<String> = bound_names(sig)
        .into_iter()
        .filter(|name| name != "_")
        .map(|name| {
            if name == "self" {
                name
            } else {
                format!("&{name}")
            }
        })
        .collect();
    match names.len() {
        0 => String::new(),
        1 => format!("let _ = {};", names[0]),
        _ => format!("let _ = ({});", names.join(", ")),
    }
}

fn marker(note: &str) -> String {
    let clean: String = note
        .chars()
        .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
        .collect();
    format!("{TODO_MARKER}!(\"{clean}\");")
}

/// A body that returns an error (or panics, when the error type has no message constructor).
pub(crate) fn stub_body(sig: &Signature, note: &str, shape: Option<&ResultShape>) -> String {
    let used = mark_used(sig);
    let todo = marker(note);
    let message = format!(
        "not available in this service yet: {}",
        note.replace(['"', '\\'], "'")
    );
    match shape.and_then(|s| s.error_ctor.as_ref()) {
        Some(ctor) => format!("{{ {used} {todo} Err({ctor}(String::from(\"{message}\"))) }}"),
        None => format!("{{ {used} {todo} unimplemented!(\"{message}\") }}"),
    }
}

/// A body that reads the row from the owning service.
pub(crate) fn bridge_body(
    sig: &Signature,
    note: &str,
    read: &ReadThrough,
    kind: &BridgeKind,
    id: &str,
    error_ctor: &str,
) -> String {
    let used: String = {
        let others: Vec<String> = bound_names(sig)
            .into_iter()
            .filter(|name| name != id && name != "_")
            .map(|name| {
                if name == "self" {
                    name
                } else {
                    format!("&{name}")
                }
            })
            .collect();
        match others.len() {
            0 => String::new(),
            1 => format!("let _ = {};", others[0]),
            _ => format!("let _ = ({});", others.join(", ")),
        }
    };
    let todo = marker(&format!(
        "{note}; now GET {} on the {} service",
        read.route, read.owner
    ));
    let path = read
        .route
        .rsplit_once('/')
        .map(|(prefix, _)| format!("{prefix}/{{{id}}}"))
        .unwrap_or_default();
    let call = match kind {
        BridgeKind::Exists => "crate::upstream::exists".to_string(),
        BridgeKind::Json(name) => format!("crate::upstream::get_json::<{name}>"),
        BridgeKind::OptionalJson(name) => format!("crate::upstream::get_optional_json::<{name}>"),
    };
    format!(
        "{{ {used} {todo} {call}(\"{owner}\", &format!(\"{path}\")).map_err({error_ctor}) }}",
        owner = read.owner
    )
}

/// Turns the marker statements of printed code into comments (prettyplease prints a long one
/// over three lines: the macro, the literal, the closing parenthesis).
pub(crate) fn markers_to_comments(printed: &str) -> String {
    let lines: Vec<&str> = printed.lines().collect();
    let mut out = String::with_capacity(printed.len());
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let opening = format!("{TODO_MARKER}!(");
        let one_line = trimmed
            .strip_prefix(opening.as_str())
            .and_then(|rest| rest.strip_suffix(");"))
            .map(|literal| (literal, 1));
        let three_lines = (trimmed == opening
            && lines.get(index + 2).is_some_and(|l| l.trim() == ");"))
        .then(|| lines.get(index + 1).map(|l| (l.trim(), 3)))
        .flatten();
        match one_line.or(three_lines) {
            Some((literal, consumed)) => {
                let note = literal.trim_matches('"');
                out.push_str(indent);
                out.push_str("// TODO(strangler): ");
                out.push_str(note);
                index += consumed;
            }
            None => {
                out.push_str(line);
                index += 1;
            }
        }
        out.push('\n');
    }
    out
}
