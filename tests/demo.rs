//! `strangler demo --fast` end to end: the real binary starts the real monolith, the real
//! reviews service and the proxy, drives traffic through the whole walk, and writes its JSON
//! summary, which these tests read.
//!
//! The demo's services must already be built: `cargo test --workspace` builds them (both
//! packages have integration tests). The demo is told never to run cargo itself
//! (`STRANGLER_DEMO_NO_BUILD`), since cargo holds the build lock while tests run. Each run is
//! bounded: a demo still running after [`RUN_LIMIT`] is killed with its whole process group
//! (the monolith and the service are in it) and the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `--fast` run takes about 15 s of its own; this leaves room for a loaded machine.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// The two runs share two cores with everything else: one at a time keeps their timing sane.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The demo, killed with its process group if still running on drop.
struct Demo {
    child: Child,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn binaries_are_built() {
    let strangler = PathBuf::from(env!("CARGO_BIN_EXE_strangler"));
    let dir = strangler.parent().expect("a target directory");
    for name in ["sample-monolith", "reviews-service"] {
        let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        assert!(
            path.is_file(),
            "{} is missing: the demo test needs the services built next to strangler; run `cargo test --workspace` (or `cargo build -p sample-monolith -p reviews-service`) first",
            path.display()
        );
    }
}

/// Runs `strangler demo --fast --json FILE ARGS...`; its exit status, stdout and summary.
fn run_demo(extra: &[&str]) -> (ExitStatus, String, String, Value) {
    binaries_are_built();
    let scratch = tempfile::tempdir().expect("temp dir");
    let json = scratch.path().join("summary.json");
    let stdout_path = scratch.path().join("stdout.txt");
    let stderr_path = scratch.path().join("stderr.txt");
    let mut command = Command::new(env!("CARGO_BIN_EXE_strangler"));
    command
        .args(["demo", "--fast", "--json"])
        .arg(&json)
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STRANGLER_DEMO_NO_BUILD", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let mut demo = Demo {
        child: command.spawn().expect("strangler demo starts"),
    };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = demo.child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            drop(demo);
            panic!(
                "strangler demo --fast still running after {}s; its output:\n{}\n{}",
                RUN_LIMIT.as_secs(),
                read(&stdout_path),
                read(&stderr_path)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = read(&stdout_path);
    let stderr = read(&stderr_path);
    let text = std::fs::read_to_string(&json).unwrap_or_else(|error| {
        panic!("no JSON summary ({error}); status {status}\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    let summary: Value = serde_json::from_str(&text).expect("the summary is JSON");
    // The run's directory is gone (no --keep): nothing was left behind on disk.
    let dir = summary["dir"].as_str().expect("dir");
    assert!(!Path::new(dir).exists(), "{dir} was left behind");
    (status, stdout, stderr, summary)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn n(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a count: {value}"))
}

#[test]
fn the_whole_walk_fails_no_request_and_the_shadow_step_matches() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (status, stdout, stderr, summary) = run_demo(&[]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}\nsummary: {summary:#}");
    assert!(status.success(), "{context}");
    assert!(n(&summary["requests"]) > 200, "{context}");
    assert_eq!(n(&summary["failures"]), 0, "{context}");
    assert_eq!(
        summary["steps_reached"],
        serde_json::json!(["shadow", "5%", "25%", "50%", "100%"]),
        "{context}"
    );
    let steps = summary["steps"].as_array().expect("steps");
    let shadow = &steps[0];
    assert_eq!(shadow["weight"], 0, "{context}");
    let routes = shadow["shadow"].as_array().expect("shadow routes");
    assert_eq!(
        routes.len(),
        2,
        "both reviews routes are shadowed: {context}"
    );
    for route in routes {
        assert!(
            route["matches"].as_str().unwrap_or("").contains("GET"),
            "{context}"
        );
        assert!(n(&route["compared"]) > 0, "nothing compared: {context}");
        assert_eq!(
            route["matched"], route["compared"],
            "shadow differences in the shadow step: {context}"
        );
    }
    // At weight 0 the service serves no client; at 100 it serves every sticky user.
    assert_eq!(n(&shadow["candidate_requests"]), 0, "{context}");
    let last = &steps[4];
    assert!(n(&last["candidate_requests"]) > 0, "{context}");
    assert!(
        n(&last["primary_requests"]) * 10 <= n(&last["candidate_requests"]),
        "{context}"
    );
    assert_eq!(summary["stores_in_step"], true, "{context}");
    assert!(
        Path::new(summary["report"].as_str().unwrap_or("")).ends_with("report.html"),
        "{context}"
    );
    assert!(stdout.contains("no client request failed"), "{context}");
}

#[test]
fn killing_the_service_mid_walk_falls_back_without_failing_a_read() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (status, stdout, stderr, summary) = run_demo(&["--kill-candidate-at", "50"]);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}\nsummary: {summary:#}");
    assert_eq!(summary["candidate_killed_at"], "50%", "{context}");
    assert_eq!(
        summary["steps_reached"].as_array().map(Vec::len),
        Some(5),
        "{context}"
    );
    // Reads meant for the dead service reach the monolith one of two ways: retried there after
    // the service failed them (a fallback), or sent there straight once the service is ejected
    // (a bypass). Which comes first is timing: when writes meet the dead service first, they
    // get it ejected before any read is sent to it, and every read is a bypass.
    assert!(
        n(&summary["fallbacks"]) + n(&summary["bypasses"]) > 0,
        "no read went around the dead service: {context}"
    );
    assert_eq!(n(&summary["failed_reads"]), 0, "{context}");
    // A write the dead service was sent cannot be retried; the exit status says so honestly.
    assert_eq!(
        status.success(),
        n(&summary["failures"]) == 0,
        "exit status and failures disagree: {context}"
    );
    // After the kill every reviews request is served by the monolith.
    let last = &summary["steps"][4];
    assert_eq!(n(&last["candidate_requests"]), 0, "{context}");
    assert!(n(&last["primary_requests"]) > 0, "{context}");
}

/// Whether process `pid` is gone (or a zombie waiting for whoever adopted it to reap it).
#[cfg(target_os = "linux")]
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// The pid printed as `(pid N` on the line that starts with `prefix`.
fn pid_on(stdout: &str, prefix: &str) -> Option<u32> {
    let line = stdout.lines().find(|line| line.starts_with(prefix))?;
    let rest = line.split_once("(pid ")?.1;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
#[test]
fn a_demo_killed_outright_takes_its_services_with_it() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    binaries_are_built();
    let scratch = tempfile::tempdir().expect("temp dir");
    let stdout_path = scratch.path().join("stdout.txt");
    let mut command = Command::new(env!("CARGO_BIN_EXE_strangler"));
    command
        .args(["demo", "--fast"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STRANGLER_DEMO_NO_BUILD", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(Stdio::null());
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let mut demo = Demo {
        child: command.spawn().expect("strangler demo starts"),
    };
    // Wait for the traffic to start: both services are up by then.
    let started = Instant::now();
    let stdout = loop {
        let stdout = read(&stdout_path);
        if stdout.contains("5. traffic") {
            break stdout;
        }
        assert!(
            started.elapsed() < RUN_LIMIT && demo.child.try_wait().expect("wait").is_none(),
            "the demo did not reach its traffic:\n{stdout}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let monolith = pid_on(&stdout, "1. monolith").expect("the monolith's pid");
    let service = pid_on(&stdout, "3. reviews").expect("the service's pid");
    assert!(!is_gone(monolith) && !is_gone(service), "{stdout}");

    // SIGKILL to the demo alone (not its group): no guard, no signal handler runs.
    demo.child.kill().expect("kill");
    demo.child.wait().expect("wait");
    let killed = Instant::now();
    while !(is_gone(monolith) && is_gone(service)) && killed.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = [monolith, service].map(|pid| !is_gone(pid));
    // Leave nothing behind either way: the children, then the run's directory.
    for pid in [monolith, service] {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
    if let Some(dir) = stdout
        .lines()
        .find_map(|line| line.strip_prefix("strangler demo: working in "))
    {
        let _ = std::fs::remove_dir_all(dir.trim());
    }
    assert_eq!(
        left,
        [false, false],
        "the monolith ({monolith}) and the service ({service}) must stop when the demo dies"
    );
}
