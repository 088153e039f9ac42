//! Lossless metadata stripping: container surgery that keeps every byte the decoder needs
//! (copied unchanged) and drops everything else.
//!
//! The format is sniffed from the content, never from a file name. JPEG, PNG, WebP and GIF
//! are rewritten losslessly; every other recognised format is refused with
//! [`Error::UnsupportedFormat`] (the Python layer may re-encode some of them), and so is
//! anything unknown. Malformed or truncated input is [`Error::CorruptInput`]. Nothing is
//! ever passed through unstripped.
//!
//! The walkers never index out of bounds: every read goes through [`Reader`], which returns
//! `CorruptInput` when the input ends early.

mod exif_min;
pub mod files;
#[cfg(test)]
mod fuzz_tests;
mod gif;
mod heif;
mod jpeg;
mod pieces;
mod png;
mod tiff_bytes;
mod tiff_raw;
mod webp;

use crate::error::{Error, Result};

pub use exif_min::{minimal_exif_tiff, read_orientation};
pub use pieces::Pieces;
pub use tiff_raw::is_camera_raw_tiff;

pub(crate) use jpeg::scan_end as jpeg_scan_end;

/// A container format recognised from the first bytes of a file. This is the one sniffer of
/// the project: the Python layer (`fastredact.formats`) wraps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
    Gif,
    /// TIFF and the TIFF-based camera RAWs (DNG, CR2, NEF, ARW, …); BigTIFF too.
    Tiff,
    /// Windows bitmap.
    Bmp,
    /// ISO-BMFF still images: HEIC / HEIF.
    Heif,
    /// ISO-BMFF AVIF.
    Avif,
    /// JPEG XL, bare codestream or ISO-BMFF container.
    Jxl,
    /// Camera RAW formats that are not plain TIFF: Canon CR3 (ISO-BMFF `crx `), Panasonic
    /// RW2, Olympus ORF, Fujifilm RAF, Minolta MRW.
    Raw,
}

impl Format {
    /// Every format, in declaration order.
    pub const ALL: [Format; 10] = [
        Format::Jpeg,
        Format::Png,
        Format::WebP,
        Format::Gif,
        Format::Tiff,
        Format::Bmp,
        Format::Heif,
        Format::Avif,
        Format::Jxl,
        Format::Raw,
    ];

    /// A short stable name (`"jpeg"`, `"png"`, …) used in reports and by the Python layer.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::WebP => "webp",
            Format::Gif => "gif",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Heif => "heif",
            Format::Avif => "avif",
            Format::Jxl => "jxl",
            Format::Raw => "raw",
        }
    }

    /// Whether [`strip`] rewrites this format losslessly (the others are refused).
    pub fn is_lossless(self) -> bool {
        matches!(
            self,
            Format::Jpeg | Format::Png | Format::WebP | Format::Gif
        )
    }
}

/// The format of an ISO-BMFF file from its major brand.
fn sniff_ftyp_brand(brand: &[u8]) -> Option<Format> {
    match brand {
        b"avif" | b"avis" => Some(Format::Avif),
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"mif2" => {
            Some(Format::Heif)
        }
        b"crx " => Some(Format::Raw),
        _ => None,
    }
}

/// Recognise the container format from the content. `None` means unknown.
pub fn sniff(data: &[u8]) -> Option<Format> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    let starts_any = |magics: &[&[u8]]| magics.iter().any(|m| data.starts_with(m));
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if starts(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        return Some(Format::WebP);
    }
    if starts_any(&[b"GIF87a", b"GIF89a"]) {
        return Some(Format::Gif);
    }
    if starts_any(&[b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"]) {
        return Some(Format::Tiff);
    }
    // A BMP file header is 14 bytes, its smallest info header 12: anything shorter is not one.
    if starts(b"BM") && data.len() >= 26 {
        return Some(Format::Bmp);
    }
    if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some(Format::Jxl);
    }
    if data.get(4..8) == Some(b"ftyp") {
        if let Some(format) = data.get(8..12).and_then(sniff_ftyp_brand) {
            return Some(format);
        }
    }
    if starts_any(&[
        b"IIU\0",
        b"IIRO",
        b"IIRS",
        b"MMOR",
        b"FUJIFILMCCD-RAW",
        b"\0MRM",
    ]) {
        return Some(Format::Raw);
    }
    None
}

/// What to do with the embedded colour profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IccPolicy {
    /// Keep it (it changes how the pixels display; it rarely identifies anyone).
    #[default]
    Keep,
    /// Drop it.
    Drop,
}

/// What to do with the EXIF Orientation tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrientationPolicy {
    /// Keep a minimal EXIF block holding Orientation only (when it is not 1), so the picture
    /// still displays upright.
    #[default]
    Keep,
    /// Drop all EXIF, Orientation included.
    Drop,
}

/// The stripping policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    pub icc: IccPolicy,
    pub orientation: OrientationPolicy,
}

impl Policy {
    /// Parse the Python-facing names: `icc` is `"keep"|"drop"`, `orientation` is
    /// `"keep"|"drop"`.
    pub fn parse(icc: &str, orientation: &str) -> Result<Policy> {
        let icc = match icc {
            "keep" => IccPolicy::Keep,
            "drop" => IccPolicy::Drop,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "icc must be \"keep\" or \"drop\", not {other:?}"
                )))
            }
        };
        let orientation = match orientation {
            "keep" => OrientationPolicy::Keep,
            "drop" => OrientationPolicy::Drop,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "orientation must be \"keep\" or \"drop\", not {other:?}"
                )))
            }
        };
        Ok(Policy { icc, orientation })
    }
}

/// One kind of removed content, with how many pieces and bytes of it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// A short stable name: `"exif"`, `"xmp"`, `"trailer"`, `"comment"`, …
    pub kind: &'static str,
    /// How many segments / chunks / blocks of this kind were removed.
    pub count: u64,
    /// How many bytes of the input they took (headers included).
    pub bytes: u64,
}

/// What a strip did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub format: Format,
    /// Removed content by kind, in order of first appearance.
    pub removed: Vec<Removed>,
    /// The EXIF Orientation (1–8) found in the input, whatever the policy; `None` when absent.
    pub orientation: Option<u16>,
}

impl Report {
    fn new(format: Format) -> Report {
        Report {
            format,
            removed: Vec::new(),
            orientation: None,
        }
    }

    /// Record `bytes` bytes of `kind` as removed.
    fn remove(&mut self, kind: &'static str, bytes: usize) {
        let bytes = bytes as u64;
        if let Some(entry) = self.removed.iter_mut().find(|r| r.kind == kind) {
            entry.count += 1;
            entry.bytes += bytes;
        } else {
            self.removed.push(Removed {
                kind,
                count: 1,
                bytes,
            });
        }
    }

    /// Total bytes removed, all kinds together.
    pub fn removed_bytes(&self) -> u64 {
        self.removed.iter().map(|r| r.bytes).sum()
    }
}

/// The cleaned file and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    pub data: Vec<u8>,
    pub report: Report,
}

/// Strip every piece of metadata the policy does not keep.
///
/// Errors: [`Error::UnsupportedFormat`] for unknown formats and formats without lossless
/// surgery (the message names the format), [`Error::CorruptInput`] for malformed input.
pub fn strip(data: &[u8], policy: &Policy) -> Result<Stripped> {
    let mut pieces = Pieces::new();
    let report = strip_pieces(data, policy, &mut pieces)?;
    Ok(Stripped {
        data: pieces.to_vec(),
        report,
    })
}

/// Like [`strip`], writing the cleaned file into `out` (cleared first). On error `out` holds
/// garbage.
pub fn strip_into(data: &[u8], policy: &Policy, out: &mut Vec<u8>) -> Result<Report> {
    let mut pieces = Pieces::new();
    let report = strip_pieces(data, policy, &mut pieces)?;
    out.clear();
    pieces.append_to(out);
    Ok(report)
}

/// Like [`strip`], leaving the cleaned file as [`Pieces`] that borrow the input's image data
/// (JPEG scans and profiles), so a file can be written without copying them first. On error
/// `out` holds garbage.
pub fn strip_pieces<'a>(data: &'a [u8], policy: &Policy, out: &mut Pieces<'a>) -> Result<Report> {
    let via_buffer = |walk: fn(&[u8], &Policy, &mut Vec<u8>) -> Result<Report>,
                      out: &mut Pieces<'a>| {
        let mut buf = Vec::new();
        let report = walk(data, policy, &mut buf)?;
        out.push_built_vec(buf);
        Ok(report)
    };
    match sniff(data) {
        Some(Format::Jpeg) => jpeg::strip_pieces(data, policy, out),
        Some(Format::Png) => via_buffer(png::strip_into, out),
        Some(Format::WebP) => via_buffer(webp::strip_into, out),
        Some(Format::Gif) => via_buffer(gif::strip_into, out),
        Some(other) => Err(Error::UnsupportedFormat(format!(
            "{} files cannot be stripped losslessly (no container surgery for this format)",
            other.name().to_uppercase()
        ))),
        None => Err(Error::UnsupportedFormat(
            "unknown file format (not JPEG, PNG, WebP or GIF)".into(),
        )),
    }
}

/// Strip a HEIF / HEIC or AVIF still image by rebuilding its container around the primary
/// image alone (see the `heif` module): EXIF, XMP, thumbnails, depth maps, HDR gain maps and
/// other images go; the coded picture is copied byte for byte.
///
/// Unlike [`strip`], which refuses these formats, this surgery is meant for callers that can
/// check its result: it keeps only what it understands, and refuses
/// ([`Error::UnsupportedFormat`]) the structures it does not, but the decoded picture of its
/// output is not compared with the input's here (the Python pipeline decodes both and falls
/// back to re-encoding when they differ). The orientation policy does not apply: HEIF
/// rotation and mirroring are item properties, kept as they are.
pub fn strip_heif(data: &[u8], policy: &Policy) -> Result<Stripped> {
    let mut out = Vec::new();
    let report = heif::strip_into(data, policy, &mut out)?;
    Ok(Stripped { data: out, report })
}

/// A bounds-checked cursor over the input: every read that would run past the end is a
/// [`Error::CorruptInput`] naming the format.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], pos: usize, what: &'static str) -> Reader<'a> {
        Reader { data, pos, what }
    }

    fn truncated(&self) -> Error {
        Error::CorruptInput(format!(
            "truncated {} (ends at byte {})",
            self.what,
            self.data.len()
        ))
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn u8(&mut self) -> Result<u8> {
        let b = *self.data.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(s)
    }

    fn u16_be(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    fn u32_be(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    fn u32_le(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_magic() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (b"\xFF\xD8\xFF\xDB", Some(Format::Jpeg)),
            (b"\xFF\xD8\xFE", None),
            (b"\x89PNG\r\n\x1a\n", Some(Format::Png)),
            (b"\x89PNG\r\n", None),
            (b"RIFF\x10\0\0\0WEBPVP8L", Some(Format::WebP)),
            (b"GIF87a\x01\0", Some(Format::Gif)),
            (b"GIF88a\x01\0", None),
            (b"MM\0*\0\0\0\x08", Some(Format::Tiff)),
            (b"II+\0\x08\0\0\0", Some(Format::Tiff)),
            (b"MM\0+\0\x08\0\0", Some(Format::Tiff)),
            (
                &[
                    b'B', b'M', 0x3A, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 0x28, 0, 0, 0, 1, 0, 0,
                    0, 1, 0, 0, 0,
                ],
                Some(Format::Bmp),
            ),
            (b"BM too short", None),
            (b"\0\0\0\x0cJXL \r\n\x87\n\0\0", Some(Format::Jxl)),
            (b"\0\0\0\x18ftypheix", Some(Format::Heif)),
            (b"\0\0\0\x18ftypmif1", Some(Format::Heif)),
            (b"\0\0\0\x18ftypmif2", Some(Format::Heif)),
            (b"\0\0\0\x18ftypmsf1", Some(Format::Heif)),
            (b"\0\0\0\x18ftypavis", Some(Format::Avif)),
            (b"\0\0\0\x18ftypcrx \0\0\0\x01", Some(Format::Raw)),
            (b"\0\0\0\x18ftypisom", None),
            (b"\0\0\0\x18ftyp", None),
            (b"IIU\0\x18\0\0\0", Some(Format::Raw)),
            (b"IIRO\x08\0\0\0", Some(Format::Raw)),
            (b"IIRS\x08\0\0\0", Some(Format::Raw)),
            (b"MMOR\0\0\0\x08", Some(Format::Raw)),
            (b"FUJIFILMCCD-RAW 0201", Some(Format::Raw)),
            (b"\0MRM\0\0\x01\0", Some(Format::Raw)),
        ];
        for (data, want) in cases {
            assert_eq!(sniff(data), *want, "{data:02X?}");
        }
    }

    #[test]
    fn every_format_has_a_distinct_name() {
        let all = Format::ALL;
        let mut names: Vec<_> = all.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        let lossless: Vec<_> = all.iter().filter(|f| f.is_lossless()).collect();
        assert_eq!(lossless.len(), 4);
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::WebP));
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), None);
        assert_eq!(sniff(b"GIF89a"), Some(Format::Gif));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic"), Some(Format::Heif));
        assert_eq!(sniff(b"\0\0\0\x18ftypavif"), Some(Format::Avif));
        assert_eq!(sniff(b"\0\0\0\x18ftypqt  "), None);
        assert_eq!(sniff(&[0xFF, 0x0A, 0x00]), Some(Format::Jxl));
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn unknown_and_unsupported_are_refused() {
        let p = Policy::default();
        assert_eq!(
            strip(b"hello world", &p).unwrap_err().kind(),
            "unsupported_format"
        );
        let e = strip(b"II*\0\x08\0\0\0\0\0", &p).unwrap_err();
        assert_eq!(e.kind(), "unsupported_format");
        assert!(e.message().contains("TIFF"));
        assert_eq!(strip(b"", &p).unwrap_err().kind(), "unsupported_format");
    }

    #[test]
    fn policy_names() {
        assert_eq!(Policy::parse("keep", "keep").unwrap(), Policy::default());
        let p = Policy::parse("drop", "drop").unwrap();
        assert_eq!(p.icc, IccPolicy::Drop);
        assert_eq!(p.orientation, OrientationPolicy::Drop);
        assert_eq!(
            Policy::parse("maybe", "keep").unwrap_err().kind(),
            "invalid_argument"
        );
        assert_eq!(
            Policy::parse("keep", "bake").unwrap_err().kind(),
            "invalid_argument"
        );
    }

    #[test]
    fn report_merges_kinds() {
        let mut r = Report::new(Format::Jpeg);
        r.remove("exif", 10);
        r.remove("xmp", 5);
        r.remove("exif", 3);
        assert_eq!(r.removed.len(), 2);
        assert_eq!(r.removed[0].count, 2);
        assert_eq!(r.removed[0].bytes, 13);
        assert_eq!(r.removed_bytes(), 18);
    }
}
