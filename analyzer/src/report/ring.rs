//! Where the contexts of the map go: a ring of slots (an ellipse for a few contexts, a
//! rectangle for many) and which context takes which slot, so that coupled contexts are
//! neighbours. Split from the drawing in `map.rs` because placement is its own problem.

use std::collections::BTreeMap;
use std::f64::consts::PI;

use super::map::{MARGIN, touching};
use crate::analysis::Analysis;

/// Up to this many contexts sit on an ellipse; more go round a rectangle, which packs them
/// tighter (rows at the top and bottom, columns at the sides) and keeps the text legible.
pub(super) const ELLIPSE_UP_TO: usize = 8;

/// Above this many contexts the ring stays in extraction order.
const OPTIMISE_RING_UP_TO: usize = 48;

/// Places for the boxes, clockwise, and the extent of the picture.
pub(super) struct Ring {
    pub slots: Vec<(f64, f64)>,
    pub centre: (f64, f64),
    pub width: f64,
    pub bottom: f64,
}

/// Neighbours on the ellipse are about `radius * step` apart: wide enough at the top and bottom
/// for the boxes' width, at the sides for their height, and `spread` farther. The first slot is
/// at the top.
pub(super) fn ellipse_ring(n: usize, widest: f64, tallest: f64, spread: f64) -> Ring {
    let step = 2.0 * PI / n.max(1) as f64;
    let rx = ((widest + 40.0) / step).max(280.0) + spread / step;
    let ry = ((tallest + 44.0) / step).max(160.0) + spread / step;
    let cx = MARGIN + rx + widest / 2.0;
    let cy = MARGIN + ry + tallest / 2.0;
    let slots = (0..n)
        .map(|i| {
            let angle = -PI / 2.0 + step * i as f64;
            (cx + rx * angle.cos(), cy + ry * angle.sin())
        })
        .collect();
    Ring {
        slots,
        centre: (cx, cy),
        width: 2.0 * cx,
        bottom: cy + ry + tallest / 2.0,
    }
}

/// `columns` boxes in the top and bottom rows, the rest in the two side columns between them,
/// with the proportions closest to 4:3, cells `spread` larger than the boxes need. Slots run
/// clockwise from the top-left corner.
pub(super) fn rectangle_ring(n: usize, widest: f64, tallest: f64, spread: f64) -> Ring {
    let cell_w = widest + 30.0 + spread;
    let cell_h = tallest + 34.0 + spread;
    let shape = |columns: usize| {
        let side = n - 2 * columns;
        let (left, right) = (side / 2, side - side / 2);
        let width = columns as f64 * cell_w;
        let height = (right.max(1) as f64 + 2.0) * cell_h;
        (columns, left, right, width, height)
    };
    let (columns, left, right, inner_w, inner_h) = (2..=n / 2)
        .map(shape)
        .min_by(|a, b| {
            let off = |s: &(usize, usize, usize, f64, f64)| (s.3 / s.4 - 4.0 / 3.0).abs();
            off(a).total_cmp(&off(b))
        })
        .unwrap_or_else(|| shape(n / 2));
    let x0 = MARGIN + cell_w / 2.0;
    let y0 = MARGIN + cell_h / 2.0;
    let x_right = x0 + (columns - 1) as f64 * cell_w;
    let y_bottom = y0 + inner_h - cell_h;
    let mut slots = Vec::with_capacity(n);
    slots.extend((0..columns).map(|i| (x0 + i as f64 * cell_w, y0)));
    slots.extend((0..right).map(|j| {
        let t = (j + 1) as f64 / (right + 1) as f64;
        (x_right, y0 + t * (y_bottom - y0))
    }));
    slots.extend(
        (0..columns)
            .rev()
            .map(|i| (x0 + i as f64 * cell_w, y_bottom)),
    );
    slots.extend((0..left).rev().map(|j| {
        let t = (j + 1) as f64 / (left + 1) as f64;
        (x0, y0 + t * (y_bottom - y0))
    }));
    Ring {
        slots,
        centre: ((x0 + x_right) / 2.0, (y0 + y_bottom) / 2.0),
        width: inner_w + 2.0 * MARGIN,
        bottom: y_bottom + tallest / 2.0,
    }
}

/// The slot on the ring of each context. It starts in extraction order (first at the top) and
/// swaps pairs while that shortens the ring distance between coupled contexts, so that most
/// edges join neighbours instead of crossing the map. Deterministic: fixed visiting order, a
/// swap only on a strict gain, a bounded number of passes.
pub(super) fn ring_slots(analysis: &Analysis, index: &BTreeMap<&str, usize>) -> Vec<usize> {
    let n = analysis.contexts.len();
    let mut weights: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for seam in &analysis.seams {
        if let (Some(&a), Some(&b)) = (index.get(seam.from.as_str()), index.get(seam.to.as_str()))
            && a != b
        {
            *weights.entry((a.min(b), a.max(b))).or_default() += 1.0;
        }
    }
    for table in analysis.tables.iter().filter(|t| t.shared) {
        let touching = touching(table, index);
        for &a in &touching {
            for &b in touching.range(a + 1..) {
                *weights.entry((a, b)).or_default() += 2.0;
            }
        }
    }
    let weights: Vec<((usize, usize), f64)> = weights.into_iter().collect();
    let mut slots: Vec<usize> = (0..n).collect();
    // Each pass costs n² cost evaluations; past the sizes a map stays legible at, extraction
    // order is as good a ring as any and keeps large reports fast.
    if n > OPTIMISE_RING_UP_TO {
        return slots;
    }
    let ring_distance = |a: usize, b: usize| {
        let d = a.abs_diff(b);
        d.min(n - d) as f64
    };
    let cost = |slots: &[usize]| {
        weights
            .iter()
            .map(|&((a, b), w)| w * ring_distance(slots[a], slots[b]))
            .sum::<f64>()
    };
    let mut best = cost(&slots);
    for _pass in 0..24 {
        let mut improved = false;
        for a in 0..n {
            for b in a + 1..n {
                slots.swap(a, b);
                let candidate = cost(&slots);
                if candidate + 1e-9 < best {
                    best = candidate;
                    improved = true;
                } else {
                    slots.swap(a, b);
                }
            }
        }
        if !improved {
            break;
        }
    }
    slots
}
