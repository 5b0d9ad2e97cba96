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
    let mut child = Command::new(sibling("sample-monolith"))
        .args(["--addr", "127.0.0.1:0", "--db"])
        .arg(dir.join("cinema.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sample-monolith starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Guard { child };
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    let line = receive
        .recv_timeout(Duration::from_secs(30))
        .expect("sample-monolith prints its address within 30 s");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from sample-monolith: {line:?}"))
        .to_string();
    (guard, url)
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
