//! Filling the askama templates of `templates/service/` and assembling the generated crate.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::path::PathBuf;

use askama::Template;

use crate::carry::Carried;
use crate::plan::Plan;
use crate::schema::Migrations;
use crate::{GeneratedService, ScaffoldError, Summary, SummaryEntry};

/// Everything the renderer needs.
pub(crate) struct Inputs<'a> {
    pub plan: &'a Plan<'a>,
    pub carried: Carried,
    pub migrations: Migrations,
    pub name: String,
    pub port: u16,
}

/// Routes sharing a path, as one `.route(path, get(a).post(b))` call.
pub(crate) struct RouteGroup {
    path: String,
    methods: String,
}

/// One route, for the tests and the README.
pub(crate) struct RouteProbe {
    method: String,
    path: String,
}

/// One embedded migration of a service that applies its own.
pub(crate) struct MigrationFile {
    version: String,
    path: String,
}

/// A table `copy-from` fills.
pub(crate) struct TableView {
    name: String,
    columns: Vec<String>,
}

/// A service this one reads from.
pub(crate) struct UpstreamView {
    context: String,
    env: String,
    host: String,
}

/// A `[[routes]]` block of the proxy config.
pub(crate) struct RouteBlock {
    name: String,
    path: String,
    methods: String,
}

/// The values every template reads.
pub(crate) struct View {
    name: String,
    context: String,
    crate_ident: String,
    env_prefix: String,
    port: u16,
    module_tree: String,
    routes: Vec<RouteGroup>,
    routing_imports: String,
    routes_flat: Vec<RouteProbe>,
    state_type: String,
    bin_state_type: String,
    bin_state_constructor: String,
    own_migrations: bool,
    migration_files: Vec<MigrationFile>,
    tables: Vec<TableView>,
    upstreams: Vec<UpstreamView>,
    route_blocks: Vec<RouteBlock>,
    carried: Vec<SummaryEntry>,
    bridged: Vec<SummaryEntry>,
    stubbed: Vec<SummaryEntry>,
    skipped_routes: Vec<String>,
}

macro_rules! service_template {
    ($type:ident, $path:literal) => {
        #[derive(Template)]
        #[template(path = $path, escape = "none")]
        struct $type<'a>(&'a View);

        impl Deref for $type<'_> {
            type Target = View;

            fn deref(&self) -> &View {
                self.0
            }
        }
    };
}

service_template!(CargoToml, "service/Cargo.toml");
service_template!(MainRs, "service/src/main.rs");
service_template!(LibRs, "service/src/lib.rs");
service_template!(RoutesRs, "service/src/routes.rs");
service_template!(OpsRs, "service/src/ops.rs");
service_template!(UpstreamRs, "service/src/upstream.rs");
service_template!(CopyRs, "service/src/copy.rs");
service_template!(ServiceTests, "service/tests/service.rs");
service_template!(Dockerfile, "service/Dockerfile");
service_template!(DockerIgnore, "service/dockerignore");
service_template!(Deployment, "service/k8s/deployment.yaml");
service_template!(K8sService, "service/k8s/service.yaml");
service_template!(RouteToml, "service/strangler.route.toml");
service_template!(Readme, "service/README.md");

/// Renders the templates and assembles the crate.
pub(crate) fn render(inputs: Inputs<'_>) -> Result<GeneratedService, ScaffoldError> {
    let Inputs {
        plan,
        carried,
        migrations,
        name,
        port,
    } = inputs;
    let context = plan.context.name.clone();
    let crate_ident = name.replace('-', "_");
    let mut files: BTreeMap<PathBuf, String> = carried.files.clone();
    let (module_tree, extra_declarations) = module_tree(&carried.modules);
    for (file, declarations) in extra_declarations {
        if let Some(text) = files.get_mut(&file) {
            text.push('\n');
            text.push_str(&declarations);
        }
    }

    let mut groups: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (method, path, handler) in &carried.routes {
        groups.entry(path).or_default().push((method, handler));
    }
    let mut used_methods = BTreeSet::new();
    let routes: Vec<RouteGroup> = groups
        .iter()
        .map(|(path, handlers)| {
            let mut chain = String::new();
            for (index, (method, handler)) in handlers.iter().enumerate() {
                let function = method_function(method);
                if index == 0 {
                    used_methods.insert(function);
                    chain.push_str(&format!("{function}({handler})"));
                } else {
                    chain.push_str(&format!(".{function}({handler})"));
                }
            }
            RouteGroup {
                path: path.to_string(),
                methods: chain,
            }
        })
        .collect();
    let routes_flat: Vec<RouteProbe> = carried
        .routes
        .iter()
        .map(|(method, path, _)| RouteProbe {
            method: method.clone(),
            path: path.clone(),
        })
        .collect();
    let route_blocks = groups
        .iter()
        .map(|(path, handlers)| {
            let methods: Vec<String> = handlers
                .iter()
                .map(|(method, _)| format!("\"{method}\""))
                .collect();
            RouteBlock {
                name: format!("{context}-{}", slug(path)),
                path: path.to_string(),
                methods: methods.join(", "),
            }
        })
        .collect();
    let upstreams = plan
        .upstreams
        .iter()
        .map(|upstream| UpstreamView {
            context: upstream.clone(),
            env: format!("{}_URL", upstream.to_ascii_uppercase().replace('-', "_")),
            host: format!("{upstream}-service"),
        })
        .collect();
    let migration_files = migrations
        .files
        .keys()
        .map(|path| MigrationFile {
            version: path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.display().to_string().replace('\\', "/"),
        })
        .collect();

    let view = View {
        env_prefix: crate_ident.to_ascii_uppercase(),
        context: context.clone(),
        port,
        module_tree,
        routes,
        routing_imports: used_methods.into_iter().collect::<Vec<_>>().join(", "),
        routes_flat,
        state_type: carried.state_type.clone(),
        bin_state_type: in_binary(&carried.state_type, &crate_ident),
        bin_state_constructor: in_binary(&carried.state_constructor, &crate_ident),
        own_migrations: !migrations.applied_by_carried_code,
        migration_files,
        tables: migrations
            .tables
            .iter()
            .map(|t| TableView {
                name: t.name.clone(),
                columns: t.columns.clone(),
            })
            .collect(),
        upstreams,
        route_blocks,
        carried: carried.carried_files.clone(),
        bridged: carried.bridged.clone(),
        stubbed: carried.stubbed.clone(),
        skipped_routes: plan.skipped_routes.clone(),
        name: name.clone(),
        crate_ident,
    };

    let rendered: [(&str, &'static str, Result<String, askama::Error>); 14] = [
        ("Cargo.toml", "Cargo.toml", CargoToml(&view).render()),
        ("src/main.rs", "src/main.rs", MainRs(&view).render()),
        ("src/lib.rs", "src/lib.rs", LibRs(&view).render()),
        ("src/routes.rs", "src/routes.rs", RoutesRs(&view).render()),
        ("src/ops.rs", "src/ops.rs", OpsRs(&view).render()),
        (
            "src/upstream.rs",
            "src/upstream.rs",
            UpstreamRs(&view).render(),
        ),
        ("src/copy.rs", "src/copy.rs", CopyRs(&view).render()),
        (
            "tests/service.rs",
            "tests/service.rs",
            ServiceTests(&view).render(),
        ),
        ("Dockerfile", "Dockerfile", Dockerfile(&view).render()),
        (
            ".dockerignore",
            "dockerignore",
            DockerIgnore(&view).render(),
        ),
        (
            "k8s/deployment.yaml",
            "k8s/deployment.yaml",
            Deployment(&view).render(),
        ),
        (
            "k8s/service.yaml",
            "k8s/service.yaml",
            K8sService(&view).render(),
        ),
        (
            "strangler.route.toml",
            "strangler.route.toml",
            RouteToml(&view).render(),
        ),
        ("README.md", "README.md", Readme(&view).render()),
    ];
    for (path, template, result) in rendered {
        let mut text = result.map_err(|err| ScaffoldError::Template {
            template,
            message: err.to_string(),
        })?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        files.insert(PathBuf::from(path), text);
    }
    files.extend(migrations.files.clone());

    Ok(GeneratedService {
        name,
        context,
        files,
        summary: Summary {
            carried_files: carried.carried_files,
            bridged: carried.bridged,
            stubbed: carried.stubbed,
            routes: carried
                .routes
                .iter()
                .map(|(method, path, _)| format!("{method} {path}"))
                .collect(),
            tables: migrations.tables.iter().map(|t| t.name.clone()).collect(),
            skipped_routes: plan.skipped_routes.clone(),
        },
    })
}

/// A `crate::...` path as the binary (a crate of its own) names it.
fn in_binary(path: &str, crate_ident: &str) -> String {
    match path.strip_prefix("crate::") {
        Some(rest) => format!("{crate_ident}::{rest}"),
        None => path.to_string(),
    }
}

fn method_function(method: &str) -> &'static str {
    match method {
        "GET" => "get",
        "POST" => "post",
        "PUT" => "put",
        "DELETE" => "delete",
        "PATCH" => "patch",
        "HEAD" => "head",
        "OPTIONS" => "options",
        _ => "any",
    }
}

/// `/api/movies/{id}/reviews` -> `movies-id-reviews`.
fn slug(path: &str) -> String {
    let words: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != "api")
        .map(|segment| {
            segment
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .collect();
    if words.is_empty() {
        "root".to_string()
    } else {
        words.join("-")
    }
}

/// A module of the generated crate.
#[derive(Default)]
struct ModuleNode {
    has_file: bool,
    children: BTreeMap<String, ModuleNode>,
}

/// The crate root's module declarations, and the `pub mod` lines a carried file with
/// submodules must gain (service path -> lines).
fn module_tree(modules: &[Vec<String>]) -> (String, BTreeMap<PathBuf, String>) {
    let mut root = ModuleNode::default();
    for path in modules {
        let mut node = &mut root;
        for segment in path {
            node = node.children.entry(segment.clone()).or_default();
        }
        node.has_file = true;
    }
    let mut extra = BTreeMap::new();
    let mut out = String::new();
    declare(&root, &mut Vec::new(), 0, &mut out, &mut extra);
    (out.trim_end().to_string(), extra)
}

fn declare(
    node: &ModuleNode,
    path: &mut Vec<String>,
    depth: usize,
    out: &mut String,
    extra: &mut BTreeMap<PathBuf, String>,
) {
    let indent = "    ".repeat(depth);
    for (name, child) in &node.children {
        path.push(name.clone());
        if child.has_file {
            out.push_str(&format!("{indent}pub mod {name};\n"));
            if !child.children.is_empty() {
                let mut lines = String::new();
                declare(child, path, 0, &mut lines, extra);
                extra.insert(PathBuf::from(format!("src/{}.rs", path.join("/"))), lines);
            }
        } else {
            out.push_str(&format!("{indent}pub mod {name} {{\n"));
            declare(child, path, depth + 1, out, extra);
            out.push_str(&format!("{indent}}}\n"));
        }
        path.pop();
    }
}
