//! What the map's labels cover and where an edge's count goes: rectangles sized like the
//! template draws them, so the layout in `map.rs` can keep every label off the boxes and off
//! the labels placed before it, and tests can check that it did.

use super::MapEdge;

/// An axis-aligned rectangle in map units, `(x, y)` its top-left corner: what a piece of the
/// map covers, so labels can be kept off each other and off the boxes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub(super) fn centred(cx: f64, cy: f64, w: f64, h: f64) -> Rect {
        Rect {
            x: cx - w / 2.0,
            y: cy - h / 2.0,
            w,
            h,
        }
    }

    /// Strict overlap: rectangles that only touch are apart.
    pub(super) fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }

    pub(super) fn grown(&self, by: f64) -> Rect {
        Rect {
            x: self.x - by,
            y: self.y - by,
            w: self.w + 2.0 * by,
            h: self.h + 2.0 * by,
        }
    }

    pub(super) fn inside(&self, outer: &Rect) -> bool {
        self.x >= outer.x
            && self.y >= outer.y
            && self.x + self.w <= outer.x + outer.w
            && self.y + self.h <= outer.y + outer.h
    }
}

// What the template draws, in the sizes its stylesheet gives (`.edge-label`, `.table`,
// `rect.box` and the order badge): the rectangles below must grow with it.
/// Radius of the circle behind an edge's call count.
pub(super) const EDGE_LABEL_RADIUS: f64 = 10.0;
/// Advance of one digit of the call count (11px bold), with room to spare.
const EDGE_LABEL_DIGIT: f64 = 7.0;
/// Advance of one character of a table name (11.5px monospace, 0.6em), with room to spare.
const TABLE_NAME_CHAR: f64 = 7.0;
/// Baseline of a table's name below the table's centre.
pub(super) const TABLE_NAME_BASELINE: f64 = 24.0;

/// What a context box covers: the box with its stroke, and the extraction-order badge on its
/// top-left corner (a circle of radius 13 with a white stroke).
pub(super) fn box_rects(x: f64, y: f64, w: f64, h: f64) -> [Rect; 2] {
    let body = Rect {
        x: x - 1.0,
        y: y - 1.0,
        w: w + 2.0,
        h: h + 2.0,
    };
    [body, Rect::centred(x + 4.0, y + 4.0, 28.0, 28.0)]
}

/// What an edge's call count covers: its circle, or the number when it is wider.
pub(super) fn edge_label_rect(x: f64, y: f64, label: &str) -> Rect {
    let text_w = label.chars().count() as f64 * EDGE_LABEL_DIGIT + 4.0;
    let side = 2.0 * EDGE_LABEL_RADIUS + 2.0;
    Rect::centred(x, y, text_w.max(side), side)
}

/// What a shared table's cylinder covers (with its stroke).
pub(super) fn table_cylinder_rect(x: f64, y: f64) -> Rect {
    Rect {
        x: x - 11.0,
        y: y - 14.0,
        w: 22.0,
        h: 26.0,
    }
}

/// What a shared table's name covers, centred under the cylinder (with the white halo the
/// stylesheet draws around it).
pub(super) fn table_name_rect(x: f64, y: f64, name: &str) -> Rect {
    let w = name.chars().count() as f64 * TABLE_NAME_CHAR + 4.0;
    Rect {
        x: x - w / 2.0,
        y: y + TABLE_NAME_BASELINE - 11.0,
        w,
        h: 15.0,
    }
}

/// Where an edge's call count goes: the curve's middle when it is free, else the free point of
/// the curve nearest the middle (clear of the arrowheads), else a point a little off the curve,
/// and none when there is no free point near the curve. Free: off every rectangle in `taken`
/// and inside `area`.
pub(super) fn edge_label_spot(edge: &MapEdge, taken: &[Rect], area: &Rect) -> Option<(i64, i64)> {
    let (x1, y1, x2, y2) = (
        edge.x1 as f64,
        edge.y1 as f64,
        edge.x2 as f64,
        edge.y2 as f64,
    );
    let (qx, qy) = (edge.qx as f64, edge.qy as f64);
    // The quadratic Bézier the template draws, and its normal (for the points off the curve).
    let at = |t: f64, off: f64| {
        let u = 1.0 - t;
        let x = u * u * x1 + 2.0 * u * t * qx + t * t * x2;
        let y = u * u * y1 + 2.0 * u * t * qy + t * t * y2;
        let (dx, dy) = (u * (qx - x1) + t * (x2 - qx), u * (qy - y1) + t * (y2 - qy));
        let length = (dx * dx + dy * dy).sqrt().max(1e-9);
        (
            (x - dy / length * off).round() as i64,
            (y + dx / length * off).round() as i64,
        )
    };
    let free = |&(x, y): &(i64, i64)| {
        is_free(
            &edge_label_rect(x as f64, y as f64, &edge.label),
            taken,
            area,
        )
    };
    let steps = (1..=EDGE_LABEL_STEPS).flat_map(|k| {
        let t = EDGE_LABEL_STEP * k as f64;
        [0.5 - t, 0.5 + t]
    });
    let along: Vec<f64> = std::iter::once(0.5).chain(steps).collect();
    // The middle as `edges` computed it from the unrounded ends, then the rest.
    std::iter::once((edge.label_x, edge.label_y))
        .chain(
            [0.0, 12.0, -12.0, 24.0, -24.0]
                .iter()
                .flat_map(|&off| along.iter().map(move |&t| (t, off)))
                .map(|(t, off)| at(t, off)),
        )
        .find(free)
}

/// Whether a label covering `rect` fits: inside `area`, and `LABEL_GAP` clear of everything
/// in `taken`.
pub(super) fn is_free(rect: &Rect, taken: &[Rect], area: &Rect) -> bool {
    rect.inside(area) && !taken.iter().any(|t| t.overlaps(&rect.grown(LABEL_GAP)))
}

/// Room kept between a label and what it must stay off.
pub(super) const LABEL_GAP: f64 = 2.0;
/// An edge's count slides along its curve in steps of this (in the curve's parameter) ...
const EDGE_LABEL_STEP: f64 = 0.04;
/// ... at most this many on each side of the middle, so it stays clear of the arrowheads.
const EDGE_LABEL_STEPS: usize = 9;

/// What a shared table covers: its cylinder and its name.
pub(super) fn table_rect(x: f64, y: f64, name: &str) -> Rect {
    let cylinder = table_cylinder_rect(x, y);
    let label = table_name_rect(x, y, name);
    let left = cylinder.x.min(label.x);
    let right = (cylinder.x + cylinder.w).max(label.x + label.w);
    Rect {
        x: left,
        y: cylinder.y,
        w: right - left,
        h: label.y + label.h - cylinder.y,
    }
}
