//! The `strangler` binary as a user meets it: help, version, usage errors and exit codes.

use std::process::{Command, Output};

fn strangler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strangler"))
        .args(args)
        .output()
        .expect("the strangler binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SUBCOMMANDS: [&str; 7] = [
    "analyze", "plan", "scaffold", "proxy", "cutover", "status", "demo",
];

#[test]
fn help_lists_all_seven_subcommands() {
    let output = strangler(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for name in SUBCOMMANDS {
        assert!(
            help.lines().any(|line| line.trim_start().starts_with(name)),
            "`{name}` missing from --help:\n{help}"
        );
    }
}

#[test]
fn every_subcommand_has_a_long_help_with_an_example() {
    for name in SUBCOMMANDS {
        let output = strangler(&[name, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{name} --help");
        let help = stdout(&output);
        assert!(
            help.contains("Example:") && help.contains(&format!("strangler {name}")),
            "{name} --help lacks an example:\n{help}"
        );
    }
}

#[test]
fn version_names_the_package_version() {
    let output = strangler(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        format!("strangler {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = strangler(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("frobnicate"));
}

#[test]
fn no_subcommand_is_a_usage_error() {
    let output = strangler(&[]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn analyze_of_a_missing_path_fails_with_a_clear_error() {
    let output = strangler(&["analyze", "/nonexistent/monolith"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("/nonexistent/monolith") && !message.contains("panicked"),
        "{message}"
    );
}

#[test]
fn demo_documents_its_options() {
    let output = strangler(&["demo", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for option in [
        "--duration",
        "--fast",
        "--keep",
        "--json",
        "--kill-candidate-at",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn demo_refuses_an_unknown_step_before_starting_anything() {
    // The whole journey runs in tests/demo.rs; here only what must fail fast.
    let output = strangler(&["demo", "--fast", "--kill-candidate-at", "7"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not a step (shadow, 5, 25, 50, 100)"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    let output = strangler(&["demo", "--duration", "soon"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn demo_without_its_services_names_the_fix() {
    // A strangler with no sample-monolith or reviews-service beside it, told not to build.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir
        .path()
        .join(format!("strangler{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(env!("CARGO_BIN_EXE_strangler"), &copy).expect("copy strangler");
    let output = Command::new(&copy)
        .args(["demo", "--fast"])
        .env("STRANGLER_DEMO_NO_BUILD", "1")
        .output()
        .expect("the copy runs");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("cargo build -p sample-monolith -p reviews-service"),
        "{message}"
    );
}

fn fixture(name: &str) -> String {
    format!(
        "{}/analyzer/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn analyze_format_model_prints_routes_and_tables_per_module() {
    let output = strangler(&["analyze", &fixture("axum_layered"), "--format", "model"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["root"], fixture("axum_layered"));
    let modules = json["modules"].as_array().expect("modules");
    let repo = modules
        .iter()
        .find(|m| m["file"] == "src/repo/reviews.rs")
        .expect("the reviews repository is a module");
    assert_eq!(repo["writes"], serde_json::json!(["movies", "reviews"]));
    assert_eq!(repo["reads"], serde_json::json!(["movies", "reviews"]));
    let handlers = modules
        .iter()
        .find(|m| m["file"] == "src/handlers/reviews.rs")
        .expect("the reviews handlers are a module");
    assert_eq!(
        handlers["routes"],
        serde_json::json!([
            "GET /api/reviews",
            "GET /api/reviews/top",
            "POST /api/movies/{id}/reviews"
        ])
    );
    let tables = json["tables"].as_array().expect("tables");
    let movies = tables
        .iter()
        .find(|t| t["name"] == "movies")
        .expect("movies");
    assert_eq!(
        movies["writers"],
        serde_json::json!(["src/repo/movies.rs", "src/repo/reviews.rs"])
    );
}

#[test]
fn analyze_prints_the_analysis_contract_with_contexts() {
    let output = strangler(&["analyze", &fixture("axum_layered"), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["root"], fixture("axum_layered"));
    let contexts = json["contexts"].as_array().expect("contexts");
    assert!(!contexts.is_empty(), "{json:#}");
    let holder = |route: &str| {
        contexts
            .iter()
            .find(|c| c["routes"].as_array().unwrap().iter().any(|r| r == route))
            .map(|c| c["name"].as_str().unwrap().to_string())
    };
    // The reviews routes live together, away from the movies routes.
    let reviews = holder("POST /api/movies/{id}/reviews").expect("reviews route placed");
    assert_eq!(
        holder("GET /api/reviews").as_deref(),
        Some(reviews.as_str())
    );
    assert!(json["shared"].is_array() && json["tables"].is_array());
    assert!(json["metrics"]["modularity"].is_number());
}

#[test]
fn analyze_pins_and_knobs_are_checked() {
    let bad = strangler(&["analyze", &fixture("axum_layered"), "--pin", "no-equals"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("FILE=CONTEXT"), "{}", stderr(&bad));
    let bad = strangler(&["analyze", &fixture("axum_layered"), "--resolution", "-1"]);
    assert_eq!(bad.status.code(), Some(2));
    let zero = strangler(&["analyze", &fixture("axum_layered"), "--resolution", "0"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(stderr(&zero).contains("above 0"), "{}", stderr(&zero));
    // --detail changes the graph outputs only; anywhere else it would be silently ignored.
    let ignored = strangler(&[
        "analyze",
        &fixture("axum_layered"),
        "--format",
        "md",
        "--detail",
        "units",
    ]);
    assert_eq!(ignored.status.code(), Some(2));
    assert!(
        stderr(&ignored).contains("--detail"),
        "{}",
        stderr(&ignored)
    );
    let missing = strangler(&[
        "analyze",
        &fixture("axum_layered"),
        "--format",
        "json",
        "--pin",
        "src/nothere.rs=x",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("src/nothere.rs"),
        "{}",
        stderr(&missing)
    );
    let pinned = strangler(&[
        "analyze",
        &fixture("axum_layered"),
        "--format",
        "json",
        "--pin",
        "src/handlers/reviews.rs=feedback",
    ]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    let json: serde_json::Value = serde_json::from_slice(&pinned.stdout).expect("valid JSON");
    let feedback = json["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "feedback")
        .expect("the pin names its context");
    assert!(
        feedback["modules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "src/handlers/reviews.rs")
    );
}

#[test]
fn analyze_reads_pins_from_the_config_and_refuses_a_bad_one_with_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("strangler.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:8080\"\n\n[analyze]\nresolution = 1.0\n[analyze.pins]\n\"src/handlers/reviews.rs\" = \"feedback\"\n",
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let output = strangler(&[
        "analyze",
        &fixture("axum_layered"),
        "--format",
        "json",
        "--config",
        config_arg,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert!(
        json["contexts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "feedback")
    );
    std::fs::write(&config, "[analyze]\nresolution = \"high\"\n").unwrap();
    let refused = strangler(&["analyze", &fixture("axum_layered"), "--config", config_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("strangler.toml"),
        "{}",
        stderr(&refused)
    );
    std::fs::write(&config, "[analyze\n").unwrap();
    let refused = strangler(&["analyze", &fixture("axum_layered"), "--config", config_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("strangler.toml:1"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn analyze_output_is_byte_identical_across_runs_and_out_writes_the_same() {
    let first = strangler(&["analyze", &fixture("actix_features"), "--format", "json"]);
    let second = strangler(&["analyze", &fixture("actix_features"), "--format", "json"]);
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(first.stdout, second.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("analysis.json");
    let written = strangler(&[
        "analyze",
        &fixture("actix_features"),
        "--format",
        "json",
        "--out",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(written.status.code(), Some(0));
    assert!(written.stdout.is_empty(), "--out keeps stdout empty");
    assert_eq!(std::fs::read(&out).expect("written"), first.stdout);
}

#[test]
fn analyze_refuses_a_thread_count_it_cannot_start() {
    let output = strangler(&["analyze", &sample(), "--threads", "100000"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("0..=1024"), "{}", stderr(&output));
}

#[test]
fn analyze_of_a_file_is_a_clear_error() {
    let output = strangler(&[
        "analyze",
        &format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not a directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn analyze_by_default_writes_the_html_report_and_prints_a_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_strangler"))
        .args(["analyze", &fixture("axum_layered")])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = stdout(&output);
    assert!(summary.contains("extraction order"), "{summary}");
    assert!(summary.contains("strangler-report.html"), "{summary}");
    let html = std::fs::read_to_string(dir.path().join("strangler-report.html")).expect("report");
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<svg"),
        "{html:.200}"
    );
}

#[test]
fn analyze_renders_every_format() {
    for (format, marker) in [
        ("html", "<!DOCTYPE html>"),
        ("md", "# "),
        ("json", "\"schema_version\": 1"),
        ("dot", "digraph"),
        ("mermaid", "flowchart"),
    ] {
        let output = strangler(&["analyze", &fixture("axum_layered"), "--format", format]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).contains(marker),
            "{format}: {:.300}",
            stdout(&output)
        );
    }
    // `--detail units` draws every file; the context map names none.
    let dot = |detail: &str| {
        let output = strangler(&[
            "analyze",
            &fixture("axum_layered"),
            "--format",
            "dot",
            "--detail",
            detail,
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    assert!(dot("units").contains("reviews.rs"), "{}", dot("units"));
    assert!(
        !dot("contexts").contains("reviews.rs"),
        "{}",
        dot("contexts")
    );
}

fn sample() -> String {
    format!("{}/sample-monolith", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn plan_writes_a_proxy_config_the_proxy_accepts_with_a_route_group_per_context() {
    let output = strangler(&["plan", &sample()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let config = strangler_proxy::ValidConfig::from_toml_str(&text, "plan")
        .unwrap_or_else(|e| panic!("the proxy refuses the plan: {e}\n{text}"));
    let names: Vec<&str> = config.route_names().collect();
    // Every context has its group, every route starts at weight 0 with the monolith as primary.
    for context in ["movies", "customers", "reviews", "bookings", "fares"] {
        assert!(
            names
                .iter()
                .any(|n| *n == context || n.starts_with(&format!("{context}-"))),
            "{context} missing from {names:?}"
        );
        assert!(text.contains(&format!("[upstreams.{context}]")), "{text}");
    }
    assert!(!text.contains("weight = 1"), "{text}");
    assert!(
        text.contains("pattern = \"/api/movies/{id}/reviews\", methods = [\"GET\", \"POST\"]"),
        "{text}"
    );
    // Same input, same bytes.
    assert_eq!(strangler(&["plan", &sample()]).stdout, output.stdout);
}

#[test]
fn plan_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("strangler.toml");
    std::fs::write(&out, "keep me").unwrap();
    let out_arg = out.to_str().unwrap();
    let refused = strangler(&["plan", &sample(), "--out", out_arg]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let forced = strangler(&["plan", &sample(), "--out", out_arg, "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("[[routes]]")
    );
}

#[test]
fn scaffold_writes_a_service_and_reports_what_it_carried_and_stubbed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("reviews");
    let out_text = out.to_str().expect("utf-8");
    let output = strangler(&[
        "scaffold",
        "reviews",
        "--from",
        &sample_monolith(),
        "--out",
        out_text,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("generated reviews-service"), "{report}");
    assert!(
        report.contains("src/repo/reviews.rs::refresh_movie_rating at src/repo/reviews.rs:187"),
        "{report}"
    );
    for file in [
        "Cargo.toml",
        "src/main.rs",
        "migrations/0001_schema.sql",
        "Dockerfile",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }

    // The route block pastes into a proxy config the proxy accepts, shadow on, weight 0.
    let block = std::fs::read_to_string(out.join("strangler.route.toml")).expect("route block");
    let config = format!(
        "listen = \"127.0.0.1:0\"\n[upstreams.monolith]\nendpoints = [\"http://127.0.0.1:3000\"]\n{block}\n[default]\nprimary = \"monolith\"\n"
    );
    strangler_proxy::ValidConfig::from_toml_str(&config, "route block")
        .unwrap_or_else(|e| panic!("the proxy refuses the route block: {e}\n{config}"));
    assert!(block.contains("shadow = {"), "{block}");

    // A second run into the same directory is refused, and leaves a user's file alone.
    std::fs::write(out.join("NOTES.md"), "mine").expect("write");
    let again = strangler(&[
        "scaffold",
        "reviews",
        "--from",
        &sample_monolith(),
        "--out",
        out_text,
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced = strangler(&[
        "scaffold",
        "reviews",
        "--from",
        &sample_monolith(),
        "--out",
        out_text,
        "--force",
    ]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.md")).expect("kept"),
        "mine"
    );
}

#[test]
fn scaffold_of_an_unknown_context_names_the_known_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = strangler(&[
        "scaffold",
        "payments",
        "--from",
        &sample_monolith(),
        "--out",
        dir.path().join("x").to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("payments") && message.contains("reviews"),
        "{message}"
    );
}

#[test]
fn scaffold_from_an_analysis_file_uses_its_root() {
    let dir = tempfile::tempdir().expect("temp dir");
    let analysis = dir.path().join("analysis.json");
    let analyzed = strangler(&[
        "analyze",
        &sample_monolith(),
        "--format",
        "json",
        "--out",
        analysis.to_str().expect("utf-8"),
    ]);
    assert_eq!(analyzed.status.code(), Some(0), "{}", stderr(&analyzed));
    let out = dir.path().join("customers");
    let output = strangler(&[
        "scaffold",
        "customers",
        "--analysis",
        analysis.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--name",
        "accounts",
        "--port",
        "4100",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("name = \"accounts\""), "{manifest}");
    let main = std::fs::read_to_string(out.join("src/main.rs")).expect("main.rs");
    assert!(main.contains("127.0.0.1:4100"), "{main}");
}

fn sample_monolith() -> String {
    sample()
}

/// A `strangler proxy` child process, killed on drop.
struct ProxyProcess {
    child: std::process::Child,
    admin: String,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy(config: &std::path::Path) -> ProxyProcess {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_strangler"))
        .args(["proxy", "--config", config.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("proxy starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut admin = None;
    for line in std::io::BufReader::new(stdout).lines().take(10) {
        let line = line.expect("line");
        if let Some(url) = line.strip_prefix("admin API on ") {
            admin = Some(url.trim().to_string());
            break;
        }
    }
    let admin = admin.expect("the proxy prints its admin address");
    ProxyProcess { child, admin }
}

#[test]
fn cutover_of_a_context_name_moves_its_whole_route_group() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("strangler.toml");
    std::fs::write(
        &config,
        r#"listen = "127.0.0.1:0"
admin = "127.0.0.1:0"
[upstreams.monolith]
endpoints = ["http://127.0.0.1:9"]
[upstreams.reviews]
endpoints = ["http://127.0.0.1:9"]
[[routes]]
name = "reviews-1"
match = { pattern = "/api/movies/{id}/reviews" }
primary = "monolith"
candidate = "reviews"
[[routes]]
name = "reviews-2"
match = { pattern = "/api/reviews/{id}" }
primary = "monolith"
candidate = "reviews"
[[routes]]
name = "reviews-extra"
match = { exact = "/api/reviews/extra" }
primary = "monolith"
candidate = "reviews"
[default]
primary = "monolith"
"#,
    )
    .unwrap();
    let proxy = start_proxy(&config);
    let moved = strangler(&[
        "cutover",
        "reviews",
        "--weight",
        "30",
        "--admin",
        &proxy.admin,
    ]);
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    let status = strangler(&["status", "--json", "--admin", &proxy.admin]);
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let weight = |name: &str| {
        json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["weight"].as_u64().unwrap())
    };
    assert_eq!(weight("reviews-1"), Some(30));
    assert_eq!(weight("reviews-2"), Some(30));
    // Only CONTEXT-<number> routes belong to the group.
    assert_eq!(weight("reviews-extra"), Some(0));
    // A dry run changes nothing, with --weight as with --steps.
    let dry = strangler(&[
        "cutover",
        "reviews",
        "--weight",
        "80",
        "--dry-run",
        "--admin",
        &proxy.admin,
    ]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("nothing changed"), "{}", stdout(&dry));
    let after: serde_json::Value =
        serde_json::from_slice(&strangler(&["status", "--json", "--admin", &proxy.admin]).stdout)
            .expect("status JSON");
    let weights = |status: &serde_json::Value| -> Vec<(String, u64)> {
        status["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].to_string(), r["weight"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(weights(&after), weights(&json), "a dry run moved a weight");
    // A plan only walks up, and a redraw or a step has a floor.
    let falling = strangler(&[
        "cutover",
        "reviews",
        "--steps",
        "50,10",
        "--admin",
        &proxy.admin,
    ]);
    assert_eq!(falling.status.code(), Some(1));
    assert!(
        stderr(&falling).contains("50 is followed by 10"),
        "{}",
        stderr(&falling)
    );
    let busy = strangler(&["status", "--watch", "--interval", "0s"]);
    assert_eq!(busy.status.code(), Some(2), "{}", stderr(&busy));
    assert!(
        stderr(&busy).contains("shortest interval"),
        "{}",
        stderr(&busy)
    );

    let unknown = strangler(&[
        "cutover",
        "nosuch",
        "--weight",
        "10",
        "--admin",
        &proxy.admin,
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("nosuch"), "{}", stderr(&unknown));

    // `strangler status | head -0`: stdout closed before anything is written. The table is
    // dropped; no panic, and the exit status is still the command's own.
    let mut closed = Command::new(env!("CARGO_BIN_EXE_strangler"))
        .args(["status", "--admin", &proxy.admin])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the strangler binary runs");
    drop(closed.stdout.take());
    let output = closed.wait_with_output().expect("status ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}
