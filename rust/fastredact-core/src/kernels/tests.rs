//! End-to-end tests of [`redact`]: mask semantics, every dispatch level, layouts.
#![allow(clippy::needless_range_loop)] // pixel-index loops read best as they are here

use super::*;

use crate::test_rng::Lcg;

const MODES: [Mode; 4] = [Mode::Blur, Mode::Pixelate, Mode::Secure, Mode::Fill];

fn random_regions(
    rng: &mut Lcg,
    w: usize,
    h: usize,
    n: usize,
    mode: Option<Mode>,
) -> Vec<RegionIn> {
    (0..n)
        .map(|_| {
            let x0 = rng.f(-10.0, w as f64);
            let y0 = rng.f(-10.0, h as f64);
            RegionIn {
                bbox: [x0, y0, x0 + rng.f(0.0, 40.0), y0 + rng.f(0.0, 40.0)],
                shape: if rng.next() % 2 == 0 {
                    Shape::Box
                } else {
                    Shape::Ellipse
                },
                mode: mode.unwrap_or(MODES[rng.next() as usize % 4]),
            }
        })
        .collect()
}

fn run(buf: &mut [u8], w: usize, h: usize, c: usize, regions: &[RegionIn], opts: &Options) {
    let img = ImageMut {
        data: buf,
        width: w,
        height: h,
        channels: c,
        row_stride: w * c,
    };
    redact(img, regions, opts).unwrap();
}

/// The union of the regions, as the mask sees it.
fn union(w: usize, h: usize, regions: &[RegionIn], scale: f64) -> Vec<bool> {
    let mut m = vec![false; w * h];
    for r in regions {
        let g = Geometry::from_box(r.bbox, r.shape, scale, 0).unwrap();
        for y in 0..h {
            if let Some((a, b)) = g.span(y, w) {
                m[y * w + a..y * w + b].iter_mut().for_each(|v| *v = true);
            }
        }
    }
    m
}

#[test]
fn outside_the_union_is_untouched() {
    let mut rng = Lcg(1);
    for _ in 0..60 {
        let (w, h) = (1 + rng.next() as usize % 60, 1 + rng.next() as usize % 60);
        let c = [1, 3, 4][rng.next() as usize % 3];
        let n = rng.next() as usize % 8;
        let regions = random_regions(&mut rng, w, h, n, None);
        let src = rng.bytes(w * h * c);
        let mut buf = src.clone();
        run(&mut buf, w, h, c, &regions, &Options::default());
        let m = union(w, h, &regions, 1.3);
        for i in 0..w * h {
            let alpha_only = c == 4;
            for ch in 0..c {
                let k = i * c + ch;
                if !m[i] || (alpha_only && ch == 3) {
                    assert_eq!(buf[k], src[k], "pixel {i} ch {ch} changed outside");
                }
            }
        }
    }
}

#[test]
fn every_level_gives_the_same_bytes() {
    let mut rng = Lcg(2);
    for _ in 0..20 {
        let (w, h) = (
            20 + rng.next() as usize % 200,
            20 + rng.next() as usize % 120,
        );
        let c = [1, 3, 4][rng.next() as usize % 3];
        let regions = random_regions(&mut rng, w, h, 6, None);
        let src = rng.bytes(w * h * c);
        let mut want: Option<Vec<u8>> = None;
        for level in Level::all_available() {
            let mut buf = src.clone();
            let opts = Options {
                level: Some(level),
                seed: 5,
                ..Options::default()
            };
            run(&mut buf, w, h, c, &regions, &opts);
            match &want {
                None => want = Some(buf),
                Some(wv) => assert!(wv == &buf, "{level:?} differs"),
            }
        }
    }
}

#[test]
fn order_threads_and_strides_do_not_matter() {
    let mut rng = Lcg(3);
    for _ in 0..20 {
        let (w, h, c) = (90, 70, 3);
        let regions = random_regions(&mut rng, w, h, 10, None);
        let src = rng.bytes(w * h * c);
        let mut a = src.clone();
        run(&mut a, w, h, c, &regions, &Options::default());
        let mut rev = regions.clone();
        rev.reverse();
        let mut b = src.clone();
        let one = Options {
            threads: Some(1),
            ..Options::default()
        };
        run(&mut b, w, h, c, &rev, &one);
        assert_eq!(a, b);
        // The same picture inside a larger buffer (a crop view with a longer row stride).
        let stride = (w + 13) * c;
        let mut big = rng.bytes(stride * h);
        for y in 0..h {
            big[y * stride..y * stride + w * c].copy_from_slice(&src[y * w * c..(y + 1) * w * c]);
        }
        let before = big.clone();
        let img = ImageMut {
            data: &mut big,
            width: w,
            height: h,
            channels: c,
            row_stride: stride,
        };
        redact(img, &regions, &Options::default()).unwrap();
        for y in 0..h {
            assert_eq!(
                &big[y * stride..y * stride + w * c],
                &a[y * w * c..(y + 1) * w * c]
            );
            assert_eq!(
                &big[y * stride + w * c..(y + 1) * stride],
                &before[y * stride + w * c..(y + 1) * stride]
            );
        }
    }
}

#[test]
fn fill_and_pixelate_are_idempotent() {
    let mut rng = Lcg(4);
    for mode in [Mode::Fill, Mode::Pixelate] {
        for _ in 0..20 {
            let (w, h, c) = (64, 48, 3);
            let regions = random_regions(&mut rng, w, h, 5, Some(mode));
            let mut a = rng.bytes(w * h * c);
            run(&mut a, w, h, c, &regions, &Options::default());
            let mut b = a.clone();
            run(&mut b, w, h, c, &regions, &Options::default());
            assert_eq!(a, b, "{mode:?}");
        }
    }
}

#[test]
fn roi_blur_equals_whole_image_blur_inside_the_mask() {
    let mut rng = Lcg(5);
    let (w, h, c) = (160, 120, 3);
    let src = rng.bytes(w * h * c);
    let regions = [
        RegionIn {
            bbox: [5.0, 5.0, 30.0, 30.0],
            shape: Shape::Ellipse,
            mode: Mode::Blur,
        },
        RegionIn {
            bbox: [100.0, 60.0, 130.0, 100.0],
            shape: Shape::Box,
            mode: Mode::Blur,
        },
    ];
    let opts = Options {
        strength: Some(4.0),
        ..Options::default()
    };
    let mut buf = src.clone();
    run(&mut buf, w, h, c, &regions, &opts);
    let r = blur::radius_for_sigma(4.0);
    let view = ImageRef {
        data: &src,
        width: w,
        height: h,
        channels: c,
        row_stride: w * c,
    };
    let full = blur::blur_roi(
        &view,
        Rect {
            x0: 0,
            y0: 0,
            x1: w,
            y1: h,
        },
        r,
        Level::Scalar,
    );
    let mut want = vec![0u8; w * h * c];
    for y in 0..h {
        full.copy_row(y, 0, w, &mut want[y * w * c..(y + 1) * w * c], c);
    }
    let m = union(w, h, &regions, 1.3);
    let mut inside = 0;
    for i in 0..w * h {
        if m[i] {
            inside += 1;
            assert_eq!(&buf[i * c..i * c + c], &want[i * c..i * c + c], "pixel {i}");
        }
    }
    assert!(inside > 1000);
}

#[test]
fn fill_beats_everything_where_regions_overlap() {
    let (w, h, c) = (40, 40, 3);
    let mut rng = Lcg(6);
    let mut buf = rng.bytes(w * h * c);
    let regions = [
        RegionIn {
            bbox: [0.0, 0.0, 40.0, 40.0],
            shape: Shape::Box,
            mode: Mode::Blur,
        },
        RegionIn {
            bbox: [10.0, 10.0, 20.0, 20.0],
            shape: Shape::Box,
            mode: Mode::Fill,
        },
        RegionIn {
            bbox: [15.0, 15.0, 30.0, 30.0],
            shape: Shape::Box,
            mode: Mode::Pixelate,
        },
    ];
    let opts = Options {
        scale: 1.0,
        fill: [1, 2, 3],
        ..Options::default()
    };
    run(&mut buf, w, h, c, &regions, &opts);
    for y in 10..20 {
        for x in 10..20 {
            assert_eq!(&buf[(y * w + x) * c..(y * w + x + 1) * c], &[1, 2, 3]);
        }
    }
    assert_ne!(&buf[(25 * w + 25) * c..(25 * w + 26) * c], &[1, 2, 3]);
}

#[test]
fn secure_differs_from_pixelate_by_bounded_noise() {
    let (w, h, c) = (64, 64, 3);
    let mut rng = Lcg(7);
    let src = rng.bytes(w * h * c);
    let reg = |mode| {
        [RegionIn {
            bbox: [0.0, 0.0, 64.0, 64.0],
            shape: Shape::Box,
            mode,
        }]
    };
    let opts = Options {
        scale: 1.0,
        seed: 99,
        ..Options::default()
    };
    let mut p = src.clone();
    run(&mut p, w, h, c, &reg(Mode::Pixelate), &opts);
    let mut s = src.clone();
    run(&mut s, w, h, c, &reg(Mode::Secure), &opts);
    let diffs: Vec<i32> = p
        .iter()
        .zip(&s)
        .map(|(&a, &b)| i32::from(a) - i32::from(b))
        .collect();
    assert!(diffs.iter().all(|d| d.abs() <= secure::NOISE as i32));
    assert!(diffs.iter().filter(|&&d| d != 0).count() > diffs.len() / 2);
}

#[test]
fn feather_blends_only_inside() {
    let (w, h, c) = (50, 50, 1);
    let src = vec![200u8; w * h * c];
    let mut buf = src.clone();
    let regions = [RegionIn {
        bbox: [10.0, 10.0, 40.0, 40.0],
        shape: Shape::Box,
        mode: Mode::Fill,
    }];
    let opts = Options {
        scale: 1.0,
        feather: 5,
        ..Options::default()
    };
    run(&mut buf, w, h, c, &regions, &opts);
    assert_eq!(buf[25 * w + 25], 0); // deep inside: fully filled
    assert_eq!(buf[25 * w + 10], 180); // 0.5 px inside: w = 0.1
    assert_eq!(buf[25 * w + 9], 200); // outside
}

#[test]
fn errors_name_the_bad_row_and_empty_is_a_no_op() {
    let mut buf = vec![0u8; 12];
    let bad = [
        RegionIn {
            bbox: [0.0, 0.0, 1.0, 1.0],
            shape: Shape::Box,
            mode: Mode::Blur,
        },
        RegionIn {
            bbox: [0.0, f64::NAN, 1.0, 1.0],
            shape: Shape::Box,
            mode: Mode::Blur,
        },
    ];
    let img = ImageMut {
        data: &mut buf,
        width: 2,
        height: 2,
        channels: 3,
        row_stride: 6,
    };
    let e = redact(img, &bad, &Options::default()).unwrap_err();
    assert!(e.message().contains("region 1"), "{e}");
    let img = ImageMut {
        data: &mut buf,
        width: 2,
        height: 2,
        channels: 2,
        row_stride: 6,
    };
    assert!(redact(img, &[], &Options::default()).is_err());
    let img = ImageMut {
        data: &mut buf,
        width: 2,
        height: 2,
        channels: 3,
        row_stride: 6,
    };
    redact(img, &[], &Options::default()).unwrap();
    assert!(buf.iter().all(|&v| v == 0));
    let img = ImageMut {
        data: &mut buf,
        width: 2,
        height: 2,
        channels: 3,
        row_stride: 6,
    };
    let opts = Options {
        scale: f64::NAN,
        ..Options::default()
    };
    assert!(redact(img, &[], &opts).is_err());
}

#[test]
fn a_crowd_of_200_overlapping_faces_is_as_correct_as_one() {
    let (w, h, c) = (300, 200, 3);
    let mut rng = Lcg(8);
    let regions = random_regions(&mut rng, w, h, 200, None);
    let src = rng.bytes(w * h * c);
    let mut a = src.clone();
    run(&mut a, w, h, c, &regions, &Options::default());
    let m = union(w, h, &regions, 1.3);
    for i in 0..w * h {
        if !m[i] {
            assert_eq!(&a[i * c..i * c + c], &src[i * c..i * c + c]);
        }
    }
    let mut rev = regions.clone();
    rev.reverse();
    let mut b = src.clone();
    run(&mut b, w, h, c, &rev, &Options::default());
    assert_eq!(a, b);
}
