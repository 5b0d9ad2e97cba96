//! Tests of the map layout: the geometry helpers, and that nothing the map writes text into
//! overlaps anything else it draws text into, on the sample monolith, the cinema fixture,
//! synthetic crowds of contexts and tables, and generated analyses.

use std::path::Path;

use proptest::prelude::*;

use super::labels::*;
use super::*;
use crate::analysis::{SeamReport, TableReport};

#[test]
fn truncation_keeps_short_names() {
    assert_eq!(truncate("movies", 10), "movies");
    assert_eq!(truncate("a-very-long-context-name", 8), "a-very-…");
}

#[test]
fn clipping_stops_at_the_box_border() {
    let size = Sized { w: 100.0, h: 50.0 };
    let (x, y) = clip((300.0, 0.0), (0.0, 0.0), &size, 0.0);
    assert!((x - 50.0).abs() < 1e-9 && y.abs() < 1e-9);
    let (x, y) = clip((0.0, 300.0), (0.0, 0.0), &size, 2.0);
    assert!(x.abs() < 1e-9 && (y - 27.0).abs() < 1e-9);
}

#[test]
fn rectangles_that_touch_do_not_overlap() {
    let a = Rect::centred(0.0, 0.0, 10.0, 10.0);
    assert!(a.overlaps(&Rect::centred(9.0, 9.0, 10.0, 10.0)));
    assert!(!a.overlaps(&Rect::centred(10.0, 0.0, 10.0, 10.0)));
    assert!(!a.overlaps(&Rect::centred(0.0, -10.0, 10.0, 10.0)));
}

/// The rectangles are only as true as the sizes they assume: if the template draws the labels
/// bigger or elsewhere, this fails and the constants in `map.rs` need a look.
#[test]
fn label_sizes_match_what_the_template_draws() {
    let template = include_str!("../../../../templates/report/report.html");
    for drawn in [
        // The call count: a circle of radius EDGE_LABEL_RADIUS, digits at 11px bold.
        r#"<circle cx="{{ e.label_x }}" cy="{{ e.label_y }}" r="10">"#,
        "svg.map .edge-label text { font-size: 11px; font-weight: 700;",
        // The table: a cylinder 20 wide from -13 to +11, its name at TABLE_NAME_BASELINE.
        r#"<path d="M-10,-9 v16 a10,4 0 0 0 20,0 v-16 z"></path><ellipse cx="0" cy="-9" rx="10" ry="4"></ellipse><text y="24" text-anchor="middle">"#,
        "svg.map .table text { font-size: 11.5px;",
        // The order badge on the box's top-left corner, which `box_rects` makes room for.
        r#"<circle cx="{{ b.x + 4 }}" cy="{{ b.y + 4 }}" r="13""#,
    ] {
        assert!(
            template.contains(drawn),
            "the template no longer draws {drawn}"
        );
    }
    assert_eq!(EDGE_LABEL_RADIUS, 10.0);
    assert_eq!(TABLE_NAME_BASELINE, 24.0);
}

/// Everything the map writes text into, each with the name of what it belongs to: a context's
/// box (with its order badge), an edge's call count, a shared table's cylinder and name, the
/// kernel band. Sizes as the template draws them, through the same helpers the layout uses.
fn covered(map: &ContextMap) -> Vec<(String, Rect)> {
    let mut out = Vec::new();
    for b in &map.boxes {
        for rect in box_rects(b.x as f64, b.y as f64, b.w as f64, b.h as f64) {
            out.push((format!("box {}", b.anchor), rect));
        }
    }
    for (k, e) in map.edges.iter().enumerate() {
        // The template leaves out a count of zero (an edge only of shared tables).
        if e.label != "0" {
            let rect = edge_label_rect(e.label_x as f64, e.label_y as f64, &e.label);
            out.push((format!("edge {k} label {}", e.label), rect));
        }
    }
    for t in &map.tables {
        let (x, y) = (t.x as f64, t.y as f64);
        out.push((format!("table {}", t.name), table_cylinder_rect(x, y)));
        out.push((format!("table {}", t.name), table_name_rect(x, y, &t.name)));
    }
    if let Some(k) = &map.kernel {
        let rect = Rect {
            x: k.x as f64,
            y: k.y as f64,
            w: k.w as f64,
            h: k.h as f64,
        };
        out.push(("kernel".to_string(), rect));
    }
    out
}

/// Every pair of different things whose rectangles overlap, and everything that sticks out of
/// the canvas. Two boxes are left out: keeping boxes apart is the ring's job (`ring.rs`,
/// checked by the report's property tests), labels are this one's.
fn collisions(map: &ContextMap) -> Vec<String> {
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        w: map.width as f64,
        h: map.height as f64,
    };
    let covered = covered(map);
    let mut found = Vec::new();
    for (i, (a, ra)) in covered.iter().enumerate() {
        if !ra.inside(&canvas) {
            found.push(format!("{a} {ra:?} is off the {canvas:?}"));
        }
        for (b, rb) in &covered[i + 1..] {
            let both_boxes = a.starts_with("box ") && b.starts_with("box ");
            if a != b && !both_boxes && ra.overlaps(rb) {
                found.push(format!("{a} {ra:?} overlaps {b} {rb:?}"));
            }
        }
    }
    found
}

fn assert_apart(analysis: &Analysis, what: &str) {
    let found = collisions(&layout(analysis));
    assert!(
        found.is_empty(),
        "{what}: {} overlaps\n{}",
        found.len(),
        found.join("\n")
    );
}

fn cinema() -> Analysis {
    let json = include_str!("../../../tests/fixtures/analysis-cinema.json");
    serde_json::from_str(json).expect("the cinema fixture is a valid analysis")
}

fn sample() -> Analysis {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-monolith");
    crate::analyze(&root, "sample-monolith", &crate::AnalyzeOptions::default())
        .expect("sample analyzes")
}

/// `n` contexts named `names`, with `seams` (caller, callee) and `tables` (name, the contexts
/// touching it, the first one writing it and owning it).
fn synthetic(
    names: &[String],
    lines: &[usize],
    seams: &[(usize, usize)],
    tables: &[(String, Vec<usize>)],
) -> Analysis {
    let mut analysis = cinema();
    let template = analysis.contexts[0].clone();
    let n = names.len();
    analysis.contexts = (0..n)
        .map(|i| {
            let mut context = template.clone();
            context.name = names[i].clone();
            context.extraction_order = i + 1;
            context.lines = lines[i % lines.len()];
            context
        })
        .collect();
    analysis.seams = seams
        .iter()
        .filter(|&&(a, b)| a < n && b < n)
        .map(|&(a, b)| SeamReport {
            from: names[a].clone(),
            to: names[b].clone(),
            caller: format!("src/{}.rs::a", names[a]),
            callee: format!("src/{}.rs::b", names[b]),
            at: format!("src/{}.rs:1", names[a]),
        })
        .collect();
    analysis.tables = tables
        .iter()
        .map(|(name, touching)| {
            let touching: Vec<String> = touching
                .iter()
                .filter(|&&i| i < n)
                .map(|&i| names[i].clone())
                .collect();
            TableReport {
                name: name.clone(),
                owner: touching.first().cloned(),
                readers: touching.iter().skip(1).cloned().collect(),
                writers: touching.iter().take(1).cloned().collect(),
                shared: touching.len() > 1,
                advice: String::new(),
            }
        })
        .collect();
    analysis.summary.contexts = n;
    analysis
}

/// `n` contexts where each calls the next three and a few across the ring, with a shared table
/// per context touched by it and the two after it, and long table names.
fn crowd(n: usize) -> Analysis {
    let names: Vec<String> = (0..n).map(|i| format!("context-number-{i:02}")).collect();
    let lines: Vec<usize> = (0..n).map(|i| 100 + (i * 7919) % 3000).collect();
    let mut seams = Vec::new();
    for i in 0..n {
        for step in [1, 2, 3, n / 2] {
            if step > 0 {
                seams.push((i, (i + step) % n));
            }
            // Some pairs call each other many times, for counts of two and three digits.
            for _ in 0..(i * 37) % 11 {
                seams.push((i, (i + 1) % n));
            }
        }
    }
    let tables: Vec<(String, Vec<usize>)> = (0..n)
        .map(|i| {
            (
                format!("shared_table_{i:02}_with_a_long_name"),
                vec![i, (i + 1) % n, (i + 2) % n],
            )
        })
        .collect();
    synthetic(&names, &lines, &seams, &tables)
}

#[test]
fn map_labels_of_the_sample_monolith_never_overlap() {
    assert_apart(&sample(), "sample monolith");
}

#[test]
fn map_labels_of_the_cinema_never_overlap() {
    assert_apart(&cinema(), "cinema");
}

#[test]
fn map_labels_of_crowded_maps_never_overlap() {
    for n in [2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 24, 40, 60] {
        assert_apart(&crowd(n), &format!("crowd of {n}"));
    }
}

/// An analysis of up to 30 contexts with random calls and random shared tables.
fn generated() -> impl Strategy<Value = Analysis> {
    (1usize..30).prop_flat_map(|n| {
        let names = prop::collection::vec("[a-z][a-z_-]{0,30}", n);
        let lines = prop::collection::vec(1usize..20_000, n);
        let seams = prop::collection::vec((0..n, 0..n, 1usize..40), 0..3 * n);
        let tables = prop::collection::vec(
            ("[a-z][a-z_]{0,28}", prop::collection::vec(0..n, 2..5)),
            0..2 * n,
        );
        (names, lines, seams, tables).prop_map(|(names, lines, seams, tables)| {
            // Distinct names, as the clustering gives.
            let names: Vec<String> = names
                .into_iter()
                .enumerate()
                .map(|(i, name)| format!("{name}{i}"))
                .collect();
            let seams: Vec<(usize, usize)> = seams
                .into_iter()
                .flat_map(|(a, b, calls)| std::iter::repeat_n((a, b), calls))
                .collect();
            let tables: Vec<(String, Vec<usize>)> = tables
                .into_iter()
                .enumerate()
                .map(|(i, (name, touching))| {
                    let touching: BTreeSet<usize> = touching.into_iter().collect();
                    (format!("{name}{i}"), touching.into_iter().collect())
                })
                .collect();
            synthetic(&names, &lines, &seams, &tables)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn map_labels_of_generated_analyses_never_overlap(analysis in generated()) {
        let found = collisions(&layout(&analysis));
        prop_assert!(found.is_empty(), "{} overlaps\n{}", found.len(), found.join("\n"));
    }

    #[test]
    fn the_map_layout_is_deterministic(analysis in generated()) {
        let a = layout(&analysis);
        let b = layout(&analysis);
        prop_assert_eq!(covered(&a), covered(&b));
        prop_assert_eq!((a.width, a.height), (b.width, b.height));
    }
}

/// An edge whose middle is taken: its count slides along the curve to the nearest free point.
#[test]
fn an_edge_count_slides_along_its_curve_off_what_is_there() {
    let edge = MapEdge {
        x1: 0,
        y1: 100,
        x2: 400,
        y2: 100,
        qx: 200,
        qy: 0,
        width: "1.0".into(),
        arrow_end: true,
        arrow_start: false,
        label: "12".into(),
        label_x: 200,
        label_y: 50,
        title: String::new(),
    };
    let area = Rect::centred(200.0, 100.0, 1000.0, 1000.0);
    assert_eq!(edge_label_spot(&edge, &[], &area), Some((200, 50)));

    let blocker = Rect::centred(200.0, 50.0, 60.0, 30.0);
    let (x, y) = edge_label_spot(&edge, &[blocker], &area).expect("a free point");
    let rect = edge_label_rect(x as f64, y as f64, "12");
    assert!(!rect.overlaps(&blocker));
    // Still on the curve: at t, x = 400t and y = 100 - 200t(1 - t).
    let t = x as f64 / 400.0;
    assert!(
        (y as f64 - (100.0 - 200.0 * t * (1.0 - t))).abs() <= 1.0,
        "{x},{y}"
    );
    // The nearest free step, towards the start first: 0.46 and 0.42 still touch the blocker.
    assert!((t - 0.38).abs() < 0.01, "t = {t}");

    // Nothing free near the curve: no spot, so the caller spreads the ring.
    assert_eq!(edge_label_spot(&edge, &[area], &area), None);
}
