//! The demo's proxy config: what `strangler plan` writes for the sample monolith, with the
//! reviews context's candidate pointed at the running reviews service and set up for a live
//! cutover (sticky users, fallback, shadow with mirrored writes, fast health checks and outlier
//! ejection), and the other contexts' routes left on the monolith.

use anyhow::Context as _;
use toml::Value;

use super::traffic::USER_HEADER;

/// Where the parts run.
pub struct Endpoints<'a> {
    /// The monolith's base URL.
    pub monolith: &'a str,
    /// The reviews service's base URL.
    pub reviews: &'a str,
    /// The proxy's log file.
    pub log: &'a std::path::Path,
}

/// The routes of the candidate `context` (the route group `strangler cutover CONTEXT` moves).
pub fn routes_of(config: &Value, context: &str) -> Vec<String> {
    config
        .get("routes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|route| route.get("candidate").and_then(Value::as_str) == Some(context))
        .filter_map(|route| route.get("name").and_then(Value::as_str).map(String::from))
        .collect()
}

/// Turns the text of `strangler plan` into the demo's config (TOML text).
pub fn demo_config(plan: &str, context: &str, at: &Endpoints<'_>) -> anyhow::Result<String> {
    let mut config: Value = toml::from_str(plan).context("the plan is not valid TOML")?;
    let table = config
        .as_table_mut()
        .context("the plan is not a TOML table")?;
    table.insert("listen".into(), Value::String("127.0.0.1:0".into()));
    table.insert("admin".into(), Value::String("127.0.0.1:0".into()));
    table.insert("watch_config".into(), Value::String("off".into()));
    let mut log = toml::map::Map::new();
    log.insert("target".into(), Value::String(at.log.display().to_string()));
    log.insert("access".into(), Value::Boolean(true));
    table.insert("log".into(), Value::Table(log));

    let upstreams = table
        .get_mut("upstreams")
        .and_then(Value::as_table_mut)
        .context("the plan has no upstreams")?;
    if !upstreams.contains_key(context) {
        anyhow::bail!(
            "the analysis proposed no `{context}` context, so the plan has no route for it"
        );
    }
    // Only the monolith and the service that really runs are contacted.
    upstreams.retain(|name, _| name == "monolith" || name == context);
    let monolith = upstreams
        .get_mut("monolith")
        .and_then(Value::as_table_mut)
        .context("the plan has no monolith upstream")?;
    monolith.insert(
        "endpoints".into(),
        Value::Array(vec![Value::String(at.monolith.into())]),
    );
    monolith.insert(
        "health".into(),
        table_of("path = \"/healthz\"\ninterval = \"1s\""),
    );
    let candidate = upstreams
        .get_mut(context)
        .and_then(Value::as_table_mut)
        .context("the candidate upstream is not a table")?;
    candidate.insert(
        "endpoints".into(),
        Value::Array(vec![Value::String(at.reviews.into())]),
    );
    // Readiness: the service answers and its database holds its tables. Checked often, and three
    // failed requests in a row eject the instance, so a dead service is bypassed within moments
    // (its first failed reads fall back to the monolith; a write it fails cannot be retried).
    candidate.insert(
        "health".into(),
        table_of("path = \"/readyz\"\ninterval = \"250ms\""),
    );
    candidate.insert(
        "outlier".into(),
        table_of("failures = 3\nejection = \"30s\""),
    );

    let routes = table
        .get_mut("routes")
        .and_then(Value::as_array_mut)
        .context("the plan has no routes")?;
    for route in routes.iter_mut() {
        let Some(route) = route.as_table_mut() else {
            continue;
        };
        if route.get("candidate").and_then(Value::as_str) == Some(context) {
            route.insert("weight".into(), Value::Integer(0));
            route.insert("fallback".into(), Value::Boolean(true));
            let mut sticky = toml::map::Map::new();
            sticky.insert("header".into(), Value::String(USER_HEADER.into()));
            route.insert("sticky".into(), Value::Table(sticky));
            // Mirrored writes keep the service's copy in step while the monolith serves them;
            // reviews keep the monolith's ids and timestamps on both sides (the service records
            // the monolith's rows), so nothing needs ignoring: every field is compared.
            route.insert(
                "shadow".into(),
                table_of("sample = 1.0\nwrites = true\ntimeout = \"5s\""),
            );
        } else {
            // Other contexts have no service yet: their routes stay on the monolith.
            for key in ["candidate", "weight", "fallback", "sticky", "shadow"] {
                route.remove(key);
            }
        }
    }
    let mut text = String::from(
        "# strangler demo: the plan of `strangler plan sample-monolith`, with the reviews routes\n\
         # pointed at the running reviews service, sticky on x-user-id, fallback and shadow on.\n\n",
    );
    text.push_str(&toml::to_string(&config).context("cannot write the demo's config")?);
    Ok(text)
}

/// A small TOML table from its text (the fixed pieces the demo adds).
fn table_of(text: &str) -> Value {
    toml::from_str(text).unwrap_or_else(|_| Value::Table(toml::map::Map::new()))
}
