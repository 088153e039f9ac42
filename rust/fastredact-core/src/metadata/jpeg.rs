//! JPEG: walk every marker, through every scan, up to the true EOI.
//!
//! Kept byte for byte: SOF*, DHT, DAC, DQT, DRI, DNL, DHP, EXP, SOS and the entropy-coded data
//! after it (stuffed bytes and restart markers included). Rewritten: APP0 JFIF (to its 14
//! fixed bytes, thumbnail removed), APP14 Adobe (to its 12 fixed bytes). By policy: APP2 ICC
//! chunks (copied) and a minimal Orientation-only EXIF (built). Everything else goes: other
//! APPn segments (EXIF, XMP, Extended XMP, MPF, Photoshop/IPTC, JUMBF/C2PA, vendor data),
//! COM wherever it is, fill bytes between segments, and every byte after the EOI.

use memchr::memchr;

use super::exif_min::{minimal_exif_tiff, read_orientation};
use super::pieces::Pieces;
use super::{IccPolicy, OrientationPolicy, Policy, Reader, Report};
use crate::error::{Error, Result};
use crate::metadata::Format;

const EXIF_ID: &[u8] = b"Exif\0";
const XMP_ID: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXT_ID: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const ICC_ID: &[u8] = b"ICC_PROFILE\0";
const MPF_ID: &[u8] = b"MPF\0";
const JFIF_ID: &[u8] = b"JFIF\0";
const JFXX_ID: &[u8] = b"JFXX\0";
const ADOBE_ID: &[u8] = b"Adobe";

fn corrupt(msg: String) -> Error {
    Error::CorruptInput(msg)
}

/// The 4-byte header of one marker segment (marker + 2-byte length) for `payload_len` bytes.
fn segment_header(marker: u8, payload_len: usize) -> Result<[u8; 4]> {
    let len = u16::try_from(payload_len + 2)
        .map_err(|_| corrupt("JPEG segment too long to write".into()))?;
    let [hi, lo] = len.to_be_bytes();
    Ok([0xFF, marker, hi, lo])
}

/// Push one marker segment built here (header + payload, both copied).
fn push_segment(out: &mut Pieces<'_>, marker: u8, payload: &[u8]) -> Result<()> {
    out.push_built(&segment_header(marker, payload.len())?);
    out.push_built(payload);
    Ok(())
}

/// Push one marker segment whose payload is a slice of the input (borrowed, not copied).
fn push_input_segment<'a>(out: &mut Pieces<'a>, marker: u8, payload: &'a [u8]) -> Result<()> {
    out.push_built(&segment_header(marker, payload.len())?);
    out.push_input(payload);
    Ok(())
}

/// The end of the entropy-coded data that starts at `start`: the position of the first `0xFF`
/// of the next marker (fill bytes included), as libjpeg reads it.
///
/// A run of `0xFF` bytes is fill; what follows the run decides: `00` is a stuffed zero (the
/// run is data, as libjpeg's bit reader treats `FF FF 00`), `D0`–`D7` a restart marker (data
/// too); anything else is a marker, and the scan ends at the first byte of the run, so a fill
/// byte can never hide a marker (COM, APPn, …) from the marker walker.
pub(crate) fn scan_end(data: &[u8], start: usize) -> Result<usize> {
    let mut i = start;
    loop {
        let rest = data
            .get(i..)
            .ok_or_else(|| corrupt("truncated JPEG: scan data runs past the end".into()))?;
        let ff = memchr(0xFF, rest)
            .ok_or_else(|| corrupt("truncated JPEG: scan data has no end (no EOI)".into()))?;
        let at = i + ff;
        let mut next = at + 1;
        while data.get(next) == Some(&0xFF) {
            next += 1;
        }
        match data.get(next) {
            None => return Err(corrupt("truncated JPEG: ends inside scan data".into())),
            Some(0x00) | Some(0xD0..=0xD7) => i = next + 1,
            Some(_) => return Ok(at),
        }
    }
}

pub(super) fn strip_pieces<'a>(
    data: &'a [u8],
    policy: &Policy,
    out: &mut Pieces<'a>,
) -> Result<Report> {
    let mut report = Report::new(Format::Jpeg);
    out.push_built(&[0xFF, 0xD8]);
    let mut r = Reader::new(data, 2, "JPEG");
    let mut seen_frame = false;
    let mut seen_scan = false;
    let mut seen_jfif = false;
    let mut wrote_exif = false;

    loop {
        let at = r.pos;
        let b = r.u8()?;
        if b != 0xFF {
            return Err(corrupt(format!(
                "corrupt JPEG: expected a marker at byte {at}, found 0x{b:02X}"
            )));
        }
        let mut marker = r.u8()?;
        while marker == 0xFF {
            marker = r.u8()?; // fill bytes before a marker
        }
        match marker {
            0xD9 => {
                if !seen_scan {
                    return Err(corrupt("corrupt JPEG: EOI before any image data".into()));
                }
                out.push_built(&[0xFF, 0xD9]);
                let trailing = r.remaining();
                if trailing > 0 {
                    report.remove("trailer", trailing);
                }
                break;
            }
            0xD8 => return Err(corrupt(format!("corrupt JPEG: second SOI at byte {at}"))),
            0x00 | 0x02..=0xBF => {
                return Err(corrupt(format!(
                    "corrupt JPEG: invalid marker 0xFF{marker:02X} at byte {at}"
                )))
            }
            // Standalone markers without a payload (TEM, stray restart markers).
            0x01 | 0xD0..=0xD7 => out.push_built(&[0xFF, marker]),
            _ => {
                let len = usize::from(r.u16_be()?);
                if len < 2 {
                    return Err(corrupt(format!(
                        "corrupt JPEG: segment 0xFF{marker:02X} at byte {at} has length {len}"
                    )));
                }
                let payload = r.take(len - 2)?;
                let total = len + 2;
                match marker {
                    // Frame headers (SOF0–SOF15 except DHT, JPG and DAC).
                    0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                        seen_frame = true;
                        push_segment(out, marker, payload)?;
                    }
                    // DHT, DAC, DNL, DQT, DRI, DHP, EXP: needed to decode.
                    0xC4 | 0xCC | 0xDB | 0xDC | 0xDD | 0xDE | 0xDF => {
                        push_segment(out, marker, payload)?;
                    }
                    0xDA => {
                        if !seen_frame {
                            return Err(corrupt(format!(
                                "corrupt JPEG: scan at byte {at} before any frame header"
                            )));
                        }
                        push_segment(out, marker, payload)?;
                        let start = r.pos;
                        let end = scan_end(data, start)?;
                        out.push_input(&data[start..end]);
                        r.pos = end;
                        seen_scan = true;
                    }
                    0xE0 => {
                        if payload.starts_with(JFIF_ID) && payload.len() >= 14 && !seen_jfif {
                            // JFIF\0, version, units, densities; thumbnail size set to 0x0.
                            seen_jfif = true;
                            let mut jfif = payload[..12].to_vec();
                            jfif.extend_from_slice(&[0, 0]);
                            push_segment(out, 0xE0, &jfif)?;
                            if payload.len() > 14 {
                                report.remove("jfif_thumbnail", payload.len() - 14);
                            }
                        } else if payload.starts_with(JFXX_ID) {
                            report.remove("jfif_thumbnail", total);
                        } else {
                            report.remove("app_segment", total);
                        }
                    }
                    0xE1 => {
                        if payload.starts_with(EXIF_ID) {
                            let orientation = payload.get(6..).and_then(read_orientation);
                            if report.orientation.is_none() {
                                report.orientation = orientation;
                            }
                            let mut replaced_by_itself = false;
                            if policy.orientation == OrientationPolicy::Keep && !wrote_exif {
                                if let Some(o) = orientation.filter(|&o| o != 1) {
                                    let mut exif = b"Exif\0\0".to_vec();
                                    exif.extend_from_slice(&minimal_exif_tiff(o));
                                    replaced_by_itself = exif == payload;
                                    push_segment(out, 0xE1, &exif)?;
                                    wrote_exif = true;
                                }
                            }
                            if !replaced_by_itself {
                                report.remove("exif", total);
                            }
                        } else if payload.starts_with(XMP_ID) {
                            report.remove("xmp", total);
                        } else if payload.starts_with(XMP_EXT_ID) {
                            report.remove("xmp_extended", total);
                        } else {
                            report.remove("app_segment", total);
                        }
                    }
                    0xE2 => {
                        if payload.starts_with(ICC_ID) {
                            if policy.icc == IccPolicy::Keep {
                                push_input_segment(out, 0xE2, payload)?;
                            } else {
                                report.remove("icc", total);
                            }
                        } else if payload.starts_with(MPF_ID) {
                            report.remove("mpf", total);
                        } else {
                            report.remove("app_segment", total);
                        }
                    }
                    0xEB => report.remove("jumbf", total),
                    0xED => report.remove("photoshop_iptc", total),
                    0xEE => {
                        if payload.starts_with(ADOBE_ID) && payload.len() >= 12 {
                            // "Adobe", version, flags0, flags1, colour transform.
                            push_segment(out, 0xEE, &payload[..12])?;
                            if payload.len() > 12 {
                                report.remove("app_segment", payload.len() - 12);
                            }
                        } else {
                            report.remove("app_segment", total);
                        }
                    }
                    0xE3..=0xEF => report.remove("app_segment", total),
                    0xFE => report.remove("comment", total),
                    // JPG (0xC8) and JPG0–JPG13 (0xF0–0xFD): reserved extensions.
                    _ => report.remove("reserved_segment", total),
                }
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::metadata::strip as strip_any;

    fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = segment_header(marker, payload.len()).unwrap().to_vec();
        v.extend_from_slice(payload);
        v
    }

    /// A structurally valid (not decodable) JPEG: SOI, the given segments, a frame, a scan
    /// with stuffing and restart markers, EOI.
    pub(crate) fn build(before: &[Vec<u8>], between: &[Vec<u8>], after_eoi: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        for s in before {
            v.extend_from_slice(s);
        }
        v.extend(seg(0xDB, &[0u8; 65]));
        v.extend(seg(0xC2, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
        v.extend(seg(0xC4, &[0u8; 20]));
        v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        v.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        for s in between {
            v.extend_from_slice(s);
        }
        v.extend(seg(0xDA, &[1, 1, 0, 1, 63, 0]));
        v.extend_from_slice(&[0x78, 0xFF, 0xD7, 0x9A]);
        v.extend_from_slice(&[0xFF, 0xFF, 0xD9]); // a fill byte, then EOI
        v.extend_from_slice(after_eoi);
        v
    }

    fn exif_with(orientation: u16, extra: &[u8]) -> Vec<u8> {
        let mut p = b"Exif\0\0".to_vec();
        p.extend_from_slice(&minimal_exif_tiff(orientation));
        p.extend_from_slice(extra);
        seg(0xE1, &p)
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn drops_every_metadata_location() {
        let mut xmp = XMP_ID.to_vec();
        xmp.extend_from_slice(b"CANARY-XMP");
        let mut xmp_ext = XMP_EXT_ID.to_vec();
        xmp_ext.extend_from_slice(b"CANARY-XMPEXT");
        let mut mpf = MPF_ID.to_vec();
        mpf.extend_from_slice(b"CANARY-MPF");
        let mut jfif = b"JFIF\0\x01\x02\x01\0\x48\0\x48\x01\x01".to_vec();
        jfif.extend_from_slice(b"CAN"); // 1x1 thumbnail: 3 bytes
        let before = vec![
            seg(0xE0, &jfif),
            exif_with(6, b"CANARY-EXIF"),
            seg(0xE1, &xmp),
            seg(0xE1, &xmp_ext),
            seg(0xE2, &mpf),
            seg(0xED, b"Photoshop 3.0\0CANARY-IPTC"),
            seg(0xEB, b"JPCANARY-JUMBF"),
            seg(0xE5, b"CANARY-APP5"),
            seg(0xFE, b"CANARY-COM"),
            seg(0xEE, b"Adobe\0\x64\0\0\0\0\x01CANARY-ADOBE"),
        ];
        let between = vec![seg(0xFE, b"CANARY-BETWEEN"), seg(0xE1, &xmp)];
        let input = build(&before, &between, b"\xFF\xD8CANARY-TRAILER\xFF\xD9");
        let s = strip_any(&input, &Policy::default()).unwrap();
        assert!(!contains(&s.data, b"CANARY"), "a canary survived");
        assert!(contains(&s.data, b"JFIF\0"));
        assert!(contains(&s.data, b"Adobe"));
        assert_eq!(s.report.orientation, Some(6));
        assert!(s.data.ends_with(&[0xFF, 0xD9]));
        // The minimal EXIF is there and holds orientation 6.
        let pos = s.data.windows(6).position(|w| w == b"Exif\0\0").unwrap();
        assert_eq!(read_orientation(&s.data[pos + 6..pos + 32]), Some(6));
        let kinds: Vec<_> = s.report.removed.iter().map(|r| r.kind).collect();
        for k in [
            "jfif_thumbnail",
            "exif",
            "xmp",
            "xmp_extended",
            "mpf",
            "photoshop_iptc",
            "jumbf",
            "app_segment",
            "comment",
            "trailer",
        ] {
            assert!(kinds.contains(&k), "missing {k} in {kinds:?}");
        }
        // Idempotent.
        let again = strip_any(&s.data, &Policy::default()).unwrap();
        assert_eq!(again.data, s.data);
        assert_eq!(again.report.removed, vec![]);
    }

    #[test]
    fn scan_data_is_copied_byte_for_byte() {
        let input = build(&[], &[], b"");
        let s = strip_any(&input, &Policy::default()).unwrap();
        // Only the fill byte before EOI goes.
        assert_eq!(s.data.len(), input.len() - 1);
        assert!(contains(
            &s.data,
            &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]
        ));
        assert!(contains(&s.data, &[0x78, 0xFF, 0xD7, 0x9A, 0xFF, 0xD9]));
    }

    /// SOI, a frame, one scan holding `scan`, then `tail` (segments, EOI, …).
    fn one_scan(scan: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend(seg(0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
        v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        v.extend_from_slice(scan);
        v.extend_from_slice(tail);
        v
    }

    #[test]
    fn fill_runs_inside_scan_data_are_data() {
        // libjpeg reads FF FF 00 as fill + a stuffed zero, FF FF D3 as fill + a restart
        // marker: both stay in the scan, byte for byte.
        let scan = [0x11, 0xFF, 0xFF, 0x00, 0x22, 0xFF, 0xFF, 0xFF, 0xD3, 0x33];
        let input = one_scan(&scan, &[0xFF, 0xD9]);
        let s = strip_any(&input, &Policy::default()).unwrap();
        assert_eq!(s.data, input);
        assert_eq!(s.report.removed, vec![]);
    }

    #[test]
    fn fill_bytes_never_hide_a_marker() {
        let mut xmp = XMP_ID.to_vec();
        xmp.extend_from_slice(b"CANARY-XMP");
        for marker_segment in [
            seg(0xFE, b"CANARY-COM"),
            seg(0xE1, &xmp),
            seg(0xE5, b"CANARY-APP5"),
            seg(0xED, b"CANARY-IPTC"),
        ] {
            // After scan data (fill run, then the segment), and before a DHT with fill.
            let mut tail = vec![0xFF, 0xFF, 0xFF];
            tail.extend_from_slice(&marker_segment);
            tail.extend_from_slice(&[0xFF, 0xFF]);
            tail.extend(seg(0xC4, &[0u8; 20]));
            tail.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
            tail.extend_from_slice(&[0x44, 0xFF, 0xFF, 0xD9]);
            let input = one_scan(&[0x11, 0xFF, 0x00], &tail);
            let s = strip_any(&input, &Policy::default()).unwrap();
            assert!(!contains(&s.data, b"CANARY"), "{marker_segment:02X?}");
            assert!(contains(&s.data, &seg(0xC4, &[0u8; 20])));
            assert!(s.data.ends_with(&[0x44, 0xFF, 0xD9]));
            // Before the frame header too.
            let mut before = vec![0xFF, 0xD8, 0xFF, 0xFF];
            before.extend_from_slice(&marker_segment);
            before.extend_from_slice(&input[2..]);
            let s = strip_any(&before, &Policy::default()).unwrap();
            assert!(!contains(&s.data, b"CANARY"));
        }
    }

    #[test]
    fn fill_run_to_the_end_is_truncated() {
        let input = one_scan(&[0x11, 0xFF, 0xFF], &[]);
        let e = strip_any(&input, &Policy::default()).unwrap_err();
        assert_eq!(e.kind(), "corrupt_input");
    }

    #[test]
    fn icc_and_orientation_policies() {
        let mut icc = ICC_ID.to_vec();
        icc.extend_from_slice(&[1, 1]);
        icc.extend_from_slice(b"profile");
        let input = build(&[seg(0xE2, &icc), exif_with(3, b"")], &[], b"");
        let keep = strip_any(&input, &Policy::default()).unwrap();
        assert!(contains(&keep.data, b"ICC_PROFILE\0\x01\x01profile"));
        assert!(contains(&keep.data, b"Exif\0\0"));
        let drop = strip_any(&input, &Policy::parse("drop", "drop").unwrap()).unwrap();
        assert!(!contains(&drop.data, b"ICC_PROFILE"));
        assert!(!contains(&drop.data, b"Exif"));
        assert_eq!(drop.report.orientation, Some(3));
        // Orientation 1 needs no EXIF at all.
        let one = strip_any(&build(&[exif_with(1, b"")], &[], b""), &Policy::default()).unwrap();
        assert!(!contains(&one.data, b"Exif"));
        assert_eq!(one.report.orientation, Some(1));
    }

    #[test]
    fn malformed_is_corrupt() {
        let good = build(&[], &[], b"");
        let p = Policy::default();
        for cut in [3, 10, 40, good.len() - 2, good.len() - 1] {
            let e = strip_any(&good[..cut], &p).unwrap_err();
            assert_eq!(e.kind(), "corrupt_input", "cut at {cut}: {e}");
        }
        // A segment with length 1.
        let mut bad = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01];
        bad.extend_from_slice(&good[2..]);
        assert_eq!(strip_any(&bad, &p).unwrap_err().kind(), "corrupt_input");
        // SOS before SOF.
        let mut v = vec![0xFF, 0xD8];
        v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        v.extend_from_slice(&[1, 2, 0xFF, 0xD9]);
        assert_eq!(strip_any(&v, &p).unwrap_err().kind(), "corrupt_input");
        // EOI with no scan.
        assert_eq!(
            strip_any(&[0xFF, 0xD8, 0xFF, 0xD9], &p).unwrap_err().kind(),
            "corrupt_input"
        );
        // Garbage between segments.
        let mut v = good[..2 + 67].to_vec(); // SOI + DQT
        v.push(0x00);
        v.extend_from_slice(&good[2 + 67..]);
        assert_eq!(strip_any(&v, &p).unwrap_err().kind(), "corrupt_input");
    }
}
