//! Carrying the monolith's code into the service: each planned file is parsed with syn, reduced
//! to the items the plan includes, given new bodies where the plan says so, and printed with
//! prettyplease at its module's place in the new crate (`crate::services::reviews` stays at
//! `src/services/reviews.rs`, so every `use crate::...` line keeps working).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use analyzer::{CodeModel, Item, ItemKind};
use quote::ToTokens;

use crate::bodies::{self, BridgeKind};
use crate::errors_type::{ParsedFiles, result_shape};
use crate::plan::{FileRole, Plan};
use crate::{ScaffoldError, SummaryEntry};
use crate::{imports, splice};

/// The carried code and what the rest of the generator needs to know about it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Carried {
    /// Service path (`src/services/reviews.rs`) -> printed source.
    pub files: BTreeMap<PathBuf, String>,
    /// Module paths (without `crate`) of the carried files, for the crate root's module tree.
    pub modules: Vec<Vec<String>>,
    /// SQL files the carried code embeds (`include_str!`): monolith path -> service path.
    pub included_sql: BTreeMap<String, PathBuf>,
    /// The handlers' state type, by path (`crate::common::db::Db`).
    pub state_type: String,
    /// Its constructor taking the database path (`crate::common::db::Db::open`).
    pub state_constructor: String,
    /// Routes: method, path, handler path.
    pub routes: Vec<(String, String, String)>,
    /// Carried files.
    pub carried_files: Vec<SummaryEntry>,
    /// Bridged functions.
    pub bridged: Vec<SummaryEntry>,
    /// Stubbed functions.
    pub stubbed: Vec<SummaryEntry>,
}

/// What happens to one function body.
enum NewBody {
    Bridge(String),
    Stub(String),
}

/// Carries the planned files over.
pub(crate) fn carry(
    model: &CodeModel,
    plan: &Plan<'_>,
    root: &Path,
) -> Result<Carried, ScaffoldError> {
    let mut parsed: ParsedFiles = BTreeMap::new();
    let mut sources: BTreeMap<&str, String> = BTreeMap::new();
    for file in plan.files.keys() {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).map_err(|source| ScaffoldError::Read {
            path: path.clone(),
            source,
        })?;
        let syntax = syn::parse_file(&text).map_err(|err| ScaffoldError::Parse {
            file: file.clone(),
            message: err.to_string(),
        })?;
        parsed.insert(file.clone(), syntax);
        sources.insert(file, text);
    }

    let mut carried = Carried::default();
    let (new_bodies, needs_deserialize) = decide_bodies(model, plan, &parsed, &mut carried);

    // First pass: reduce each file to its kept items (one group per original item, empty when
    // it stays behind), so that the `use` lines can be checked against the whole service.
    let mut reduced: BTreeMap<String, Vec<Vec<syn::Item>>> = BTreeMap::new();
    for (file, syntax) in &parsed {
        let Some(&role) = plan.files.get(file) else {
            continue;
        };
        let index = FileIndex::new(model, file);
        let groups = syntax
            .items
            .iter()
            .map(|item| {
                if is_test_only(item) {
                    return Vec::new();
                }
                reduce_item(item, role, &index, plan, &new_bodies, &needs_deserialize)
                    .into_iter()
                    .collect()
            })
            .collect();
        reduced.insert(file.clone(), groups);
    }
    let defined = defined_names(model, &reduced);

    for (file, groups) in reduced {
        let Some(source) = model.files.get(&file) else {
            continue;
        };
        let module: Vec<String> = source
            .module_path
            .split("::")
            .skip(1)
            .map(str::to_string)
            .collect();
        let (Some(&role), Some(original), Some(text)) = (
            plan.files.get(&file),
            parsed.get(&file),
            sources.get(file.as_str()),
        ) else {
            continue;
        };
        if module.is_empty() {
            continue;
        }
        let groups = if role == FileRole::Shared {
            groups
        } else {
            imports::filter_uses(groups, &defined)
        };
        let printed = splice::splice(text, &original.items, &groups);
        let service_path = PathBuf::from(format!("src/{}.rs", module.join("/")));
        collect_included_sql(&printed, &file, &service_path, &mut carried.included_sql);
        let header = match role {
            FileRole::Own => String::new(),
            FileRole::Shared => String::new(),
            FileRole::Foreign => format!(
                "// Carried from the monolith's {file}, which belongs to another context:\n\
                 // only what this service's code names, calls turned into stubs.\n"
            ),
        };
        carried
            .files
            .insert(service_path.clone(), format!("{header}{printed}"));
        carried.carried_files.push(SummaryEntry {
            what: service_path.display().to_string(),
            at: file.clone(),
            note: match role {
                FileRole::Own => "the context's own code".to_string(),
                FileRole::Shared => "shared kernel, copied".to_string(),
                FileRole::Foreign => "types and stand-ins from another context".to_string(),
            },
        });
        carried.modules.push(module);
    }

    find_state(model, plan, &parsed, &mut carried)?;
    for route in &plan.routes {
        let Some(item) = model.items.get(&route.handler) else {
            continue;
        };
        let Some(module) = model.files.get(&item.file).map(|f| &f.module_path) else {
            continue;
        };
        carried.routes.push((
            route.method.clone(),
            route.path.clone(),
            format!("{module}::{}", item.name),
        ));
    }
    carried.bridged.sort();
    carried.stubbed.sort();
    Ok(carried)
}

/// Decides bridge or stub for every replaced function, and which structs a bridge reads from
/// JSON (they gain `serde::Deserialize`).
fn decide_bodies(
    model: &CodeModel,
    plan: &Plan<'_>,
    parsed: &ParsedFiles,
    carried: &mut Carried,
) -> (BTreeMap<String, NewBody>, BTreeSet<String>) {
    let mut bodies_by_id = BTreeMap::new();
    let mut needs_deserialize = BTreeSet::new();
    for (id, replacement) in &plan.replaced {
        let Some(item) = model.items.get(id) else {
            continue;
        };
        let Some(sig) = find_signature(parsed, item) else {
            continue;
        };
        let shape = result_shape(&sig.output, model, parsed);
        let deserializable = |name: &str| plain_struct(model, plan, parsed, name).is_some();
        let bridge = replacement.read_through.as_ref().and_then(|read| {
            let shape = shape.as_ref()?;
            let (kind, param) = bodies::bridge_kind(&sig, shape, &deserializable)?;
            Some((read, kind, param, shape.error_ctor.clone()?))
        });
        let at = format!("{}:{}", item.file, item.line);
        let what = item.unit_label();
        match bridge {
            Some((read, kind, param, ctor)) => {
                if let BridgeKind::Json(name) | BridgeKind::OptionalJson(name) = &kind
                    && let Some(found) = plain_struct(model, plan, parsed, name)
                {
                    needs_deserialize.insert(found);
                }
                carried.bridged.push(SummaryEntry {
                    what,
                    at,
                    note: format!(
                        "{}; now GET {} on the {} service",
                        replacement.note, read.route, read.owner
                    ),
                });
                bodies_by_id.insert(
                    id.clone(),
                    NewBody::Bridge(bodies::bridge_body(
                        &sig,
                        &replacement.note,
                        read,
                        &kind,
                        &param,
                        &ctor,
                    )),
                );
            }
            None => {
                carried.stubbed.push(SummaryEntry {
                    what,
                    at,
                    note: replacement.note.clone(),
                });
                bodies_by_id.insert(
                    id.clone(),
                    NewBody::Stub(bodies::stub_body(&sig, &replacement.note, shape.as_ref())),
                );
            }
        }
    }
    (bodies_by_id, needs_deserialize)
}

/// A struct in the service whose fields are all plain values (numbers, text, booleans, options
/// of those), so deriving `Deserialize` on it always compiles. Returns its item id.
fn plain_struct(
    model: &CodeModel,
    plan: &Plan<'_>,
    parsed: &ParsedFiles,
    name: &str,
) -> Option<String> {
    let item = model
        .items
        .values()
        .find(|i| i.kind == ItemKind::Struct && i.name == name && plan.included.contains(&i.id))?;
    let file = parsed.get(&item.file)?;
    let strukt = file.items.iter().find_map(|it| match it {
        syn::Item::Struct(s) if s.ident == name => Some(s),
        _ => None,
    })?;
    let plain = |ty: &str| {
        matches!(
            ty,
            "i64" | "i32" | "u64" | "u32" | "f64" | "f32" | "bool" | "String"
        )
    };
    let all_plain = strukt.fields.iter().all(|field| {
        let ty = field.ty.to_token_stream().to_string().replace(' ', "");
        let inner = ty
            .strip_prefix("Option<")
            .and_then(|rest| rest.strip_suffix('>'))
            .unwrap_or(&ty);
        plain(inner)
    });
    (all_plain && !strukt.fields.is_empty()).then(|| item.id.clone())
}

fn find_signature(parsed: &ParsedFiles, item: &Item) -> Option<syn::Signature> {
    let file = parsed.get(&item.file)?;
    match &item.owner {
        None => file.items.iter().find_map(|it| match it {
            syn::Item::Fn(f) if f.sig.ident == item.name => Some(f.sig.clone()),
            _ => None,
        }),
        Some(owner) => file.items.iter().find_map(|it| match it {
            syn::Item::Impl(imp) if self_type_name(imp).as_deref() == Some(&owner.self_type) => {
                imp.items.iter().find_map(|member| match member {
                    syn::ImplItem::Fn(f) if f.sig.ident == item.name => Some(f.sig.clone()),
                    _ => None,
                })
            }
            _ => None,
        }),
    }
}

fn self_type_name(imp: &syn::ItemImpl) -> Option<String> {
    match imp.self_ty.as_ref() {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The model's items of one file, by name.
struct FileIndex<'a> {
    items: Vec<&'a Item>,
}

impl<'a> FileIndex<'a> {
    fn new(model: &'a CodeModel, file: &'a str) -> Self {
        FileIndex {
            items: model.items_in_file(file).collect(),
        }
    }

    fn free(&self, name: &str) -> Option<&'a Item> {
        self.items
            .iter()
            .find(|i| i.owner.is_none() && i.name == name)
            .copied()
    }

    fn method(&self, self_type: &str, name: &str) -> Option<&'a Item> {
        self.items
            .iter()
            .find(|i| i.name == name && i.owner.as_ref().is_some_and(|o| o.self_type == self_type))
            .copied()
    }
}

fn is_test_only(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Const(i) => &i.attrs,
        _ => return false,
    };
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg") && attr.to_token_stream().to_string().contains("test")
    })
}

fn item_name(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Fn(i) => i.sig.ident.to_string(),
        syn::Item::Struct(i) => i.ident.to_string(),
        syn::Item::Enum(i) => i.ident.to_string(),
        syn::Item::Union(i) => i.ident.to_string(),
        syn::Item::Trait(i) => i.ident.to_string(),
        syn::Item::Type(i) => i.ident.to_string(),
        syn::Item::Const(i) => i.ident.to_string(),
        syn::Item::Static(i) => i.ident.to_string(),
        _ => return None,
    })
}

/// One item of a file as it enters the service, or `None` when it stays behind.
fn reduce_item(
    item: &syn::Item,
    role: FileRole,
    index: &FileIndex<'_>,
    plan: &Plan<'_>,
    new_bodies: &BTreeMap<String, NewBody>,
    needs_deserialize: &BTreeSet<String>,
) -> Option<syn::Item> {
    let keep_all = role == FileRole::Shared;
    match item {
        syn::Item::Use(_) => Some(item.clone()),
        syn::Item::Mod(module) if module.content.is_none() => None,
        syn::Item::Macro(mac) => {
            (role != FileRole::Foreign || mac.ident.is_some()).then(|| item.clone())
        }
        syn::Item::Impl(imp) => {
            if keep_all {
                return Some(item.clone());
            }
            let self_name = self_type_name(imp)?;
            let mut imp = imp.clone();
            let is_trait_impl = imp.trait_.is_some();
            imp.items.retain_mut(|member| match member {
                syn::ImplItem::Fn(f) => {
                    let Some(model_item) = index.method(&self_name, &f.sig.ident.to_string())
                    else {
                        return is_trait_impl;
                    };
                    if !plan.included.contains(&model_item.id) && !is_trait_impl {
                        return false;
                    }
                    apply_body(&mut f.sig, &mut f.block, &model_item.id, new_bodies);
                    true
                }
                _ => true,
            });
            let type_included = index
                .free(&self_name)
                .is_some_and(|t| plan.included.contains(&t.id));
            let keep = if is_trait_impl {
                type_included || !imp.items.is_empty()
            } else {
                !imp.items.is_empty()
            };
            keep.then_some(syn::Item::Impl(imp))
        }
        syn::Item::Fn(function) => {
            if keep_all {
                return Some(item.clone());
            }
            let name = function.sig.ident.to_string();
            let Some(model_item) = index.free(&name) else {
                return (role == FileRole::Own).then(|| item.clone());
            };
            if !plan.included.contains(&model_item.id) {
                return None;
            }
            let mut function = function.clone();
            apply_body(
                &mut function.sig,
                &mut function.block,
                &model_item.id,
                new_bodies,
            );
            Some(syn::Item::Fn(function))
        }
        _ => {
            if keep_all {
                return Some(item.clone());
            }
            let Some(name) = item_name(item) else {
                return (role == FileRole::Own).then(|| item.clone());
            };
            let Some(model_item) = index.free(&name) else {
                return (role == FileRole::Own).then(|| item.clone());
            };
            if !plan.included.contains(&model_item.id) {
                return None;
            }
            let mut item = item.clone();
            if needs_deserialize.contains(&model_item.id)
                && let syn::Item::Struct(strukt) = &mut item
            {
                add_deserialize(strukt);
            }
            Some(item)
        }
    }
}

fn apply_body(
    sig: &mut syn::Signature,
    block: &mut syn::Block,
    id: &str,
    new_bodies: &BTreeMap<String, NewBody>,
) {
    let text = match new_bodies.get(id) {
        Some(NewBody::Bridge(text) | NewBody::Stub(text)) => text,
        None => return,
    };
    if let Ok(new_block) = syn::parse_str::<syn::Block>(text) {
        bodies::drop_mut_bindings(sig);
        *block = new_block;
    }
}

fn add_deserialize(strukt: &mut syn::ItemStruct) {
    let derive = strukt
        .attrs
        .iter_mut()
        .find(|attr| attr.path().is_ident("derive"));
    match derive {
        Some(attr) => {
            let tokens = attr.to_token_stream().to_string();
            if !tokens.contains("Deserialize")
                && let syn::Meta::List(list) = &mut attr.meta
            {
                let existing = list.tokens.clone();
                list.tokens = quote::quote!(#existing, serde::Deserialize);
            }
        }
        None => strukt
            .attrs
            .push(syn::parse_quote!(#[derive(serde::Deserialize)])),
    }
}

/// Names defined at the top of each carried module (`crate::repo::reviews` -> `ReviewRow`...).
fn defined_names(
    model: &CodeModel,
    reduced: &BTreeMap<String, Vec<Vec<syn::Item>>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut defined: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, groups) in reduced {
        let items = groups.iter().flatten();
        let Some(source) = model.files.get(file) else {
            continue;
        };
        let names = defined.entry(source.module_path.clone()).or_default();
        for item in items {
            if let Some(name) = item_name(item) {
                names.insert(name);
            }
            if let syn::Item::Macro(mac) = item {
                // `entity_id!(MovieId)`-style invocations define what they name.
                for token in mac.mac.tokens.clone() {
                    if let proc_macro2::TokenTree::Ident(ident) = token {
                        names.insert(ident.to_string());
                    }
                }
            }
        }
        // Parent modules exist as soon as a child does.
        let mut path = source.module_path.as_str();
        while let Some((parent, child)) = path.rsplit_once("::") {
            defined
                .entry(parent.to_string())
                .or_default()
                .insert(child.to_string());
            path = parent;
        }
    }
    defined
}

/// Records the `.sql` files embedded with `include_str!`, and where they land in the service.
fn collect_included_sql(
    printed: &str,
    file: &str,
    service_path: &Path,
    out: &mut BTreeMap<String, PathBuf>,
) {
    for chunk in printed.split("include_str!(\"").skip(1) {
        let Some((relative, _)) = chunk.split_once('"') else {
            continue;
        };
        if !relative.ends_with(".sql") {
            continue;
        }
        let from = Path::new(file).parent().unwrap_or(Path::new(""));
        let to = service_path.parent().unwrap_or(Path::new(""));
        if let (Some(source), Some(target)) = (
            normalize(&from.join(relative)),
            normalize(&to.join(relative)),
        ) {
            out.insert(source.display().to_string().replace('\\', "/"), target);
        }
    }
}

/// Resolves `..` segments; `None` when the path climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                parts.pop()?;
            }
            std::path::Component::Normal(part) => parts.push(part),
            _ => {}
        }
    }
    Some(parts.iter().collect())
}

/// Finds the handlers' state type and its constructor.
fn find_state(
    model: &CodeModel,
    plan: &Plan<'_>,
    parsed: &ParsedFiles,
    carried: &mut Carried,
) -> Result<(), ScaffoldError> {
    let unsupported = |reason: &str| ScaffoldError::Unsupported {
        context: plan.context.name.clone(),
        reason: reason.to_string(),
    };
    let state_name = plan
        .routes
        .iter()
        .filter_map(|route| {
            let item = model.items.get(&route.handler)?;
            let sig = find_signature(parsed, item)?;
            sig.inputs.iter().find_map(|input| {
                let syn::FnArg::Typed(typed) = input else {
                    return None;
                };
                let syn::Type::Path(path) = typed.ty.as_ref() else {
                    return None;
                };
                let last = path.path.segments.last()?;
                if last.ident != "State" {
                    return None;
                }
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                match args.args.first()? {
                    syn::GenericArgument::Type(ty) => crate::errors_type::last_ident(ty),
                    _ => None,
                }
            })
        })
        .next()
        .ok_or_else(|| unsupported("no handler takes an axum `State<...>`"))?;
    let state_item = model
        .items
        .values()
        .find(|i| i.kind == ItemKind::Struct && i.name == state_name)
        .ok_or_else(|| unsupported("the handlers' state type is not defined in the monolith"))?;
    let constructor = model
        .items
        .values()
        .filter(|i| {
            i.owner
                .as_ref()
                .is_some_and(|o| o.self_item.as_deref() == Some(state_item.id.as_str()))
        })
        .find(|i| matches!(i.name.as_str(), "open" | "connect"))
        .ok_or_else(|| {
            unsupported("the state type has no `open(path)` or `connect(path)` constructor")
        })?;
    let module = model
        .files
        .get(&state_item.file)
        .map(|f| f.module_path.clone())
        .ok_or_else(|| unsupported("the state type's file is not in the model"))?;
    carried.state_type = format!("{module}::{}", state_item.name);
    carried.state_constructor = format!("{module}::{}::{}", state_item.name, constructor.name);
    Ok(())
}
