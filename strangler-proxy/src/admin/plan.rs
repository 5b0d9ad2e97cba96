//! Progressive cutover, as a client of the admin API: walk a route's weight up step by step,
//! and at the end of each step check the candidate (its error rate over the step, and whether
//! the proxy's own rollback rule fired); on a failed check set the weight to 0 and stop.

use std::time::Duration;

use super::client::{AdminClient, AdminError};
use crate::status::RouteStatus;

/// A plan: the weights to go through and how long to hold each.
#[derive(Debug, Clone, PartialEq)]
pub struct CutoverPlan {
    /// The routes moved together (one route, or the routes of a group such as `reviews-1`,
    /// `reviews-2`): every step sets each of them to the step's weight, the checks sum their
    /// candidate figures, and a failed check puts all of them back to 0.
    pub routes: Vec<String>,
    /// Weights in order, each 0-100.
    pub steps: Vec<u32>,
    /// How long each step is held and watched.
    pub interval: Duration,
    /// The highest share of candidate requests that may fail (5xx or no answer) during a step.
    pub max_error_rate: f64,
    /// On a shadowed route, the lowest share of mirrored pairs that must match during a step.
    pub min_match_rate: Option<f64>,
}

impl CutoverPlan {
    /// The plan in words, one line per step (what `--dry-run` prints).
    pub fn describe(&self) -> String {
        let mut text = format!(
            "cutover plan for {} {}: {} step{}, {:?} each, candidate error rate <= {}\n",
            if self.routes.len() == 1 {
                "route"
            } else {
                "routes"
            },
            self.routes.join(", "),
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" },
            self.interval,
            self.max_error_rate
        );
        for (index, weight) in self.steps.iter().enumerate() {
            text.push_str(&format!(
                "  step {}: weight {weight}%, hold {:?}, then check\n",
                index + 1,
                self.interval
            ));
        }
        if let Some(rate) = self.min_match_rate {
            text.push_str(&format!("  shadow match rate >= {rate} at each step\n"));
        }
        text.push_str(
            "  on a failed check: weight 0 and stop; on a freeze by the proxy: hold and stop\n",
        );
        text
    }
}

/// What happened, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanEvent {
    /// A step began: the weight is now set.
    Step {
        /// 1-based step number.
        number: usize,
        /// The weight set.
        weight: u32,
    },
    /// A step's check passed.
    Passed {
        /// 1-based step number.
        number: usize,
        /// Candidate requests during the step.
        requests: u64,
        /// Of which failed.
        errors: u64,
    },
}

/// How a plan ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanOutcome {
    /// Every step passed; the route is at the last weight.
    Completed,
    /// A check failed; the route's weight is 0.
    RolledBack {
        /// The weight at which it failed.
        at_weight: u32,
        /// Why.
        reason: String,
    },
    /// The proxy's rollback rule froze the route: the weight is held and the plan stopped.
    Frozen {
        /// The weight held.
        at_weight: u32,
        /// Why.
        reason: String,
    },
}

/// Candidate requests, failures, compared and matched shadow pairs, summed over the routes.
///
/// A request the candidate failed and the primary then answered (a fallback) counts as a
/// candidate request that failed: the client saw no error, but the candidate did not serve it,
/// and on a route with `fallback = true` that is how nearly every candidate failure ends.
fn candidate_counts(routes: &[RouteStatus]) -> (u64, u64, u64, u64) {
    routes.iter().fold((0, 0, 0, 0), |sum, route| {
        let side = &route.candidate_side;
        let (compared, matched) = route
            .shadow
            .as_ref()
            .map_or((0, 0), |shadow| (shadow.compared, shadow.matched));
        (
            sum.0 + side.requests + route.fallbacks,
            sum.1 + side.server_errors.max(side.proxy_failures) + route.fallbacks,
            sum.2 + compared,
            sum.3 + matched,
        )
    })
}

/// The status of each named route, in the plan's order.
async fn routes_status(
    client: &AdminClient,
    names: &[String],
) -> Result<Vec<RouteStatus>, AdminError> {
    let mut status = client.status().await?.routes;
    names
        .iter()
        .map(|name| {
            let index = status
                .iter()
                .position(|route| &route.name == name)
                .ok_or_else(|| AdminError::Refused {
                    status: http::StatusCode::NOT_FOUND,
                    message: format!("no route named `{name}`"),
                })?;
            Ok(status.swap_remove(index))
        })
        .collect()
}

async fn set_weights(
    client: &AdminClient,
    names: &[String],
    weight: u32,
) -> Result<(), AdminError> {
    for name in names {
        client.set_weight(name, weight).await?;
    }
    Ok(())
}

/// Runs a plan against a proxy; `on_event` sees each step begin and pass.
pub async fn run_plan(
    client: &AdminClient,
    plan: &CutoverPlan,
    mut on_event: impl FnMut(&PlanEvent),
) -> Result<PlanOutcome, AdminError> {
    if plan.routes.is_empty() {
        return Err(AdminError::Refused {
            status: http::StatusCode::BAD_REQUEST,
            message: "a cutover plan needs at least one route".into(),
        });
    }
    for (index, weight) in plan.steps.iter().copied().enumerate() {
        let number = index + 1;
        let before = candidate_counts(&routes_status(client, &plan.routes).await?);
        set_weights(client, &plan.routes, weight).await?;
        on_event(&PlanEvent::Step { number, weight });
        // Watch during the step too, so a rollback by the proxy's own rule stops the plan at once.
        let deadline = tokio::time::Instant::now() + plan.interval;
        let routes = loop {
            let now = tokio::time::Instant::now();
            let pause = deadline
                .saturating_duration_since(now)
                .min(Duration::from_secs(1));
            tokio::time::sleep(pause).await;
            let routes = routes_status(client, &plan.routes).await?;
            if routes.iter().any(|r| r.breach.is_some()) || tokio::time::Instant::now() >= deadline
            {
                break routes;
            }
        };
        let after = candidate_counts(&routes);
        // The first breach in the plan's order, named by its route when there are several.
        let breach = routes.iter().find_map(|route| {
            route.breach.as_ref().map(|breach| {
                if plan.routes.len() == 1 {
                    breach.clone()
                } else {
                    format!("{} on route {}", breach, route.name)
                }
            })
        });
        let delta = |a: u64, b: u64| a.saturating_sub(b);
        let (requests, errors) = (delta(after.0, before.0), delta(after.1, before.1));
        let (compared, matched) = (delta(after.2, before.2), delta(after.3, before.3));
        if let Some(breach) = breach.as_ref().filter(|b| b.starts_with("freeze")) {
            return Ok(PlanOutcome::Frozen {
                at_weight: weight,
                reason: format!("the proxy's rollback rule froze the route: {breach}"),
            });
        }
        let failure = if let Some(breach) = &breach {
            Some(format!("the proxy's rollback rule fired: {breach}"))
        } else if requests > 0 && errors as f64 / requests as f64 > plan.max_error_rate {
            Some(format!(
                "candidate error rate {:.3} > {} during step {number} ({errors} of {requests} requests)",
                errors as f64 / requests as f64,
                plan.max_error_rate
            ))
        } else {
            plan.min_match_rate
                .filter(|min| compared > 0 && (matched as f64 / compared as f64) < *min)
                .map(|min| {
                    format!(
                        "shadow match rate {:.3} < {min} during step {number} ({matched} of {compared} pairs)",
                        matched as f64 / compared as f64
                    )
                })
        };
        if let Some(reason) = failure {
            set_weights(client, &plan.routes, 0).await?;
            return Ok(PlanOutcome::RolledBack {
                at_weight: weight,
                reason,
            });
        }
        on_event(&PlanEvent::Passed {
            number,
            requests,
            errors,
        });
    }
    Ok(PlanOutcome::Completed)
}
