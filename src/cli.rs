//! Command-line surface of `strangler`: the clap definitions and nothing else, so that `--help`
//! can be read in one place and the commands' behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

/// Move a live monolith to services with the strangler-fig pattern.
#[derive(Debug, Parser)]
#[command(
    name = "strangler",
    version,
    about,
    long_about = "Move a live monolith to services with the strangler-fig pattern.\n\n\
        analyze finds the bounded contexts hiding in a Rust monolith, scaffold turns one of them \
        into a new service, and proxy/cutover move live traffic to it route by route, while both \
        sides keep serving.",
    after_help = "Start with:  strangler analyze sample-monolith",
    propagate_version = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Combinations of arguments clap's attributes cannot express, refused as usage errors.
    pub fn check(&self) -> Result<(), clap::Error> {
        if let Command::Analyze(args) = &self.command
            && args.detail.is_some()
            && !matches!(
                args.format,
                Some(AnalyzeFormat::Dot | AnalyzeFormat::Mermaid)
            )
        {
            let mut command = Cli::command();
            command.build();
            let analyze = command
                .find_subcommand_mut("analyze")
                .expect("analyze is a subcommand");
            return Err(analyze.error(
                clap::error::ErrorKind::ArgumentConflict,
                "--detail only applies to --format dot and --format mermaid",
            ));
        }
        Ok(())
    }
}

/// The seven jobs of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze a Rust monolith and report its bounded contexts, shared code and shared data.
    #[command(
        long_about = "Analyze a Rust monolith: parse its code and SQL, build a coupling \
        graph over code and tables, find the shared kernel and shared tables, and propose bounded \
        contexts with metrics and an extraction order.\n\n\
        Example:\n  strangler analyze sample-monolith --format html --out report.html"
    )]
    Analyze(AnalyzeArgs),

    /// Write the proxy config (strangler.toml) for an analyzed monolith, every route at weight 0.
    #[command(
        long_about = "Write the strangler proxy config for an analyzed monolith: one route \
        group per proposed context, the monolith as primary, a candidate upstream per context, \
        every weight at 0.\n\n\
        With --export, it reads a proxy config instead (and, with --live, the weights a running \
        proxy holds) and writes the same split for another gateway: Kubernetes Gateway API \
        HTTPRoutes or an nginx config.\n\n\
        Example:\n  strangler plan sample-monolith --out strangler.toml\n  \
        strangler plan --export gateway-api --config strangler.toml --out routes.yaml\n  \
        strangler plan --export nginx --live http://127.0.0.1:9090 --out strangler-nginx.conf"
    )]
    Plan(PlanArgs),

    /// Generate a new service crate from one proposed bounded context.
    #[command(
        long_about = "Generate a new service crate (axum, its own SQLite database, health \
        and metrics endpoints, Dockerfile, Kubernetes manifests, tests) from one bounded context \
        of an analysis. The context's handlers, services and repository code are carried over; \
        calls into other contexts become HTTP calls to their owner or TODO(strangler) stubs; \
        the service's migrations hold the DDL of the tables it owns, and its `copy-from` \
        command copies their rows from the monolith's database. It prints what was carried, \
        bridged and stubbed.\n\n\
        Example:\n  strangler scaffold reviews --from sample-monolith --out services/reviews\n  \
        strangler scaffold reviews --analysis analysis.json --out services/reviews --port 4001"
    )]
    Scaffold(ScaffoldArgs),

    /// Run the strangler proxy in front of the monolith and the new services.
    #[command(
        long_about = "Run the strangler proxy: routes each request to the monolith or to \
        the new service by weight, sticky per user, over pooled keep-alive connections, with shadow \
        traffic and response diffs, fallback to the monolith, outlier ejection, rate limits and \
        automatic rollback per route. Reloads its config on SIGHUP, on POST /reload of the admin API, and \
        when the file changes, without closing a client connection; a config that fails \
        validation is refused with file, line and reason and the running routes stay. Prints the \
        bound addresses, logs JSON lines, and drains in-flight requests on SIGTERM or ctrl-c.\n\n\
        Example:\n  strangler proxy --config strangler.toml --workers 2"
    )]
    Proxy(ProxyArgs),

    /// Move a route's traffic share on a running proxy, at once or step by step.
    #[command(
        long_about = "Move a route's share of traffic to its candidate on a running proxy, \
        through its admin API. With a sticky route, raising the weight only moves users from the \
        primary to the candidate, never back. The weight holds across config reloads until the \
        file's own weight for the route changes. With --steps the weight walks up step by step; \
        after each step the candidate's error rate over the step is checked, and the proxy's own \
        rollback rule is watched throughout: on a failed check the weight goes to 0 and the \
        command exits with status 1.\n\n\
        Example:\n  strangler cutover reviews --weight 25\n  \
        strangler cutover reviews --steps 1,5,25,50,100 --interval 60s --dry-run"
    )]
    Cutover(CutoverArgs),

    /// Show routes, weights, health and counters of a running proxy.
    #[command(
        long_about = "Show the routes of a running proxy: weights, upstream health, \
        request and 5xx counters per side, p99 latency, fallbacks, shadow match rate, rollback \
        breaches, upstream instance health (down or ejected), and reloads.\n\n\
        Example:\n  strangler status --watch --interval 1s"
    )]
    Status(StatusArgs),

    /// Run the whole journey on the bundled sample monolith, from analysis to full cutover.
    #[command(
        long_about = "Run the whole strangler journey on the bundled movie-booking \
        monolith: start it (temp database), analyze it and write the HTML report, start the \
        extracted reviews service with a copy of its data, put the proxy in front and walk the \
        reviews routes from shadow through 5%, 25%, 50% to 100% under live traffic of simulated \
        users, showing requests/s, errors, p99 per side, the shadow match rate and the weight. \
        Exits 0 only if no client request failed. Ctrl-c stops everything. Run it inside a clone \
        of the strangler repository (it analyzes sample-monolith/ and builds the services when \
        they are missing).\n\n\
        Example:\n  strangler demo --fast\n  strangler demo --duration 5m --keep --json demo.json\n  \
        strangler demo --fast --kill-candidate-at 25"
    )]
    Demo(DemoArgs),
}

/// Arguments of `strangler analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Root of the monolith's source tree (a crate or a workspace).
    pub path: PathBuf,

    /// Output format. Without it, strangler writes an HTML report (to --out, or
    /// `strangler-report.html` in the current directory) and prints a summary.
    #[arg(long, value_enum)]
    pub format: Option<AnalyzeFormat>,

    /// Write the output to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// For dot and mermaid: the context map (`contexts`, the default) or every file (`units`).
    #[arg(long, value_enum)]
    pub detail: Option<DetailArg>,

    /// How contexts are proposed.
    #[command(flatten)]
    pub proposal: ProposalArgs,

    /// Score the proposal against a hand-written ground truth (a contexts.json) and print the
    /// score on stderr.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,

    /// SQL dialect of the monolith's queries; detected from its database driver when omitted.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,

    /// Also analyze the files of test, example and bench targets and build scripts
    /// (`#[cfg(test)]` code inside the crates is left out either way).
    #[arg(long)]
    pub include_tests: bool,

    /// Worker threads for parsing (0: one per core; at most 1024).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub threads: u16,
}

/// Knobs of the context proposal, shared by `analyze` and `plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProposalArgs {
    /// Modularity resolution: above 1 proposes more, smaller contexts; below 1 fewer, larger.
    #[arg(long, value_name = "GAMMA", value_parser = parse_resolution)]
    pub resolution: Option<f64>,

    /// Propose this many contexts (as near as the coupling allows).
    #[arg(long = "contexts", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub target_contexts: Option<u16>,

    /// Pin a file to a named context: `--pin src/handlers/fares.rs=pricing` (repeatable).
    #[arg(long = "pin", value_name = "FILE=CONTEXT", value_parser = parse_pin)]
    pub pins: Vec<(String, String)>,

    /// A strangler.toml whose `[analyze]` section holds pins and knobs; by default the one in
    /// the analyzed directory, if any. Command-line knobs win over the file's.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Output formats of `strangler analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AnalyzeFormat {
    /// One self-contained HTML page: summary, context map, cards, shared data, order.
    Html,
    /// The same content in Markdown, with a Mermaid context map.
    #[value(alias = "markdown")]
    Md,
    /// The analysis in the versioned JSON contract (schema_version 1).
    Json,
    /// Graphviz DOT of the context map.
    Dot,
    /// Mermaid flowchart of the context map.
    Mermaid,
    /// The raw code model (files, items, references, SQL, routes, tables), for debugging.
    Model,
}

/// Level of detail of graph outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DetailArg {
    /// One node per context.
    Contexts,
    /// One node per file, grouped by context.
    Units,
}

fn parse_resolution(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 && value <= 100.0 => Ok(value),
        _ => Err(format!(
            "`{text}` is not a resolution: it must be a number above 0 and at most 100 (1 is the default)"
        )),
    }
}

fn parse_pin(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((file, context)) if !file.trim().is_empty() && !context.trim().is_empty() => {
            Ok((file.trim().to_string(), context.trim().to_string()))
        }
        _ => Err(format!("`{text}` is not FILE=CONTEXT")),
    }
}

/// SQL dialects accepted by `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL.
    Mysql,
    /// Any: sqlparser's generic dialect.
    Generic,
}

/// Arguments of `strangler plan`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("config", |arg| arg.help(
    "With PATH: a strangler.toml whose `[analyze]` section holds pins and knobs (default: the \
    one in the analyzed directory, if any). With --export: the proxy config to export \
    (default: strangler.toml)."
)))]
pub struct PlanArgs {
    /// Root of the monolith's source tree (not with --export, which reads a proxy config).
    #[arg(required_unless_present = "export", conflicts_with = "export")]
    pub path: Option<PathBuf>,

    /// Write the config (or the export) to this file instead of stdout (refuses to overwrite
    /// unless --force).
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,

    /// Base URL of the running monolith, the primary of every route.
    #[arg(
        long,
        default_value = "http://127.0.0.1:3000",
        value_name = "URL",
        conflicts_with = "export"
    )]
    pub monolith: String,

    /// Where the proxy listens.
    #[arg(
        long,
        default_value = "127.0.0.1:8080",
        value_name = "ADDR",
        conflicts_with = "export"
    )]
    pub listen: String,

    /// Where the proxy's admin API listens.
    #[arg(
        long,
        default_value = "127.0.0.1:9090",
        value_name = "ADDR",
        conflicts_with = "export"
    )]
    pub admin: String,

    /// Port of the first context's service; the next contexts get the following ports.
    #[arg(
        long,
        default_value_t = 4001,
        value_name = "PORT",
        conflicts_with = "export"
    )]
    pub first_port: u16,

    /// How contexts are proposed.
    #[command(flatten)]
    pub proposal: ProposalArgs,

    /// Instead of planning, turn a proxy config (--config) and its current weights into the
    /// objects of another gateway, so it carries out the same cutover.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub export: Option<ExportFormat>,

    /// With --export: take the weights from this running proxy's admin API (what `strangler
    /// cutover` set) instead of the file's.
    #[arg(long, value_name = "URL")]
    pub live: Option<String>,

    /// Bearer token of the admin API given by --live.
    #[arg(long, env = "STRANGLER_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// With --export gateway-api: the Gateway the routes attach to, `NAME` or `NAMESPACE/NAME`
    /// (default: strangler-gateway).
    #[arg(long, value_name = "NAME")]
    pub gateway: Option<String>,

    /// With --export gateway-api: the namespace of the HTTPRoutes (default: none set, so
    /// `kubectl apply -n` decides).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// With --export gateway-api: the port of every backend Service (default: each upstream's
    /// first endpoint port).
    #[arg(long, value_name = "PORT")]
    pub service_port: Option<u16>,
}

/// What `strangler plan --export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Kubernetes Gateway API `HTTPRoute` objects (gateway.networking.k8s.io/v1), YAML.
    GatewayApi,
    /// An nginx config (http context) splitting with `split_clients`.
    Nginx,
}

/// Arguments of `strangler scaffold`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").args(["from", "analysis"])))]
pub struct ScaffoldArgs {
    /// Name of the bounded context to extract, as the analysis names it.
    pub context: String,

    /// Root of the monolith's source tree, analyzed afresh (the default is the current
    /// directory).
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,

    /// An analysis written by `strangler analyze --format json`; the code model is rebuilt
    /// from its `root`, so the contexts are the ones the file names.
    #[arg(long, value_name = "FILE")]
    pub analysis: Option<PathBuf>,

    /// Directory of the new crate; created if missing, refused if it holds files (see --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Package name of the new crate (default: CONTEXT-service).
    #[arg(long)]
    pub name: Option<String>,

    /// Port the service listens on by default, in its container and in its manifests.
    #[arg(long, default_value_t = 4000)]
    pub port: u16,

    /// Write into a non-empty directory: generated files are overwritten, other files are left
    /// alone (nothing is ever deleted).
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `strangler proxy`.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// The proxy config file (TOML; the format is in docs/proxy.md). It is reloaded on SIGHUP,
    /// on `POST /reload` and when its content changes.
    #[arg(long, short, default_value = "strangler.toml")]
    pub config: PathBuf,

    /// Worker threads serving requests (default: one per CPU; 1 runs a single-threaded
    /// runtime; at most 1024).
    #[arg(long, default_value_t = default_workers(), hide_default_value = true,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: u16,
}

fn default_workers() -> u16 {
    std::thread::available_parallelism().map_or(1, |n| u16::try_from(n.get()).unwrap_or(1024))
}

/// How to reach a running proxy's admin API.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// Base URL of the proxy's admin API.
    #[arg(long, env = "STRANGLER_ADMIN", default_value = "http://127.0.0.1:9090")]
    pub admin: String,

    /// Bearer token of the admin API (needed when the proxy sets `admin_token`).
    #[arg(long, env = "STRANGLER_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Arguments of `strangler cutover`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["weight", "steps"])))]
pub struct CutoverArgs {
    /// Name of the route to move.
    pub route: String,

    /// Share of the route's traffic (or of its sticky users) to send to the candidate, 0-100.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub weight: Option<u32>,

    /// Walk the weight through these values (e.g. 1,5,25,50,100), checking the candidate after
    /// each step; on a failed check the weight goes to 0 and the command exits with status 1.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u32).range(0..=100))]
    pub steps: Option<Vec<u32>>,

    /// How long each step is held and watched (with --steps; at least 100ms).
    #[arg(long, default_value = "60s", value_parser = parse_polling_interval, requires = "steps")]
    pub interval: std::time::Duration,

    /// Highest share of the candidate's requests that may fail during a step (with --steps).
    #[arg(long, default_value_t = 0.01, requires = "steps")]
    pub max_error_rate: f64,

    /// On a shadowed route, the lowest share of mirrored pairs that must match during each step
    /// (with --steps), e.g. 0.99.
    #[arg(long, requires = "steps")]
    pub min_match_rate: Option<f64>,

    /// Print what would change (with --steps, the whole plan) and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where the proxy's admin API is.
    #[command(flatten)]
    pub admin: AdminArgs,
}

/// Arguments of `strangler status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Redraw the table every --interval until interrupted.
    #[arg(long)]
    pub watch: bool,

    /// Time between redraws with --watch (e.g. 500ms, 2s; at least 100ms).
    #[arg(long, default_value = "2s", value_parser = parse_polling_interval)]
    pub interval: std::time::Duration,

    /// Print the raw JSON status instead of the table.
    #[arg(long, conflicts_with = "watch")]
    pub json: bool,

    /// Where the proxy's admin API is.
    #[command(flatten)]
    pub admin: AdminArgs,
}

fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    strangler_proxy::config::parse_duration(text)
}

/// The shortest `--interval` of `status --watch` and `cutover --steps`: shorter would only
/// hammer the admin API (0 would redraw in a busy loop), and a step held for less says nothing.
const SHORTEST_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

fn parse_polling_interval(text: &str) -> Result<std::time::Duration, String> {
    let interval = parse_interval(text)?;
    if interval < SHORTEST_INTERVAL {
        return Err(format!(
            "`{text}` is shorter than the shortest interval, {SHORTEST_INTERVAL:?}"
        ));
    }
    Ok(interval)
}

/// Arguments of `strangler demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Traffic time of the whole walk (five steps of equal length), e.g. 60s or 5m.
    #[arg(long, default_value = "60s", value_parser = parse_interval)]
    pub duration: std::time::Duration,

    /// Short steps for CI: about 10 s of traffic in all (overrides --duration).
    #[arg(long)]
    pub fast: bool,

    /// Keep the run's directory (databases, logs, proxy config, report) instead of removing it.
    #[arg(long)]
    pub keep: bool,

    /// Also write a machine-readable summary (JSON) to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Kill the reviews service (SIGKILL) in the middle of this step, to see the proxy fall
    /// back to the monolith: shadow, 5, 25, 50 or 100.
    #[arg(long, value_name = "STEP")]
    pub kill_candidate_at: Option<String>,

    /// Simulated users, each a customer with its own sticky id.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub users: u16,

    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}
