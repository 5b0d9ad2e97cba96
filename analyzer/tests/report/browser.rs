//! The HTML report in a real headless Chromium (Debian's `chromium`, installed by `.ci/run`): the
//! page loads from a file with nothing to fetch, renders the context map and one card per
//! context, and logs no console error. Without Chromium the tests fail when `CI` is set and skip
//! with a note otherwise.
//!
//! `STRANGLER_UPDATE_SCREENSHOT=1` also copies the screenshot to `docs/report-screenshot.png`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use analyzer::report::{Format, RenderOptions, render};

use crate::fixture::cinema;

/// Chromium's start-up on a busy 2-core machine takes seconds; a hang must still end the test.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// The browser binary, or `None` (after a note) when it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed, and CI is set: the browser test of the HTML report needs \
             Debian's `chromium` package (`.ci/run` installs it: apt-get install -y chromium)"
        );
        eprintln!("note: chromium not found on PATH; skipping the browser test of the HTML report");
    }
    found
}

/// A child process killed if the test ends early.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Output of one bounded browser run.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs Chromium headless on `page` with the extra `args`, isolated in its own profile under
/// `dir`, with output captured in files (a pipe could fill up and stall the browser).
fn run_chromium(browser: &Path, dir: &Path, page: &Path, args: &[&str], name: &str) -> Run {
    let profile = dir.join(format!("profile-{name}"));
    let stdout_path = dir.join(format!("{name}.stdout"));
    let stderr_path = dir.join(format!("{name}.stderr"));
    let child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            // No name resolves: were the page to reach for the network, it would fail loudly.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let mut browser = Browser(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = browser.0.try_wait().expect("wait for chromium") {
            break status;
        }
        assert!(
            started.elapsed() < BROWSER_TIMEOUT,
            "chromium did not finish within {BROWSER_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run {
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    };
    assert!(
        status.success(),
        "chromium failed ({status}):\n{}",
        run.stderr
    );
    run
}

/// Console problems of the page in Chromium's log: uncaught exceptions and console errors.
/// Chromium's own noise (dbus, GPU, sandbox) does not mention the page and is not counted.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| {
            line.contains("Uncaught")
                || line.contains("ERROR:CONSOLE")
                || (line.contains(":CONSOLE") && line.contains("file://"))
        })
        .collect()
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((width, height))
}

fn write_page(dir: &Path, html: &str) -> PathBuf {
    let page = dir.join("report.html");
    std::fs::write(&page, html).expect("write the page");
    page
}

#[test]
fn the_html_loads_nothing_from_the_network() {
    let html = render(&cinema(), Format::Html, &RenderOptions::default());
    for needle in [
        "http://", "https://", "<script", "<link", "@import", "src=", "<iframe",
    ] {
        assert!(!html.contains(needle), "the report holds `{needle}`");
    }
    // Only same-document references: the arrow marker and the anchors of the cards.
    for (at, _) in html.match_indices("url(") {
        assert!(
            html[at..].starts_with("url(#"),
            "external url( at byte {at}"
        );
    }
    for (at, _) in html.match_indices("href=\"") {
        assert!(
            html[at..].starts_with("href=\"#"),
            "link leaving the page at byte {at}"
        );
    }
}

#[test]
fn chromium_renders_the_map_and_every_card_without_console_errors() {
    let Some(browser) = chromium() else {
        return;
    };
    let analysis = cinema();
    let dir = tempfile::tempdir().expect("temp dir");
    let page = write_page(
        dir.path(),
        &render(&analysis, Format::Html, &RenderOptions::default()),
    );

    let screenshot = dir.path().join("report.png");
    run_chromium(
        &browser,
        dir.path(),
        &page,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1400,2400",
        ],
        "screenshot",
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&png), Some((1400, 2400)), "a PNG of the window");
    // A blank page of this size compresses to a few kilobytes; the report is far richer.
    assert!(
        png.len() > 60_000,
        "screenshot is only {} bytes: the page did not render",
        png.len()
    );
    if std::env::var_os("STRANGLER_UPDATE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report-screenshot.png");
        std::fs::copy(&screenshot, docs).expect("copy the screenshot to docs/");
    }

    let run = run_chromium(
        &browser,
        dir.path(),
        &page,
        &["--dump-dom", "--enable-logging=stderr", "--v=0"],
        "dom",
    );
    let dom = &run.stdout;
    assert!(
        dom.contains("<svg class=\"map\""),
        "the context map SVG is in the DOM"
    );
    assert_eq!(
        dom.matches("<article class=\"card context-card\"").count(),
        analysis.contexts.len(),
        "one card per context"
    );
    for (i, context) in analysis.contexts.iter().enumerate() {
        assert!(
            dom.contains(&format!("id=\"context-{}\"", i + 1)),
            "card of {}",
            context.name
        );
        assert!(
            dom.contains(&format!(">{}</h3>", context.name)),
            "card title of {}",
            context.name
        );
        assert!(
            dom.contains(&format!("<title>{}: ", context.name)),
            "map box of {}",
            context.name
        );
    }
    assert_eq!(
        dom.matches("<rect class=\"box\"").count(),
        analysis.contexts.len(),
        "one map box per context"
    );
    let errors = console_errors(&run.stderr);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The console check above must be able to fail: a page with a script error is caught.
#[test]
fn the_console_check_catches_a_script_error() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = write_page(
        dir.path(),
        "<!DOCTYPE html><title>broken</title><p>x</p><script>no_such_function();</script>",
    );
    let run = run_chromium(
        &browser,
        dir.path(),
        &page,
        &["--dump-dom", "--enable-logging=stderr", "--v=0"],
        "broken",
    );
    assert!(
        !console_errors(&run.stderr).is_empty(),
        "a script error should be reported; stderr was:\n{}",
        run.stderr
    );
}
