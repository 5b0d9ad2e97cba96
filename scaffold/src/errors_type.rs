//! Reading a function's return type: what a replaced body must return.
//!
//! A stub has to produce an error value of the function's own error type, and a bridge has to
//! turn an HTTP failure into one. Both need a constructor that takes a message: the error enum
//! behind `Result<T, E>` (or an alias such as `AppResult<T>`) and a tuple variant holding a
//! single `String`. When there is none, the body panics with `unimplemented!` instead, which
//! still compiles.

use std::collections::BTreeMap;

use analyzer::{CodeModel, ItemKind};
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// Parsed source files by their path relative to the root.
pub(crate) type ParsedFiles = BTreeMap<String, syn::File>;

/// The success type of a `Result`-returning function and the path of an error constructor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultShape {
    /// The `T` of `Result<T, E>`.
    pub ok: Type,
    /// `crate::common::errors::AppError::Internal`, when one was found.
    pub error_ctor: Option<String>,
}

/// Reads `-> Result<T, E>` or `-> Alias<T>` (an alias of a `Result`).
pub(crate) fn result_shape(
    output: &ReturnType,
    model: &CodeModel,
    parsed: &ParsedFiles,
) -> Option<ResultShape> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let Type::Path(path) = ty.as_ref() else {
        return None;
    };
    let last = path.path.segments.last()?;
    let args = generic_types(&last.arguments);
    if last.ident == "Result" && args.len() == 2 {
        let error_name = last_ident(&args[1])?;
        return Some(ResultShape {
            ok: args[0].clone(),
            error_ctor: error_ctor(&error_name, model, parsed),
        });
    }
    if args.len() != 1 {
        return None;
    }
    let alias_name = last.ident.to_string();
    let alias = model
        .items
        .values()
        .find(|item| item.kind == ItemKind::TypeAlias && item.name == alias_name)?;
    let file = parsed.get(&alias.file)?;
    let target = file.items.iter().find_map(|item| match item {
        syn::Item::Type(alias_item) if alias_item.ident == alias_name => {
            Some(alias_item.ty.as_ref().clone())
        }
        _ => None,
    })?;
    let Type::Path(target_path) = target else {
        return None;
    };
    let result = target_path.path.segments.last()?;
    let target_args = generic_types(&result.arguments);
    if result.ident != "Result" || target_args.len() != 2 {
        return None;
    }
    let error_name = last_ident(&target_args[1])?;
    Some(ResultShape {
        ok: args[0].clone(),
        error_ctor: error_ctor(&error_name, model, parsed),
    })
}

fn generic_types(arguments: &PathArguments) -> Vec<Type> {
    match arguments {
        PathArguments::AngleBracketed(angle) => angle
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The last identifier of a path type (`crate::x::AppError` -> `AppError`).
pub(crate) fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `Option<T>` -> `T`.
pub(crate) fn option_inner(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let args = generic_types(&last.arguments);
    (last.ident == "Option" && args.len() == 1).then(|| args[0].clone())
}

/// Variant names that say "something outside failed", in order of preference.
const PREFERRED_VARIANTS: [&str; 5] = ["Internal", "Unavailable", "Upstream", "Other", "Message"];

fn error_ctor(error_name: &str, model: &CodeModel, parsed: &ParsedFiles) -> Option<String> {
    let item = model
        .items
        .values()
        .find(|item| item.kind == ItemKind::Enum && item.name == error_name)?;
    let module = &model.files.get(&item.file)?.module_path;
    let file = parsed.get(&item.file)?;
    let variants: Vec<String> = file
        .items
        .iter()
        .find_map(|it| match it {
            syn::Item::Enum(e) if e.ident == error_name => Some(e),
            _ => None,
        })?
        .variants
        .iter()
        .filter(|variant| match &variant.fields {
            syn::Fields::Unnamed(fields) => {
                fields.unnamed.len() == 1
                    && fields.unnamed[0].ty.to_token_stream().to_string() == "String"
            }
            _ => false,
        })
        .map(|variant| variant.ident.to_string())
        .collect();
    let chosen = PREFERRED_VARIANTS
        .iter()
        .find(|name| variants.iter().any(|v| v == *name))
        .map(|name| name.to_string())
        .or_else(|| variants.first().cloned())?;
    Some(format!("{module}::{error_name}::{chosen}"))
}
