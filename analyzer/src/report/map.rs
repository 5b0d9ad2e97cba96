//! Layout of the context map, the picture at the top of the HTML report.
//!
//! Contexts sit on a ring (an ellipse for a few, a rectangle for many: see `ring.rs`), each box
//! sized by its lines of code, placed so that coupled contexts are neighbours. Calls between two
//! contexts are one edge, bent towards the middle so it clears the boxes between them, thicker
//! with more coupling, with an arrow towards each called side and the number of calls on it.
//! Each shared table is a small cylinder between the contexts touching it (solid spokes to
//! writers, dashed to readers, thick to the owner). The shared kernel is a band below the ring.
//! Everything is computed here as integer coordinates; the template only draws.
//!
//! No label may cover another or a box, or the map stops being read. Labels are placed one at a
//! time, each off the rectangles of everything placed before it (`labels.rs` sizes them as the
//! template draws them): the boxes, then each edge's count, at the curve's middle or slid along
//! the curve (a little off it if need be) to the nearest free point, then each shared table,
//! at its preferred point or the nearest free point of a grid around it. When a count finds no
//! free point the ring is spread wider and the map laid out again; a table with no free point
//! nearby is parked in a row below the ring. Both grow the canvas, which beats a pile of text.

use std::collections::{BTreeMap, BTreeSet};

use super::palette;
use super::ring::{ELLIPSE_UP_TO, ellipse_ring, rectangle_ring, ring_slots};
use super::text;
use crate::analysis::Analysis;
use labels::{Rect, box_rects, edge_label_rect, edge_label_spot, is_free, table_rect};

/// The laid-out map, in SVG user units.
pub(super) struct ContextMap {
    pub width: i64,
    pub height: i64,
    /// Largest width at which the page shows the map, so small maps are not blown up.
    pub display_width: i64,
    /// Many contexts: edges are drawn lighter so the boxes stay readable.
    pub dense: bool,
    pub boxes: Vec<MapBox>,
    pub edges: Vec<MapEdge>,
    pub tables: Vec<MapTable>,
    pub spokes: Vec<MapSpoke>,
    pub kernel: Option<MapKernel>,
}

/// A context.
pub(super) struct MapBox {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub cx: i64,
    pub name: String,
    pub title: String,
    pub facts: String,
    pub badge: String,
    pub order: usize,
    pub name_y: i64,
    pub facts_y: i64,
    pub badge_y: i64,
    pub colour: String,
    pub tint: String,
    pub anchor: String,
}

/// Calls between two contexts, drawn from `a` to `b`.
pub(super) struct MapEdge {
    pub x1: i64,
    pub y1: i64,
    pub x2: i64,
    pub y2: i64,
    /// Control point of the quadratic curve.
    pub qx: i64,
    pub qy: i64,
    pub width: String,
    /// Arrow at the `b` end: `a` calls `b`.
    pub arrow_end: bool,
    /// Arrow at the `a` end: `b` calls `a`.
    pub arrow_start: bool,
    pub label: String,
    pub label_x: i64,
    pub label_y: i64,
    pub title: String,
}

/// A table touched by several contexts.
pub(super) struct MapTable {
    pub x: i64,
    pub y: i64,
    pub name: String,
    pub title: String,
}

/// A line from a shared table to a context that touches it.
pub(super) struct MapSpoke {
    pub x1: i64,
    pub y1: i64,
    pub x2: i64,
    pub y2: i64,
    pub colour: String,
    pub writes: bool,
    pub owner: bool,
}

/// The shared-kernel band.
pub(super) struct MapKernel {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    pub title: String,
    pub lines: Vec<KernelLine>,
    pub dots: Vec<KernelDot>,
    pub dots_label_x: i64,
}

/// One listed kernel file.
pub(super) struct KernelLine {
    pub x: i64,
    pub y: i64,
    pub text: String,
}

/// A context that uses the kernel, as a dot of its colour.
pub(super) struct KernelDot {
    pub cx: i64,
    pub cy: i64,
    pub colour: String,
    pub name: String,
}

pub(super) const MARGIN: f64 = 40.0;
/// How far an edge's control point moves from the chord's middle towards the map's middle.
const EDGE_BEND: f64 = 0.3;
const KERNEL_ROWS: usize = 4;
const KERNEL_COLUMNS: usize = 2;

/// Box geometry of one context before placement.
struct Sized {
    w: f64,
    h: f64,
}

pub(super) fn layout(analysis: &Analysis) -> ContextMap {
    let contexts = &analysis.contexts;
    let n = contexts.len();
    let index: BTreeMap<&str, usize> = contexts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();

    let (min_w, max_w, min_h, max_h) = if n <= 12 {
        (150.0, 210.0, 66.0, 86.0)
    } else {
        (150.0, 185.0, 64.0, 76.0)
    };
    let most_lines = contexts.iter().map(|c| c.lines).max().unwrap_or(1).max(1) as f64;
    let sized: Vec<Sized> = contexts
        .iter()
        .map(|c| {
            let share = (c.lines as f64 / most_lines).sqrt();
            Sized {
                w: min_w + (max_w - min_w) * share,
                h: min_h + (max_h - min_h) * share,
            }
        })
        .collect();
    let widest = sized.iter().map(|s| s.w).fold(min_w, f64::max);
    let tallest = sized.iter().map(|s| s.h).fold(min_h, f64::max);

    let slots = ring_slots(analysis, &index);
    // A wider ring leaves more room between the boxes for the edges' counts: tried only when a
    // count found no free spot, and the widest try is kept whatever it gives.
    let place = |spread| place(analysis, &index, &slots, &sized, (widest, tallest), spread);
    let [narrower @ .., widest_spread] = RING_SPREADS;
    for spread in narrower {
        if let (map, true) = place(spread) {
            return map;
        }
    }
    place(widest_spread).0
}

/// How much farther apart neighbours on the ring are put, try after try.
const RING_SPREADS: [f64; 4] = [0.0, 24.0, 48.0, 96.0];

/// The map with the ring spread by `spread`, and whether every edge's count found a free spot.
fn place(
    analysis: &Analysis,
    index: &BTreeMap<&str, usize>,
    slots: &[usize],
    sized: &[Sized],
    (widest, tallest): (f64, f64),
    spread: f64,
) -> (ContextMap, bool) {
    let contexts = &analysis.contexts;
    let n = contexts.len();
    let ring = if n <= ELLIPSE_UP_TO {
        ellipse_ring(n, widest, tallest, spread)
    } else {
        rectangle_ring(n, widest, tallest, spread)
    };
    let (cx, cy) = ring.centre;
    let width = ring.width;
    let centres: Vec<(f64, f64)> = (0..n).map(|i| ring.slots[slots[i]]).collect();

    let mut boxes = Vec::with_capacity(n);
    for (i, context) in contexts.iter().enumerate() {
        let (x, y) = centres[i];
        let Sized { w, h } = sized[i];
        let colour = palette::context_colour(i);
        let top = (y - h / 2.0).round() as i64;
        let pad = ((h - 66.0) / 2.0).max(0.0).round() as i64;
        let name_chars = ((w - 24.0) / 8.6).floor().max(4.0) as usize;
        let fact_chars = ((w - 16.0) / 6.6).floor().max(4.0) as usize;
        boxes.push(MapBox {
            x: (x - w / 2.0).round() as i64,
            y: top,
            w: w.round() as i64,
            h: h.round() as i64,
            cx: x.round() as i64,
            name: truncate(&context.name, name_chars),
            title: format!(
                "{}: {}, {}, {}, {} tables owned",
                context.name,
                text::count(context.files, "file", "files"),
                text::count(context.lines, "line", "lines"),
                text::count(context.routes.len(), "route", "routes"),
                context.tables.len()
            ),
            facts: truncate(
                &format!(
                    "{} · {}",
                    text::count(context.files, "file", "files"),
                    text::count(context.lines, "line", "lines")
                ),
                fact_chars,
            ),
            badge: truncate(
                &format!(
                    "{} · {}",
                    context.difficulty_label,
                    text::count(context.tables.len(), "table", "tables")
                ),
                fact_chars,
            ),
            order: context.extraction_order,
            name_y: top + pad + 27,
            facts_y: top + pad + 45,
            badge_y: top + pad + 60,
            colour: colour.strong,
            tint: colour.tint,
            anchor: format!("context-{}", i + 1),
        });
    }

    // Labels are placed one after the other, each off everything placed before it: boxes
    // first, then the edges' counts in edge order, then the tables in table order.
    let mut taken: Vec<Rect> = boxes
        .iter()
        .flat_map(|b| box_rects(b.x as f64, b.y as f64, b.w as f64, b.h as f64))
        .collect();
    // Labels stay between the canvas' sides and above the lowest box's bottom.
    let area = Rect {
        x: 0.0,
        y: 0.0,
        w: width,
        h: ring.bottom,
    };
    let mut edges = edges(analysis, index, &centres, sized, (cx, cy));
    let mut every_label_free = true;
    for edge in edges.iter_mut().filter(|e| e.label != "0") {
        let (x, y) = edge_label_spot(edge, &taken, &area).unwrap_or_else(|| {
            every_label_free = false;
            (edge.label_x, edge.label_y)
        });
        edge.label_x = x;
        edge.label_y = y;
        taken.push(edge_label_rect(x as f64, y as f64, &edge.label));
    }
    let (tables, spokes, parked_bottom) = shared_tables(
        analysis,
        index,
        &centres,
        sized,
        (cx, cy),
        &mut taken,
        &area,
    );

    let ring_bottom = ring.bottom.max(parked_bottom);
    let kernel = kernel_band(analysis, index, width, ring_bottom + 36.0);
    let bottom = kernel.as_ref().map_or(ring_bottom, |k| (k.y + k.h) as f64);
    let (width, height) = if n == 0 {
        (640, bottom.max(120.0).round() as i64)
    } else {
        (width.round() as i64, (bottom + MARGIN).round() as i64)
    };
    let map = ContextMap {
        width,
        height,
        display_width: (width as f64 * 1.25).round() as i64,
        dense: n > ELLIPSE_UP_TO,
        boxes,
        edges,
        tables,
        spokes,
        kernel,
    };
    (map, every_label_free)
}

fn edges(
    analysis: &Analysis,
    index: &BTreeMap<&str, usize>,
    centres: &[(f64, f64)],
    sized: &[Sized],
    centre: (f64, f64),
) -> Vec<MapEdge> {
    // (low, high) -> (calls low->high, calls high->low, tables both touch)
    let mut pairs: BTreeMap<(usize, usize), (usize, usize, usize)> = BTreeMap::new();
    for seam in &analysis.seams {
        let (Some(&from), Some(&to)) = (index.get(seam.from.as_str()), index.get(seam.to.as_str()))
        else {
            continue;
        };
        if from == to {
            continue;
        }
        let entry = pairs.entry((from.min(to), from.max(to))).or_default();
        if from < to {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    for table in analysis.tables.iter().filter(|t| t.shared) {
        let touching = touching(table, index);
        for &a in &touching {
            for &b in touching.range(a + 1..) {
                if let Some(entry) = pairs.get_mut(&(a, b)) {
                    entry.2 += 1;
                }
            }
        }
    }
    let name = |i: usize| analysis.contexts[i].name.as_str();
    pairs
        .into_iter()
        .map(|((a, b), (forward, backward, tables))| {
            let weight = (forward + backward + tables) as f64;
            // Bent towards the middle, so an edge between two boxes of one side of the ring
            // clears the boxes between them.
            let (ax, ay) = centres[a];
            let (bx, by) = centres[b];
            let (mx, my) = ((ax + bx) / 2.0, (ay + by) / 2.0);
            let (qx, qy) = (
                mx + (centre.0 - mx) * EDGE_BEND,
                my + (centre.1 - my) * EDGE_BEND,
            );
            let (x1, y1) = clip((qx, qy), centres[a], &sized[a], 3.0);
            let (x2, y2) = clip((qx, qy), centres[b], &sized[b], 3.0);
            let calls = forward + backward;
            let mut title = Vec::new();
            if forward > 0 {
                title.push(format!(
                    "{} → {}: {}",
                    name(a),
                    name(b),
                    text::count(forward, "call", "calls")
                ));
            }
            if backward > 0 {
                title.push(format!(
                    "{} → {}: {}",
                    name(b),
                    name(a),
                    text::count(backward, "call", "calls")
                ));
            }
            if tables > 0 {
                title.push(text::count(tables, "shared table", "shared tables"));
            }
            MapEdge {
                x1: x1.round() as i64,
                y1: y1.round() as i64,
                x2: x2.round() as i64,
                y2: y2.round() as i64,
                qx: qx.round() as i64,
                qy: qy.round() as i64,
                width: format!("{:.1}", (1.4 + 1.9 * (1.0 + weight).log2()).min(10.0)),
                arrow_end: forward > 0,
                arrow_start: backward > 0,
                label: calls.to_string(),
                label_x: (0.25 * x1 + 0.5 * qx + 0.25 * x2).round() as i64,
                label_y: (0.25 * y1 + 0.5 * qy + 0.25 * y2).round() as i64,
                title: title.join("; "),
            }
        })
        .collect()
}

pub(super) fn touching(
    table: &crate::analysis::TableReport,
    index: &BTreeMap<&str, usize>,
) -> BTreeSet<usize> {
    table
        .readers
        .iter()
        .chain(&table.writers)
        .filter_map(|name| index.get(name.as_str()).copied())
        .collect()
}

/// Grid step around a shared table's preferred point when that point is taken.
const TABLE_STEP: (f64, f64) = (24.0, 22.0);
/// How many grid steps a table may move from its preferred point before it is parked below.
const TABLE_REACH: i64 = 8;

/// A shared table on its way to the map: the contexts touching it, its name as shown, and its
/// centre once it has one.
struct TableSpot<'a> {
    table: &'a crate::analysis::TableReport,
    touching: BTreeSet<usize>,
    name: String,
    spot: Option<(f64, f64)>,
}

/// The shared tables and their spokes, and the bottom of the row of tables parked below the
/// ring (the ring's bottom when none is).
///
/// A table goes a quarter of the way from the middle of the contexts touching it towards the
/// map's middle, or to the nearest free point around that (first a few preferred moves, then a
/// grid by distance). A table with no free point within reach is parked in a row below the
/// ring, which grows the canvas: long spokes beat unreadable labels.
fn shared_tables(
    analysis: &Analysis,
    index: &BTreeMap<&str, usize>,
    centres: &[(f64, f64)],
    sized: &[Sized],
    centre: (f64, f64),
    taken: &mut Vec<Rect>,
    area: &Rect,
) -> (Vec<MapTable>, Vec<MapSpoke>, f64) {
    // Grid offsets by distance; ties broken by the offsets themselves, so the order is fixed.
    let mut grid: Vec<(i64, i64)> = (-TABLE_REACH..=TABLE_REACH)
        .flat_map(|i| (-TABLE_REACH..=TABLE_REACH).map(move |j| (i, j)))
        .filter(|&(i, j)| (i, j) != (0, 0))
        .collect();
    let distance = |&(i, j): &(i64, i64)| {
        let (dx, dy) = (i as f64 * TABLE_STEP.0, j as f64 * TABLE_STEP.1);
        dx * dx + dy * dy
    };
    grid.sort_by(|a, b| distance(a).total_cmp(&distance(b)).then(a.cmp(b)));

    // Each shared table, the contexts touching it, its shown name and its spot (none: parked).
    let mut placed: Vec<TableSpot> = Vec::new();
    for table in analysis.tables.iter().filter(|t| t.shared) {
        let touching = touching(table, index);
        if touching.is_empty() {
            continue;
        }
        let count = touching.len() as f64;
        let (sx, sy) = touching.iter().fold((0.0, 0.0), |(x, y), &i| {
            (x + centres[i].0, y + centres[i].1)
        });
        // Pulled a quarter of the way to the middle, off the straight edge between the two.
        let (px, py) = (sx / count, sy / count);
        let (px, py) = (px + (centre.0 - px) * 0.25, py + (centre.1 - py) * 0.25);
        let name = truncate(&table.name, 18);
        let label_w = name.chars().count() as f64 * 6.8 + 12.0;
        let preferred = [
            (0.0, 0.0),
            (0.0, 44.0),
            (0.0, -44.0),
            (label_w + 8.0, 0.0),
            (-label_w - 8.0, 0.0),
            (0.0, 88.0),
            (0.0, -88.0),
            (label_w + 8.0, 44.0),
            (-label_w - 8.0, -44.0),
        ];
        let around = grid
            .iter()
            .map(|&(i, j)| (i as f64 * TABLE_STEP.0, j as f64 * TABLE_STEP.1));
        let spot = preferred
            .into_iter()
            .chain(around)
            .map(|(dx, dy)| (px + dx, py + dy))
            .find(|&(x, y)| is_free(&table_rect(x, y, &name), taken, area));
        if let Some((x, y)) = spot {
            taken.push(table_rect(x, y, &name));
        }
        placed.push(TableSpot {
            table,
            touching,
            name,
            spot,
        });
    }

    // The parking row: side by side from the left, as many rows as needed.
    let mut bottom = area.y + area.h;
    let (mut left, mut row_y) = (MARGIN, area.y + area.h + 44.0);
    for TableSpot { name, spot, .. } in placed.iter_mut().filter(|p| p.spot.is_none()) {
        let w = table_rect(0.0, 0.0, name).w;
        if left > MARGIN && left + w > area.x + area.w - MARGIN {
            left = MARGIN;
            row_y += 52.0;
        }
        let (x, y) = (left + w / 2.0, row_y);
        *spot = Some((x, y));
        let rect = table_rect(x, y, name);
        bottom = bottom.max(rect.y + rect.h);
        left += w + 12.0;
    }

    let mut tables = Vec::new();
    let mut spokes = Vec::new();
    for TableSpot {
        table,
        touching,
        name,
        spot,
    } in placed
    {
        let (x, y) = spot.unwrap_or_default();
        for &i in &touching {
            let context = &analysis.contexts[i];
            let (ex, ey) = clip((x, y), centres[i], &sized[i], 1.0);
            spokes.push(MapSpoke {
                x1: x.round() as i64,
                y1: y.round() as i64,
                x2: ex.round() as i64,
                y2: ey.round() as i64,
                colour: palette::context_colour(i).strong,
                writes: table.writers.contains(&context.name),
                owner: table.owner.as_deref() == Some(context.name.as_str()),
            });
        }
        let role = |names: &[String]| {
            if names.is_empty() {
                "nobody".to_string()
            } else {
                names.join(", ")
            }
        };
        tables.push(MapTable {
            x: x.round() as i64,
            y: y.round() as i64,
            name,
            title: format!(
                "table {}: owner {}; written by {}; read by {}",
                table.name,
                table.owner.as_deref().unwrap_or("none"),
                role(&table.writers),
                role(&table.readers)
            ),
        });
    }
    (tables, spokes, bottom)
}

fn kernel_band(
    analysis: &Analysis,
    index: &BTreeMap<&str, usize>,
    width: f64,
    top: f64,
) -> Option<MapKernel> {
    if analysis.shared_kernel.is_empty() {
        return None;
    }
    let w = (width - 2.0 * MARGIN).clamp(420.0, 900.0);
    let x = (width - w) / 2.0;
    let files = &analysis.shared_kernel;
    let shown = files.len().min(KERNEL_ROWS * KERNEL_COLUMNS);
    let rows = shown.div_ceil(KERNEL_COLUMNS).max(1);
    let column_w = (w - 32.0) / KERNEL_COLUMNS as f64;
    let column_chars = ((column_w - 12.0) / 6.6).floor().max(8.0) as usize;
    let mut lines: Vec<KernelLine> = files
        .iter()
        .take(shown)
        .enumerate()
        .map(|(k, file)| KernelLine {
            x: (x + 16.0 + column_w * (k / rows) as f64).round() as i64,
            y: (top + 52.0 + 18.0 * (k % rows) as f64).round() as i64,
            text: truncate(&file.path, column_chars),
        })
        .collect();
    let h = 62.0 + 18.0 * rows as f64 + if files.len() > shown { 18.0 } else { 0.0 };
    if files.len() > shown {
        lines.push(KernelLine {
            x: (x + 16.0).round() as i64,
            y: (top + 52.0 + 18.0 * rows as f64).round() as i64,
            text: format!("and {} more (listed below)", files.len() - shown),
        });
    }
    let users: BTreeSet<usize> = files
        .iter()
        .flat_map(|f| &f.used_by)
        .filter_map(|name| index.get(name.as_str()).copied())
        .collect();
    let dot_right = x + w - 16.0;
    let dots: Vec<KernelDot> = users
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &i)| KernelDot {
            cx: (dot_right - 6.0 - 16.0 * k as f64).round() as i64,
            cy: (top + 22.0).round() as i64,
            colour: palette::context_colour(i).strong,
            name: analysis.contexts[i].name.clone(),
        })
        .collect();
    let dots_label_x = (dot_right - 16.0 * users.len() as f64 - 6.0).round() as i64;
    Some(MapKernel {
        x: x.round() as i64,
        y: top.round() as i64,
        w: w.round() as i64,
        h: h.round() as i64,
        title: format!(
            "Shared kernel · {}",
            text::count(files.len(), "file", "files")
        ),
        lines,
        dots,
        dots_label_x,
    })
}

/// Where the segment from `from` to the centre of a box leaves the box, `gap` units outside it.
fn clip(from: (f64, f64), to: (f64, f64), size: &Sized, gap: f64) -> (f64, f64) {
    let (dx, dy) = (from.0 - to.0, from.1 - to.1);
    let length = (dx * dx + dy * dy).sqrt();
    if length < 1e-9 {
        return to;
    }
    let half_w = size.w / 2.0;
    let half_h = size.h / 2.0;
    let tx = if dx.abs() > 1e-9 {
        half_w / dx.abs()
    } else {
        f64::INFINITY
    };
    let ty = if dy.abs() > 1e-9 {
        half_h / dy.abs()
    } else {
        f64::INFINITY
    };
    let t = (tx.min(ty) + gap / length).min(1.0);
    (to.0 + dx * t, to.1 + dy * t)
}

/// At most `max` characters, with an ellipsis when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

mod labels;
#[cfg(test)]
mod tests;
