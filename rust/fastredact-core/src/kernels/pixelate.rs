//! Pixelation: every pixel of a job takes the mean of the job's *original* pixels in its
//! block of a grid anchored at the image origin.
//!
//! Only masked pixels of the same job enter a block's mean, so pixelating twice gives the
//! same bytes (idempotent), and overlapping regions with the same block size share one
//! grid (no seams). Means are rounded to nearest: `(sum + n / 2) / n`.

use super::dispatch::{multiversion, Level};
use super::{ImageRef, Rect};
use crate::mask::SpanMask;

/// The largest block size.
pub const MAX_BLOCK: usize = 16384;

/// Default block size for a region of scaled half extents `hw × hh`: about four blocks
/// across the short side, never below 4 px.
pub fn default_block(hw: f64, hh: f64) -> usize {
    let short = (2.0 * hw).min(2.0 * hh);
    let b = (short / 4.0).ceil();
    (b as usize).clamp(4, MAX_BLOCK)
}

/// Block size from an explicit `strength` (pixels, rounded half up, at least 1).
pub fn block_from_strength(strength: f64) -> usize {
    ((strength + 0.5).floor() as usize).clamp(1, MAX_BLOCK)
}

/// Per-block means of one job: blocks `[bx0, bx0 + nbx) × [by0, by0 + nby)`.
pub struct Blocks {
    /// Block size in pixels.
    pub bs: usize,
    /// First block column.
    pub bx0: usize,
    /// First block row.
    pub by0: usize,
    /// Block columns.
    pub nbx: usize,
    /// Channels stored per block.
    pub nc: usize,
    /// Means, `nc` per block (blocks without pixels hold 0 and are never read).
    pub means: Vec<u8>,
    /// Pixel count per block (0 for blocks the job does not touch).
    pub counts: Vec<u64>,
}

impl Blocks {
    /// The `nc` values of the block holding pixel `(x, y)`.
    #[inline]
    pub fn value(&self, x: usize, y: usize) -> &[u8] {
        let i = (y / self.bs - self.by0) * self.nbx + (x / self.bs - self.bx0);
        &self.means[i * self.nc..(i + 1) * self.nc]
    }
}

/// Add a run of `C`-byte pixels into per-channel sums (first `nc` channels).
#[inline(always)]
fn accumulate_generic(px: &[u8], c: usize, nc: usize, acc: &mut [u64]) {
    // Sums of one run fit in u32: a run is at most MAX_BLOCK pixels of ≤ 255.
    match (c, nc) {
        (1, _) => acc[0] += px.iter().map(|&v| u32::from(v)).sum::<u32>() as u64,
        (3, _) => {
            let mut s = [0u32; 3];
            for p in px.chunks_exact(3) {
                s[0] += u32::from(p[0]);
                s[1] += u32::from(p[1]);
                s[2] += u32::from(p[2]);
            }
            for (a, v) in acc.iter_mut().zip(s) {
                *a += u64::from(v);
            }
        }
        _ => {
            let mut s = [0u32; 4];
            for p in px.chunks_exact(4) {
                s[0] += u32::from(p[0]);
                s[1] += u32::from(p[1]);
                s[2] += u32::from(p[2]);
                s[3] += u32::from(p[3]);
            }
            for (a, v) in acc.iter_mut().zip(s.iter().take(nc)) {
                *a += u64::from(*v);
            }
        }
    }
}

multiversion!(fn accumulate => accumulate_generic(px: &[u8], c: usize, nc: usize, acc: &mut [u64]));

/// Block means of the pixels labelled `label` inside `rect` (the job's pixel bbox).
pub fn block_means(
    img: &ImageRef<'_>,
    mask: &SpanMask,
    label: u32,
    rect: Rect,
    bs: usize,
    nc: usize,
    level: Level,
) -> Blocks {
    let c = img.channels;
    let (bx0, by0) = (rect.x0 / bs, rect.y0 / bs);
    let nbx = rect.x1.div_ceil(bs) - bx0;
    let nby = rect.y1.div_ceil(bs) - by0;
    let mut sums = vec![0u64; nbx * nby * nc];
    let mut counts = vec![0u64; nbx * nby];
    for y in rect.y0..rect.y1 {
        let row = img.row(y);
        let brow = (y / bs - by0) * nbx;
        for s in mask.row(y).iter().filter(|s| s.label == label) {
            let mut x = s.x0;
            while x < s.x1 {
                let bx = x / bs;
                let end = ((bx + 1) * bs).min(s.x1);
                let i = brow + bx - bx0;
                accumulate(
                    level,
                    &row[x * c..end * c],
                    c,
                    nc,
                    &mut sums[i * nc..(i + 1) * nc],
                );
                counts[i] += (end - x) as u64;
                x = end;
            }
        }
    }
    let mut means = vec![0u8; sums.len()];
    for (i, &n) in counts.iter().enumerate() {
        for ch in 0..nc {
            // Blocks without pixels (n = 0) keep 0; they are never read.
            if let Some(m) = (sums[i * nc + ch] + n / 2).checked_div(n) {
                means[i * nc + ch] = m as u8;
            }
        }
    }
    Blocks {
        bs,
        bx0,
        by0,
        nbx,
        nc,
        means,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(default_block(50.0, 60.0), 25);
        assert_eq!(default_block(2.0, 2.0), 4);
        assert_eq!(default_block(51.0, 60.0), 26);
        assert_eq!(block_from_strength(0.2), 1);
        assert_eq!(block_from_strength(7.5), 8);
    }

    #[test]
    fn accumulate_paths_agree() {
        let px: Vec<u8> = (0..=255u8).cycle().take(4 * 37).collect();
        for (c, nc) in [(1, 1), (3, 3), (4, 3)] {
            let n = px.len() / 4 * c / c * c;
            let mut want = vec![0u64; nc];
            for (i, &v) in px[..n].iter().enumerate() {
                if i % c < nc {
                    want[i % c] += u64::from(v);
                }
            }
            for level in Level::all_available() {
                let mut acc = vec![0u64; nc];
                accumulate(level, &px[..n], c, nc, &mut acc);
                assert_eq!(acc, want, "{c} {level:?}");
            }
        }
    }
}
