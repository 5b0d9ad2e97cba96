//! Measures the HTML report of a large tree: a synthetic analysis of ~2,000 files in 40
//! contexts (with seams, shared tables, a shared kernel, moves and diagnostics), its render time
//! and size, and, when `chromium` is on PATH, how long the browser takes to open it.
//!
//! ```text
//! cargo run --release -p analyzer --example report_size [-- OUT_DIR]
//! ```
//!
//! The load time is measured two ways: the wall clock of a headless screenshot of the report
//! against the same for an empty page (the difference is the report's own cost), and the
//! `load` event of the report in an iframe, read from the page's `performance.now()`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use analyzer::analysis::{
    Analysis, ContextReport, DiagnosticReport, MoveReport, OverallMetrics, SeamReport, SharedFile,
    Summary, TableReport,
};
use analyzer::contexts::SharedReason;
use analyzer::report::{Format, RenderOptions, render};

const CONTEXTS: usize = 40;
const FILES_PER_CONTEXT: usize = 49;
const KERNEL_FILES: usize = 40;

const WORDS: [&str; 40] = [
    "accounts",
    "billing",
    "catalog",
    "checkout",
    "customers",
    "delivery",
    "discounts",
    "events",
    "fares",
    "feedback",
    "fulfilment",
    "identity",
    "inventory",
    "invoicing",
    "loyalty",
    "media",
    "messaging",
    "movies",
    "notifications",
    "orders",
    "partners",
    "payments",
    "pricing",
    "profiles",
    "promotions",
    "ratings",
    "recommendations",
    "refunds",
    "reporting",
    "reviews",
    "schedules",
    "search",
    "seating",
    "shipping",
    "showtimes",
    "subscriptions",
    "support",
    "taxes",
    "tickets",
    "vouchers",
];

/// A small deterministic generator, so every run measures the same page.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

fn synthetic() -> Analysis {
    let mut rng = Lcg(42);
    let names: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
    let layers = [
        "handlers",
        "services",
        "repo",
        "models",
        "jobs",
        "views",
        "validation",
    ];
    let mut contexts = Vec::new();
    let mut tables = Vec::new();
    let mut seams = Vec::new();
    for (c, name) in names.iter().enumerate() {
        let modules: Vec<String> = (0..FILES_PER_CONTEXT)
            .map(|k| format!("src/{}/{name}_{k:02}.rs", layers[k % layers.len()]))
            .collect();
        let owned: Vec<String> = (0..2 + c % 3).map(|t| format!("{name}_{t}")).collect();
        let routes: Vec<String> = (0..6 + c % 5)
            .map(|r| {
                format!(
                    "{} /api/{name}/{r}",
                    ["GET", "POST", "PUT", "DELETE"][r % 4]
                )
            })
            .collect();
        for table in &owned {
            tables.push(TableReport {
                name: table.clone(),
                owner: Some(name.clone()),
                readers: vec![name.clone()],
                writers: vec![name.clone()],
                shared: false,
                advice: format!("Owned by {name} alone: moves with it."),
            });
        }
        let mut sorted = modules.clone();
        sorted.sort();
        contexts.push(ContextReport {
            name: name.clone(),
            modules: sorted,
            tables: owned,
            routes,
            extraction_order: c + 1,
            difficulty: (c as f64) * 1.5 + 2.0,
            difficulty_label: ["easy", "moderate", "hard"][(c * 3) / CONTEXTS].into(),
            files: FILES_PER_CONTEXT,
            lines: FILES_PER_CONTEXT * (120 + rng.next(200)),
            cohesion: 0.9 - c as f64 * 0.01,
            coupling: (c as f64) * 1.5 + 2.0,
            interfaces: 1 + rng.next(6),
            calls: Vec::new(),
            called_by: Vec::new(),
            reads_foreign: Vec::new(),
            writes_foreign: Vec::new(),
        });
    }
    // Seams: each context calls two to four others, a few calls each.
    for from in 0..CONTEXTS {
        for _ in 0..2 + rng.next(3) {
            let to = (from + 1 + rng.next(CONTEXTS - 1)) % CONTEXTS;
            for _ in 0..1 + rng.next(6) {
                let k = rng.next(FILES_PER_CONTEXT);
                let j = rng.next(FILES_PER_CONTEXT);
                seams.push(SeamReport {
                    from: names[from].clone(),
                    to: names[to].clone(),
                    caller: format!("{}::call_{j}", contexts[from].modules[k]),
                    callee: format!("{}::op_{k}", contexts[to].modules[j]),
                    at: format!("{}:{}", contexts[from].modules[k], 10 + rng.next(400)),
                });
            }
        }
    }
    seams.sort_by(|a, b| (&a.from, &a.to, &a.at).cmp(&(&b.from, &b.to, &b.at)));
    seams.dedup_by(|a, b| a.from == b.from && a.to == b.to && a.at == b.at);
    for seam in &seams {
        let (f, t) = (
            names.iter().position(|n| *n == seam.from).unwrap_or(0),
            names.iter().position(|n| *n == seam.to).unwrap_or(0),
        );
        contexts[f].calls.push(seam.to.clone());
        contexts[t].called_by.push(seam.from.clone());
    }
    // Shared tables: every third context's first table is read (and sometimes written) by others.
    for t in tables.iter_mut().step_by(7) {
        let owner = t.owner.clone().unwrap_or_default();
        let extra = names[rng.next(CONTEXTS)].clone();
        if extra != owner {
            t.readers.push(extra.clone());
            if rng.next(2) == 0 {
                t.writers.push(extra.clone());
            }
            t.readers.sort();
            t.writers.sort();
            t.shared = true;
            t.advice = format!(
                "Owned by {owner}; {extra} touch it: expose an API from {owner}, or replicate."
            );
            if let Some(c) = contexts.iter_mut().find(|c| c.name == extra) {
                c.reads_foreign.push(t.name.clone());
            }
        }
    }
    for c in &mut contexts {
        c.calls.sort();
        c.calls.dedup();
        c.called_by.sort();
        c.called_by.dedup();
        c.reads_foreign.sort();
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let shared_kernel: Vec<SharedFile> = (0..KERNEL_FILES)
        .map(|k| SharedFile {
            path: format!("src/common/lib_{k:02}.rs"),
            reason: if k == 0 {
                SharedReason::CompositionRoot
            } else {
                SharedReason::Library
            },
            used_by: {
                let mut users: Vec<String> =
                    (0..5).map(|_| names[rng.next(CONTEXTS)].clone()).collect();
                users.sort();
                users.dedup();
                users
            },
        })
        .collect();
    let moves = (0..25)
        .map(|m| MoveReport {
            function: format!("{}::helper_{m}", contexts[m].modules[m % FILES_PER_CONTEXT]),
            line: 10 + m as u32,
            from: names[m].clone(),
            to: names[(m + 3) % CONTEXTS].clone(),
            reason: format!(
                "writes {}_0 and is called only from there",
                names[(m + 3) % CONTEXTS]
            ),
        })
        .collect();
    let diagnostics = (0..12)
        .map(|d| DiagnosticReport {
            file: format!("src/legacy/broken_{d:02}.rs"),
            line: Some(d as u32 + 1),
            message: "file does not parse as Rust; skipped".into(),
        })
        .collect();
    let files = CONTEXTS * FILES_PER_CONTEXT + KERNEL_FILES;
    Analysis {
        schema_version: 1,
        root: "synthetic-2000".into(),
        summary: Summary {
            files,
            lines: contexts.iter().map(|c| c.lines).sum::<usize>() + KERNEL_FILES * 80,
            functions: files * 9,
            routes: contexts.iter().map(|c| c.routes.len()).sum(),
            tables: tables.len(),
            contexts: CONTEXTS,
            shared: KERNEL_FILES,
        },
        shared: shared_kernel.iter().map(|s| s.path.clone()).collect(),
        shared_kernel,
        contexts,
        tables,
        moves,
        seams,
        metrics: OverallMetrics {
            modularity: 0.47,
            sm: 0.21,
            icp: 0.18,
            ifn: 3.4,
            ned: 0.0,
        },
        diagnostics,
    }
}

fn chromium() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// Wall-clock time of one headless screenshot of `page`, and the browser's stdout.
fn open_in_chromium(browser: &Path, dir: &Path, page: &Path, extra: &[&str]) -> (Duration, String) {
    let profile = dir.join("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let started = Instant::now();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    (
        started.elapsed(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let out_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("strangler-report-size"));
    std::fs::create_dir_all(&out_dir).expect("create the output directory");
    let out_dir = out_dir.canonicalize().expect("absolute output directory");

    let analysis = synthetic();
    let started = Instant::now();
    let html = render(&analysis, Format::Html, &RenderOptions::default());
    let render_time = started.elapsed();
    let page = out_dir.join("report-2000.html");
    std::fs::write(&page, &html).expect("write the report");
    println!(
        "analysis: {} files, {} contexts, {} seams, {} tables ({} shared), {} kernel files",
        analysis.summary.files,
        analysis.contexts.len(),
        analysis.seams.len(),
        analysis.tables.len(),
        analysis.tables.iter().filter(|t| t.shared).count(),
        analysis.shared_kernel.len()
    );
    println!(
        "html: {} bytes ({:.2} MB), rendered in {:.1} ms -> {}",
        html.len(),
        html.len() as f64 / 1_000_000.0,
        render_time.as_secs_f64() * 1000.0,
        page.display()
    );
    let markdown = render(&analysis, Format::Markdown, &RenderOptions::default());
    println!("markdown: {} bytes", markdown.len());

    let Some(browser) = chromium() else {
        println!("chromium not on PATH: load time not measured");
        return;
    };
    let blank = out_dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><title>blank</title>").expect("write blank page");
    let shot = out_dir.join("shot.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let runs = 5;
    let blank_time = median(
        (0..runs)
            .map(|_| open_in_chromium(&browser, &out_dir, &blank, &[&shot_arg]).0)
            .collect(),
    );
    let report_time = median(
        (0..runs)
            .map(|_| open_in_chromium(&browser, &out_dir, &page, &[&shot_arg]).0)
            .collect(),
    );
    println!(
        "chromium screenshot, median of {runs}: blank page {:.0} ms, report {:.0} ms, report's own cost {:.0} ms",
        blank_time.as_secs_f64() * 1000.0,
        report_time.as_secs_f64() * 1000.0,
        report_time.saturating_sub(blank_time).as_secs_f64() * 1000.0
    );

    // The report's load event inside a frame, timed by the browser itself.
    let probe = out_dir.join("probe.html");
    std::fs::write(
        &probe,
        "<!DOCTYPE html><title>probe</title><pre id=\"t\">pending</pre>\
         <iframe id=\"f\" style=\"width:1400px;height:2400px\"></iframe>\
         <script>const f=document.getElementById('f');const t0=performance.now();\
         f.onload=()=>{document.getElementById('t').textContent='load-ms='+(performance.now()-t0).toFixed(0);};\
         f.src='report-2000.html';</script>",
    )
    .expect("write the probe page");
    let loads: Vec<u64> = (0..runs)
        .filter_map(|_| {
            let (_, dom) = open_in_chromium(&browser, &out_dir, &probe, &["--dump-dom"]);
            let at = dom.find("load-ms=")?;
            dom[at + 8..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .collect();
    if loads.is_empty() {
        println!("iframe load event: not observed");
    } else {
        let mut sorted = loads.clone();
        sorted.sort();
        println!(
            "iframe load event (parse, style, layout), median of {}: {} ms (all: {loads:?})",
            sorted.len(),
            sorted[sorted.len() / 2]
        );
    }
}
