//! GIF: walk the blocks; keep the header, colour tables, images (LZW data copied) and graphic
//! control extensions; keep the looping application extension (NETSCAPE2.0 / ANIMEXTS1.0)
//! reduced to its loop sub-block; drop comment, plain-text and every other application
//! extension (XMP, ICC, vendor data) and everything after the trailer.

use super::{Policy, Reader, Report};
use crate::error::{Error, Result};
use crate::metadata::Format;

fn corrupt(msg: String) -> Error {
    Error::CorruptInput(msg)
}

/// Read a chain of data sub-blocks up to and including the 0 terminator; returns its raw
/// bytes (terminator included).
fn sub_blocks<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let start = r.pos;
    loop {
        let n = r.u8()?;
        if n == 0 {
            break;
        }
        r.take(usize::from(n))?;
    }
    Ok(&r.data[start..r.pos])
}

fn color_table_len(packed: u8) -> usize {
    if packed & 0x80 != 0 {
        3 << ((packed & 0x07) + 1)
    } else {
        0
    }
}

pub(super) fn strip_into(data: &[u8], _policy: &Policy, out: &mut Vec<u8>) -> Result<Report> {
    let mut report = Report::new(Format::Gif);
    out.clear();
    out.reserve(data.len());
    let mut r = Reader::new(data, 0, "GIF");
    let header = r.take(13)?; // signature, version, logical screen descriptor
    out.extend_from_slice(header);
    out.extend_from_slice(r.take(color_table_len(header[10]))?);
    let mut seen_image = false;
    loop {
        let at = r.pos;
        match r.u8()? {
            0x2C => {
                let desc = r.take(9)?;
                out.push(0x2C);
                out.extend_from_slice(desc);
                out.extend_from_slice(r.take(color_table_len(desc[8]))?);
                out.push(r.u8()?); // LZW minimum code size
                out.extend_from_slice(sub_blocks(&mut r)?);
                seen_image = true;
            }
            0x21 => {
                let label = r.u8()?;
                match label {
                    0xF9 => {
                        out.extend_from_slice(&[0x21, 0xF9]);
                        out.extend_from_slice(sub_blocks(&mut r)?);
                    }
                    0xFF => {
                        let blocks = sub_blocks(&mut r)?;
                        let id = blocks.get(1..12).unwrap_or(&[]);
                        if blocks.first() == Some(&11)
                            && (id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0")
                        {
                            // Keep the identifier and the loop sub-block (01, count) only.
                            let mut kept = vec![0x21, 0xFF];
                            kept.extend_from_slice(&blocks[..12]);
                            let mut br = Reader::new(blocks, 12, "GIF");
                            let mut dropped = 0usize;
                            loop {
                                let n = br.u8()?;
                                if n == 0 {
                                    break;
                                }
                                let b = br.take(usize::from(n))?;
                                if n == 3 && b[0] == 1 {
                                    kept.push(3);
                                    kept.extend_from_slice(b);
                                } else {
                                    dropped += 1 + usize::from(n);
                                }
                            }
                            kept.push(0);
                            out.extend_from_slice(&kept);
                            if dropped > 0 {
                                report.remove("application_extension", dropped);
                            }
                        } else {
                            report.remove("application_extension", r.pos - at);
                        }
                    }
                    0xFE => {
                        sub_blocks(&mut r)?;
                        report.remove("comment", r.pos - at);
                    }
                    0x01 => {
                        sub_blocks(&mut r)?;
                        report.remove("plain_text", r.pos - at);
                    }
                    _ => {
                        sub_blocks(&mut r)?;
                        report.remove("extension", r.pos - at);
                    }
                }
            }
            0x3B => {
                if !seen_image {
                    return Err(corrupt("corrupt GIF: no image before the trailer".into()));
                }
                out.push(0x3B);
                let trailing = r.remaining();
                if trailing > 0 {
                    report.remove("trailer", trailing);
                }
                break;
            }
            other => {
                return Err(corrupt(format!(
                    "corrupt GIF: unknown block 0x{other:02X} at byte {at}"
                )))
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::strip as strip_any;

    fn blocks(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for c in payload.chunks(255) {
            v.push(c.len() as u8);
            v.extend_from_slice(c);
        }
        v.push(0);
        v
    }

    fn build(exts: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut v = b"GIF89a\x01\0\x01\0\x80\0\0".to_vec();
        v.extend_from_slice(&[0, 0, 0, 255, 255, 255]); // 2-colour global table
        for e in exts {
            v.extend_from_slice(e);
        }
        v.extend_from_slice(&[0x21, 0xF9, 4, 0, 0, 0, 0, 0]);
        v.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 1, 0]);
        v.push(0x3B);
        v.extend_from_slice(trailer);
        v
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn drops_comments_and_foreign_app_extensions() {
        let mut comment = vec![0x21, 0xFE];
        comment.extend(blocks(b"CANARY-COMMENT"));
        let mut xmp = vec![0x21, 0xFF];
        let mut xmp_payload = vec![11];
        xmp_payload.extend_from_slice(b"XMP DataXMP");
        xmp.extend_from_slice(&xmp_payload);
        xmp.extend(blocks(b"CANARY-XMP"));
        let mut netscape = vec![0x21, 0xFF, 11];
        netscape.extend_from_slice(b"NETSCAPE2.0");
        netscape.extend_from_slice(&[3, 1, 0, 0]);
        netscape.extend_from_slice(&[6, b'C', b'A', b'N', b'A', b'R', b'Y']);
        netscape.push(0);
        let input = build(&[netscape, comment, xmp], b"CANARY-TRAILER");
        let s = strip_any(&input, &Policy::default()).unwrap();
        assert!(!contains(&s.data, b"CANARY"));
        assert!(contains(&s.data, b"NETSCAPE2.0\x03\x01\0\0\0"));
        let again = strip_any(&s.data, &Policy::default()).unwrap();
        assert_eq!(again.data, s.data);
    }

    #[test]
    fn truncated_is_corrupt() {
        let good = build(&[], b"");
        for cut in 0..good.len() {
            let e = strip_any(&good[..cut], &Policy::default()).unwrap_err();
            assert!(
                matches!(e.kind(), "corrupt_input" | "unsupported_format"),
                "cut {cut}"
            );
        }
    }
}
