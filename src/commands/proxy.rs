//! `strangler proxy`, `strangler cutover` and `strangler status`: thin shells over
//! `strangler_proxy` (the server and its admin client).

use std::io::Write;

use anyhow::Context;
use strangler_proxy::{BlockingAdminClient, CutoverPlan, PlanEvent, PlanOutcome};

use crate::cli::{AdminArgs, CutoverArgs, ProxyArgs, StatusArgs};

/// Writes to stdout, returning whether anyone still reads it. A closed stdout (`strangler status
/// | head`) is no reason to panic, and no reason to stop a cutover half-way: the text is dropped
/// and the command goes on.
fn write_stdout(text: std::fmt::Arguments<'_>) -> bool {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(text).and_then(|()| stdout.flush()).is_ok()
}

/// `println!` through [`write_stdout`].
macro_rules! say {
    ($($arg:tt)*) => {
        write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`write_stdout`].
macro_rules! say_raw {
    ($($arg:tt)*) => {
        write_stdout(format_args!($($arg)*))
    };
}

/// Runs the proxy until SIGTERM or ctrl-c.
pub fn proxy(args: &ProxyArgs) -> anyhow::Result<()> {
    let report = strangler_proxy::serve::serve_until_signal(
        &args.config,
        usize::from(args.workers),
        |running| {
            say!(
                "strangler proxy listening on http://{}",
                running.listen_addr()
            );
            say!("admin API on http://{}", running.admin_addr());
        },
    )?;
    if !report.drained {
        anyhow::bail!("stopped before every in-flight request finished (drain timeout)");
    }
    Ok(())
}

fn admin_client(args: &AdminArgs) -> anyhow::Result<BlockingAdminClient> {
    Ok(BlockingAdminClient::new(&args.admin, args.token.clone())?)
}

/// Sets a route's weight on a running proxy, at once or by a progressive plan.
pub fn cutover(args: &CutoverArgs) -> anyhow::Result<()> {
    if let Some(steps) = &args.steps {
        // A walk goes one way: up. Lowering a weight moves sticky users back to the primary,
        // which `--weight` does on purpose and a plan should never do by a typo.
        if let Some(pair) = steps.windows(2).find(|pair| pair[0] >= pair[1]) {
            anyhow::bail!(
                "--steps must rise from step to step: {} is followed by {}",
                pair[0],
                pair[1]
            );
        }
        // A group (`reviews` for `reviews-1`, `reviews-2`...) moves as one: same weight at each
        // step, checks over the sum, all back to 0 on a failed check.
        let routes = if args.dry_run {
            vec![args.route.clone()]
        } else {
            route_group(&admin_client(&args.admin)?, &args.route)
                .unwrap_or_else(|| vec![args.route.clone()])
        };
        let plan = CutoverPlan {
            routes,
            steps: steps.clone(),
            interval: args.interval,
            max_error_rate: args.max_error_rate,
            min_match_rate: args.min_match_rate,
        };
        say_raw!("{}", plan.describe());
        if args.dry_run {
            return Ok(());
        }
        let client = admin_client(&args.admin)?;
        let outcome = client.run_plan(&plan, |event| match event {
            PlanEvent::Step { number, weight } => {
                say!(
                    "step {number}: weight {weight}%, watching for {:?}",
                    args.interval
                );
            }
            PlanEvent::Passed {
                number,
                requests: 0,
                ..
            } => {
                say!(
                    "step {number}: passed, but the candidate got no requests during it: nothing was checked"
                );
            }
            PlanEvent::Passed {
                number,
                requests,
                errors,
            } => {
                say!("step {number}: passed ({errors} of {requests} candidate requests failed)");
            }
        })?;
        return match outcome {
            PlanOutcome::Completed => {
                say!("route {}: cutover complete", args.route);
                Ok(())
            }
            PlanOutcome::RolledBack { at_weight, reason } => anyhow::bail!(
                "route {}: rolled back to weight 0 at {at_weight}%: {reason}",
                args.route
            ),
            PlanOutcome::Frozen { at_weight, reason } => anyhow::bail!(
                "route {}: stopped, weight held at {at_weight}%: {reason}",
                args.route
            ),
        };
    }
    let weight = args.weight.unwrap_or(0);
    if args.dry_run {
        say!(
            "route {}: weight would be set to {weight}% (dry run: nothing changed)",
            args.route
        );
        return Ok(());
    }
    let client = admin_client(&args.admin)?;
    // `strangler plan` names a context's routes CONTEXT-1, CONTEXT-2...: the context's name
    // moves the whole group when no single route has that name.
    let names = match route_group(&client, &args.route) {
        Some(group) => group,
        None => vec![args.route.clone()],
    };
    let mut candidates = std::collections::BTreeSet::new();
    for name in names {
        let route = client
            .set_weight(&name, weight)
            .with_context(|| format!("setting the weight of route `{name}`"))?;
        say!(
            "route {}: weight {}% to {} (primary {})",
            route.name,
            route.weight,
            route.candidate.as_deref().unwrap_or("-"),
            route.primary
        );
        candidates.extend(route.candidate.clone());
    }
    if weight > 0 {
        warn_about_down_candidates(&client, &candidates);
    }
    Ok(())
}

/// Says so when traffic was just moved to a candidate none of whose instances is up: the proxy
/// bypasses it to the primary, so nothing fails, but nothing is cut over either.
fn warn_about_down_candidates(
    client: &strangler_proxy::BlockingAdminClient,
    candidates: &std::collections::BTreeSet<String>,
) {
    let Ok(status) = client.status() else {
        return;
    };
    for upstream in status
        .upstreams
        .iter()
        .filter(|u| candidates.contains(&u.name))
    {
        if !upstream.endpoints.iter().any(|e| e.healthy && !e.ejected) {
            let addresses: Vec<&str> = upstream
                .endpoints
                .iter()
                .map(|e| e.address.as_str())
                .collect();
            eprintln!(
                "warning: upstream `{}` ({}) has no healthy instance: its share goes to the primary until it passes its health check",
                upstream.name,
                addresses.join(", ")
            );
        }
    }
}

/// The routes of a group named `group` (`group-1`, `group-2`...), when no route is named
/// `group` itself; `None` otherwise, or when the proxy cannot be asked.
fn route_group(client: &strangler_proxy::BlockingAdminClient, group: &str) -> Option<Vec<String>> {
    let status = client.status().ok()?;
    if status.routes.iter().any(|r| r.name == group) {
        return None;
    }
    let prefix = format!("{group}-");
    let mut members: Vec<String> = status
        .routes
        .iter()
        .filter(|r| {
            r.name
                .strip_prefix(&prefix)
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .map(|r| r.name.clone())
        .collect();
    members.sort();
    (!members.is_empty()).then_some(members)
}

/// Prints the status table once, or redraws it with `--watch`.
pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let client = admin_client(&args.admin)?;
    if args.json {
        let status = client.status()?;
        say!("{}", serde_json_pretty(&status)?);
        return Ok(());
    }
    if !args.watch {
        say_raw!("{}", client.status()?.render_table());
        return Ok(());
    }
    loop {
        let table = match client.status() {
            Ok(status) => status.render_table(),
            Err(error) => format!("error: {error}\n"),
        };
        // Clear the screen and move home, then draw: the table replaces itself in place.
        if !say_raw!("\x1b[2J\x1b[H{table}") {
            return Ok(()); // Nobody reads any more (the pipe closed).
        }
        std::thread::sleep(args.interval);
    }
}

fn serde_json_pretty(status: &strangler_proxy::ProxyStatus) -> anyhow::Result<String> {
    Ok(strangler_proxy::status::to_json_pretty(status)?)
}
