//! Redaction: hide every region of an image in place, each pixel of the union once.
//!
//! 1. Regions are validated, scaled and given a class `(mode, strength parameter)`; the
//!    regions of a class are grouped into *jobs* whose context windows overlap.
//! 2. [`crate::mask::resolve`] turns them into one mask of per-row spans labelled with the
//!    winning job (mode priority `fill > secure > pixelate > blur`, then the larger blur
//!    radius / block size).
//! 3. Every job computes its output from the *original* pixels (parallel; the image is
//!    only read): a blurred ROI, or block means.
//! 4. Rows are written back in parallel, each masked pixel once, optionally blended with
//!    the original over a feathered edge. Pixels outside the mask are never written.
//!
//! Work and memory are proportional to the jobs' ROIs, never to the whole frame unless a
//! region covers it.

pub mod blur;
pub mod dispatch;
pub mod fill;
pub mod pixelate;
pub mod secure;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::mask::{resolve, Geometry, MaskRegion, Mode, Shape, SpanMask};
use dispatch::Level;

/// A read-only view of an image: `height` rows of `width` pixels of `channels` bytes;
/// row `y` starts at `y * row_stride`.
#[derive(Clone, Copy)]
pub struct ImageRef<'a> {
    /// The pixels.
    pub data: &'a [u8],
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes per pixel: 1, 3 or 4.
    pub channels: usize,
    /// Bytes from one row to the next (≥ `width * channels`).
    pub row_stride: usize,
}

impl<'a> ImageRef<'a> {
    /// The `width * channels` bytes of row `y`.
    #[inline]
    pub fn row(&self, y: usize) -> &'a [u8] {
        let s = y * self.row_stride;
        &self.data[s..s + self.width * self.channels]
    }
}

/// A mutable image, laid out as [`ImageRef`].
pub struct ImageMut<'a> {
    /// The pixels.
    pub data: &'a mut [u8],
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes per pixel: 1 (grey), 3 (RGB/BGR) or 4 (the fourth, alpha, is never touched).
    pub channels: usize,
    /// Bytes from one row to the next (≥ `width * channels`).
    pub row_stride: usize,
}

impl ImageMut<'_> {
    fn check(&self) -> Result<()> {
        if ![1, 3, 4].contains(&self.channels) {
            return Err(Error::InvalidArgument(format!(
                "image must have 1, 3 or 4 channels, got {}",
                self.channels
            )));
        }
        let row_bytes = self.width * self.channels;
        if self.row_stride < row_bytes {
            return Err(Error::InvalidArgument(format!(
                "row stride {} is shorter than a row ({row_bytes} bytes)",
                self.row_stride
            )));
        }
        let need = match self.height {
            0 => 0,
            h => (h - 1) * self.row_stride + row_bytes,
        };
        if self.data.len() < need {
            return Err(Error::InvalidArgument(format!(
                "image buffer holds {} bytes, {need} needed",
                self.data.len()
            )));
        }
        Ok(())
    }
}

/// A pixel rectangle `[x0, x1) × [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// First column.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// One past the last column.
    pub x1: usize,
    /// One past the last row.
    pub y1: usize,
}

impl Rect {
    /// Columns.
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }
    /// Rows.
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
    fn union(self, o: Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
    /// Grow by `pad` on every side, clipped to `width × height`.
    fn padded(self, pad: usize, width: usize, height: usize) -> Rect {
        Rect {
            x0: self.x0.saturating_sub(pad),
            y0: self.y0.saturating_sub(pad),
            x1: self.x1.saturating_add(pad).min(width),
            y1: self.y1.saturating_add(pad).min(height),
        }
    }
    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// One region to hide, in the caller's pixel coordinates (`x1`, `y1` exclusive edges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionIn {
    /// `x0, y0, x1, y1`.
    pub bbox: [f64; 4],
    /// Outline.
    pub shape: Shape,
    /// How to hide it.
    pub mode: Mode,
}

/// Options shared by all regions of a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Growth of each region about its centre (> 0).
    pub scale: f64,
    /// Soften the inner edge over this many pixels (0: hard edge).
    pub feather: u32,
    /// Blur σ or block size in pixels; `None` scales it to each region.
    pub strength: Option<f64>,
    /// Colour for `fill` (a grey image uses the first value).
    pub fill: [u8; 3],
    /// Secret for `secure` noise.
    pub seed: u64,
    /// Worker threads; `None` or `Some(0)`: all cores (rayon's global pool).
    pub threads: Option<usize>,
    /// Instruction set; `None`: [`dispatch::selected`] (`FASTREDACT_SIMD` or the best).
    pub level: Option<Level>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scale: 1.3,
            feather: 0,
            strength: None,
            fill: [0, 0, 0],
            seed: 0,
            threads: None,
            level: None,
        }
    }
}

/// The blur σ of a region: `strength`, or half its larger scaled half extent (σ = w / 4).
pub fn blur_sigma(g: &Geometry, strength: Option<f64>) -> f64 {
    strength.unwrap_or(g.hw.max(g.hh) / 2.0)
}

/// The class parameter of a region: box radius (blur), block size (pixelate, secure), 0.
fn class_param(mode: Mode, g: &Geometry, strength: Option<f64>) -> usize {
    match mode {
        Mode::Blur => blur::radius_for_sigma(blur_sigma(g, strength)),
        Mode::Pixelate | Mode::Secure => match strength {
            Some(s) => pixelate::block_from_strength(s),
            None => pixelate::default_block(g.hw, g.hh),
        },
        Mode::Fill => 0,
    }
}

/// A group of same-class regions processed together.
struct Job {
    mode: Mode,
    param: usize,
    bbox: Rect,
}

/// What a job writes.
enum JobOut {
    Blur(blur::Blurred),
    Blocks(pixelate::Blocks),
    Fill([u8; 3]),
}

/// Context a job's pixels need beyond its own bbox (so separate jobs never share it).
fn context(mode: Mode, param: usize) -> usize {
    match mode {
        Mode::Blur => 3 * param,
        Mode::Pixelate | Mode::Secure => param,
        Mode::Fill => 0,
    }
}

/// Group regions into jobs; returns the jobs and each region's job index.
fn plan_jobs(
    classes: &[(Mode, usize)],
    boxes: &[Option<Rect>],
    width: usize,
    height: usize,
) -> (Vec<Job>, Vec<u32>) {
    let n = classes.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    let mut by_class: HashMap<(Mode, usize), Vec<usize>> = HashMap::new();
    for i in 0..n {
        if boxes[i].is_some() {
            by_class.entry(classes[i]).or_default().push(i);
        }
    }
    for (&(mode, param), members) in &by_class {
        let pad = context(mode, param);
        let padded: Vec<Rect> = members
            .iter()
            .map(|&i| {
                boxes[i].unwrap_or(Rect {
                    x0: 0,
                    y0: 0,
                    x1: 0,
                    y1: 0,
                })
            })
            .map(|r| r.padded(pad, width, height))
            .collect();
        let mut order: Vec<usize> = (0..members.len()).collect();
        order.sort_by_key(|&k| padded[k].x0);
        // Sweep in x: only boxes starting before the current one ends can overlap it.
        for (oi, &k) in order.iter().enumerate() {
            for &l in &order[oi + 1..] {
                if padded[l].x0 >= padded[k].x1 {
                    break;
                }
                if padded[k].overlaps(&padded[l]) {
                    let (a, b) = (find(&mut parent, members[k]), find(&mut parent, members[l]));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
            }
        }
    }
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_of_root: HashMap<usize, u32> = HashMap::new();
    let mut labels = vec![u32::MAX; n];
    for i in 0..n {
        let Some(bbox) = boxes[i] else { continue };
        let root = find(&mut parent, i);
        let j = *job_of_root.entry(root).or_insert_with(|| {
            jobs.push(Job {
                mode: classes[i].0,
                param: classes[i].1,
                bbox,
            });
            (jobs.len() - 1) as u32
        });
        let job = &mut jobs[j as usize];
        job.bbox = job.bbox.union(bbox);
        labels[i] = j;
    }
    (jobs, labels)
}

fn run_job(
    job: &Job,
    label: u32,
    img: &ImageRef<'_>,
    mask: &SpanMask,
    opts: &Options,
    level: Level,
) -> JobOut {
    let nc = if img.channels == 4 { 3 } else { img.channels };
    match job.mode {
        Mode::Blur => {
            let roi = job
                .bbox
                .padded(context(job.mode, job.param), img.width, img.height);
            JobOut::Blur(blur::blur_roi(img, roi, job.param, level))
        }
        Mode::Pixelate | Mode::Secure => {
            let mut b = pixelate::block_means(img, mask, label, job.bbox, job.param, nc, level);
            if job.mode == Mode::Secure {
                secure::add_noise(&mut b, opts.seed);
            }
            JobOut::Blocks(b)
        }
        Mode::Fill => JobOut::Fill(fill::colour(opts.fill, nc)),
    }
}

/// Write job outputs into one image row (`y`), span by span.
fn write_row(row: &mut [u8], y: usize, mask: &SpanMask, outs: &[JobOut], c: usize, nc: usize) {
    for s in mask.row(y) {
        match &outs[s.label as usize] {
            JobOut::Fill(v) => fill::write_run(row, s.x0, s.x1, c, &v[..nc]),
            JobOut::Blur(b) => b.copy_row(y, s.x0, s.x1, row, nc),
            JobOut::Blocks(b) => {
                let mut x = s.x0;
                while x < s.x1 {
                    let end = ((x / b.bs + 1) * b.bs).min(s.x1);
                    fill::write_run(row, x, end, c, b.value(x, y));
                    x = end;
                }
            }
        }
    }
}

/// Blend the redacted `row` with `orig` (the same row before writing) over the feathered
/// edge: `out = floor(o + (r - o) · w + 0.5)` with `w` the largest feather weight of the
/// regions covering the pixel.
#[allow(clippy::too_many_arguments)]
fn feather_row(
    row: &mut [u8],
    orig: &[u8],
    y: usize,
    mask: &SpanMask,
    geoms: &[Geometry],
    feather: f64,
    c: usize,
    nc: usize,
) {
    let width = row.len() / c;
    let covering: Vec<(&Geometry, usize, usize)> = geoms
        .iter()
        .filter_map(|g| g.span(y, width).map(|(a, b)| (g, a, b)))
        .collect();
    for s in mask.row(y) {
        for x in s.x0..s.x1 {
            let w = covering
                .iter()
                .filter(|(_, a, b)| *a <= x && x < *b)
                .map(|(g, _, _)| g.feather_weight(x, y, feather))
                .fold(0.0f64, f64::max);
            for ch in 0..nc {
                let i = x * c + ch;
                let o = f64::from(orig[i]);
                let v = o + (f64::from(row[i]) - o) * w;
                row[i] = (v + 0.5).floor() as u8;
            }
        }
    }
}

/// Run `f` on `threads` workers (cached pools), or on the global pool.
fn with_threads<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
    let n = match threads {
        None | Some(0) => return Ok(f()),
        Some(n) => n,
    };
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pool = {
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match pools.get(&n) {
            Some(p) => p.clone(),
            None => {
                let p = rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| Error::InvalidArgument(format!("threads={n}: {e}")))?;
                let p = Arc::new(p);
                pools.insert(n, p.clone());
                p
            }
        }
    };
    Ok(pool.install(f))
}

/// Validate `opts` and every region, and build the mask regions. Returns the mask
/// regions, the jobs, and the geometries (for feathering).
fn prepare(
    width: usize,
    height: usize,
    regions: &[RegionIn],
    opts: &Options,
) -> Result<(Vec<MaskRegion>, Vec<Job>, Vec<Geometry>)> {
    if !(opts.scale.is_finite() && opts.scale > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "scale must be a finite number > 0, got {}",
            opts.scale
        )));
    }
    if let Some(s) = opts.strength {
        if !(s.is_finite() && s > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "strength must be a finite number > 0, got {s}"
            )));
        }
    }
    let mut geoms = Vec::with_capacity(regions.len());
    let mut classes = Vec::with_capacity(regions.len());
    let mut boxes = Vec::with_capacity(regions.len());
    for (i, r) in regions.iter().enumerate() {
        let g = Geometry::from_box(r.bbox, r.shape, opts.scale, i)?;
        let (x0, y0, x1, y1) = g.pixel_bbox(width, height);
        boxes.push((x0 < x1 && y0 < y1).then_some(Rect { x0, y0, x1, y1 }));
        classes.push((r.mode, class_param(r.mode, &g, opts.strength)));
        geoms.push(g);
    }
    let (jobs, labels) = plan_jobs(&classes, &boxes, width, height);
    let mask_regions = (0..regions.len())
        .filter(|&i| labels[i] != u32::MAX)
        .map(|i| MaskRegion {
            geom: geoms[i],
            key: (u64::from(classes[i].0.priority()) << 32) | classes[i].1 as u64,
            label: labels[i],
        })
        .collect();
    Ok((mask_regions, jobs, geoms))
}

/// Hide `regions` in `img`, in place.
///
/// Errors: [`Error::InvalidArgument`] for a bad image layout, bad options, or a region
/// with NaN/infinite coordinates or `x1 < x0` / `y1 < y0` (the message names its index).
pub fn redact(img: ImageMut<'_>, regions: &[RegionIn], opts: &Options) -> Result<()> {
    img.check()?;
    let level = match opts.level {
        Some(l) if !l.available() => {
            return Err(Error::InvalidArgument(format!(
                "SIMD level {} is not supported by this CPU",
                l.name()
            )))
        }
        Some(l) => l,
        None => dispatch::selected()?,
    };
    let (width, height, c) = (img.width, img.height, img.channels);
    let nc = if c == 4 { 3 } else { c };
    let (mask_regions, jobs, geoms) = prepare(width, height, regions, opts)?;
    if width == 0 || height == 0 || jobs.is_empty() {
        return Ok(());
    }
    let feather = opts.feather;
    let ImageMut {
        data, row_stride, ..
    } = img;
    with_threads(opts.threads, move || {
        let mask = resolve(&mask_regions, width, height);
        if mask.is_empty() {
            return;
        }
        let outs: Vec<JobOut> = {
            let view = ImageRef {
                data,
                width,
                height,
                channels: c,
                row_stride,
            };
            jobs.par_iter()
                .enumerate()
                .map(|(j, job)| run_job(job, j as u32, &view, &mask, opts, level))
                .collect()
        };
        let y0 = mask.y0;
        let nrows = mask.rows();
        data[y0 * row_stride..]
            .par_chunks_mut(row_stride)
            .take(nrows)
            .enumerate()
            .for_each(|(i, chunk)| {
                let y = y0 + i;
                let row = &mut chunk[..width * c];
                if feather == 0 {
                    write_row(row, y, &mask, &outs, c, nc);
                } else {
                    let orig = row.to_vec();
                    write_row(row, y, &mask, &outs, c, nc);
                    feather_row(row, &orig, y, &mask, &geoms, f64::from(feather), c, nc);
                }
            });
    })
}

#[cfg(test)]
mod tests;
