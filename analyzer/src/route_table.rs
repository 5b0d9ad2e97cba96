//! Stitches the route fragments of all functions into the full route list: includes are
//! followed from the functions nobody includes (the app builders), prefixes applied on the
//! way, handlers resolved to items.

use std::collections::{BTreeMap, BTreeSet};

use crate::build::Assembler;
use crate::facts::RawRouteFragment;
use crate::model::{CrateInfo, Diagnostic, Framework, Route};
use crate::modules::FilePlace;
use crate::resolve::{ItemIndex, Resolution};
use crate::routes::join_paths;

const MAX_INCLUDE_DEPTH: usize = 32;

struct Stitcher<'a, 'b> {
    assembler: &'a Assembler<'b>,
    crates: &'a [CrateInfo],
    places: &'a [FilePlace],
    routes: BTreeSet<Route>,
}

impl Stitcher<'_, '_> {
    fn resolve_function(&self, from: ItemIndex, path: &[String]) -> Option<ItemIndex> {
        match self
            .assembler
            .scopes
            .resolve(&self.assembler.context(from), path)
        {
            Resolution::Item(target) if self.assembler.scopes.items[target].kind.is_function() => {
                Some(target)
            }
            _ => None,
        }
    }

    fn attribute_framework(&self, item: ItemIndex) -> Framework {
        let file = self.assembler.scopes.items[item].file;
        let uses_rocket = self
            .crates
            .get(self.places[file].crate_index)
            .is_some_and(|c| c.dependencies.iter().any(|d| d == "rocket"));
        if uses_rocket {
            Framework::Rocket
        } else {
            Framework::ActixWeb
        }
    }

    fn expand(&mut self, item: ItemIndex, prefix: &str, stack: &mut Vec<ItemIndex>) {
        if stack.contains(&item) || stack.len() > MAX_INCLUDE_DEPTH {
            return;
        }
        stack.push(item);
        let entry = &self.assembler.scopes.items[item];
        let raw = &self.assembler.facts[entry.file].items[entry.raw];
        let file = self.assembler.files[entry.file].clone();
        for attribute in &raw.extras().route_attributes {
            self.routes.insert(Route {
                method: attribute.method.clone(),
                path: join_paths(prefix, &attribute.path),
                handler: Some(self.assembler.ids[item].clone()),
                handler_name: raw.name.clone(),
                file: file.clone(),
                line: attribute.line,
                framework: self.attribute_framework(item),
            });
        }
        for fragment in &raw.extras().routes {
            match fragment {
                RawRouteFragment::Route {
                    method,
                    path,
                    handler,
                    handler_name,
                    line,
                    framework,
                } => {
                    let handler_item = handler
                        .as_ref()
                        .and_then(|h| self.resolve_function(item, h))
                        .map(|h| self.assembler.ids[h].clone());
                    self.routes.insert(Route {
                        method: method.clone(),
                        path: join_paths(prefix, path),
                        handler: handler_item,
                        handler_name: handler_name.clone(),
                        file: file.clone(),
                        line: *line,
                        framework: *framework,
                    });
                }
                RawRouteFragment::Include {
                    prefix: inner,
                    target,
                    ..
                } => {
                    if let Some(target) = self.resolve_function(item, target) {
                        self.expand(target, &join_paths(prefix, inner), stack);
                    }
                }
            }
        }
        stack.pop();
    }
}

/// All routes of the workspace, sorted by path, method, then registration place.
pub(crate) fn build_routes(
    assembler: &Assembler<'_>,
    crates: &[CrateInfo],
    places: &[FilePlace],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Route> {
    let scopes = assembler.scopes;
    let mut registering = Vec::new();
    let mut included: BTreeSet<ItemIndex> = BTreeSet::new();
    let mut stitcher = Stitcher {
        assembler,
        crates,
        places,
        routes: BTreeSet::new(),
    };
    for (index, entry) in scopes.items.iter().enumerate() {
        let raw = &assembler.facts[entry.file].items[entry.raw];
        if raw.extras().routes.is_empty() && raw.extras().route_attributes.is_empty() {
            continue;
        }
        registering.push(index);
        for fragment in &raw.extras().routes {
            if let RawRouteFragment::Include { target, line, .. } = fragment {
                match stitcher.resolve_function(index, target) {
                    Some(target) => {
                        included.insert(target);
                    }
                    None => diagnostics.push(Diagnostic {
                        file: assembler.files[entry.file].clone(),
                        line: Some(*line),
                        message: format!(
                            "routes of `{}` not found in the workspace; its paths are missing",
                            target.join("::")
                        ),
                    }),
                }
            }
        }
    }
    for index in registering {
        if !included.contains(&index) {
            stitcher.expand(index, "", &mut Vec::new());
        }
    }
    let mut routes: Vec<Route> = stitcher.routes.into_iter().collect();
    routes.sort_by(|a, b| {
        (&a.path, &a.method, &a.file, a.line).cmp(&(&b.path, &b.method, &b.file, b.line))
    });
    // One route registered twice at the same place (a builder reached by two roots) is one route.
    let mut seen = BTreeMap::new();
    routes.retain(|route| {
        seen.insert(
            (
                route.method.clone(),
                route.path.clone(),
                route.handler.clone(),
            ),
            (),
        )
        .is_none()
    });
    routes
}
