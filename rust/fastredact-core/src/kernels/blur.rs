//! Gaussian-quality blur: three box passes per axis, on an ROI copied out of the image.
//!
//! A box pass of radius `r` replaces every value by the mean of the `2r + 1` values around
//! it (indices clamped to the ROI, which reaches the image edge or lies `3r` beyond every
//! pixel written back, so the result equals a whole-image blur with edge replication),
//! rounded: `trunc(sum as f32 * (1 / (2r + 1)) + 0.5)`. Three passes per axis give a
//! near-Gaussian of `σ² = 3 · ((2r + 1)² − 1) / 12`.
//!
//! Both axes run as *vertical* passes, which vectorise across a row: the ROI is copied out
//! transposed in bands of rows (horizontal blur), then transposed again into bands of
//! columns (vertical blur). Each band is a few hundred KiB (cache-resident for the three
//! passes) and bands run in parallel.

use rayon::prelude::*;

use super::dispatch::{multiversion, Level};
use super::{ImageRef, Rect};

/// The largest box radius (keeps every running sum exact in an `f32`: 255 · (2r + 1) < 2²⁴).
pub const MAX_RADIUS: usize = 16384;

/// Target size of one band, in bytes.
const BAND_BYTES: usize = 256 * 1024;

/// The box radius whose three passes approximate a Gaussian of `sigma`.
pub fn radius_for_sigma(sigma: f64) -> usize {
    let d = (4.0 * sigma * sigma + 1.0).sqrt();
    let r = ((d - 1.0) / 2.0 + 0.5).floor();
    // `as` saturates (and maps NaN to 0); the clamp keeps at least one pixel of radius.
    (r as usize).clamp(1, MAX_RADIUS)
}

/// One vertical box pass over `rows × lanes` bytes, `src` → `dst`.
#[inline(always)]
fn vpass_generic(
    src: &[u8],
    dst: &mut [u8],
    sums: &mut [i32],
    rows: usize,
    lanes: usize,
    r: usize,
) {
    let inv = 1.0f32 / (2 * r + 1) as f32;
    let last = rows - 1;
    let row = |k: usize| {
        let k = k.min(last);
        &src[k * lanes..k * lanes + lanes]
    };
    let sums = &mut sums[..lanes];
    for (s, &v) in sums.iter_mut().zip(row(0)) {
        *s = (r as i32 + 1) * i32::from(v);
    }
    let full = r.min(last);
    for k in 1..=full {
        for (s, &v) in sums.iter_mut().zip(row(k)) {
            *s += i32::from(v);
        }
    }
    let extra = (r - full) as i32;
    if extra > 0 {
        for (s, &v) in sums.iter_mut().zip(row(last)) {
            *s += extra * i32::from(v);
        }
    }
    for (y, out) in dst[..rows * lanes].chunks_exact_mut(lanes).enumerate() {
        let add = row(y + r + 1);
        let sub = row(y.saturating_sub(r));
        let (out, sums, add, sub) = (
            &mut out[..lanes],
            &mut sums[..lanes],
            &add[..lanes],
            &sub[..lanes],
        );
        for i in 0..lanes {
            let s = sums[i];
            let v = s as f32 * inv + 0.5;
            // SAFETY: `s` is a sum of 2r + 1 bytes, in [0, 255 · (2r + 1)] < 2²⁴ (exact in
            // f32), so `v` is finite and in [0.5, 256): representable in i32, which is all
            // `to_int_unchecked` requires. It truncates like `as`, but without the
            // saturation checks that stop LLVM from vectorising the conversion.
            out[i] = unsafe { v.to_int_unchecked::<i32>() } as u8;
            sums[i] = s + i32::from(add[i]) - i32::from(sub[i]);
        }
    }
}

multiversion!(fn vpass => vpass_generic(
    src: &[u8], dst: &mut [u8], sums: &mut [i32], rows: usize, lanes: usize, r: usize
));

/// Three vertical passes; the result ends in `a`.
pub fn box3(level: Level, a: &mut Vec<u8>, rows: usize, lanes: usize, r: usize) {
    let mut b = vec![0u8; a.len()];
    let mut sums = vec![0i32; lanes];
    vpass(level, a, &mut b, &mut sums, rows, lanes, r);
    vpass(level, &b, a, &mut sums, rows, lanes, r);
    vpass(level, a, &mut b, &mut sums, rows, lanes, r);
    std::mem::swap(a, &mut b);
}

/// Units per band so that a band of `unit_bytes`-sized units is about [`BAND_BYTES`].
fn band(unit_bytes: usize, n: usize) -> usize {
    (BAND_BYTES / unit_bytes.max(1)).max(16).min(n.max(1))
}

/// A blurred ROI, stored as bands of columns (`sx` columns each, row-major inside).
pub struct Blurred {
    roi: Rect,
    channels: usize,
    sx: usize,
    strips: Vec<Vec<u8>>,
}

impl Blurred {
    /// Copy the blurred pixels of image row `y`, columns `[a, b)`, into `dst` (that image
    /// row, `channels` bytes per pixel), writing the first `nc` channels only.
    pub fn copy_row(&self, y: usize, a: usize, b: usize, dst: &mut [u8], nc: usize) {
        let c = self.channels;
        let yy = y - self.roi.y0;
        let mut x = a;
        while x < b {
            let rx = x - self.roi.x0;
            let j = rx / self.sx;
            let xs = j * self.sx;
            let n = self.sx.min(self.roi.width() - xs);
            let end = (xs + n).min(b - self.roi.x0);
            let strip = &self.strips[j];
            let src = &strip[(yy * n + (rx - xs)) * c..(yy * n + (end - xs)) * c];
            let out = &mut dst[x * c..(x + end - rx) * c];
            if nc == c {
                out.copy_from_slice(src);
            } else {
                for (o, s) in out.chunks_exact_mut(c).zip(src.chunks_exact(c)) {
                    o[..nc].copy_from_slice(&s[..nc]);
                }
            }
            x += end - rx;
        }
    }
}

/// Copy image rows `[y0, y0 + n)` of the ROI transposed: `w` rows of `n · C` bytes.
fn transpose_in<const C: usize>(img: &ImageRef<'_>, roi: Rect, y0: usize, n: usize) -> Vec<u8> {
    let w = roi.width();
    let lanes = n * C;
    let mut a = vec![0u8; w * lanes];
    for yy in 0..n {
        let src = &img.row(roi.y0 + y0 + yy)[roi.x0 * C..roi.x1 * C];
        for (x, px) in src.chunks_exact(C).enumerate() {
            let o = x * lanes + yy * C;
            a[o..o + C].copy_from_slice(px);
        }
    }
    a
}

/// Gather columns `[x0, x0 + n)` from the transposed row bands into `h` rows of `n · C`.
fn transpose_out<const C: usize>(
    bands: &[Vec<u8>],
    sy: usize,
    h: usize,
    x0: usize,
    n: usize,
) -> Vec<u8> {
    let lanes = n * C;
    let mut a = vec![0u8; h * lanes];
    for (k, band) in bands.iter().enumerate() {
        let yb = k * sy;
        let m = sy.min(h - yb);
        let l1 = m * C;
        for xx in 0..n {
            let src = &band[(x0 + xx) * l1..(x0 + xx + 1) * l1];
            for (yy, px) in src.chunks_exact(C).enumerate() {
                let o = (yb + yy) * lanes + xx * C;
                a[o..o + C].copy_from_slice(px);
            }
        }
    }
    a
}

fn blur_c<const C: usize>(img: &ImageRef<'_>, roi: Rect, r: usize, level: Level) -> Blurred {
    let (w, h) = (roi.width(), roi.height());
    // Horizontal: bands of `sy` image rows, transposed so the pass runs down the columns.
    let sy = band(w * C, h);
    let bands: Vec<Vec<u8>> = (0..h.div_ceil(sy))
        .into_par_iter()
        .map(|k| {
            let n = sy.min(h - k * sy);
            let mut a = transpose_in::<C>(img, roi, k * sy, n);
            box3(level, &mut a, w, n * C, r);
            a
        })
        .collect();
    // Vertical: bands of `sx` columns.
    let sx = band(h * C, w);
    let strips: Vec<Vec<u8>> = (0..w.div_ceil(sx))
        .into_par_iter()
        .map(|j| {
            let n = sx.min(w - j * sx);
            let mut a = transpose_out::<C>(&bands, sy, h, j * sx, n);
            box3(level, &mut a, h, n * C, r);
            a
        })
        .collect();
    Blurred {
        roi,
        channels: C,
        sx,
        strips,
    }
}

/// Blur the ROI of `img` (all channels) with three box passes of radius `r` per axis.
pub fn blur_roi(img: &ImageRef<'_>, roi: Rect, r: usize, level: Level) -> Blurred {
    match img.channels {
        1 => blur_c::<1>(img, roi, r, level),
        3 => blur_c::<3>(img, roi, r, level),
        _ => blur_c::<4>(img, roi, r, level),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward reference: one clamped box pass along x, per channel.
    fn naive_hpass(src: &[u8], w: usize, h: usize, c: usize, r: usize) -> Vec<u8> {
        let inv = 1.0f32 / (2 * r + 1) as f32;
        let mut out = vec![0u8; src.len()];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    let mut s = 0i32;
                    for k in -(r as i64)..=(r as i64) {
                        let xx = (x as i64 + k).clamp(0, w as i64 - 1) as usize;
                        s += i32::from(src[(y * w + xx) * c + ch]);
                    }
                    out[(y * w + x) * c + ch] = (s as f32 * inv + 0.5) as i32 as u8;
                }
            }
        }
        out
    }

    fn transpose(src: &[u8], w: usize, h: usize, c: usize) -> Vec<u8> {
        let mut out = vec![0u8; src.len()];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    out[(x * h + y) * c + ch] = src[(y * w + x) * c + ch];
                }
            }
        }
        out
    }

    fn naive_blur(src: &[u8], w: usize, h: usize, c: usize, r: usize) -> Vec<u8> {
        let mut a = src.to_vec();
        for _ in 0..3 {
            a = naive_hpass(&a, w, h, c, r);
        }
        let mut t = transpose(&a, w, h, c);
        for _ in 0..3 {
            t = naive_hpass(&t, h, w, c, r);
        }
        transpose(&t, h, w, c)
    }

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                (s >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn radius_from_sigma() {
        assert_eq!(radius_for_sigma(0.0), 1);
        assert_eq!(radius_for_sigma(10.0), 10);
        assert_eq!(radius_for_sigma(f64::NAN), 1);
        assert_eq!(radius_for_sigma(1e300), MAX_RADIUS);
    }

    #[test]
    fn constant_stays_constant() {
        for level in Level::all_available() {
            let mut a = vec![77u8; 13 * 40];
            box3(level, &mut a, 13, 40, 9);
            assert!(a.iter().all(|&v| v == 77));
        }
    }

    #[test]
    fn matches_naive_on_every_level_and_channel_count() {
        let cases = [
            (1, 1, 1),
            (7, 3, 2),
            (31, 17, 4),
            (5, 40, 30),
            (70, 50, 3),
            (300, 250, 5),
        ];
        for (w, h, r) in cases {
            for c in [1, 3, 4] {
                if w > 100 && c != 4 {
                    continue; // the large case (several bands) once, to keep the test quick
                }
                let src = noise(w * h * c, (w * h * c + r) as u64);
                let want = naive_blur(&src, w, h, c, r);
                for level in Level::all_available() {
                    let img = ImageRef {
                        data: &src,
                        width: w,
                        height: h,
                        channels: c,
                        row_stride: w * c,
                    };
                    let roi = Rect {
                        x0: 0,
                        y0: 0,
                        x1: w,
                        y1: h,
                    };
                    let out = blur_roi(&img, roi, r, level);
                    let mut got = vec![0u8; w * h * c];
                    for y in 0..h {
                        out.copy_row(y, 0, w, &mut got[y * w * c..(y + 1) * w * c], c);
                    }
                    assert_eq!(got, want, "{w}x{h}x{c} r={r} {level:?}");
                }
            }
        }
    }
}
