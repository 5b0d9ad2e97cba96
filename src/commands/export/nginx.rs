//! An nginx config (for the `http` context) that carries out a proxy config's split.
//!
//! nginx chooses a `location` by path and knows nothing of methods or headers there, while a
//! strangler route can ask for both and falls through to the next route when they do not hold.
//! So the config is built per *location*: each one lists, in the proxy's match order, every
//! route that can serve a path it receives, and a `map` over the routes' condition flags picks
//! the first whose methods and headers hold, else `[default]`. Location kinds follow the proxy's
//! precedence: `exact` -> `location =`; `pattern` -> a regex location, written most specific
//! first (nginx tries regexes in order, before plain prefixes); `prefix` -> `location = P` plus
//! `location P/`, so `/api/reviewsx` does not match `/api/reviews` (as in strangler).
//!
//! The split itself is a `split_clients` per route over the route's sticky key (the header or
//! cookie value; a request without it, or a route without `sticky`, gets the random
//! `$request_id`), the candidate listed first, so raising the weight only moves users from the
//! primary to the candidate. nginx hashes with MurmurHash2, strangler with FNV-1a: the same
//! user may be on different sides under each, but each is stable on its own.
//!
//! Shadow becomes `mirror` to an internal location that forwards to the candidate (reads only
//! unless the route mirrors writes, a `$request_id` sample below 1). Unlike strangler, nginx
//! keeps the client's request open until the mirror is answered (a slow candidate delays the
//! next request on that connection), compares nothing, and also mirrors requests that the
//! candidate itself serves.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use strangler_proxy::config::StickyKey;
use strangler_proxy::route_match::PathMatch;

use super::{ExportPlan, ExportRoute, UniqueNames, pattern_regex, sticky_text};

/// The methods strangler mirrors when a route does not mirror writes.
const READ_METHODS: &str = "GET|HEAD|OPTIONS";

/// One nginx location and the routes that may serve it, in match order.
struct Location {
    /// The `location` line's arguments, e.g. `= /api/reviews` or `~ "^/a/[^/]+$"`.
    selector: String,
    /// Indexes into the plan's routes.
    routes: Vec<usize>,
}

/// The nginx config for `plan`.
pub fn render(plan: &ExportPlan<'_>) -> anyhow::Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# strangler plan --export nginx: routes from {}, weights from {}.",
        plan.source, plan.weights_from
    );
    let _ = writeln!(
        out,
        "# Include it inside the http {{ }} block of nginx.conf; export again after each cutover step."
    );
    let _ = writeln!(
        out,
        "# Each route's split_clients gives the candidate its weight; see docs/proxy.md for what differs."
    );

    // Three or four variables per route outgrow nginx's default variables hash.
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "variables_hash_max_size 4096;  # remove if your nginx.conf sets it already"
    );

    // Upstreams.
    let mut upstream_names = UniqueNames::new(&[]);
    let mut upstreams: BTreeMap<String, String> = BTreeMap::new();
    for upstream in plan.config.upstreams() {
        let name = upstream_names.take(&format!("strangler_{}", ident(upstream.name())), '_');
        let _ = writeln!(out);
        let _ = writeln!(out, "upstream {name} {{");
        for endpoint in upstream.endpoints() {
            let _ = writeln!(out, "    server {}:{};", endpoint.host(), endpoint.port());
        }
        let _ = writeln!(out, "    keepalive 16;");
        let _ = writeln!(out, "}}");
        upstreams.insert(upstream.name().to_string(), name);
    }
    let upstream_of = |name: &str| -> String {
        upstreams
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("strangler_{}", ident(name)))
    };

    // Per route: its split (or fixed upstream) and its condition flags.
    let mut idents = UniqueNames::new(&[]);
    let mut targets: Vec<String> = Vec::new();
    let mut flags: Vec<Vec<String>> = Vec::new();
    let mut route_idents: Vec<String> = Vec::new();
    for route in &plan.routes {
        let id = idents.take(&ident(route.config.name()), '_');
        let _ = writeln!(out);
        let _ = writeln!(out, "# route {}", route.describe());
        targets.push(write_split(&mut out, route, &id, &upstream_of)?);
        flags.push(write_conditions(&mut out, route, &id)?);
        route_idents.push(id);
    }

    let locations = locations(plan);
    let default_upstream = upstream_of(plan.config.default_primary());
    // One selector map per distinct list of routes; locations with the same list share it.
    let mut selectors: BTreeMap<Vec<usize>, String> = BTreeMap::new();
    let mut selector_count = 0;
    for location in &locations {
        if selectors.contains_key(&location.routes) {
            continue;
        }
        let value = match selection(&location.routes, &flags) {
            Selection::Fixed(Some(index)) => targets[index].clone(),
            Selection::Fixed(None) => default_upstream.clone(),
            Selection::Conditional { conditional, last } => {
                selector_count += 1;
                let variable = format!("$strangler_location_{selector_count}");
                let key: Vec<String> = conditional
                    .iter()
                    .map(|&index| flags[index].concat())
                    .collect();
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "# the first of {} whose methods and headers hold",
                    conditional
                        .iter()
                        .chain(last.iter())
                        .map(|&index| plan.routes[index].config.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let _ = writeln!(out, "map \"{}\" {variable} {{", key.join(":"));
                for (position, &index) in conditional.iter().enumerate() {
                    let regex: Vec<String> = conditional
                        .iter()
                        .enumerate()
                        .map(|(other, &other_index)| {
                            let bit = if other == position { "1" } else { "[01]" };
                            bit.repeat(flags[other_index].len())
                        })
                        .collect();
                    let _ = writeln!(out, "    \"~^{}$\" {};", regex.join(":"), targets[index]);
                }
                let fallback = match last {
                    Some(index) => targets[index].clone(),
                    None => default_upstream.clone(),
                };
                let _ = writeln!(out, "    default {fallback};");
                let _ = writeln!(out, "}}");
                variable
            }
        };
        selectors.insert(location.routes.clone(), value);
    }

    let listen = if plan.listen.port() == 0 {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "# the proxy listens on port 0 (any free port); nginx needs one: 8080 here"
        );
        let mut address = plan.listen;
        address.set_port(8080);
        address.to_string()
    } else {
        plan.listen.to_string()
    };
    let _ = writeln!(out);
    let _ = writeln!(out, "server {{");
    let _ = writeln!(out, "    listen {listen};");
    let _ = writeln!(
        out,
        "    # pooled keep-alive connections to the upstreams, as strangler keeps them"
    );
    write_proxy_headers(&mut out, "    ", &[]);
    let mut mirrors: Vec<usize> = Vec::new();
    for location in &locations {
        let target = &selectors[&location.routes];
        let _ = writeln!(out);
        let names: Vec<&str> = location
            .routes
            .iter()
            .map(|&index| plan.routes[index].config.name())
            .collect();
        if !names.is_empty() {
            let _ = writeln!(out, "    # {}", names.join(", "));
        }
        let _ = writeln!(out, "    location {} {{", location.selector);
        // The mirror follows the location's first route, the one most requests select.
        if let Some(&first) = location.routes.first()
            && plan.routes[first].config.shadow().is_some()
            && plan.routes[first].config.candidate().is_some()
        {
            let _ = writeln!(
                out,
                "        mirror /_strangler_mirror/{};",
                route_idents[first]
            );
            if !mirrors.contains(&first) {
                mirrors.push(first);
            }
        }
        let _ = writeln!(out, "        proxy_pass http://{target};");
        let _ = writeln!(out, "    }}");
    }
    for index in mirrors {
        let route = &plan.routes[index];
        let (Some(shadow), Some(candidate)) = (route.config.shadow(), route.config.candidate())
        else {
            continue;
        };
        let id = &route_idents[index];
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "    # shadow of {}: a copy to {candidate}, answer discarded, nothing compared",
            route.config.name()
        );
        let _ = writeln!(out, "    location = /_strangler_mirror/{id} {{");
        let _ = writeln!(out, "        internal;");
        if !shadow.mirrors_writes() {
            let _ = writeln!(
                out,
                "        if ($request_method !~ \"^({READ_METHODS})$\") {{ return 204; }}"
            );
        }
        if shadow.sample() < 1.0 {
            let _ = writeln!(
                out,
                "        if ($strangler_sample_{id} = 0) {{ return 204; }}"
            );
        }
        // A location's own proxy_set_header replaces the server's: all of them again.
        write_proxy_headers(&mut out, "        ", &["X-Strangler-Shadow 1"]);
        let _ = writeln!(
            out,
            "        proxy_pass http://{}$request_uri;",
            upstream_of(candidate)
        );
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "}}");
    Ok(out)
}

/// The server's proxy settings (keep-alive to the upstreams, as strangler pools them; the
/// client's Host; X-Forwarded-For) and `extra` headers, each line opened by `indent`.
fn write_proxy_headers(out: &mut String, indent: &str, extra: &[&str]) {
    let _ = writeln!(out, "{indent}proxy_http_version 1.1;");
    let _ = writeln!(out, "{indent}proxy_set_header Connection \"\";");
    let _ = writeln!(out, "{indent}proxy_set_header Host $host;");
    let _ = writeln!(
        out,
        "{indent}proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
    );
    for header in extra {
        let _ = writeln!(out, "{indent}proxy_set_header {header};");
    }
}

/// Writes a route's `split_clients` (and its key map and shadow sample) and returns what a
/// location proxies to when it selects the route: the split's variable, or the primary's
/// upstream when the route has no candidate.
fn write_split(
    out: &mut String,
    route: &ExportRoute<'_>,
    id: &str,
    upstream_of: &dyn Fn(&str) -> String,
) -> anyhow::Result<String> {
    let config = route.config;
    let primary = upstream_of(config.primary());
    let Some(candidate) = config.candidate().map(upstream_of) else {
        return Ok(primary);
    };
    let key = match config.sticky() {
        Some(sticky) => {
            let value = sticky_variable(out, sticky, id)?;
            let key = format!("$strangler_key_{id}");
            let _ = writeln!(
                out,
                "# sticky on {}; a request without it is split at random",
                sticky_text(sticky)
            );
            let _ = writeln!(out, "map {value} {key} {{");
            let _ = writeln!(out, "    \"\" $request_id;");
            let _ = writeln!(out, "    default {value};");
            let _ = writeln!(out, "}}");
            key
        }
        None => "$request_id".to_string(),
    };
    let variable = format!("$strangler_split_{id}");
    let _ = writeln!(out, "split_clients \"{key}\" {variable} {{");
    match route.weight {
        0 => {}
        100 => {
            let _ = writeln!(out, "    100% {candidate};");
        }
        weight => {
            let _ = writeln!(out, "    {weight}% {candidate};");
        }
    }
    if route.weight < 100 {
        let _ = writeln!(out, "    * {primary};");
    }
    let _ = writeln!(out, "}}");
    if let Some(shadow) = config.shadow()
        && shadow.sample() < 1.0
    {
        let per_cent = (shadow.sample().clamp(0.0, 1.0) * 10_000.0).round() / 100.0;
        // Its own hash input: the weight's split also hashes `$request_id`, and the same hash
        // would mirror mostly the requests the candidate already serves.
        let _ = writeln!(
            out,
            "split_clients \"${{request_id}}shadow\" $strangler_sample_{id} {{"
        );
        if per_cent > 0.0 {
            let _ = writeln!(out, "    {per_cent}% 1;");
        }
        let _ = writeln!(out, "    * 0;");
        let _ = writeln!(out, "}}");
    }
    Ok(variable)
}

/// The nginx variable holding a sticky key's value.
fn sticky_variable(out: &mut String, sticky: &StickyKey, id: &str) -> anyhow::Result<String> {
    match sticky {
        StickyKey::Header(name) => {
            let variable = name.as_str().replace('-', "_");
            if !variable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                anyhow::bail!(
                    "sticky header `{name}` has characters nginx cannot name in a variable"
                );
            }
            Ok(format!("$http_{variable}"))
        }
        StickyKey::Cookie(name) if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Ok(format!("$cookie_{name}"))
        }
        StickyKey::Cookie(name) => {
            // `$cookie_NAME` only takes letters, digits and `_`: read the Cookie header instead.
            let variable = format!("$strangler_cookie_{id}");
            let _ = writeln!(out, "map $http_cookie {variable} {{");
            let _ = writeln!(
                out,
                "    \"~(?:^|;\\s*){}=(?<strangler_cookie>[^;]*)\" $strangler_cookie;",
                regex_escape(name)
            );
            let _ = writeln!(out, "    default \"\";");
            let _ = writeln!(out, "}}");
            Ok(variable)
        }
    }
}

/// Writes the maps of a route's method and header conditions; returns their variables (none
/// when the route takes any request on its path).
fn write_conditions(
    out: &mut String,
    route: &ExportRoute<'_>,
    id: &str,
) -> anyhow::Result<Vec<String>> {
    let matcher = route.config.matcher();
    let mut flags = Vec::new();
    if !matcher.methods.is_empty() {
        let variable = format!("$strangler_method_{id}");
        let _ = writeln!(out, "map $request_method {variable} {{");
        for method in &matcher.methods {
            // Regexes: plain map keys compare without case, methods with it.
            let _ = writeln!(out, "    \"~^{}$\" 1;", regex_escape(method.as_str()));
        }
        let _ = writeln!(out, "    default 0;");
        let _ = writeln!(out, "}}");
        flags.push(variable);
    }
    for (k, condition) in matcher.headers.iter().enumerate() {
        let name = condition.name.as_str().replace('-', "_");
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            anyhow::bail!(
                "route `{}`: header `{}` has characters nginx cannot name in a variable",
                route.config.name(),
                condition.name
            );
        }
        let variable = format!("$strangler_header_{id}_{}", k + 1);
        let _ = writeln!(out, "map $http_{name} {variable} {{");
        match &condition.value {
            Some(value) => {
                let value = value.to_str().map_err(|_| {
                    anyhow::anyhow!(
                        "route `{}`: the value of header `{}` is not text",
                        route.config.name(),
                        condition.name
                    )
                })?;
                let _ = writeln!(
                    out,
                    "    {} 1;",
                    quoted(&format!("~^{}$", regex_escape(value)))
                );
                let _ = writeln!(out, "    default 0;");
            }
            None => {
                // nginx cannot tell an absent header from an empty one.
                let _ = writeln!(out, "    \"\" 0;");
                let _ = writeln!(out, "    default 1;");
            }
        }
        let _ = writeln!(out, "}}");
        flags.push(variable);
    }
    Ok(flags)
}

/// How a location picks its upstream.
enum Selection {
    /// Always the same route's target (`None`: `[default]`).
    Fixed(Option<usize>),
    /// The first of `conditional` whose flags are all 1, else `last` (or `[default]`).
    Conditional {
        conditional: Vec<usize>,
        last: Option<usize>,
    },
}

fn selection(routes: &[usize], flags: &[Vec<String>]) -> Selection {
    let mut conditional = Vec::new();
    for &index in routes {
        if flags[index].is_empty() {
            if conditional.is_empty() {
                return Selection::Fixed(Some(index));
            }
            return Selection::Conditional {
                conditional,
                last: Some(index),
            };
        }
        conditional.push(index);
    }
    if conditional.is_empty() {
        Selection::Fixed(None)
    } else {
        Selection::Conditional {
            conditional,
            last: None,
        }
    }
}

/// The locations of the plan, in the order nginx needs (regexes most specific first), each
/// with the routes that can serve its paths, in the proxy's match order.
fn locations(plan: &ExportPlan<'_>) -> Vec<Location> {
    let mut exact: BTreeSet<String> = BTreeSet::new();
    let mut prefixes: BTreeSet<String> = BTreeSet::new();
    let mut patterns: Vec<usize> = Vec::new();
    for (index, route) in plan.routes.iter().enumerate() {
        match &route.config.matcher().path {
            PathMatch::Exact(path) => {
                exact.insert(path.clone());
            }
            PathMatch::Prefix(prefix) => {
                if prefix.ends_with('/') {
                    prefixes.insert(prefix.clone());
                } else {
                    exact.insert(prefix.clone());
                    prefixes.insert(format!("{prefix}/"));
                }
            }
            PathMatch::Pattern(_) => {
                if !patterns.iter().any(|&other| {
                    plan.routes[other].config.matcher().path == route.config.matcher().path
                }) {
                    patterns.push(index);
                }
            }
        }
    }
    let mut out = Vec::new();
    for path in &exact {
        // Every route that matches this very path, whatever its kind.
        let routes = (0..plan.routes.len())
            .filter(|&i| plan.routes[i].config.matcher().path.matches(path))
            .collect();
        out.push(Location {
            selector: format!("= {}", quoted(path)),
            routes,
        });
    }
    // `patterns` is already in match order (the plan's routes are), most specific first.
    for &index in &patterns {
        let path = &plan.routes[index].config.matcher().path;
        let PathMatch::Pattern(segments) = path else {
            continue;
        };
        let probe = path.text();
        let routes = (0..plan.routes.len())
            .filter(|&i| {
                let other = &plan.routes[i].config.matcher().path;
                other == path || (!matches!(other, PathMatch::Exact(_)) && other.matches(&probe))
            })
            .collect();
        out.push(Location {
            selector: format!("~ {}", quoted(&pattern_regex(segments))),
            routes,
        });
    }
    prefixes.insert("/".into());
    for prefix in &prefixes {
        // The prefix routes covering this prefix (the longest first, in match order).
        let bare = if prefix == "/" {
            "/"
        } else {
            prefix.trim_end_matches('/')
        };
        let routes = (0..plan.routes.len())
            .filter(|&i| match &plan.routes[i].config.matcher().path {
                PathMatch::Prefix(other) => {
                    other == prefix || PathMatch::Prefix(other.clone()).matches(bare)
                }
                _ => false,
            })
            .collect();
        out.push(Location {
            selector: quoted(prefix),
            routes,
        });
    }
    out
}

/// A route or upstream name as part of an nginx variable name: letters, digits and `_`.
fn ident(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "route".into()
    } else {
        cleaned
    }
}

/// A string nginx reads as one argument: bare when safe, otherwise double-quoted.
fn quoted(text: &str) -> String {
    let bare = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-.~%:@!,+=".contains(c));
    if bare {
        return text.to_string();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Text as a literal inside a PCRE regex.
fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_when_needed() {
        assert_eq!(quoted("/api/reviews"), "/api/reviews");
        assert_eq!(quoted("/a b"), "\"/a b\"");
        assert_eq!(quoted("^/a/[^/]+$"), "\"^/a/[^/]+$\"");
        assert_eq!(quoted("/a\"b"), "\"/a\\\"b\"");
    }

    #[test]
    fn idents_take_nginx_variable_characters() {
        assert_eq!(ident("movie-reviews.v2"), "movie_reviews_v2");
    }
}
