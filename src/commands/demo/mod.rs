//! `strangler demo`: the whole journey on the bundled sample, in one command.
//!
//! It starts the sample monolith (its own temp database), analyzes its sources and writes the
//! HTML report, starts the reference extraction of the reviews context (`services/reviews`)
//! with a copy of the monolith's reviews, puts the proxy in front (in this process, configured
//! from `strangler plan`'s output) and drives simulated users through it while it walks the
//! reviews routes from shadow to 100% through the admin API. It is a shell over the same
//! libraries and binaries a team would use by hand; `docs/demo.md` explains every figure.
//!
//! Consistency: during the cutover the monolith stays the system of record for review writes.
//! The proxy mirrors the writes the monolith serves to the service (shadow with `writes`),
//! which records the monolith's rows; writes the service serves go through to the monolith
//! first. Both stores hold the same rows with the same ids, which the demo checks at the end.

mod config;
mod processes;
mod stats;
mod summary;
mod traffic;
mod view;

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use strangler_proxy::AdminClient;

use crate::cli::DemoArgs;
use processes::{Binaries, ChildProcess};
use stats::Stats;
use summary::{
    Summary, compare_stores, route_totals, shadow_differences, step_summary, summary_line,
    summary_view, traffic_client,
};
use traffic::Traffic;
use view::{LiveView, Snapshot};

/// The context the demo extracts.
const CONTEXT: &str = "reviews";

/// One step of the walk: a name and the candidate's weight (shadow runs at weight 0).
#[derive(Debug, Clone, Copy)]
struct Step {
    name: &'static str,
    weight: u32,
}

const STEPS: [Step; 5] = [
    Step {
        name: "shadow",
        weight: 0,
    },
    Step {
        name: "5%",
        weight: 5,
    },
    Step {
        name: "25%",
        weight: 25,
    },
    Step {
        name: "50%",
        weight: 50,
    },
    Step {
        name: "100%",
        weight: 100,
    },
];

/// Runs `strangler demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = journey(args) => outcome,
            signal = stop_signal() => Err(anyhow::anyhow!("interrupted by {signal}: stopped the proxy, the service and the monolith")),
        }
    });
    // Whatever happened, the children were dropped with the journey's future (their guards
    // stop them); drop the runtime without waiting for stray tasks.
    runtime.shutdown_timeout(Duration::from_secs(2));
    outcome
}

/// Resolves on ctrl-c or SIGTERM, naming it.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return "ctrl-c";
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "ctrl-c",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "ctrl-c"
    }
}

/// Timings of a run.
struct Timings {
    step: Duration,
    tick: Duration,
    users: usize,
    workers: usize,
    think: Duration,
    settle: Duration,
}

fn timings(args: &DemoArgs) -> Timings {
    let total = if args.fast {
        Duration::from_secs(10)
    } else {
        args.duration
    };
    let step = (total / STEPS.len() as u32).max(Duration::from_millis(500));
    Timings {
        step,
        tick: if args.fast || step < Duration::from_secs(5) {
            Duration::from_millis(500)
        } else {
            Duration::from_secs(1)
        },
        users: usize::from(args.users),
        workers: usize::from(args.concurrency),
        think: Duration::from_millis(5),
        settle: Duration::from_millis(100),
    }
}

async fn journey(args: &DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let timing = timings(args);
    let kill_at = match &args.kill_candidate_at {
        Some(name) => Some(
            STEPS
                .iter()
                .position(|s| s.name.trim_end_matches('%') == name.trim_end_matches('%'))
                .with_context(|| {
                    format!("--kill-candidate-at {name}: not a step (shadow, 5, 25, 50, 100)")
                })?,
        ),
        None => None,
    };
    let mut out = view::Printer::new();
    let repo = processes::find_repo();
    let binaries: Binaries =
        tokio::task::block_in_place(|| processes::find_or_build(repo.as_deref()))?;
    let repo = repo.context(
        "strangler demo analyzes the sample monolith's sources: run it inside a clone of the strangler repository",
    )?;

    let dir = tempfile::Builder::new()
        .prefix("strangler-demo-")
        .tempdir()
        .context("cannot create the demo's temp dir")?;
    let dir_path = dir.path().to_path_buf();
    // Dropped last: the children stop before their files go.
    let _dir_guard = if args.keep {
        let _ = dir.keep();
        None
    } else {
        Some(dir)
    };
    out.line(&format!(
        "strangler demo: working in {}",
        dir_path.display()
    ));

    // 1. The monolith.
    let monolith_db = dir_path.join("monolith.db");
    let mut monolith = ChildProcess::start(
        "monolith",
        &binaries.monolith,
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--db".as_ref(),
            monolith_db.as_os_str(),
            "--stop-when-stdin-closes".as_ref(),
        ],
        &[],
        &dir_path.join("monolith.log"),
    )?;
    out.line(&format!(
        "1. monolith       {} (pid {}, database {})",
        monolith.url,
        monolith.pid().unwrap_or(0),
        monolith_db.display()
    ));

    // 2. The analysis and its report, and the plan.
    let source = repo.join("sample-monolith");
    let report_path = dir_path.join("report.html");
    let plan_text = tokio::task::block_in_place(|| analyze(&source, &report_path, &monolith.url))?;
    out.line(&format!(
        "2. analysis       report: {}",
        report_path.display()
    ));

    // 3. The reviews service, with a copy of the monolith's reviews.
    let service_db = dir_path.join("reviews.db");
    let copied = tokio::task::block_in_place(|| {
        processes::copy_reviews(&binaries, &monolith_db, &service_db)
    })?;
    let mut service = ChildProcess::start(
        "reviews-service",
        &binaries.reviews,
        &[
            "--addr".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--db".as_ref(),
            service_db.as_os_str(),
            "--stop-when-stdin-closes".as_ref(),
        ],
        &[("MONOLITH_URL", monolith.url.as_str())],
        &dir_path.join("reviews-service.log"),
    )?;
    out.line(&format!(
        "3. reviews        {} (pid {}); copy-from: {}",
        service.url,
        service.pid().unwrap_or(0),
        copied.replace('\n', "; ")
    ));

    // 4. The proxy, configured from the plan.
    let config_text = config::demo_config(
        &plan_text,
        CONTEXT,
        &config::Endpoints {
            monolith: &monolith.url,
            reviews: &service.url,
            log: &dir_path.join("proxy.log"),
        },
    )?;
    let config_path = dir_path.join("strangler.toml");
    std::fs::write(&config_path, &config_text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let config_value: toml::Value = toml::from_str(&config_text)?;
    let routes = config::routes_of(&config_value, CONTEXT);
    let valid = strangler_proxy::ValidConfig::from_toml_str(
        &config_text,
        &config_path.display().to_string(),
    )
    .context("the demo's proxy config was refused")?;
    let proxy = strangler_proxy::Proxy::start(valid)
        .await
        .context("cannot start the proxy")?;
    let admin = AdminClient::new(&format!("http://{}", proxy.admin_addr()), None)?;
    out.line(&format!(
        "4. proxy          http://{} (admin http://{}; config {}); reviews routes: {}",
        proxy.listen_addr(),
        proxy.admin_addr(),
        config_path.display(),
        routes.join(", ")
    ));

    // 5. Users and traffic.
    let stats = Arc::new(Stats::new(STEPS.len()));
    let traffic = Traffic::prepare(
        &format!("http://{}", proxy.listen_addr()),
        timing.users,
        stats.clone(),
        timing.settle,
    )
    .await?;
    out.line(&format!(
        "5. traffic        {} users (sticky header {}), {} at a time, reads and writes on every context",
        timing.users,
        traffic::USER_HEADER,
        timing.workers
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let traffic = traffic.clone();
        let stop = stop.clone();
        let (workers, think) = (timing.workers, timing.think);
        tokio::spawn(async move { traffic.run(workers, think, stop).await })
    };

    let mut summaries = Vec::new();
    let mut reached = Vec::new();
    let mut live = LiveView::new(out.is_terminal());
    let mut killed_at = None;
    let walk = async {
        for (index, step) in STEPS.iter().enumerate() {
            for route in &routes {
                admin
                    .set_weight(route, step.weight)
                    .await
                    .with_context(|| format!("setting the weight of {route}"))?;
            }
            stats.enter_step(index);
            let before = Snapshot::take(&admin, &routes).await?;
            let step_started = Instant::now();
            live.begin(step.name, step.weight);
            let mut ticks = tokio::time::interval(timing.tick);
            ticks.tick().await;
            let mut last = before.clone();
            let mut killed_this_step = false;
            while step_started.elapsed() < timing.step {
                ticks.tick().await;
                if kill_at == Some(index)
                    && !killed_this_step
                    && step_started.elapsed() >= timing.step / 2
                {
                    service.kill_now();
                    killed_this_step = true;
                    killed_at = Some(step.name.to_string());
                    live.note(&format!(
                        "killed the reviews service (SIGKILL) at {:.1}s into step {}",
                        step_started.elapsed().as_secs_f64(),
                        step.name
                    ));
                }
                let now = Snapshot::take(&admin, &routes).await?;
                live.tick(&stats, &last, &now, &before);
                last = now;
            }
            let after = Snapshot::take(&admin, &routes).await?;
            let summary = step_summary(
                step,
                step_started.elapsed(),
                &stats.steps[index],
                &before,
                &after,
            );
            live.end(&summary_line(&summary));
            summaries.push(summary);
            reached.push(step.name.to_string());
        }
        anyhow::Ok(())
    };
    let walked = walk.await;
    stop.store(true, Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(15), driver).await;
    live.finish();
    walked?;

    // Both stores, once the last mirrors have landed.
    tokio::time::sleep(timing.settle * 2).await;
    let stores_in_step = if killed_at.is_none() {
        Some(compare_stores(&traffic_client(), &monolith.url, &service.url).await?)
    } else {
        None
    };
    let final_status = admin.status().await?;
    let differences = shadow_differences(&traffic_client(), proxy.admin_addr(), &dir_path).await;
    let report = proxy.shutdown().await;
    service.stop();
    monolith.stop();
    drop((service, monolith));

    let (fallbacks, bypasses) = route_totals(&final_status, &routes);
    let summary = Summary {
        requests: stats.total.load(Relaxed),
        failures: stats.total_failures.load(Relaxed),
        failed_reads: summaries.iter().map(|s| s.failed_reads).sum(),
        failed_writes: summaries.iter().map(|s| s.failed_writes).sum(),
        fallbacks,
        bypasses,
        steps_reached: reached,
        steps: summaries,
        candidate_killed_at: killed_at,
        shadow_differences: differences,
        stores_in_step,
        wall_seconds: started.elapsed().as_secs_f64(),
        dir: dir_path.display().to_string(),
        report: report_path.display().to_string(),
    };
    out.text(&view::final_summary(
        &summary_view(&summary),
        report.drained,
    ));
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&summary)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.keep {
        out.line(&format!(
            "kept {} (logs, databases, config, report)",
            dir_path.display()
        ));
    }
    if summary.failures > 0 {
        anyhow::bail!(
            "{} of {} client requests failed ({} reads, {} writes)",
            summary.failures,
            summary.requests,
            summary.failed_reads,
            summary.failed_writes
        );
    }
    if summary.stores_in_step == Some(false) {
        anyhow::bail!("the monolith's and the service's reviews differ at the end of the run");
    }
    Ok(())
}

/// Builds the model of the monolith's sources, writes the HTML report, and returns the plan
/// (`strangler plan`'s TOML) for a monolith at `monolith_url`.
fn analyze(source: &Path, report: &Path, monolith_url: &str) -> anyhow::Result<String> {
    let proposal = super::analyze::proposal_options(
        source,
        &crate::cli::ProposalArgs {
            resolution: None,
            target_contexts: None,
            pins: Vec::new(),
            config: None,
        },
    )?;
    let model = super::analyze::build_model(source, &analyzer::ModelOptions::default())?;
    super::analyze::check_model(source, &model, &proposal)?;
    let analysis = analyzer::analyze_model(&model, &source.display().to_string(), &proposal);
    let html = analyzer::report::render(
        &analysis,
        analyzer::report::Format::Html,
        &analyzer::report::RenderOptions {
            detail: analyzer::report::Detail::Contexts,
        },
    );
    std::fs::write(report, html).with_context(|| format!("cannot write {}", report.display()))?;
    Ok(super::plan::render(
        &analysis,
        &super::plan::PlanSettings {
            monolith: monolith_url.to_string(),
            listen: "127.0.0.1:0".into(),
            admin: "127.0.0.1:0".into(),
            first_port: 4001,
        },
    ))
}

/// Flushes stdout (the live view writes without newlines on a terminal).
pub(crate) fn flush() {
    let _ = std::io::stdout().flush();
}
