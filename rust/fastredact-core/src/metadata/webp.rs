//! WebP: walk the RIFF chunks (never trusting the VP8X flags to find them), keep the image
//! chunks, drop EXIF, XMP and unknown chunks (inside animation frames too), rewrite the
//! VP8X flags to match what is left and fix the RIFF size. ICCP by policy; a minimal
//! Orientation-only EXIF by policy (extended format only).

use std::borrow::Cow;

use super::exif_min::{minimal_exif_tiff, read_orientation};
use super::{IccPolicy, OrientationPolicy, Policy, Reader, Report};
use crate::error::{Error, Result};
use crate::metadata::Format;

const FLAG_ICC: u8 = 0x20;
const FLAG_ALPHA: u8 = 0x10;
const FLAG_EXIF: u8 = 0x08;
const FLAG_ANIM: u8 = 0x02;

fn corrupt(msg: String) -> Error {
    Error::CorruptInput(msg)
}

/// A chunk: its FourCC, its payload, and how many input bytes it took (header and pad too).
type Chunk<'a> = ([u8; 4], &'a [u8], usize);

/// Read one chunk header + payload + pad byte; `None` at the end of the region.
fn next_chunk<'a>(r: &mut Reader<'a>, end: usize) -> Result<Option<Chunk<'a>>> {
    if r.pos >= end {
        return Ok(None);
    }
    let at = r.pos;
    let f = r.take(4)?;
    let fourcc = [f[0], f[1], f[2], f[3]];
    let size = r.u32_le()? as usize;
    let payload = r.take(size)?;
    if size % 2 == 1 {
        r.u8()?; // pad byte
    }
    if r.pos > end {
        return Err(corrupt(format!(
            "corrupt WebP: chunk at byte {at} runs past its container"
        )));
    }
    Ok(Some((fourcc, payload, r.pos - at)))
}

fn push_chunk(out: &mut Vec<u8>, fourcc: &[u8; 4], payload: &[u8]) -> Result<()> {
    let size = u32::try_from(payload.len())
        .map_err(|_| corrupt("WebP chunk too large to write".into()))?;
    out.extend_from_slice(fourcc);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
    Ok(())
}

fn removed_kind(fourcc: &[u8; 4]) -> &'static str {
    match fourcc {
        b"EXIF" => "exif",
        b"XMP " => "xmp",
        b"ICCP" => "icc",
        _ => "chunk",
    }
}

pub(super) fn strip_into(data: &[u8], policy: &Policy, out: &mut Vec<u8>) -> Result<Report> {
    let mut report = Report::new(Format::WebP);
    let mut r = Reader::new(data, 4, "WebP");
    let riff_size = r.u32_le()? as usize;
    if riff_size < 4 {
        return Err(corrupt("corrupt WebP: RIFF size too small".into()));
    }
    let riff_end = riff_size
        .checked_add(8)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| corrupt("truncated WebP: RIFF size exceeds the file".into()))?;
    r.take(4)?; // "WEBP"
    let mut chunks: Vec<([u8; 4], Cow<'_, [u8]>)> = Vec::new();
    let mut vp8x: Option<[u8; 10]> = None;
    let mut has_image = false;
    let mut has_icc = false;
    let mut first = true;
    while let Some((fourcc, payload, total)) = next_chunk(&mut r, riff_end)? {
        match &fourcc {
            b"VP8X" => {
                if !first || payload.len() < 10 {
                    return Err(corrupt(
                        "corrupt WebP: misplaced or short VP8X chunk".into(),
                    ));
                }
                let mut v = [0u8; 10];
                v.copy_from_slice(&payload[..10]);
                vp8x = Some(v);
                if payload.len() > 10 {
                    report.remove("chunk", payload.len() - 10);
                }
            }
            b"VP8 " | b"VP8L" => {
                has_image = true;
                chunks.push((fourcc, Cow::Borrowed(payload)));
            }
            b"ALPH" | b"ANIM" => chunks.push((fourcc, Cow::Borrowed(payload))),
            b"ANMF" => {
                let header = payload
                    .get(..16)
                    .ok_or_else(|| corrupt("corrupt WebP: short ANMF chunk".into()))?;
                let mut frame = header.to_vec();
                let mut fr = Reader::new(payload, 16, "WebP animation frame");
                while let Some((sub, sub_payload, sub_total)) = next_chunk(&mut fr, payload.len())?
                {
                    match &sub {
                        b"VP8 " | b"VP8L" | b"ALPH" => push_chunk(&mut frame, &sub, sub_payload)?,
                        other => report.remove(removed_kind(other), sub_total),
                    }
                }
                has_image = true;
                chunks.push((fourcc, Cow::Owned(frame)));
            }
            b"ICCP" if policy.icc == IccPolicy::Keep => {
                has_icc = true;
                chunks.push((fourcc, Cow::Borrowed(payload)));
            }
            b"EXIF" => {
                let tiff = payload.strip_prefix(b"Exif\0\0").unwrap_or(payload);
                let orientation = read_orientation(tiff);
                if report.orientation.is_none() {
                    report.orientation = orientation;
                }
                // Our own minimal EXIF, found again, is not a removal.
                let ours = policy.orientation == OrientationPolicy::Keep
                    && vp8x.is_some()
                    && orientation.is_some_and(|o| o != 1 && payload == minimal_exif_tiff(o));
                if !ours {
                    report.remove("exif", total);
                }
            }
            other => report.remove(removed_kind(other), total),
        }
        first = false;
    }
    if !has_image {
        return Err(corrupt("corrupt WebP: no image data".into()));
    }
    let trailing = data.len() - riff_end;
    if trailing > 0 {
        report.remove("trailer", trailing);
    }

    let mut body = Vec::with_capacity(riff_end);
    body.extend_from_slice(b"WEBP");
    if let Some(mut v) = vp8x {
        let minimal_exif = match (policy.orientation, report.orientation) {
            (OrientationPolicy::Keep, Some(o)) if o != 1 => Some(minimal_exif_tiff(o)),
            _ => None,
        };
        let mut flags = v[0] & (FLAG_ALPHA | FLAG_ANIM);
        if has_icc {
            flags |= FLAG_ICC;
        }
        if minimal_exif.is_some() {
            flags |= FLAG_EXIF;
        }
        v[0] = flags;
        v[1..4].fill(0);
        push_chunk(&mut body, b"VP8X", &v)?;
        for (fourcc, payload) in &chunks {
            push_chunk(&mut body, fourcc, payload)?;
        }
        if let Some(exif) = minimal_exif {
            push_chunk(&mut body, b"EXIF", &exif)?;
        }
    } else {
        for (fourcc, payload) in &chunks {
            push_chunk(&mut body, fourcc, payload)?;
        }
    }
    let size = u32::try_from(body.len()).map_err(|_| corrupt("WebP too large to write".into()))?;
    out.clear();
    out.reserve(body.len() + 8);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::strip as strip_any;

    fn chunk(fourcc: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        push_chunk(&mut v, fourcc, payload).unwrap();
        v
    }

    fn riff(chunks: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
        v.extend_from_slice(b"WEBP");
        v.extend_from_slice(&body);
        v.extend_from_slice(trailer);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn drops_exif_xmp_even_without_flags() {
        let mut exif = minimal_exif_tiff(6);
        exif.extend_from_slice(b"CANARY-EXIF");
        // VP8X claims no EXIF/XMP: the chunks must go anyway.
        let vp8x = [0u8, 0, 0, 0, 9, 0, 0, 9, 0, 0];
        let input = riff(
            &[
                chunk(b"VP8X", &vp8x),
                chunk(b"ICCP", b"icc"),
                chunk(b"VP8L", b"\x2f\0\0\0\0"),
                chunk(b"EXIF", &exif),
                chunk(b"XMP ", b"CANARY-XMP"),
                chunk(b"ZZZZ", b"CANARY-UNKNOWN"),
            ],
            b"CANARY-TRAILER",
        );
        let s = strip_any(&input, &Policy::default()).unwrap();
        assert!(!contains(&s.data, b"CANARY"));
        assert_eq!(s.report.orientation, Some(6));
        assert_eq!(s.data[20], FLAG_ICC | FLAG_EXIF);
        let size = u32::from_le_bytes([s.data[4], s.data[5], s.data[6], s.data[7]]) as usize;
        assert_eq!(size + 8, s.data.len());
        let again = strip_any(&s.data, &Policy::default()).unwrap();
        assert_eq!(again.data, s.data);
        assert_eq!(again.report.removed, vec![]);
        let drop = strip_any(&input, &Policy::parse("drop", "drop").unwrap()).unwrap();
        assert_eq!(drop.data[20], 0);
        assert!(!contains(&drop.data, b"EXIF"));
        assert!(!contains(&drop.data, b"ICCP"));
    }

    #[test]
    fn animation_frames_are_walked() {
        let mut frame = vec![0u8; 16];
        frame.extend(chunk(b"VP8L", b"\x2f\0\0\0\0"));
        frame.extend(chunk(b"XYZW", b"CANARY-FRAME"));
        let input = riff(
            &[
                chunk(
                    b"VP8X",
                    &[FLAG_ANIM | FLAG_EXIF | 0x04, 0, 0, 0, 9, 0, 0, 9, 0, 0],
                ),
                chunk(b"ANIM", &[0; 6]),
                chunk(b"ANMF", &frame),
            ],
            b"",
        );
        let s = strip_any(&input, &Policy::default()).unwrap();
        assert!(!contains(&s.data, b"CANARY"));
        assert!(contains(&s.data, b"ANMF"));
        assert_eq!(s.data[20], FLAG_ANIM);
    }

    #[test]
    fn malformed_is_corrupt() {
        let p = Policy::default();
        let good = riff(&[chunk(b"VP8L", b"\x2f\0\0\0\0")], b"");
        for cut in [12, 15, 20, good.len() - 1] {
            assert_eq!(
                strip_any(&good[..cut], &p).unwrap_err().kind(),
                "corrupt_input"
            );
        }
        let no_image = riff(&[chunk(b"EXIF", b"x")], b"");
        assert_eq!(
            strip_any(&no_image, &p).unwrap_err().kind(),
            "corrupt_input"
        );
    }
}
