//! Every context of the sample monolith, generated, built and tested as a crate of its own
//! (one shared target directory, `target/scaffold-check`, keeps repeated runs incremental); then
//! the reviews, customers and fares services, fed by `copy-from`, compared with the running
//! monolith.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::{generate, workspace};

const CONTEXTS: [&str; 5] = ["movies", "customers", "reviews", "bookings", "fares"];

/// Contexts whose GET routes must answer like the monolith, with the values tried for path
/// parameters (ids of the seed, discount codes of the seed, and values that are not there).
const CONTRACT_CONTEXTS: [(&str, &str); 3] = [
    ("reviews", "1,2,3,999999"),
    ("customers", "1,2,3,999999"),
    ("fares", "STUDENT10,WELCOME25,SPRING2020,NOPE"),
];

fn target_dir() -> PathBuf {
    workspace().join("target").join("scaffold-check")
}

fn cargo(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .envs(envs.iter().copied())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {} in {} failed:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Writes the generated files and formats the Rust ones, as `strangler scaffold` does.
fn write(service: &scaffold::GeneratedService, dir: &Path) {
    for (relative, text) in &service.files {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let files: Vec<PathBuf> = service.rust_files().map(|p| dir.join(p)).collect();
    let status = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&files)
        .status()
        .expect("rustfmt runs");
    assert!(status.success());
}

/// The monolith on 127.0.0.1:0 with a fresh database, killed on drop.
struct Monolith {
    child: Child,
    url: String,
}

impl Drop for Monolith {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_monolith(db: &Path) -> Monolith {
    cargo(
        &workspace(),
        &["build", "-p", "sample-monolith", "--bin", "sample-monolith"],
        &[],
    );
    let binary = target_dir().join("debug").join("sample-monolith");
    let mut child = Command::new(binary)
        .args(["--addr", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the monolith starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the monolith prints its address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Monolith { child, url }
}

#[test]
fn every_context_builds_passes_its_tests_and_matches_the_monolith() {
    let scratch = tempfile::tempdir().expect("temp dir");
    for context in CONTEXTS {
        let service = generate(context).unwrap_or_else(|e| panic!("{context}: {e}"));
        let dir = scratch.path().join(context);
        write(&service, &dir);
        cargo(&dir, &["fmt", "--check"], &[]);
        cargo(
            &dir,
            &["clippy", "--all-targets", "--", "-D", "warnings"],
            &[],
        );
        cargo(&dir, &["build"], &[]);
        cargo(&dir, &["test"], &[]);
    }

    let monolith = start_monolith(&scratch.path().join("cinema.db"));
    let monolith_db = scratch.path().join("cinema.db");
    for (context, samples) in CONTRACT_CONTEXTS {
        let output = cargo(
            &scratch.path().join(context),
            &["test", "contract", "--", "--nocapture"],
            &[
                ("MONOLITH_URL", monolith.url.as_str()),
                ("MONOLITH_DB", monolith_db.to_str().expect("utf-8 path")),
                ("CONTRACT_SAMPLES", samples),
            ],
        );
        let log = String::from_utf8_lossy(&output.stderr);
        let compared = log
            .lines()
            .find_map(|line| line.strip_prefix("contract: compared "))
            .unwrap_or_else(|| panic!("{context}: the contract test did not run:\n{log}"));
        let count: usize = compared
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count");
        assert!(count >= 5, "{context}: only {count} requests compared");
        let successes: usize = compared
            .split('(')
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("a count of successes");
        assert!(
            successes >= 3,
            "{context}: only {successes} requests answered 200: {compared}"
        );
        assert!(compared.ends_with(", 0 differ"), "{context}: {compared}");
        let copied = log
            .lines()
            .filter(|line| line.contains(": monolith ") && line.contains(" rows, service "))
            .count();
        assert!(
            copied >= 1,
            "{context}: copy-from printed no counts:\n{log}"
        );
    }
    copy_from_is_idempotent_and_resumes(&monolith_db, scratch.path());
}

/// `copy-from` twice gives the same rows; after an interruption (a recorded position, the rows
/// after it missing) it copies only the rest.
fn copy_from_is_idempotent_and_resumes(monolith_db: &Path, scratch: &Path) {
    let binary = target_dir().join("debug").join("reviews-service");
    let service_db = scratch.join("copy.db");
    let copy = || {
        let output = Command::new(&binary)
            .args(["copy-from", "--monolith-db"])
            .arg(monolith_db)
            .arg("--db")
            .arg(&service_db)
            .output()
            .expect("copy-from runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = copy();
    assert_eq!(
        first,
        "reviews: monolith 3 rows, service 3 rows (3 copied)\n"
    );
    let second = copy();
    assert_eq!(second, first, "a second copy changes nothing");

    let conn = rusqlite::Connection::open(&service_db).expect("open the service's database");
    conn.execute_batch(
        "DELETE FROM reviews WHERE rowid = 3;
         INSERT INTO strangler_copy_progress (table_name, last_rowid) VALUES ('reviews', 2);",
    )
    .expect("simulate an interrupted copy");
    drop(conn);
    let resumed = copy();
    assert_eq!(
        resumed,
        "reviews: monolith 3 rows, service 3 rows (1 copied, resumed)\n"
    );
}
