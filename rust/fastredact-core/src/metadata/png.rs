//! PNG (and APNG): walk the chunks, verify every CRC, keep an allowlist of chunks with their
//! bytes and CRCs, drop the rest and everything after IEND.
//!
//! Kept: IHDR, PLTE, tRNS, IDAT, IEND; the rendering chunks gAMA, cHRM, sRGB, sBIT, pHYs and
//! the HDR colour chunks cICP, mDCv, cLLi (only with their fixed sizes); the APNG chunks
//! acTL, fcTL, fdAT; iCCP by policy; eXIf is replaced by a minimal Orientation-only eXIf by
//! policy. Dropped: tEXt, zTXt, iTXt, eXIf, tIME, caBX (C2PA) and every other chunk.

use super::exif_min::{minimal_exif_tiff, read_orientation};
use super::{IccPolicy, OrientationPolicy, Policy, Reader, Report};
use crate::error::{Error, Result};
use crate::metadata::Format;

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn corrupt(msg: String) -> Error {
    Error::CorruptInput(msg)
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

/// The exact size a fixed-size rendering chunk must have, `None` for variable ones.
fn fixed_size(kind: &[u8; 4]) -> Option<usize> {
    match kind {
        b"gAMA" => Some(4),
        b"cHRM" => Some(32),
        b"sRGB" => Some(1),
        b"pHYs" => Some(9),
        b"cICP" => Some(4),
        b"mDCv" => Some(24),
        b"cLLi" => Some(8),
        _ => None,
    }
}

fn removed_kind(kind: &[u8; 4]) -> &'static str {
    match kind {
        b"tEXt" | b"zTXt" | b"iTXt" => "text",
        b"eXIf" => "exif",
        b"tIME" => "time",
        b"iCCP" => "icc",
        b"caBX" => "c2pa",
        _ => "chunk",
    }
}

pub(super) fn strip_into(data: &[u8], policy: &Policy, out: &mut Vec<u8>) -> Result<Report> {
    let mut report = Report::new(Format::Png);
    out.clear();
    out.reserve(data.len());
    out.extend_from_slice(SIGNATURE);
    let mut r = Reader::new(data, SIGNATURE.len(), "PNG");
    let mut first = true;
    let mut wrote_exif = false;
    loop {
        let at = r.pos;
        let len = r.u32_be()?;
        if len > 0x7FFF_FFFF {
            return Err(corrupt(format!(
                "corrupt PNG: chunk length {len} at byte {at}"
            )));
        }
        let kind_bytes = r.take(4)?;
        let kind: [u8; 4] = [kind_bytes[0], kind_bytes[1], kind_bytes[2], kind_bytes[3]];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(corrupt(format!(
                "corrupt PNG: invalid chunk type at byte {at}"
            )));
        }
        let body = r.take(len as usize)?;
        let crc = r.u32_be()?;
        let mut h = crc32fast::Hasher::new();
        h.update(&kind);
        h.update(body);
        if h.finalize() != crc {
            return Err(corrupt(format!(
                "corrupt PNG: bad CRC in chunk {} at byte {at}",
                String::from_utf8_lossy(&kind)
            )));
        }
        let total = len as usize + 12;
        let raw = &data[at..at + total];
        if first && &kind != b"IHDR" {
            return Err(match &kind {
                b"CgBI" => Error::UnsupportedFormat(
                    "Apple-optimised PNG (CgBI) is not a standard PNG".into(),
                ),
                _ => corrupt("corrupt PNG: first chunk is not IHDR".into()),
            });
        }
        first = false;
        match &kind {
            b"IHDR" => {
                if body.len() != 13 {
                    return Err(corrupt("corrupt PNG: IHDR is not 13 bytes".into()));
                }
                out.extend_from_slice(raw);
            }
            b"IEND" => {
                out.extend_from_slice(raw);
                let trailing = r.remaining();
                if trailing > 0 {
                    report.remove("trailer", trailing);
                }
                break;
            }
            b"PLTE" | b"tRNS" | b"IDAT" | b"acTL" | b"fcTL" | b"fdAT" | b"sBIT" => {
                out.extend_from_slice(raw)
            }
            b"gAMA" | b"cHRM" | b"sRGB" | b"pHYs" | b"cICP" | b"mDCv" | b"cLLi" => {
                if Some(body.len()) == fixed_size(&kind) {
                    out.extend_from_slice(raw);
                } else {
                    report.remove("chunk", total);
                }
            }
            b"iCCP" if policy.icc == IccPolicy::Keep => out.extend_from_slice(raw),
            b"eXIf" => {
                let orientation = read_orientation(body);
                if report.orientation.is_none() {
                    report.orientation = orientation;
                }
                let mut replaced_by_itself = false;
                if policy.orientation == OrientationPolicy::Keep && !wrote_exif {
                    if let Some(o) = orientation.filter(|&o| o != 1) {
                        let minimal = minimal_exif_tiff(o);
                        replaced_by_itself = minimal == body;
                        push_chunk(out, b"eXIf", &minimal);
                        wrote_exif = true;
                    }
                }
                if !replaced_by_itself {
                    report.remove("exif", total);
                }
            }
            _ => {
                if kind[0].is_ascii_uppercase() {
                    return Err(Error::UnsupportedFormat(format!(
                        "PNG has an unknown critical chunk {}",
                        String::from_utf8_lossy(&kind)
                    )));
                }
                report.remove(removed_kind(&kind), total);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::strip as strip_any;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        push_chunk(&mut v, kind, data);
        v
    }

    fn build(extra_before_idat: &[Vec<u8>], after_iend: &[u8]) -> Vec<u8> {
        let mut v = SIGNATURE.to_vec();
        v.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        for c in extra_before_idat {
            v.extend_from_slice(c);
        }
        v.extend(chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1]));
        v.extend(chunk(b"tEXt", b"Comment\0CANARY-LATE"));
        v.extend(chunk(b"IEND", b""));
        v.extend_from_slice(after_iend);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn drops_text_time_exif_and_trailer() {
        let mut exif = minimal_exif_tiff(8);
        exif.extend_from_slice(b"CANARY-EXIF");
        let input = build(
            &[
                chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]),
                chunk(b"tEXt", b"Author\0CANARY-TEXT"),
                chunk(b"tIME", &[7, 0xE8, 1, 1, 0, 0, 0]),
                chunk(b"eXIf", &exif),
                chunk(b"caBX", b"CANARY-C2PA"),
                chunk(b"pHYs", b"CANARY-PHYS-TOO-LONG"),
                chunk(b"iCCP", b"icc\0\0data"),
            ],
            b"CANARY-TRAILER",
        );
        let s = strip_any(&input, &Policy::default()).unwrap();
        assert!(!contains(&s.data, b"CANARY"));
        assert!(contains(&s.data, b"gAMA"));
        assert!(contains(&s.data, b"iCCP"));
        assert!(contains(&s.data, b"eXIf"));
        assert_eq!(s.report.orientation, Some(8));
        let again = strip_any(&s.data, &Policy::default()).unwrap();
        assert_eq!(again.data, s.data);
        assert_eq!(again.report.removed, vec![]);
        let drop = strip_any(&input, &Policy::parse("drop", "drop").unwrap()).unwrap();
        assert!(!contains(&drop.data, b"iCCP"));
        assert!(!contains(&drop.data, b"eXIf"));
    }

    #[test]
    fn bad_crc_truncation_and_critical_chunks() {
        let p = Policy::default();
        let good = build(&[], b"");
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 30] ^= 1;
        assert_eq!(strip_any(&bad, &p).unwrap_err().kind(), "corrupt_input");
        for cut in [8, 12, 20, 33, good.len() - 1] {
            assert_eq!(
                strip_any(&good[..cut], &p).unwrap_err().kind(),
                "corrupt_input",
                "cut {cut}"
            );
        }
        let crit = build(&[chunk(b"ZZZZ", b"x")], b"");
        assert_eq!(
            strip_any(&crit, &p).unwrap_err().kind(),
            "unsupported_format"
        );
    }
}
