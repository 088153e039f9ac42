//! Regions → one resolved mask of per-row spans.
//!
//! Every region is grown about its centre by `scale`, rasterised row by row (box rows, or
//! ellipse rows computed analytically), clipped to the image, and merged with all other
//! regions into one mask: per row, sorted non-overlapping spans, each labelled with the
//! region class that wins there. A pixel covered by several regions takes the label with
//! the largest *key* (the caller encodes mode priority `fill > secure > pixelate > blur`
//! and strength into the key), so the result never depends on region order.
//!
//! Sampling rule (shared with the numpy reference backend, which must agree exactly): the
//! pixel `(x, y)` has its centre at `(x + 0.5, y + 0.5)`; it is covered when its centre
//! lies in the half-open box `[x0, x1) × [y0, y1)`, or, for an ellipse, when its row centre
//! is strictly inside the ellipse and its column centre is in the row's half-open chord.

use crate::error::{Error, Result};

/// The outline of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The (scaled) box itself.
    Box,
    /// The ellipse inscribed in the (scaled) box.
    Ellipse,
}

/// How a region is hidden. The declaration order is the priority order (weakest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Gaussian-quality blur (three box passes).
    Blur,
    /// Block means of the original pixels.
    Pixelate,
    /// Pixelate, then secret per-block noise.
    Secure,
    /// Solid colour.
    Fill,
}

impl Mode {
    /// Priority where regions of different modes overlap (larger wins).
    pub fn priority(self) -> u8 {
        match self {
            Mode::Blur => 0,
            Mode::Pixelate => 1,
            Mode::Secure => 2,
            Mode::Fill => 3,
        }
    }
}

/// A region after scaling: centre and half extents in pixel coordinates (unclipped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Centre, x.
    pub cx: f64,
    /// Centre, y.
    pub cy: f64,
    /// Half width after scaling.
    pub hw: f64,
    /// Half height after scaling.
    pub hh: f64,
    /// Outline.
    pub shape: Shape,
}

/// Clamp a float pixel coordinate into `[-1, limit + 1]` and convert it (it is finite).
fn clamp_coord(v: f64, limit: usize) -> i64 {
    let hi = limit as f64 + 1.0;
    v.clamp(-1.0, hi) as i64
}

impl Geometry {
    /// Validate a box `x0, y0, x1, y1` (row `row` of the caller's input, for the message)
    /// and grow it by `scale` about its centre.
    pub fn from_box(b: [f64; 4], shape: Shape, scale: f64, row: usize) -> Result<Self> {
        if b.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "region {row}: coordinates must be finite, got {b:?}"
            )));
        }
        if b[2] < b[0] || b[3] < b[1] {
            return Err(Error::InvalidArgument(format!(
                "region {row}: x1 < x0 or y1 < y0 in {b:?}"
            )));
        }
        let g = Geometry {
            cx: (b[0] + b[2]) / 2.0,
            cy: (b[1] + b[3]) / 2.0,
            hw: (b[2] - b[0]) / 2.0 * scale,
            hh: (b[3] - b[1]) / 2.0 * scale,
            shape,
        };
        if !(g.cx.is_finite() && g.cy.is_finite() && g.hw.is_finite() && g.hh.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "region {row}: coordinates too large in {b:?}"
            )));
        }
        Ok(g)
    }

    /// Whether the region covers no pixel at all whatever the image.
    pub fn is_degenerate(&self) -> bool {
        self.hw <= 0.0 || self.hh <= 0.0
    }

    /// The rows the region may cover, clipped to `[0, height)`.
    pub fn rows(&self, height: usize) -> (usize, usize) {
        if self.is_degenerate() {
            return (0, 0);
        }
        let y0 = clamp_coord((self.cy - self.hh - 0.5).ceil(), height).max(0) as usize;
        let y1 = clamp_coord((self.cy + self.hh - 0.5).ceil(), height).max(0) as usize;
        (y0.min(height), y1.min(height).max(y0.min(height)))
    }

    /// The covered columns `[a, b)` of row `y`, clipped to `[0, width)`; `None` if empty.
    pub fn span(&self, y: usize, width: usize) -> Option<(usize, usize)> {
        let yf = y as f64;
        if self.is_degenerate()
            || yf < (self.cy - self.hh - 0.5).ceil()
            || yf >= (self.cy + self.hh - 0.5).ceil()
        {
            return None;
        }
        let (lo, hi) = match self.shape {
            Shape::Box => (self.cx - self.hw - 0.5, self.cx + self.hw - 0.5),
            Shape::Ellipse => {
                let dy = (y as f64 + 0.5 - self.cy) / self.hh;
                let q = 1.0 - dy * dy;
                if q <= 0.0 {
                    return None;
                }
                let hx = self.hw * q.sqrt();
                (self.cx - hx - 0.5, self.cx + hx - 0.5)
            }
        };
        let a = clamp_coord(lo.ceil(), width).max(0) as usize;
        let b = clamp_coord(hi.ceil(), width).max(0) as usize;
        let (a, b) = (a.min(width), b.min(width));
        (a < b).then_some((a, b))
    }

    /// Feather weight in `[0, 1]` of a covered pixel: its distance inside the region's
    /// edge divided by `feather` (box: distance to the nearest side; ellipse: the radial
    /// gap `(1 - t) · min(hw, hh)` with `t` the normalised radius). The numpy reference
    /// evaluates the same expressions in the same order.
    pub fn feather_weight(&self, x: usize, y: usize, feather: f64) -> f64 {
        let px = x as f64 + 0.5;
        let py = y as f64 + 0.5;
        let d = match self.shape {
            Shape::Box => {
                let l = px - (self.cx - self.hw);
                let r = (self.cx + self.hw) - px;
                let t = py - (self.cy - self.hh);
                let b = (self.cy + self.hh) - py;
                l.min(r).min(t.min(b))
            }
            Shape::Ellipse => {
                let dx = (px - self.cx) / self.hw;
                let dy = (py - self.cy) / self.hh;
                let t = (dx * dx + dy * dy).sqrt();
                (1.0 - t) * self.hw.min(self.hh)
            }
        };
        (d.max(0.0) / feather).min(1.0)
    }

    /// The clipped pixel bounding box `(x0, y0, x1, y1)` (exclusive ends); may be empty.
    pub fn pixel_bbox(&self, width: usize, height: usize) -> (usize, usize, usize, usize) {
        let (y0, y1) = self.rows(height);
        if self.is_degenerate() {
            return (0, 0, 0, 0);
        }
        let a = clamp_coord((self.cx - self.hw - 0.5).ceil(), width).max(0) as usize;
        let b = clamp_coord((self.cx + self.hw - 0.5).ceil(), width).max(0) as usize;
        (a.min(width), y0, b.min(width).max(a.min(width)), y1)
    }
}

/// A region ready for resolution: geometry, priority key and the label it paints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskRegion {
    /// Where.
    pub geom: Geometry,
    /// Larger keys win where regions overlap.
    pub key: u64,
    /// What the winning pixels are labelled with (equal keys that overlap must share a label).
    pub label: u32,
}

/// One run of pixels `[x0, x1)` of a row, all with the same label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First column.
    pub x0: usize,
    /// One past the last column.
    pub x1: usize,
    /// The winning label.
    pub label: u32,
}

/// The resolved mask: rows `y0 .. y0 + rows()`; each row's spans are sorted, disjoint,
/// and adjacent spans with equal labels are merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanMask {
    /// The first row that has an entry.
    pub y0: usize,
    offsets: Vec<usize>,
    spans: Vec<Span>,
}

impl SpanMask {
    /// Number of rows stored (from `y0`).
    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The spans of image row `y` (empty outside the stored rows).
    pub fn row(&self, y: usize) -> &[Span] {
        if y < self.y0 || y >= self.y0 + self.rows() {
            return &[];
        }
        let i = y - self.y0;
        &self.spans[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Total number of covered pixels.
    pub fn area(&self) -> usize {
        self.spans.iter().map(|s| s.x1 - s.x0).sum()
    }

    /// Whether no pixel is covered.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Resolve one row: `pieces` are `(x0, x1, key, label)`; returns sorted merged spans.
fn resolve_row(pieces: &mut [(usize, usize, u64, u32)], out: &mut Vec<Span>) {
    if pieces.is_empty() {
        return;
    }
    let mut cuts: Vec<usize> = Vec::with_capacity(pieces.len() * 2);
    for p in pieces.iter() {
        cuts.push(p.0);
        cuts.push(p.1);
    }
    cuts.sort_unstable();
    cuts.dedup();
    let start = out.len();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        // The winner among the pieces covering [a, b): largest key, then smallest label
        // (a deterministic tie-break; equal overlapping keys share a label anyway).
        let mut best: Option<(u64, u32)> = None;
        for p in pieces.iter() {
            if p.0 <= a && p.1 >= b {
                let cand = (p.2, p.3);
                best = Some(match best {
                    None => cand,
                    Some(cur) if cand.0 > cur.0 || (cand.0 == cur.0 && cand.1 < cur.1) => cand,
                    Some(cur) => cur,
                });
            }
        }
        if let Some((_, label)) = best {
            if out.len() > start {
                if let Some(last) = out.last_mut() {
                    if last.x1 == a && last.label == label {
                        last.x1 = b;
                        continue;
                    }
                }
            }
            out.push(Span {
                x0: a,
                x1: b,
                label,
            });
        }
    }
}

/// Rasterise and resolve `regions` on a `width × height` image.
///
/// Memory is proportional to the rows the regions touch and the number of spans, never
/// to the image area.
pub fn resolve(regions: &[MaskRegion], width: usize, height: usize) -> SpanMask {
    let rows: Vec<(usize, usize)> = regions.iter().map(|r| r.geom.rows(height)).collect();
    let live: Vec<usize> = (0..regions.len())
        .filter(|&i| rows[i].0 < rows[i].1 && width > 0)
        .collect();
    let Some(y0) = live.iter().map(|&i| rows[i].0).min() else {
        return SpanMask::default();
    };
    let y1 = live.iter().map(|&i| rows[i].1).max().unwrap_or(y0);
    // Bucket regions by first row so each row visits only the regions that touch it.
    let mut order = live.clone();
    order.sort_by_key(|&i| rows[i].0);
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    let mut offsets = Vec::with_capacity(y1 - y0 + 1);
    let mut spans = Vec::new();
    let mut pieces = Vec::new();
    offsets.push(0);
    for y in y0..y1 {
        while next < order.len() && rows[order[next]].0 <= y {
            active.push(order[next]);
            next += 1;
        }
        active.retain(|&i| rows[i].1 > y);
        pieces.clear();
        for &i in &active {
            if let Some((a, b)) = regions[i].geom.span(y, width) {
                pieces.push((a, b, regions[i].key, regions[i].label));
            }
        }
        resolve_row(&mut pieces, &mut spans);
        offsets.push(spans.len());
    }
    SpanMask { y0, offsets, spans }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(b: [f64; 4], shape: Shape, scale: f64) -> Geometry {
        Geometry::from_box(b, shape, scale, 0).unwrap()
    }

    fn region(b: [f64; 4], shape: Shape, key: u64, label: u32) -> MaskRegion {
        MaskRegion {
            geom: geom(b, shape, 1.0),
            key,
            label,
        }
    }

    /// Dense label image, for checking (None = uncovered).
    fn dense(m: &SpanMask, w: usize, h: usize) -> Vec<Option<u32>> {
        let mut out = vec![None; w * h];
        for y in 0..h {
            let mut last_end = 0;
            for s in m.row(y) {
                assert!(
                    s.x0 < s.x1 && s.x1 <= w && s.x0 >= last_end,
                    "row {y}: {s:?}"
                );
                last_end = s.x1;
                for x in s.x0..s.x1 {
                    out[y * w + x] = Some(s.label);
                }
            }
        }
        out
    }

    #[test]
    fn box_covers_pixel_centres_inside() {
        let g = geom([2.0, 3.0, 5.0, 4.0], Shape::Box, 1.0);
        assert_eq!(g.rows(10), (3, 4));
        assert_eq!(g.span(3, 10), Some((2, 5)));
        // Fractional edges: centres 2.5 is outside [2.6, 5.4), 4.5 inside.
        let g = geom([2.6, 0.0, 5.4, 1.0], Shape::Box, 1.0);
        assert_eq!(g.span(0, 10), Some((3, 5)));
    }

    #[test]
    fn scale_grows_about_the_centre() {
        let g = geom([10.0, 10.0, 20.0, 20.0], Shape::Box, 2.0);
        assert_eq!(g.pixel_bbox(100, 100), (5, 5, 25, 25));
    }

    #[test]
    fn one_pixel_regions_cover_one_pixel() {
        for shape in [Shape::Box, Shape::Ellipse] {
            let g = geom([4.0, 7.0, 5.0, 8.0], shape, 1.0);
            assert_eq!(g.rows(20), (7, 8));
            assert_eq!(g.span(7, 20), Some((4, 5)));
        }
    }

    #[test]
    fn ellipse_rows_are_symmetric_and_inscribed() {
        let g = geom([0.0, 0.0, 40.0, 20.0], Shape::Ellipse, 1.0);
        let (y0, y1) = g.rows(100);
        assert_eq!((y0, y1), (0, 20));
        for y in 0..20 {
            let (a, b) = g.span(y, 100).unwrap();
            let (a2, b2) = g.span(19 - y, 100).unwrap();
            assert_eq!((a, b), (a2, b2));
            assert_eq!(a, 40 - b, "row {y} symmetric about x=20");
        }
        // Widest in the middle, full width there.
        assert_eq!(g.span(10, 100), Some((0, 40)));
        // Corners are outside.
        assert!(g.span(0, 100).unwrap().0 > 5);
    }

    #[test]
    fn clipping_and_outside_regions() {
        let g = geom([-50.0, -50.0, 5.0, 5.0], Shape::Box, 1.0);
        assert_eq!(g.pixel_bbox(10, 10), (0, 0, 5, 5));
        let g = geom([100.0, 100.0, 200.0, 200.0], Shape::Box, 1.0);
        assert_eq!(g.rows(10), (10, 10));
        assert_eq!(g.span(5, 10), None);
        let g = geom([-1e300, -1e300, 1e300, 1e300], Shape::Box, 1.0);
        assert_eq!(g.pixel_bbox(7, 9), (0, 0, 7, 9));
    }

    #[test]
    fn invalid_boxes_name_the_row() {
        let e = Geometry::from_box([0.0, f64::NAN, 1.0, 1.0], Shape::Box, 1.0, 7).unwrap_err();
        assert!(e.message().contains("region 7"), "{e}");
        let e = Geometry::from_box([3.0, 0.0, 1.0, 1.0], Shape::Box, 1.0, 2).unwrap_err();
        assert!(e.message().contains("region 2"), "{e}");
        let e = Geometry::from_box([0.0, 0.0, f64::INFINITY, 1.0], Shape::Box, 1.0, 0);
        assert!(e.is_err());
        let e = Geometry::from_box([-1.7e308, 0.0, 1.7e308, 1.0], Shape::Box, 2.0, 4);
        assert!(e.unwrap_err().message().contains("region 4"));
    }

    #[test]
    fn empty_box_covers_nothing() {
        let g = geom([3.0, 3.0, 3.0, 8.0], Shape::Box, 1.0);
        assert_eq!(g.rows(10), (0, 0));
        let m = resolve(
            &[MaskRegion {
                geom: g,
                key: 0,
                label: 0,
            }],
            10,
            10,
        );
        assert!(m.is_empty());
    }

    #[test]
    fn strongest_key_wins_and_spans_merge() {
        let regs = [
            region([0.0, 0.0, 10.0, 1.0], Shape::Box, 1, 1),
            region([4.0, 0.0, 6.0, 1.0], Shape::Box, 5, 2),
            region([8.0, 0.0, 12.0, 1.0], Shape::Box, 1, 1),
        ];
        let m = resolve(&regs, 20, 1);
        assert_eq!(
            m.row(0),
            &[
                Span {
                    x0: 0,
                    x1: 4,
                    label: 1
                },
                Span {
                    x0: 4,
                    x1: 6,
                    label: 2
                },
                Span {
                    x0: 6,
                    x1: 12,
                    label: 1
                },
            ]
        );
        assert_eq!(m.area(), 12);
    }

    use crate::test_rng::Lcg;

    #[test]
    fn resolution_matches_brute_force_and_ignores_order() {
        let mut rng = Lcg(42);
        for _ in 0..200 {
            let (w, h) = (1 + rng.next() as usize % 40, 1 + rng.next() as usize % 40);
            let n = rng.next() as usize % 12;
            let mut regs = Vec::new();
            for i in 0..n {
                let x0 = rng.f(-10.0, 45.0);
                let y0 = rng.f(-10.0, 45.0);
                let shape = if rng.next() % 2 == 0 {
                    Shape::Box
                } else {
                    Shape::Ellipse
                };
                let key = rng.next() % 4;
                let b = [x0, y0, x0 + rng.f(0.0, 30.0), y0 + rng.f(0.0, 30.0)];
                regs.push(MaskRegion {
                    geom: geom(b, shape, rng.f(0.5, 2.0)),
                    key,
                    label: (key * 100 + i as u64 % 2) as u32,
                });
            }
            // Equal overlapping keys must share a label: use the key as the label.
            for r in &mut regs {
                r.label = r.key as u32;
            }
            let m = resolve(&regs, w, h);
            let got = dense(&m, w, h);
            let mut want = vec![None; w * h];
            for y in 0..h {
                for x in 0..w {
                    let mut best: Option<u64> = None;
                    for r in &regs {
                        if let Some((a, b)) = r.geom.span(y, w) {
                            if a <= x && x < b {
                                best = best.max(Some(r.key));
                            }
                        }
                    }
                    want[y * w + x] = best.map(|k| k as u32);
                }
            }
            assert_eq!(got, want);
            let mut rev = regs.clone();
            rev.reverse();
            assert_eq!(resolve(&rev, w, h), m);
        }
    }

    #[test]
    fn feather_weights() {
        let g = geom([0.0, 0.0, 20.0, 20.0], Shape::Box, 1.0);
        assert_eq!(g.feather_weight(0, 10, 4.0), 0.125);
        assert_eq!(g.feather_weight(10, 10, 4.0), 1.0);
        let e = geom([0.0, 0.0, 20.0, 20.0], Shape::Ellipse, 1.0);
        assert!(e.feather_weight(10, 10, 4.0) == 1.0);
        assert!(e.feather_weight(10, 0, 4.0) < 0.5);
    }
}
