//! The demo's child processes: finding (or building) the sample monolith and the reviews
//! service, starting them on `127.0.0.1:0`, and making sure none outlives the demo.
//!
//! Every child sits in a [`ChildProcess`] guard that stops it when dropped (SIGTERM, then
//! SIGKILL after a grace period), so an error, a panic or ctrl-c anywhere in the demo still
//! stops them. The children stay in the demo's process group, so a terminal's ctrl-c reaches
//! them too, and `kill -- -PGID` stops the demo and its children at once.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// How long a child may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a child may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// The two programs the demo runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `sample-monolith`.
    pub monolith: PathBuf,
    /// `reviews-service`.
    pub reviews: PathBuf,
}

/// Set by tests: never run cargo, fail instead (cargo holds the build lock during `cargo test`).
pub const NO_BUILD_ENV: &str = "STRANGLER_DEMO_NO_BUILD";

/// Finds the binaries next to the running `strangler` (the same target profile directory); when
/// they are missing and the strangler repository is at hand, builds them with cargo.
pub fn find_or_build(repo: Option<&Path>) -> anyhow::Result<Binaries> {
    let exe = std::env::current_exe().context("cannot tell where strangler runs from")?;
    let dir = exe
        .parent()
        .context("the strangler executable has no directory")?
        .to_path_buf();
    let binaries = Binaries {
        monolith: dir.join(format!("sample-monolith{}", std::env::consts::EXE_SUFFIX)),
        reviews: dir.join(format!("reviews-service{}", std::env::consts::EXE_SUFFIX)),
    };
    let missing = |b: &Binaries| !b.monolith.is_file() || !b.reviews.is_file();
    if !missing(&binaries) {
        return Ok(binaries);
    }
    let fix = "build them with `cargo build -p sample-monolith -p reviews-service` (add --release for a release strangler)";
    if std::env::var_os(NO_BUILD_ENV).is_some() {
        anyhow::bail!(
            "sample-monolith or reviews-service is missing next to {} ({NO_BUILD_ENV} is set, so the demo does not build them): {fix}",
            exe.display()
        );
    }
    let Some(repo) = repo else {
        anyhow::bail!(
            "sample-monolith or reviews-service is missing next to {}, and no strangler repository was found from the current directory: {fix} in a clone of strangler",
            exe.display()
        );
    };
    // The binaries must land next to this executable: same target dir, same profile.
    let profile = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let Some(target_dir) = dir
        .parent()
        .filter(|_| profile == "debug" || profile == "release")
    else {
        anyhow::bail!(
            "sample-monolith or reviews-service is missing next to {}, which is not in a cargo target directory: {fix}, then copy them next to it",
            exe.display()
        );
    };
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(repo)
        .args(["build", "-p", "sample-monolith", "-p", "reviews-service"]);
    if profile == "release" {
        cargo.arg("--release");
    }
    cargo.arg("--target-dir").arg(target_dir);
    eprintln!(
        "building sample-monolith and reviews-service (once): cargo build{} -p sample-monolith -p reviews-service",
        if profile == "release" {
            " --release"
        } else {
            ""
        }
    );
    let status = cargo
        .status()
        .context("cannot run cargo to build the demo's services")?;
    if !status.success() || missing(&binaries) {
        anyhow::bail!("building the demo's services failed: {fix}");
    }
    Ok(binaries)
}

/// The strangler repository (the directory holding `sample-monolith/` and the workspace
/// `Cargo.toml`): searched upwards from the current directory, then where this binary was
/// built from.
pub fn find_repo() -> Option<PathBuf> {
    let is_repo = |dir: &Path| {
        dir.join("sample-monolith/Cargo.toml").is_file() && dir.join("Cargo.toml").is_file()
    };
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            if is_repo(dir) {
                return Some(dir.to_path_buf());
            }
        }
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    is_repo(built_from).then(|| built_from.to_path_buf())
}

/// A running child, stopped when dropped.
pub struct ChildProcess {
    child: Option<Child>,
    /// `http://IP:PORT`, from its `listening on` line.
    pub url: String,
}

impl ChildProcess {
    /// Starts `program args...` with stderr appended to `log`, and waits for its
    /// `listening on http://IP:PORT` line on stdout.
    pub fn start(
        name: &'static str,
        program: &Path,
        args: &[&std::ffi::OsStr],
        env: &[(&str, &str)],
        log: &Path,
    ) -> anyhow::Result<ChildProcess> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open {}", log.display()))?;
        let mut command = Command::new(program);
        command
            .args(args)
            // The children are started with `--stop-when-stdin-closes`: this pipe's write end
            // stays in `child` until the guard goes, and the kernel closes it if the demo is
            // killed outright, so no child outlives the demo.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for key in ["MONOLITH_URL", "MOVIES_URL", "CUSTOMERS_URL", "RUST_LOG"] {
            command.env_remove(key);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut guard = ChildProcess {
            child: Some(child),
            url: String::new(),
        };
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = sender.send(read);
            // Keep draining, so the child never writes into a closed pipe.
            let _ = std::io::copy(&mut reader.take(u64::MAX), &mut std::io::sink());
        });
        let line = match receiver.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(error)) => {
                return Err(error).with_context(|| format!("cannot read {name}'s output"));
            }
            Err(_) => anyhow::bail!(
                "{name} did not say where it listens within {}s (see {})",
                START_TIMEOUT.as_secs(),
                log.display()
            ),
        };
        guard.url = line
            .trim()
            .strip_prefix("listening on ")
            .filter(|url| url.starts_with("http://"))
            .with_context(|| {
                format!(
                    "{name} exited or printed {:?} instead of `listening on http://...` (see {})",
                    line.trim(),
                    log.display()
                )
            })?
            .to_string();
        Ok(guard)
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the child at once (SIGKILL), as a crash would.
    pub fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the child: SIGTERM, then SIGKILL if it has not exited after a grace period.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        #[cfg(unix)]
        {
            let asked = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if asked {
                let deadline = Instant::now() + STOP_GRACE;
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `reviews-service copy-from` to completion; returns its report line(s).
pub fn copy_reviews(
    binaries: &Binaries,
    monolith_db: &Path,
    service_db: &Path,
) -> anyhow::Result<String> {
    let output = Command::new(&binaries.reviews)
        .arg("copy-from")
        .arg("--monolith-db")
        .arg(monolith_db)
        .arg("--db")
        .arg(service_db)
        .stdin(Stdio::null())
        .output()
        .context("cannot run reviews-service copy-from")?;
    if !output.status.success() {
        anyhow::bail!(
            "reviews-service copy-from failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
