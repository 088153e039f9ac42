//! Is every scan of a JPEG whole? Huffman-decode all entropy-coded data and check that each
//! restart interval and each scan ends exactly where its data ends.
//!
//! libjpeg decodes a JPEG whose scan lost, gained or changed bytes into a picture with a
//! smeared or grey lower part: where a desynchronised Huffman decode happens to consume fewer
//! bits than are left, a sequential file ends without a single warning (libjpeg-turbo does
//! not look at what follows the last MCU of the last scan), so even a strict libjpeg misses
//! most cut or spliced scans. This check decodes every block's symbols (not its pixels) and
//! refuses a JPEG when:
//!
//! - a bit pattern is no code of its Huffman table, or a run or coefficient index leaves the
//!   block or spectral band;
//! - an interval or scan needs more bits than it holds, or leaves whole bytes unread;
//! - restart markers are missing, extra or out of sequence;
//! - a scan or frame header is inconsistent (undefined tables, bad sampling factors, …).
//!
//! Covered: baseline and extended sequential (SOF0, SOF1) and progressive (SOF2) Huffman
//! JPEGs — nearly every JPEG in the wild. Lossless, hierarchical and arithmetic-coded files
//! and files whose height comes from a DNL marker are reported as not checked, and left to
//! the strict decoder alone.

mod huffman;
mod scan;

use huffman::{Bits, Table};
use scan::{NonZero, ScanDecoder};

use crate::error::{Error, Result};
use crate::metadata::jpeg_scan_end;

/// Whole unread bytes tolerated at the end of an interval: none. Encoders pad the last byte
/// with one bits and put the marker right after it.
const UNREAD_BYTES_ALLOWED: usize = 0;

/// Scans allowed in one JPEG. Real progressive files have about 10; each scan costs a pass
/// over every block, so a file of thousands of tiny scans would take minutes to check (and
/// to decode: libjpeg has the same weakness).
pub const MAX_SCANS: usize = 1000;

/// What the check could say about a JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanCheck {
    /// Every scan was decoded and ended exactly at its data's end.
    Whole,
    /// A kind of JPEG this check does not decode (named); nothing was checked.
    NotChecked(&'static str),
}

/// Check every entropy-coded segment of `data`; `Err(CorruptInput)` names the first problem.
pub fn check_scans(data: &[u8]) -> Result<ScanCheck> {
    Walker::new(data)?.run()
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    blocks_wide: usize,
    blocks_high: usize,
}

struct Frame {
    progressive: bool,
    components: Vec<Component>,
    mcus_wide: usize,
    mcus_high: usize,
}

struct ScanComponent {
    component: usize,
    dc_table: u8,
    ac_table: u8,
}

struct ScanHeader {
    components: Vec<ScanComponent>,
    ss: u8,
    se: u8,
    ah: u8,
}

struct Walker<'a> {
    data: &'a [u8],
    pos: usize,
    frame: Option<Frame>,
    dc_tables: [Option<Table>; 4],
    ac_tables: [Option<Table>; 4],
    restart_interval: usize,
    nonzero: Option<NonZero>,
    scans: usize,
}

impl<'a> Walker<'a> {
    fn new(data: &'a [u8]) -> Result<Walker<'a>> {
        if !data.starts_with(&[0xFF, 0xD8]) {
            return Err(Error::UnsupportedFormat(
                "not a JPEG (no SOI marker)".into(),
            ));
        }
        Ok(Walker {
            data,
            pos: 2,
            frame: None,
            dc_tables: Default::default(),
            ac_tables: Default::default(),
            restart_interval: 0,
            nonzero: None,
            scans: 0,
        })
    }

    fn run(mut self) -> Result<ScanCheck> {
        loop {
            let marker = self.next_marker()?;
            match marker {
                0xD9 => {
                    return if self.scans == 0 {
                        Err(corrupt("EOI before any scan"))
                    } else {
                        Ok(ScanCheck::Whole)
                    }
                }
                0xD0..=0xD7 | 0x01 => continue, // stray standalone markers
                _ => {}
            }
            let payload = self.segment()?;
            match marker {
                0xC0..=0xC2 => self.frame(payload, marker == 0xC2)?,
                0xC3 | 0xC5..=0xC7 => return Ok(ScanCheck::NotChecked("lossless/hierarchical")),
                0xC9..=0xCB | 0xCD..=0xCF => return Ok(ScanCheck::NotChecked("arithmetic")),
                0xC4 => self.huffman_tables(payload)?,
                0xDD => self.restart_interval = usize::from(be16(payload, 0)?),
                0xDC => return Ok(ScanCheck::NotChecked("height set by a DNL marker")),
                0xDA => {
                    if let Some(reason) = self.scan(payload)? {
                        return Ok(ScanCheck::NotChecked(reason));
                    }
                }
                _ => {} // APPn, COM, DQT, DAC…: nothing the entropy decoder needs
            }
        }
    }

    fn next_marker(&mut self) -> Result<u8> {
        if self.data.get(self.pos) != Some(&0xFF) {
            return Err(corrupt(&format!("no marker at byte {}", self.pos)));
        }
        while self.data.get(self.pos) == Some(&0xFF) {
            self.pos += 1;
        }
        let marker = *self
            .data
            .get(self.pos)
            .ok_or_else(|| corrupt("ends inside a marker"))?;
        self.pos += 1;
        Ok(marker)
    }

    fn segment(&mut self) -> Result<&'a [u8]> {
        let data = self.data;
        let len = usize::from(be16(data, self.pos)?);
        let end = self.pos + len;
        if len < 2 || end > data.len() {
            return Err(corrupt("segment length runs past the end"));
        }
        let payload = &data[self.pos + 2..end];
        self.pos = end;
        Ok(payload)
    }

    fn frame(&mut self, p: &[u8], progressive: bool) -> Result<()> {
        if self.frame.is_some() {
            return Err(corrupt("second frame header"));
        }
        let (height, width) = (usize::from(be16(p, 1)?), usize::from(be16(p, 3)?));
        let count = usize::from(*p.get(5).ok_or_else(|| corrupt("short frame header"))?);
        if p.len() < 6 + 3 * count || count == 0 || count > 4 || width == 0 {
            return Err(corrupt("bad frame header"));
        }
        let mut components = Vec::with_capacity(count);
        for i in 0..count {
            let sampling = p[7 + 3 * i];
            let (h, v) = (usize::from(sampling >> 4), usize::from(sampling & 15));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                return Err(corrupt("bad sampling factors"));
            }
            components.push(Component {
                id: p[6 + 3 * i],
                h,
                v,
                blocks_wide: 0,
                blocks_high: 0,
            });
        }
        let h_max = components.iter().map(|c| c.h).max().unwrap_or(1);
        let v_max = components.iter().map(|c| c.v).max().unwrap_or(1);
        for c in &mut components {
            c.blocks_wide = (width * c.h).div_ceil(h_max).div_ceil(8);
            c.blocks_high = (height * c.v).div_ceil(v_max).div_ceil(8);
        }
        self.frame = Some(Frame {
            progressive,
            mcus_wide: width.div_ceil(8 * h_max),
            mcus_high: height.div_ceil(8 * v_max),
            components,
        });
        Ok(())
    }

    fn huffman_tables(&mut self, mut p: &[u8]) -> Result<()> {
        while !p.is_empty() {
            if p.len() < 17 {
                return Err(corrupt("short Huffman table"));
            }
            let (class, id) = (p[0] >> 4, usize::from(p[0] & 15));
            let counts: [u8; 16] = p[1..17].try_into().expect("16 bytes");
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            if class > 1 || id > 3 || p.len() < 17 + total || total > 256 {
                return Err(corrupt("bad Huffman table"));
            }
            let table = Table::new(&counts, &p[17..17 + total])?;
            if class == 0 {
                self.dc_tables[id] = Some(table);
            } else {
                self.ac_tables[id] = Some(table);
            }
            p = &p[17 + total..];
        }
        Ok(())
    }

    /// Decode one scan; `Some(reason)` where it cannot be checked.
    fn scan(&mut self, p: &[u8]) -> Result<Option<&'static str>> {
        if self.scans >= MAX_SCANS {
            return Err(Error::LimitExceeded(format!(
                "JPEG has more than {MAX_SCANS} scans"
            )));
        }
        let frame = self
            .frame
            .as_ref()
            .ok_or_else(|| corrupt("scan before a frame"))?;
        if frame.mcus_high == 0 {
            return Ok(Some("height set by a DNL marker"));
        }
        let header = scan_header(p, frame)?;
        let nonzero = self
            .nonzero
            .get_or_insert_with(|| NonZero::new(frame.components.len()));
        let mut decoder = ScanDecoder::new(frame, &header, &self.dc_tables, &self.ac_tables)?;
        let end = jpeg_scan_end(self.data, self.pos)?;
        let intervals = split_intervals(&self.data[self.pos..end])?;
        let per_interval = match self.restart_interval {
            0 => decoder.units,
            n => n,
        };
        if intervals.len() != decoder.units.div_ceil(per_interval) {
            return Err(corrupt(&format!(
                "scan has {} restart intervals, {} expected",
                intervals.len(),
                decoder.units.div_ceil(per_interval)
            )));
        }
        let mut buffer = Vec::new();
        for (n, interval) in intervals.iter().enumerate() {
            unstuff(interval, &mut buffer);
            let mut bits = Bits::new(&buffer);
            let first = n * per_interval;
            let count = per_interval.min(decoder.units - first);
            decoder.decode_units(&mut bits, first, count, nonzero)?;
            if bits.overran() {
                return Err(corrupt("premature end of data segment"));
            }
            if bits.unread_bytes() > UNREAD_BYTES_ALLOWED {
                return Err(corrupt(&format!(
                    "{} extraneous bytes after the last block of an interval",
                    bits.unread_bytes()
                )));
            }
        }
        self.pos = end;
        self.scans += 1;
        Ok(None)
    }
}

fn scan_header(p: &[u8], frame: &Frame) -> Result<ScanHeader> {
    let count = usize::from(*p.first().ok_or_else(|| corrupt("short scan header"))?);
    if count == 0 || count > 4 || p.len() != 4 + 2 * count {
        return Err(corrupt("bad scan header"));
    }
    let mut components = Vec::with_capacity(count);
    let mut blocks_per_mcu = 0;
    for i in 0..count {
        let id = p[1 + 2 * i];
        let component = frame
            .components
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| corrupt("scan names a component not in the frame"))?;
        if components
            .iter()
            .any(|c: &ScanComponent| c.component == component)
        {
            return Err(corrupt("scan names a component twice"));
        }
        let c = &frame.components[component];
        blocks_per_mcu += c.h * c.v;
        let tables = p[2 + 2 * i];
        components.push(ScanComponent {
            component,
            dc_table: tables >> 4,
            ac_table: tables & 15,
        });
    }
    let (ss, se, ah) = (p[1 + 2 * count], p[2 + 2 * count], p[3 + 2 * count] >> 4);
    let al = p[3 + 2 * count] & 15;
    if count > 1 && blocks_per_mcu > 10 {
        return Err(corrupt("more than 10 blocks per MCU"));
    }
    let valid = if frame.progressive {
        let band = if ss == 0 {
            se == 0
        } else {
            se >= ss && se <= 63 && count == 1
        };
        band && ah <= 13 && al <= 13
    } else {
        ss == 0 && se == 63 && ah == 0 && al == 0
    };
    if !valid {
        return Err(corrupt("invalid scan parameters"));
    }
    Ok(ScanHeader {
        components,
        ss,
        se,
        ah,
    })
}

/// The entropy-coded bytes of one scan split at its restart markers, which must count
/// RST0, RST1, …, RST7, RST0, … in order.
fn split_intervals(data: &[u8]) -> Result<Vec<&[u8]>> {
    let mut intervals = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut expected = 0xD0u8;
    while i + 1 < data.len() {
        if data[i] != 0xFF {
            i += 1;
            continue;
        }
        let mut next = i + 1;
        while data.get(next) == Some(&0xFF) {
            next += 1;
        }
        match data.get(next) {
            Some(0x00) => i = next + 1,
            Some(&marker @ 0xD0..=0xD7) => {
                if marker != expected {
                    return Err(corrupt("restart markers out of sequence"));
                }
                expected = if expected == 0xD7 { 0xD0 } else { expected + 1 };
                intervals.push(&data[start..i]);
                start = next + 1;
                i = start;
            }
            _ => i = next, // cannot happen inside a scan (the scan ends at a marker)
        }
    }
    intervals.push(&data[start..]);
    Ok(intervals)
}

/// Copy entropy-coded bytes with every stuffed `FF 00` turned back into one `FF` (fill
/// bytes before it dropped: libjpeg's bit reader reads `FF FF 00` as one `FF`).
fn unstuff(data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        out.push(b);
        i += 1;
        if b == 0xFF {
            while data.get(i) == Some(&0xFF) {
                i += 1;
            }
            if data.get(i) == Some(&0x00) {
                i += 1;
            }
        }
    }
}

fn be16(p: &[u8], at: usize) -> Result<u16> {
    match p.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(corrupt("short segment")),
    }
}

fn corrupt(what: &str) -> Error {
    Error::CorruptInput(format!("corrupt JPEG data: {what}"))
}

#[cfg(test)]
mod tests;
