//! Progressive cutover, as a client of the admin API: walk a route's weight up step by step,
//! and at the end of each step check the candidate (its error rate over the step, and whether
//! the proxy's own rollback rule fired); on a failed check set the weight to 0 and stop.

use std::time::Duration;

use super::client::{AdminClient, AdminError};
use crate::status::RouteStatus;

/// A plan: the weights to go through and how long to hold each.
#[derive(Debug, Clone, PartialEq)]
pub struct CutoverPlan {
    /// Route name.
    pub route: String,
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
            "cutover plan for route {}: {} steps, {:?} each, candidate error rate <= {}\n",
            self.route,
            self.steps.len(),
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

fn candidate_counts(route: &RouteStatus) -> (u64, u64, u64, u64) {
    let side = &route.candidate_side;
    let (compared, matched) = route
        .shadow
        .as_ref()
        .map_or((0, 0), |shadow| (shadow.compared, shadow.matched));
    (
        side.requests,
        side.server_errors.max(side.proxy_failures),
        compared,
        matched,
    )
}

async fn route_status(client: &AdminClient, name: &str) -> Result<RouteStatus, AdminError> {
    let status = client.status().await?;
    status
        .routes
        .into_iter()
        .find(|route| route.name == name)
        .ok_or_else(|| AdminError::Refused {
            status: http::StatusCode::NOT_FOUND,
            message: format!("no route named `{name}`"),
        })
}

/// Runs a plan against a proxy; `on_event` sees each step begin and pass.
pub async fn run_plan(
    client: &AdminClient,
    plan: &CutoverPlan,
    mut on_event: impl FnMut(&PlanEvent),
) -> Result<PlanOutcome, AdminError> {
    for (index, weight) in plan.steps.iter().copied().enumerate() {
        let number = index + 1;
        let before = candidate_counts(&route_status(client, &plan.route).await?);
        client.set_weight(&plan.route, weight).await?;
        on_event(&PlanEvent::Step { number, weight });
        // Watch during the step too, so a rollback by the proxy's own rule stops the plan at once.
        let deadline = tokio::time::Instant::now() + plan.interval;
        let route = loop {
            let now = tokio::time::Instant::now();
            let pause = deadline
                .saturating_duration_since(now)
                .min(Duration::from_secs(1));
            tokio::time::sleep(pause).await;
            let route = route_status(client, &plan.route).await?;
            if route.breach.is_some() || tokio::time::Instant::now() >= deadline {
                break route;
            }
        };
        let after = candidate_counts(&route);
        let delta = |a: u64, b: u64| a.saturating_sub(b);
        let (requests, errors) = (delta(after.0, before.0), delta(after.1, before.1));
        let (compared, matched) = (delta(after.2, before.2), delta(after.3, before.3));
        if let Some(breach) = route.breach.as_ref().filter(|b| b.starts_with("freeze")) {
            return Ok(PlanOutcome::Frozen {
                at_weight: weight,
                reason: format!("the proxy's rollback rule froze the route: {breach}"),
            });
        }
        let failure = if let Some(breach) = &route.breach {
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
            client.set_weight(&plan.route, 0).await?;
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
