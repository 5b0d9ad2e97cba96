//! The course labs (`docs/course/`) as a student meets them, so they cannot rot silently.
//!
//! Each test runs a lab's own commands, taken from the lab's Markdown (the fenced blocks marked
//! `<!-- course-check: NAME -->`), against real processes on `127.0.0.1`, then the lab's
//! checkpoint script (`docs/course/checks/lab-N.sh`), and asserts both its PASS once the work is
//! done and its FAIL, with the reason, before. The binaries are the ones cargo built for this
//! test run: `strangler` and its workspace siblings (`sample-monolith`) in the same directory;
//! no test runs cargo. The scripts need bash and curl.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The longest any one script or lab command may run before the test kills it and fails.
const STEP_LIMIT: Duration = Duration::from_secs(180);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_strangler"))
        .parent()
        .expect("the strangler binary has a directory")
        .to_path_buf()
}

/// A workspace binary built beside `strangler` (`cargo test --workspace` builds them all).
fn sibling(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the workspace first (`cargo test --workspace` or `cargo build -p {name}`)",
        path.display()
    );
    path
}

fn read_doc(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The fenced blocks of a Markdown text that follow a `<!-- course-check: NAME -->` line.
fn checked_blocks(markdown: &str, name: &str) -> Vec<String> {
    let marker = format!("<!-- course-check: {name} -->");
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.trim() != marker {
            continue;
        }
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "`{marker}` must be followed by a fenced block, found `{fence}`"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        blocks.push(body.join("\n"));
    }
    blocks
}

/// A child process killed (and reaped) when dropped, also when a test fails.
struct Guard {
    child: Child,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The monolith on a free loopback port with its database in `dir`; returns it and its URL.
fn start_monolith(dir: &Path) -> (Guard, String) {
    start_monolith_at(dir, "127.0.0.1:0")
}

/// The monolith on `addr` with its database in `dir`.
fn start_monolith_at(dir: &Path, addr: &str) -> (Guard, String) {
    let mut child = Command::new(sibling("sample-monolith"))
        .args(["--addr", addr, "--db"])
        .arg(dir.join("cinema.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sample-monolith starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Guard { child };
    let lines = first_lines(stdout, 1);
    let url = lines[0]
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from sample-monolith: {lines:?}"))
        .to_string();
    (guard, url)
}

/// The first `n` lines a child prints, waiting at most 30 s for them.
fn first_lines(stdout: std::process::ChildStdout, n: usize) -> Vec<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        for _ in 0..n {
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = send.send(line.trim().to_string());
        }
        // Keep reading so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    (0..n)
        .map(|_| {
            receive
                .recv_timeout(Duration::from_secs(30))
                .expect("the process prints its address within 30 s")
        })
        .collect()
}

/// What a script printed and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn passed(&self) -> bool {
        self.code == Some(0) && self.stdout.lines().any(|l| l.starts_with("PASS: "))
    }

    fn failed_with(&self, reason: &str) -> bool {
        self.code == Some(1)
            && self
                .stdout
                .lines()
                .any(|l| l.starts_with("FAIL: ") && l.contains(reason))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `bash ARGS...` in `cwd` with `envs` (plus `STRANGLER_BIN_DIR`), killed after
/// `STEP_LIMIT`.
fn bash(args: &[&str], cwd: &Path, envs: &[(&str, &str)]) -> Run {
    let out = tempfile::tempdir().expect("temp dir");
    let stdout_path = out.path().join("stdout");
    let stderr_path = out.path().join("stderr");
    let mut command = Command::new("bash");
    command
        .args(args)
        .current_dir(cwd)
        .env("STRANGLER_BIN_DIR", bin_dir())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut guard = Guard {
        child: command.spawn().expect("bash runs"),
    };
    let started = Instant::now();
    let status = loop {
        if let Some(status) = guard.child.try_wait().expect("wait for bash") {
            break Some(status);
        }
        if started.elapsed() > STEP_LIMIT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(guard);
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "bash {args:?} ran over {STEP_LIMIT:?}: {run:?}"
    );
    run
}

/// Runs a checkpoint script of `docs/course/checks/`.
fn check(script: &str, args: &[&str], cwd: &Path, envs: &[(&str, &str)]) -> Run {
    let path = repo().join("docs/course/checks").join(script);
    let path = path.to_str().expect("UTF-8 path");
    let mut all = vec![path];
    all.extend_from_slice(args);
    bash(&all, cwd, envs)
}

/// Runs one block of a lab's commands the way a student pastes it, stopping at the first
/// failed command.
fn run_block(block: &str, cwd: &Path, envs: &[(&str, &str)]) -> Run {
    bash(&["-euo", "pipefail", "-c", block], cwd, envs)
}

/// One plain HTTP/1.1 exchange on loopback; returns the status code and the body.
fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A loopback URL where nothing listens (a port just released by the OS).
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn lab_1_commands_reach_the_checkpoint_on_a_fresh_monolith() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_monolith, url) = start_monolith(dir.path());
    let envs = [("CINEMA_URL", url.as_str()), ("CHECK_WAIT_SECONDS", "2")];

    // Before the lab's writes the checkpoint says which step is missing.
    let early = check("lab-1.sh", &[&url], &repo(), &envs);
    assert!(
        early.failed_with("post a review of your own (lab 1, step 5)"),
        "{early:?}"
    );
    assert!(early.stdout.contains("catalog: 6 movies"), "{early:?}");

    let lab = read_doc("docs/course/lab-1.md");
    let blocks = checked_blocks(&lab, "lab-1");
    assert!(blocks.len() >= 6, "lab-1.md lost its checked commands");
    for block in &blocks {
        let run = run_block(block, &repo(), &envs);
        assert_eq!(run.code, Some(0), "lab 1 command failed:\n{block}\n{run:?}");
    }
    // The review and the booking the lab's commands made are really there.
    let (status, movie) = http("GET", &format!("{url}/api/movies/3"), None);
    assert_eq!(status, 200, "{movie}");
    let movie: serde_json::Value = serde_json::from_str(&movie).expect("movie JSON");
    assert_eq!(movie["review_count"], 1, "{movie}");
    assert_eq!(movie["average_rating"], 4.0, "{movie}");

    // The checkpoint as the lab runs it: no argument, the URL from CINEMA_URL.
    let done = check("lab-1.sh", &[], &repo(), &envs);
    assert!(done.passed(), "{done:?}");
    assert!(
        done.stdout
            .contains("reviews: 4 in all, averages consistent on 3 movies"),
        "{done:?}"
    );
    assert!(
        done.stdout
            .contains("booking 1: confirmed, 2280 cents for showtime 1"),
        "{done:?}"
    );
}

#[test]
fn lab_1_checkpoint_fails_clearly_without_a_monolith_or_off_loopback() {
    let dir = tempfile::tempdir().expect("temp dir");
    let envs = [("CHECK_WAIT_SECONDS", "1")];
    let nothing = check("lab-1.sh", &[&dead_url()], dir.path(), &envs);
    assert!(
        nothing.failed_with("is sample-monolith running"),
        "{nothing:?}"
    );
    // Refused before any connection is tried.
    let remote = check(
        "lab-1.sh",
        &["http://example.invalid:3000"],
        dir.path(),
        &envs,
    );
    assert!(remote.failed_with("not a loopback address"), "{remote:?}");
}

#[test]
fn lab_1_checkpoint_catches_a_stored_average_that_disagrees_with_the_reviews() {
    // A server that answers like the monolith, except that movie 1's stored average (4.5) is not
    // the mean of its reviews (1 and 2 stars): what a broken rating update looks like from
    // outside. The real monolith cannot be brought there through its API.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_server = stop.clone();
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + STEP_LIMIT;
        while !stop_server.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buffer = [0_u8; 4096];
            let n = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]);
            let body = if request.starts_with("GET /healthz") {
                r#"{"database":"ok","status":"ok"}"#.to_string()
            } else if request.starts_with("GET /api/movies?") {
                let items: Vec<String> = (1..=6)
                    .map(|id| {
                        let (avg, count) = if id == 1 { ("4.5", 2) } else { ("null", 0) };
                        format!(r#"{{"id":{id},"average_rating":{avg},"review_count":{count}}}"#)
                    })
                    .collect();
                format!(
                    r#"{{"items":[{}],"page":1,"per_page":100,"total":6}}"#,
                    items.join(",")
                )
            } else {
                r#"{"items":[{"rating":1},{"rating":2}],"total":2}"#.to_string()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let run = check(
        "lab-1.sh",
        &[&url],
        dir.path(),
        &[("CHECK_WAIT_SECONDS", "2")],
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    server.join().expect("server thread");
    assert!(
        run.failed_with("movie 1: stored average_rating 4.5, but its reviews average 1.50"),
        "{run:?}"
    );
}

/// The expected answers of lab 2 as the instructor's page gives them.
fn instructor_answers() -> String {
    let blocks = checked_blocks(&read_doc("docs/course/instructor.md"), "lab-2-answers");
    assert_eq!(
        blocks.len(),
        1,
        "instructor.md must hold one lab-2-answers block"
    );
    blocks[0].clone() + "\n"
}

fn keys_of(answers: &str) -> Vec<String> {
    answers
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

#[test]
fn lab_2_instructor_answers_pass_the_checkpoint_and_a_wrong_one_fails_it() {
    let answers = instructor_answers();
    let template = read_doc("docs/course/lab-2-answers.txt");
    assert_eq!(
        keys_of(&answers),
        keys_of(&template),
        "the template and the instructor's answers ask different questions"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let missing = check("lab-2.sh", &[], dir.path(), &[]);
    assert!(missing.failed_with("no answers file"), "{missing:?}");

    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, &template).expect("write");
    let unanswered = check("lab-2.sh", &[blank.to_str().unwrap()], dir.path(), &[]);
    assert!(
        unanswered.failed_with("8 of 8 answers are missing or wrong"),
        "{unanswered:?}"
    );

    std::fs::write(dir.path().join("lab-2-answers.txt"), &answers).expect("write");
    let right = check("lab-2.sh", &[], dir.path(), &[]);
    assert!(right.passed(), "{right:?}");
    assert_eq!(right.stdout.matches(": right").count(), 8, "{right:?}");

    let wrong: String = answers
        .lines()
        .map(|l| {
            if l.starts_with("first=") {
                "first=bookings".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let wrong_path = dir.path().join("wrong.txt");
    std::fs::write(&wrong_path, wrong).expect("write");
    let run = check("lab-2.sh", &[wrong_path.to_str().unwrap()], dir.path(), &[]);
    assert!(
        run.failed_with("1 of 8 answers are missing or wrong"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("first: `bookings` is not what the analysis says"),
        "{run:?}"
    );
}

/// `strangler ARGS...`, for the commands a lab runs by hand.
fn strangler(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strangler"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("strangler runs")
}

/// `strangler proxy` on a config file; returns it, its URL and its admin URL.
fn start_proxy(config: &Path) -> (Guard, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strangler"))
        .arg("proxy")
        .arg("--config")
        .arg(config)
        .args(["--workers", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the proxy starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Guard { child };
    let lines = first_lines(stdout, 2);
    let listen = lines[0]
        .strip_prefix("strangler proxy listening on ")
        .unwrap_or_else(|| panic!("unexpected proxy output: {lines:?}"))
        .to_string();
    let admin = lines[1]
        .strip_prefix("admin API on ")
        .unwrap_or_else(|| panic!("unexpected proxy output: {lines:?}"))
        .to_string();
    (guard, listen, admin)
}

/// A release of the service that is up and ready by its own checks but answers 500 to every
/// API request: what lab 4's misconfigured release looks like from the proxy.
struct BrokenRelease {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BrokenRelease {
    fn start(addr: &str) -> BrokenRelease {
        // The port was just released by the killed good release; binding may take a moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot bind {addr} again: {e}"),
            }
        };
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + STEP_LIMIT;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let (status, body) = if head.starts_with("GET /healthz ")
                    || head.starts_with("GET /readyz ")
                {
                    ("200 OK", r#"{"status":"ok"}"#)
                } else {
                    (
                        "500 Internal Server Error",
                        r#"{"error":{"code":"internal","message":"movies service at http://127.0.0.1:1: connection refused"}}"#,
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        BrokenRelease {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BrokenRelease {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn route_status(admin: &str) -> serde_json::Value {
    let output = strangler(&["status", "--json", "--admin", admin]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "strangler status: {output:?}"
    );
    serde_json::from_slice(&output.stdout).expect("status JSON")
}

fn traffic(proxy: &str, requests: &str) -> Run {
    let tool = repo().join("docs/course/tools/traffic.sh");
    bash(
        &[
            tool.to_str().expect("UTF-8 path"),
            "--url",
            proxy,
            "--requests",
            requests,
        ],
        &repo(),
        &[],
    )
}

#[test]
fn lab_4_config_drill_and_checkpoint_on_a_real_proxy() {
    let lab = read_doc("docs/course/lab-4.md");
    let blocks = checked_blocks(&lab, "lab-4-config");
    assert_eq!(blocks.len(), 1, "lab-4.md must hold one lab-4-config block");
    let config = &blocks[0];
    // The config exactly as the student pastes it is one the proxy accepts.
    let valid = strangler_proxy::ValidConfig::from_toml_str(config, "lab4.toml")
        .unwrap_or_else(|e| panic!("the proxy refuses lab-4.md's config: {e}"));
    let names: Vec<&str> = valid.route_names().collect();
    assert!(
        names.contains(&"reviews-1") && names.contains(&"reviews-2"),
        "{names:?}"
    );

    // The monolith, and a second monolith standing in for the reviews service of lab 3 (it
    // serves the same reviews API from the same seed, so shadow answers match).
    let dir = tempfile::tempdir().expect("temp dir");
    let (primary_dir, candidate_dir) = (dir.path().join("primary"), dir.path().join("candidate"));
    std::fs::create_dir_all(&primary_dir).expect("dir");
    std::fs::create_dir_all(&candidate_dir).expect("dir");
    let (_primary, primary_url) = start_monolith(&primary_dir);
    let (candidate, candidate_url) = start_monolith(&candidate_dir);
    let candidate_addr = candidate_url
        .strip_prefix("http://")
        .expect("http")
        .to_string();
    let config = config
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9090", "127.0.0.1:0")
        .replace("http://127.0.0.1:3000", &primary_url)
        .replace("http://127.0.0.1:4002", &candidate_url)
        // The stand-in has no readiness route; its health route answers the same question.
        .replace("\"/readyz\"", "\"/healthz\"");
    let config_path = dir.path().join("lab4.toml");
    std::fs::write(&config_path, config).expect("write config");
    let (_proxy, proxy, admin) = start_proxy(&config_path);
    let check4 = || -> Run { check("lab-4.sh", &[&admin], &repo(), &[]) };

    // Step 4: shadow at weight 0.
    let run = traffic(&proxy, "90");
    assert!(
        run.code == Some(0) && run.stdout.contains("90 requests: 90 2xx"),
        "{run:?}"
    );
    let status = route_status(&admin);
    assert!(
        status["routes"][0]["shadow"]["compared"].as_u64() > Some(0),
        "{status}"
    );
    let early = check4();
    assert!(
        early.failed_with("the candidate never served a request"),
        "{early:?}"
    );

    // Step 5: canary.
    let moved = strangler(&["cutover", "reviews", "--weight", "50", "--admin", &admin]);
    assert_eq!(moved.status.code(), Some(0), "{moved:?}");
    let run = traffic(&proxy, "90");
    assert_eq!(run.code, Some(0), "{run:?}");
    let canary = check4();
    assert!(
        canary.failed_with("no rollback has fired on the reviews routes yet"),
        "{canary:?}"
    );

    // Step 6: the broken release. Clients see no failure; the rule rolls the routes back.
    drop(candidate);
    let broken = BrokenRelease::start(&candidate_addr);
    let run = traffic(&proxy, "300");
    assert!(
        run.code == Some(0) && run.stdout.contains("0 5xx, 0 without an answer"),
        "clients saw the broken release: {run:?}"
    );
    let status = route_status(&admin);
    let rolled_back: Vec<&serde_json::Value> = status["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter(|r| r["breach"].is_string())
        .collect();
    assert!(!rolled_back.is_empty(), "no rollback fired: {status}");
    for route in &rolled_back {
        assert_eq!(route["weight"], 0, "{route}");
        assert!(
            route["breach"]
                .as_str()
                .is_some_and(|b| b.starts_with("rollback at weight 50")),
            "{route}"
        );
        assert!(route["fallbacks"].as_u64() > Some(0), "{route}");
    }
    let rolled = check4();
    assert!(rolled.failed_with("not 100 %"), "{rolled:?}");

    // Step 7: the fixed release, then the full cutover.
    drop(broken);
    let (_fixed, _) = start_monolith_at(&candidate_dir, &candidate_addr);
    let moved = strangler(&["cutover", "reviews", "--weight", "100", "--admin", &admin]);
    assert_eq!(moved.status.code(), Some(0), "{moved:?}");
    let run = traffic(&proxy, "90");
    assert!(
        run.code == Some(0) && run.stdout.contains("90 requests: 90 2xx"),
        "{run:?}"
    );
    let done = check4();
    assert!(done.passed(), "{done:?}");
    assert!(
        done.stdout
            .contains("PASS: the reviews routes are at 100 % on reviews after"),
        "{done:?}"
    );
}

/// `strangler scaffold reviews` into `dir/reviews-service`, as lab 3 step 1 runs it.
fn scaffold_reviews(dir: &Path) -> PathBuf {
    let out = dir.join("reviews-service");
    let sample = repo().join("sample-monolith");
    let output = strangler(&[
        "scaffold",
        "reviews",
        "--from",
        sample.to_str().expect("UTF-8 path"),
        "--out",
        out.to_str().expect("UTF-8 path"),
        "--port",
        "4002",
    ]);
    assert_eq!(output.status.code(), Some(0), "scaffold: {output:?}");
    out
}

/// Removes the lines holding `needle` from a file.
fn drop_lines(path: &Path, needle: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains(needle)).collect();
    std::fs::write(path, kept.join("\n") + "\n").expect("write");
}

#[test]
fn lab_3_checkpoint_lists_what_is_left_to_do_in_the_scaffolded_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let envs = [("LAB3_SKIP_CARGO", "1")];
    let nothing = check("lab-3.sh", &["/nonexistent/service"], &repo(), &envs);
    assert!(
        nothing.failed_with("is not a scaffolded service"),
        "{nothing:?}"
    );

    let service = scaffold_reviews(dir.path());
    let service_arg = service.to_str().expect("UTF-8 path");
    // As generated: the three bridges and the stub are marked, all in src/repo/reviews.rs, as
    // lab 3 step 4 shows.
    let fresh = check("lab-3.sh", &[service_arg], &repo(), &envs);
    assert!(
        fresh.failed_with("4 TODO(strangler) marker(s) left"),
        "{fresh:?}"
    );
    assert_eq!(
        fresh
            .stdout
            .lines()
            .filter(|l| l.starts_with("  - src/repo/reviews.rs:"))
            .count(),
        4,
        "{fresh:?}"
    );

    // Step 4 done: the bridges reviewed, their markers deleted.
    let repo_file = service.join("src/repo/reviews.rs");
    drop_lines(&repo_file, "now GET /api/");
    let bridged = check("lab-3.sh", &[service_arg], &repo(), &envs);
    assert!(
        bridged.failed_with("1 TODO(strangler) marker(s) left"),
        "{bridged:?}"
    );

    // A marker deleted over a body that is still the stub is not a completed stub.
    drop_lines(&repo_file, "TODO(strangler):");
    let cheated = check("lab-3.sh", &[service_arg], &repo(), &envs);
    assert!(
        cheated.failed_with("a stub body is still there"),
        "{cheated:?}"
    );
    assert!(
        cheated.stdout.contains("no TODO(strangler) marker left"),
        "{cheated:?}"
    );
}

#[test]
fn lab_5_checkpoint_compares_two_stores_through_their_apis_in_both_directions() {
    // Two monoliths from the same seed stand in for the monolith and the reviews service: the
    // check only speaks the reviews API, which both serve.
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a_dir).expect("dir");
    std::fs::create_dir_all(&b_dir).expect("dir");
    let (_a, a) = start_monolith(&a_dir);
    let (_b, b) = start_monolith(&b_dir);
    let lab5 = || check("lab-5.sh", &[&a, &b], &repo(), &[]);

    let same = lab5();
    assert!(same.passed(), "{same:?}");
    assert!(
        same.stdout.contains("agree on all 3 reviews of 6 movies"),
        "{same:?}"
    );

    let review = r#"{"customer_id": 3, "rating": 4, "title": "Lovely", "body": ""}"#;
    let (status, body) = http("POST", &format!("{a}/api/movies/3/reviews"), Some(review));
    assert_eq!(status, 201, "{body}");
    let behind = lab5();
    assert!(
        behind.failed_with("disagree on 1 of 6 movies"),
        "{behind:?}"
    );
    assert!(
        behind
            .stdout
            .contains("movie 3: review(s) 4 only in the monolith"),
        "{behind:?}"
    );

    let (status, body) = http("DELETE", &format!("{a}/api/reviews/4"), None);
    assert_eq!(status, 200, "{body}");
    assert!(lab5().passed());

    let (status, body) = http("POST", &format!("{b}/api/movies/3/reviews"), Some(review));
    assert_eq!(status, 201, "{body}");
    let ahead = lab5();
    assert!(
        ahead
            .stdout
            .contains("movie 3: review(s) 4 only in the service"),
        "{ahead:?}"
    );
    assert_eq!(ahead.code, Some(1), "{ahead:?}");

    let dead = check(
        "lab-5.sh",
        &[&a, &dead_url()],
        &repo(),
        &[("CHECK_WAIT_SECONDS", "1")],
    );
    assert!(dead.failed_with("the service does not answer"), "{dead:?}");
}

/// HTTPRoutes in the Gateway API's shape (v1), with the reviews backend at `weight`.
fn httproutes(weight: u32) -> String {
    let rule = |name: &str, path: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: {name}\n\
             spec:\n  parentRefs:\n    - name: strangler\n  rules:\n    - matches:\n        \
             - path:\n            type: RegularExpression\n            value: \"{path}\"\n      \
             backendRefs:\n        - name: monolith\n          port: 80\n          weight: {}\n        \
             - name: reviews-service\n          port: 80\n          weight: {weight}\n",
            100 - weight
        )
    };
    format!(
        "{}---\n{}",
        rule("reviews-1", "/api/movies/[^/]+/reviews"),
        rule("reviews-2", "/api/reviews/[^/]+")
    )
}

#[test]
fn lab_6_checkpoint_validates_the_generated_manifests_and_the_routes_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let service = scaffold_reviews(dir.path());
    let service_arg = service.to_str().expect("UTF-8 path");
    let routes = dir.path().join("httproute.yaml");
    let routes_arg = routes.to_str().expect("UTF-8 path");
    let lab6 = || check("lab-6.sh", &[service_arg, routes_arg], dir.path(), &[]);

    std::fs::write(&routes, httproutes(100)).expect("write");
    let good = lab6();
    assert!(good.passed(), "{good:?}");
    assert!(
        good.stdout.contains(
            "Deployment: image reviews-service:latest, port 4002, probes /healthz and /readyz"
        ),
        "{good:?}"
    );
    assert!(
        good.stdout
            .contains("HTTPRoute reviews-1: monolith=0:80 reviews-service=100:80"),
        "{good:?}"
    );

    // Exported before the cutover: nothing goes to the service.
    std::fs::write(&routes, httproutes(0)).expect("write");
    let before = lab6();
    assert!(
        before.failed_with("no rule sends traffic to the Service reviews-service"),
        "{before:?}"
    );

    std::fs::write(
        &routes,
        httproutes(100).replace("gateway.networking.k8s.io/v1", "networking.k8s.io/v1"),
    )
    .expect("write");
    let api = lab6();
    assert!(
        api.failed_with("apiVersion outside gateway.networking.k8s.io"),
        "{api:?}"
    );

    // Manifests broken the way hand edits break them.
    std::fs::write(&routes, httproutes(100)).expect("write");
    let service_yaml = service.join("k8s/service.yaml");
    let original = std::fs::read_to_string(&service_yaml).expect("read");
    std::fs::write(
        &service_yaml,
        original.replace(
            "  selector:\n    app: reviews-service",
            "  selector:\n    app: reviews",
        ),
    )
    .expect("write");
    let selector = lab6();
    assert!(
        selector.failed_with("it would have no endpoints"),
        "{selector:?}"
    );
    std::fs::write(&service_yaml, original).expect("write");

    let deployment = service.join("k8s/deployment.yaml");
    let text = std::fs::read_to_string(&deployment).expect("read");
    std::fs::write(&deployment, text.replace("path: /readyz", "path: /healthz")).expect("write");
    let probe = lab6();
    assert!(
        probe.failed_with("readinessProbe does not ask /readyz"),
        "{probe:?}"
    );
    std::fs::write(&deployment, text).expect("write");
    assert!(lab6().passed());
}

#[test]
fn lab_6_commands_export_lab_4s_cutover_and_pass_the_checkpoint() {
    // Lab 6 steps 2 and 3 as written (the variant without a running proxy: the weights written
    // into the file), from lab 4's config, then the checkpoint on the export and the manifests.
    let dir = tempfile::tempdir().expect("temp dir");
    let lab4 = checked_blocks(&read_doc("docs/course/lab-4.md"), "lab-4-config")
        .pop()
        .expect("lab-4-config block");
    std::fs::write(dir.path().join("lab4.toml"), lab4).expect("write");
    let lab6 = read_doc("docs/course/lab-6.md");
    let strangler_bin = env!("CARGO_BIN_EXE_strangler");
    for name in ["lab-6-config", "lab-6-export"] {
        let blocks = checked_blocks(&lab6, name);
        assert_eq!(blocks.len(), 1, "lab-6.md must hold one {name} block");
        let block = blocks[0].replace("target/release/strangler", strangler_bin);
        let run = run_block(&block, dir.path(), &[]);
        assert_eq!(run.code, Some(0), "lab 6 command failed:\n{block}\n{run:?}");
    }
    let service = scaffold_reviews(dir.path());
    let run = check(
        "lab-6.sh",
        &[service.to_str().expect("UTF-8 path"), "httproute.yaml"],
        dir.path(),
        &[],
    );
    assert!(run.passed(), "{run:?}");
    for line in [
        "HTTPRoute reviews-1: monolith=0:80 reviews-service=100:80",
        "HTTPRoute reviews-2: monolith=0:80 reviews-service=100:80",
        "HTTPRoute strangler-default: monolith=100:80",
        "4 rule(s) send traffic to reviews-service",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{run:?}");
    }

    // The same export of lab 4's own config names a backend no Service of the manifests has.
    let output = strangler(&[
        "plan",
        "--export",
        "gateway-api",
        "--config",
        dir.path().join("lab4.toml").to_str().expect("UTF-8 path"),
        "--out",
        dir.path()
            .join("lab4-routes.yaml")
            .to_str()
            .expect("UTF-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let wrong = check(
        "lab-6.sh",
        &[service.to_str().expect("UTF-8 path"), "lab4-routes.yaml"],
        dir.path(),
        &[],
    );
    assert!(
        wrong.failed_with("no rule sends traffic to the Service reviews-service"),
        "{wrong:?}"
    );
}

#[cfg(unix)]
#[test]
fn every_checkpoint_the_labs_name_exists_and_is_executable() {
    use std::os::unix::fs::PermissionsExt;
    for n in 1..=6 {
        let lab = read_doc(&format!("docs/course/lab-{n}.md"));
        let script = format!("docs/course/checks/lab-{n}.sh");
        assert!(lab.contains(&script), "lab-{n}.md does not name {script}");
        let mode = std::fs::metadata(repo().join(&script))
            .unwrap_or_else(|e| panic!("{script}: {e}"))
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }
    let tool = std::fs::metadata(repo().join("docs/course/tools/traffic.sh")).expect("traffic.sh");
    assert!(
        tool.permissions().mode() & 0o111 != 0,
        "traffic.sh is not executable"
    );
}
