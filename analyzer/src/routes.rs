//! HTTP route registrations inside one function, as fragments to be stitched together once
//! names are resolved: axum's `Router::route/nest/merge`, actix-web's `web::scope`,
//! `web::resource`, `service` and `configure`, rocket's `mount("/p", routes![...])`, and the
//! route attributes of actix-web and rocket (`#[get("/p")]`).
//!
//! A nest whose router comes from another function (`.nest("/api", reviews::router())`) is an
//! `Include` fragment: the final paths are computed in `resolve`, when that function is known.

use std::collections::{BTreeMap, BTreeSet};

use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ExprLit, Lit, Token};

use crate::extract::{IdentText, each, first, last, line_of};
use crate::facts::{RawPath, RawRouteFragment, RouteAttribute};
use crate::model::Framework;

/// Method names that build a router; a function calling none of them registers no route.
const ROUTER_METHODS: [&str; 9] = [
    "route",
    "nest",
    "merge",
    "service",
    "configure",
    "mount",
    "nest_service",
    "to",
    "default_service",
];

/// HTTP method helpers: `get(h)`, `web::post()`, `#[put("/p")]`.
const HTTP_METHODS: [&str; 10] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace", "connect", "any",
];

/// Whether a method name builds a router; a body calling none of them registers no route.
pub(crate) fn is_router_method(name: &[u8]) -> bool {
    ROUTER_METHODS
        .iter()
        .any(|method| method.as_bytes() == name)
}

/// Route attributes on a function: `#[get("/p")]`, `#[actix_web::post("/p")]`,
/// `#[route("/p", method = "GET", method = "HEAD")]`.
pub(crate) fn route_attributes(attrs: &[Attribute]) -> Vec<RouteAttribute> {
    let mut found = Vec::new();
    for attr in attrs {
        let Some(last) = last(&attr.path().segments) else {
            continue;
        };
        let text = IdentText::of(&last.ident);
        let name = text.as_str();
        let is_method = HTTP_METHODS.contains(&name) && name != "any";
        if !is_method && name != "route" {
            continue;
        }
        let Ok(args) = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            continue;
        };
        let Some(path) = first(&args).and_then(string_literal) else {
            continue;
        };
        let line = line_of(attr.span());
        if is_method {
            found.push(RouteAttribute {
                method: name.to_uppercase(),
                path,
                line,
            });
            continue;
        }
        for arg in each(&args).skip(1) {
            if let Expr::Assign(assign) = arg
                && matches!(assign.left.as_ref(), Expr::Path(p) if p.path.is_ident("method"))
                && let Some(method) = string_literal(&assign.right)
            {
                found.push(RouteAttribute {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    line,
                });
            }
        }
    }
    found
}

fn string_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        Expr::Group(g) => string_literal(&g.expr),
        Expr::Paren(p) => string_literal(&p.expr),
        _ => None,
    }
}

fn path_of(expr: &Expr) -> Option<RawPath> {
    match expr {
        Expr::Path(p) => Some(
            each(&p.path.segments)
                .map(|s| s.ident.to_string())
                .collect(),
        ),
        Expr::Reference(r) => path_of(&r.expr),
        Expr::Paren(p) => path_of(&p.expr),
        Expr::Group(g) => path_of(&g.expr),
        _ => None,
    }
}

fn last_segment(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) => last(&p.path.segments).map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Joins a prefix and a path the way routers do: `"/api" + "/reviews"`, `"/api/" + "/x"`.
pub(crate) fn join_paths(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        return path.to_string();
    }
    if path.is_empty() || path == "/" {
        return prefix.to_string();
    }
    let prefix = prefix.trim_end_matches('/');
    if path.starts_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    }
}

/// Strips wrappers that do not change the router value: parentheses, `&`, `?`, `.await`.
fn unwrap(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => unwrap(&p.expr),
        Expr::Group(g) => unwrap(&g.expr),
        Expr::Reference(r) => unwrap(&r.expr),
        Expr::Try(t) => unwrap(&t.expr),
        Expr::Await(a) => unwrap(&a.base),
        _ => expr,
    }
}

/// Whether an expression's method chain holds a router-building method.
fn chain_builds_routes(expr: &Expr) -> bool {
    let mut current = unwrap(expr);
    let mut steps = 0;
    while let Expr::MethodCall(call) = current {
        if is_router_method(IdentText::of(&call.method).as_bytes()) {
            return true;
        }
        current = unwrap(&call.receiver);
        steps += 1;
        if steps > 10_000 {
            break;
        }
    }
    false
}

/// Where a chain stands: under which prefix it registers, and on which actix resource.
struct Chain {
    prefix: String,
    resource: Option<String>,
}

/// Evaluates router expressions of one function body.
struct Evaluator<'a> {
    bindings: &'a BTreeMap<String, &'a Expr>,
    consumed: BTreeSet<String>,
    fragments: Vec<RawRouteFragment>,
    depth: usize,
}

impl Evaluator<'_> {
    /// Walks a chain; returns the chain's prefix and resource for the caller's next method.
    fn chain(&mut self, expr: &Expr, prefix: &str) -> Chain {
        let expr = unwrap(expr);
        let plain = || Chain {
            prefix: prefix.to_string(),
            resource: None,
        };
        self.depth += 1;
        if self.depth > 256 {
            self.depth -= 1;
            return plain();
        }
        let result = match expr {
            Expr::MethodCall(call) => {
                let chain = self.chain(&call.receiver, prefix);
                self.method(call, chain)
            }
            Expr::Call(call) => match last_segment(&call.func).as_deref() {
                Some("scope") => Chain {
                    prefix: join_paths(
                        prefix,
                        &first(&call.args)
                            .and_then(string_literal)
                            .unwrap_or_default(),
                    ),
                    resource: None,
                },
                Some("resource") => Chain {
                    prefix: prefix.to_string(),
                    resource: Some(join_paths(
                        prefix,
                        &first(&call.args)
                            .and_then(string_literal)
                            .unwrap_or_default(),
                    )),
                },
                _ => plain(),
            },
            _ => plain(),
        };
        self.depth -= 1;
        result
    }

    fn method(&mut self, call: &syn::ExprMethodCall, chain: Chain) -> Chain {
        let name = call.method.to_string();
        let line = line_of(call.method.span());
        let args: Vec<&Expr> = each(&call.args).collect();
        match (name.as_str(), args.as_slice()) {
            ("route", [path, router]) => {
                if let Some(path) = string_literal(path) {
                    let full = join_paths(&chain.prefix, &path);
                    let framework = if is_actix_method_router(router) {
                        Framework::ActixWeb
                    } else {
                        Framework::Axum
                    };
                    self.method_router(router, &full, line, framework);
                }
            }
            ("route", [router]) => {
                if let Some(resource) = &chain.resource {
                    self.method_router(router, &resource.clone(), line, Framework::ActixWeb);
                }
            }
            ("to", [handler]) => {
                if let Some(resource) = &chain.resource {
                    self.push_route("ANY", resource.clone(), handler, line, Framework::ActixWeb);
                }
            }
            ("nest" | "nest_service", [path, inner]) => {
                if let Some(path) = string_literal(path) {
                    let prefix = join_paths(&chain.prefix, &path);
                    self.sub_router(inner, &prefix, line);
                }
            }
            ("merge", [inner]) => self.sub_router(inner, &chain.prefix.clone(), line),
            // `self.inner.service(req)` is a call through a struct field, tower's `Service`
            // style, not router wiring: routers are built in chains and bindings, and a
            // diagnostic about the "routes of `req`" would only mislead.
            ("service" | "configure" | "default_service", [_])
                if matches!(unwrap(&call.receiver), Expr::Field(_)) => {}
            ("service" | "configure" | "default_service", [inner]) => {
                self.sub_router(inner, &chain.prefix.clone(), line);
            }
            ("mount", [path, routes]) => {
                if let (Some(path), Expr::Macro(mac)) = (string_literal(path), unwrap(routes)) {
                    let prefix = join_paths(&chain.prefix, &path);
                    if let Ok(targets) = mac
                        .mac
                        .parse_body_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                    {
                        for target in targets {
                            self.fragments.push(RawRouteFragment::Include {
                                prefix: prefix.clone(),
                                target: each(&target.segments)
                                    .map(|s| s.ident.to_string())
                                    .collect(),
                                line,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        chain
    }

    /// A router given to `nest`/`merge`/`service`: an inline chain, a local binding, or another
    /// function (call or path) whose routes are included.
    fn sub_router(&mut self, inner: &Expr, prefix: &str, line: u32) {
        let inner = unwrap(inner);
        if chain_builds_routes(inner) || chain_root_is_scope(inner) {
            self.chain(inner, prefix);
            return;
        }
        match inner {
            Expr::Path(p) if p.path.segments.len() == 1 => {
                let name = p.path.segments[0].ident.to_string();
                if let Some(bound) = self.bindings.get(&name).copied() {
                    self.consumed.insert(name);
                    self.chain(bound, prefix);
                    return;
                }
                self.include(path_of(inner), prefix, line);
            }
            Expr::Path(_) => self.include(path_of(inner), prefix, line),
            Expr::Call(call) => {
                let constructor = matches!(
                    last_segment(&call.func).as_deref(),
                    Some("new" | "default" | "scope" | "resource")
                );
                if !constructor {
                    self.include(path_of(&call.func), prefix, line);
                }
            }
            Expr::MethodCall(call) => self.sub_router(&call.receiver, prefix, line),
            _ => {}
        }
    }

    fn include(&mut self, target: Option<RawPath>, prefix: &str, line: u32) {
        if let Some(target) = target {
            self.fragments.push(RawRouteFragment::Include {
                prefix: prefix.to_string(),
                target,
                line,
            });
        }
    }

    /// `get(h).post(h2)`, `axum::routing::get(h)`, `on(MethodFilter::GET, h)`,
    /// `web::get().to(h)`.
    fn method_router(&mut self, expr: &Expr, path: &str, line: u32, framework: Framework) {
        let expr = unwrap(expr);
        match expr {
            Expr::Call(call) => {
                let Some(name) = last_segment(&call.func) else {
                    return;
                };
                let args: Vec<&Expr> = each(&call.args).collect();
                if HTTP_METHODS.contains(&name.as_str()) {
                    if let [handler] = args.as_slice() {
                        self.push_route(
                            &name.to_uppercase(),
                            path.to_string(),
                            handler,
                            line,
                            framework,
                        );
                    }
                } else if name == "on"
                    && let [filter, handler] = args.as_slice()
                    && let Some(method) = last_segment(filter)
                {
                    self.push_route(
                        &method.to_uppercase(),
                        path.to_string(),
                        handler,
                        line,
                        framework,
                    );
                } else if let Some(method) = name.strip_suffix("_service")
                    && HTTP_METHODS.contains(&method)
                {
                    self.fragments.push(RawRouteFragment::Route {
                        method: method.to_uppercase(),
                        path: path.to_string(),
                        handler: None,
                        handler_name: "<service>".to_string(),
                        line,
                        framework,
                    });
                }
            }
            Expr::MethodCall(call) => {
                let name = call.method.to_string();
                if name == "to"
                    && let Expr::Call(inner) = unwrap(&call.receiver)
                    && inner.args.is_empty()
                    && let Some(method) = last_segment(&inner.func)
                    && let Some(handler) = first(&call.args)
                {
                    let method = if HTTP_METHODS.contains(&method.as_str()) {
                        method.to_uppercase()
                    } else {
                        "ANY".to_string()
                    };
                    self.push_route(&method, path.to_string(), handler, line, framework);
                    return;
                }
                self.method_router(&call.receiver, path, line, framework);
                if HTTP_METHODS.contains(&name.as_str())
                    && let Some(handler) = first(&call.args)
                {
                    self.push_route(
                        &name.to_uppercase(),
                        path.to_string(),
                        handler,
                        line,
                        framework,
                    );
                }
            }
            _ => {}
        }
    }

    fn push_route(
        &mut self,
        method: &str,
        path: String,
        handler: &Expr,
        line: u32,
        framework: Framework,
    ) {
        let handler_path = path_of(handler);
        let handler_name = match (&handler_path, unwrap(handler)) {
            (Some(path), _) => path.join("::"),
            (None, Expr::Closure(_) | Expr::Async(_)) => "<closure>".to_string(),
            (None, _) => "<expression>".to_string(),
        };
        self.fragments.push(RawRouteFragment::Route {
            method: method.to_string(),
            path,
            handler: handler_path,
            handler_name,
            line,
            framework,
        });
    }
}

fn is_actix_method_router(expr: &Expr) -> bool {
    matches!(unwrap(expr), Expr::MethodCall(call) if call.method == "to")
}

fn chain_root_is_scope(expr: &Expr) -> bool {
    let mut current = unwrap(expr);
    let mut steps = 0;
    while let Expr::MethodCall(call) = current {
        current = unwrap(&call.receiver);
        steps += 1;
        if steps > 10_000 {
            return false;
        }
    }
    matches!(current, Expr::Call(call) if matches!(last_segment(&call.func).as_deref(), Some("scope" | "resource")))
}

/// Finds the router chains of a body: `let` bindings (kept by name, so a later
/// `.nest("/p", api)` can use them) and the other chains.
struct ChainFinder<'ast> {
    bindings: BTreeMap<String, &'ast Expr>,
    roots: Vec<(Option<String>, &'ast Expr)>,
}

impl<'ast> Visit<'ast> for ChainFinder<'ast> {
    fn visit_local(&mut self, node: &'ast syn::Local) {
        if let (syn::Pat::Ident(ident), Some(init)) = (&node.pat, &node.init)
            && chain_builds_routes(&init.expr)
        {
            let name = ident.ident.to_string();
            self.bindings.insert(name.clone(), &init.expr);
            self.roots.push((Some(name), &init.expr));
            return;
        }
        visit::visit_local(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        if is_router_method(IdentText::of(&node.method).as_bytes()) {
            // A maximal chain: its receivers are part of it, its arguments are evaluated by it.
            return;
        }
        visit::visit_expr_method_call(self, node);
    }

    fn visit_expr(&mut self, node: &'ast Expr) {
        if chain_builds_routes(node) {
            self.roots.push((None, node));
            return;
        }
        visit::visit_expr(self, node);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The route fragments a function body registers.
pub(crate) fn fragments_in_block(block: &syn::Block) -> Vec<RawRouteFragment> {
    let mut finder = ChainFinder {
        bindings: BTreeMap::new(),
        roots: Vec::new(),
    };
    finder.visit_block(block);
    let mut evaluator = Evaluator {
        bindings: &finder.bindings,
        consumed: BTreeSet::new(),
        fragments: Vec::new(),
        depth: 0,
    };
    // Bound chains are evaluated last so that, when another chain nests them, they are
    // consumed there (under its prefix) rather than registered at the root as well.
    for (_, expr) in finder.roots.iter().filter(|(name, _)| name.is_none()) {
        evaluator.chain(expr, "");
    }
    let bound: Vec<(String, &Expr)> = finder
        .roots
        .iter()
        .filter_map(|(name, expr)| name.clone().map(|n| (n, *expr)))
        .collect();
    for (name, expr) in &bound {
        let nested_elsewhere = bound
            .iter()
            .any(|(other, other_expr)| other != name && mentions_name(other_expr, name));
        if nested_elsewhere || evaluator.consumed.contains(name) {
            continue;
        }
        evaluator.chain(expr, "");
    }
    evaluator.fragments
}

/// Whether an expression mentions a local name as a path (a nested router binding).
fn mentions_name(expr: &Expr, name: &str) -> bool {
    struct Finder<'a>(&'a str, bool);
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
            if node.path.is_ident(self.0) {
                self.1 = true;
            }
        }
    }
    let mut finder = Finder(name, false);
    finder.visit_expr(expr);
    finder.1
}
