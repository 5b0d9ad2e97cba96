//! `strangler plan`: the proxy config that starts a strangler migration from an analysis.
//!
//! This is the one place where an analysis becomes a proxy config, so that the analyzer and the
//! proxy never know each other. Every proposed context gets a candidate upstream (a placeholder
//! address for its future service) and a *route group*: one route per distinct path of the
//! context, named `CONTEXT` when it has one path and `CONTEXT-1`, `CONTEXT-2`... otherwise, all
//! at weight 0 with the monolith as primary. `strangler cutover CONTEXT` moves a whole group.
//! Everything else falls through to the monolith.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

use analyzer::analysis::{Analysis, ContextReport};

use crate::cli::PlanArgs;

/// Where the generated config sends traffic, and where the proxy listens.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// Base URL of the monolith.
    pub monolith: String,
    /// Proxy listen address.
    pub listen: String,
    /// Admin API address.
    pub admin: String,
    /// Port of the first context's service.
    pub first_port: u16,
}

/// Runs `strangler plan`.
pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    if let Some(format) = args.export {
        return super::export::run(args, format);
    }
    if args.live.is_some()
        || args.gateway.is_some()
        || args.namespace.is_some()
        || args.service_port.is_some()
    {
        anyhow::bail!("--live, --gateway, --namespace and --service-port go with --export");
    }
    // clap requires PATH without --export.
    let Some(root) = &args.path else {
        anyhow::bail!("name the monolith's source tree to plan, or pass --export");
    };
    let proposal = super::analyze::proposal_options(root, &args.proposal)?;
    let model = super::analyze::build_model(root, &analyzer::ModelOptions::default())?;
    super::analyze::check_model(root, &model, &proposal)?;
    let analysis = analyzer::analyze_model(&model, &root.display().to_string(), &proposal);
    let settings = PlanSettings {
        monolith: args.monolith.trim_end_matches('/').to_string(),
        listen: args.listen.clone(),
        admin: args.admin.clone(),
        first_port: args.first_port,
    };
    let text = render(&analysis, &settings);
    match &args.out {
        Some(path) => {
            super::write_output(path, &text, args.force)?;
            let routes = text.matches("[[routes]]").count();
            let mut err = std::io::stderr().lock();
            writeln!(
                err,
                "wrote {}: {} contexts, {routes} routes at weight 0; start it with `strangler proxy --config {}`",
                path.display(),
                analysis.contexts.len(),
                path.display()
            )?;
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// One route of a group: a path and the methods the context serves on it.
struct PlannedRoute {
    path: String,
    methods: Vec<String>,
}

/// The proxy config for an analysis, as TOML text with comments for the reader.
pub fn render(analysis: &Analysis, settings: &PlanSettings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# strangler plan for {}: one route group per proposed context, every weight at 0.",
        analysis.root
    );
    let _ = writeln!(
        out,
        "# Point each candidate upstream at its new service, start the proxy with"
    );
    let _ = writeln!(
        out,
        "# `strangler proxy --config FILE`, then move traffic with `strangler cutover CONTEXT --weight N`."
    );
    let _ = writeln!(
        out,
        "# Contexts are listed in the recommended extraction order."
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "listen = {}", quote(&settings.listen));
    let _ = writeln!(out, "admin = {}", quote(&settings.admin));
    let _ = writeln!(out);
    let _ = writeln!(out, "[upstreams.monolith]");
    let _ = writeln!(out, "endpoints = [{}]", quote(&settings.monolith));
    let _ = writeln!(out, "health = {{ path = \"/healthz\", interval = \"2s\" }}");

    let mut taken_upstreams = vec!["monolith".to_string()];
    for (position, context) in analysis.contexts.iter().enumerate() {
        let upstream = unique_name(&name_of(&context.name), &mut taken_upstreams);
        let port = u32::from(settings.first_port) + position as u32;
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "# {}. {} ({}; {} files, tables: {})",
            context.extraction_order,
            context.name,
            context.difficulty_label,
            context.files,
            if context.tables.is_empty() {
                "none".to_string()
            } else {
                context.tables.join(", ")
            }
        );
        let _ = writeln!(out, "[upstreams.{upstream}]");
        let _ = writeln!(
            out,
            "endpoints = [\"http://127.0.0.1:{port}\"]  # TODO: the {} service",
            context.name
        );
        let _ = writeln!(out, "health = {{ path = \"/healthz\", interval = \"2s\" }}");
        let routes = planned_routes(context);
        for (k, route) in routes.iter().enumerate() {
            let name = if routes.len() == 1 {
                upstream.clone()
            } else {
                format!("{upstream}-{}", k + 1)
            };
            let _ = writeln!(out);
            let _ = writeln!(out, "[[routes]]");
            let _ = writeln!(out, "name = {}", quote(&name));
            let _ = writeln!(out, "match = {}", match_table(route));
            let _ = writeln!(out, "primary = \"monolith\"");
            let _ = writeln!(out, "candidate = {}", quote(&upstream));
            let _ = writeln!(out, "weight = 0");
            let _ = writeln!(
                out,
                "fallback = true  # a failed idempotent request to the candidate is retried on the monolith"
            );
            let _ = writeln!(out, "# sticky = {{ header = \"x-user-id\" }}");
            let _ = writeln!(
                out,
                "# shadow = {{ sample = 1.0 }}  # mirror reads to the candidate and compare, before any weight"
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "[default]");
    let _ = writeln!(out, "primary = \"monolith\"");
    out
}

/// The context's routes grouped by path (parameters in `{name}` form), methods sorted.
fn planned_routes(context: &ContextReport) -> Vec<PlannedRoute> {
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for route in &context.routes {
        let (method, path) = route.split_once(' ').unwrap_or(("ANY", route.as_str()));
        let methods = by_path.entry(proxy_path(path)).or_default();
        if !methods.iter().any(|m| m == method) {
            methods.push(method.to_ascii_uppercase());
        }
    }
    by_path
        .into_iter()
        .map(|(path, mut methods)| {
            methods.sort();
            if methods.iter().any(|m| m == "ANY") {
                methods.clear();
            }
            PlannedRoute { path, methods }
        })
        .collect()
}

/// A route path in the proxy's syntax: `:id` and `<id>` become `{id}`; a trailing wildcard
/// (`{*rest}`, `*rest`, `<rest..>`) becomes the end of a prefix, marked by a trailing `/*`.
fn proxy_path(path: &str) -> String {
    let mut segments = Vec::new();
    for segment in path.trim().split('/').skip(1) {
        let wildcard = segment.starts_with("{*")
            || segment.starts_with('*')
            || (segment.starts_with('<') && segment.ends_with("..>"));
        if wildcard {
            segments.push("*".to_string());
            break;
        }
        let param = segment
            .strip_prefix(':')
            .or_else(|| segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')))
            .or_else(|| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
        match param {
            Some(name) if !name.is_empty() => segments.push(format!("{{{}}}", safe_param(name))),
            _ => segments.push(segment.to_string()),
        }
    }
    format!("/{}", segments.join("/"))
}

/// Parameter names as the proxy accepts them: letters, digits and `_`.
fn safe_param(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if cleaned.is_empty() {
        "param".into()
    } else {
        cleaned
    }
}

/// The `match = { ... }` inline table of a planned route.
fn match_table(route: &PlannedRoute) -> String {
    let condition = if let Some(prefix) = route.path.strip_suffix("/*") {
        format!(
            "prefix = {}",
            quote(if prefix.is_empty() { "/" } else { prefix })
        )
    } else if route.path.contains('{') {
        format!("pattern = {}", quote(&route.path))
    } else {
        format!("exact = {}", quote(&route.path))
    };
    if route.methods.is_empty() {
        format!("{{ {condition} }}")
    } else {
        let methods: Vec<String> = route.methods.iter().map(|m| quote(m)).collect();
        format!("{{ {condition}, methods = [{}] }}", methods.join(", "))
    }
}

/// A context name as an upstream and route name: letters, digits, `-` and `_`.
fn name_of(context: &str) -> String {
    let cleaned: String = context
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() || trimmed == "default" {
        format!("context-{trimmed}")
    } else {
        trimmed.to_string()
    }
}

fn unique_name(base: &str, taken: &mut Vec<String>) -> String {
    let mut name = base.to_string();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{base}-{k}");
        k += 1;
    }
    taken.push(name.clone());
    name
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_take_the_proxy_syntax() {
        assert_eq!(
            proxy_path("/api/movies/:id/reviews"),
            "/api/movies/{id}/reviews"
        );
        assert_eq!(proxy_path("/api/movies/<id>"), "/api/movies/{id}");
        assert_eq!(proxy_path("/api/movies/{id}"), "/api/movies/{id}");
        assert_eq!(proxy_path("/static/{*rest}"), "/static/*");
        assert_eq!(proxy_path("/"), "/");
    }

    #[test]
    fn names_are_safe_and_unique() {
        assert_eq!(name_of("Reviews & Ratings"), "reviews---ratings");
        assert_eq!(name_of("default"), "context-default");
        let mut taken = vec!["monolith".to_string()];
        assert_eq!(unique_name("monolith", &mut taken), "monolith-2");
    }

    #[test]
    fn quotes_escape() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
    }
}
