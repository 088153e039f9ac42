//! Entropy decoding of one scan, block by block, counting bits only: sequential Huffman
//! scans and the four kinds of progressive scans (DC first / refine, AC first / refine).

use super::huffman::{Bits, Table};
use super::{Component, Frame, ScanHeader};
use crate::error::{Error, Result};

/// Per component, one bit per coefficient that a progressive AC scan has made non-zero
/// (refinement scans read a correction bit for exactly those).
pub(super) struct NonZero {
    maps: Vec<Vec<u64>>,
}

impl NonZero {
    pub(super) fn new(components: usize) -> NonZero {
        NonZero {
            maps: vec![Vec::new(); components],
        }
    }

    fn map(&mut self, component: usize, blocks: usize) -> &mut [u64] {
        let map = &mut self.maps[component];
        if map.len() != blocks {
            map.resize(blocks, 0);
        }
        map
    }
}

/// Which block-level decoder a scan needs.
#[derive(Clone, Copy)]
enum Kind {
    Sequential,
    DcFirst,
    DcRefine,
    AcFirst,
    AcRefine,
}

/// Decodes the blocks of one scan, interval by interval.
pub(super) struct ScanDecoder<'a> {
    frame: &'a Frame,
    scan: &'a ScanHeader,
    dc: Vec<Option<&'a Table>>,
    ac: Vec<Option<&'a Table>>,
    kind: Kind,
    eob_run: u32,
    /// Units (MCUs, or blocks of a one-component scan) in the scan.
    pub(super) units: usize,
    /// MCUs per row (interleaved) or blocks per row (one component).
    units_per_row: usize,
}

impl<'a> ScanDecoder<'a> {
    pub(super) fn new(
        frame: &'a Frame,
        scan: &'a ScanHeader,
        dc_tables: &'a [Option<Table>; 4],
        ac_tables: &'a [Option<Table>; 4],
    ) -> Result<ScanDecoder<'a>> {
        let kind = if !frame.progressive {
            Kind::Sequential
        } else {
            match (scan.ss == 0, scan.ah == 0) {
                (true, true) => Kind::DcFirst,
                (true, false) => Kind::DcRefine,
                (false, true) => Kind::AcFirst,
                (false, false) => Kind::AcRefine,
            }
        };
        let needs_dc = matches!(kind, Kind::Sequential | Kind::DcFirst);
        let needs_ac = matches!(kind, Kind::Sequential | Kind::AcFirst | Kind::AcRefine);
        let mut dc = Vec::new();
        let mut ac = Vec::new();
        for sc in &scan.components {
            dc.push(pick(dc_tables, sc.dc_table, needs_dc)?);
            ac.push(pick(ac_tables, sc.ac_table, needs_ac)?);
        }
        let (units, units_per_row) = if scan.components.len() == 1 {
            let c = &frame.components[scan.components[0].component];
            (c.blocks_wide * c.blocks_high, c.blocks_wide)
        } else {
            (frame.mcus_wide * frame.mcus_high, frame.mcus_wide)
        };
        Ok(ScanDecoder {
            frame,
            scan,
            dc,
            ac,
            kind,
            eob_run: 0,
            units,
            units_per_row,
        })
    }

    /// Decode units `first..first + count` from the bits of one restart interval.
    pub(super) fn decode_units(
        &mut self,
        bits: &mut Bits<'_>,
        first: usize,
        count: usize,
        nonzero: &mut NonZero,
    ) -> Result<()> {
        self.eob_run = 0; // each restart interval starts afresh
        for unit in first..first + count {
            let (row, col) = (unit / self.units_per_row, unit % self.units_per_row);
            if self.scan.components.len() == 1 {
                self.block(bits, 0, row * self.block_stride(0) + col, nonzero)?;
                continue;
            }
            for i in 0..self.scan.components.len() {
                let (ch, cv) = (self.component(i).h, self.component(i).v);
                let stride = self.block_stride(i);
                for v in 0..cv {
                    for h in 0..ch {
                        let block = (row * cv + v) * stride + col * ch + h;
                        self.block(bits, i, block, nonzero)?;
                    }
                }
            }
            if bits.overran() {
                break;
            }
        }
        Ok(())
    }

    fn component(&self, i: usize) -> &Component {
        &self.frame.components[self.scan.components[i].component]
    }

    /// Blocks per row of the component's padded block grid (interleaved scans cover the
    /// padding; one-component scans only the picture's own blocks, indexed in the same grid).
    fn block_stride(&self, i: usize) -> usize {
        self.frame.mcus_wide * self.component(i).h
    }

    fn block(
        &mut self,
        bits: &mut Bits<'_>,
        i: usize,
        block: usize,
        nonzero: &mut NonZero,
    ) -> Result<()> {
        match self.kind {
            Kind::Sequential => self.sequential_block(bits, i),
            Kind::DcFirst => dc_diff(self.dc[i].expect("checked in new"), bits),
            Kind::DcRefine => {
                bits.skip(1);
                Ok(())
            }
            Kind::AcFirst | Kind::AcRefine => {
                let component = self.scan.components[i].component;
                let blocks = self.frame.mcus_wide
                    * self.component(i).h
                    * self.frame.mcus_high
                    * self.component(i).v;
                let map = nonzero.map(component, blocks);
                let slot = map
                    .get_mut(block)
                    .ok_or_else(|| Error::InvalidArgument("block index out of the grid".into()))?;
                let table = self.ac[i].expect("checked in new");
                if matches!(self.kind, Kind::AcFirst) {
                    self.ac_first(table, bits, slot)
                } else {
                    self.ac_refine(table, bits, slot)
                }
            }
        }
    }

    fn sequential_block(&mut self, bits: &mut Bits<'_>, i: usize) -> Result<()> {
        dc_diff(self.dc[i].expect("checked in new"), bits)?;
        let ac = self.ac[i].expect("checked in new");
        let mut k = 1u32;
        while k < 64 {
            let rs = ac.decode(bits)?;
            let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run != 15 {
                    break; // end of block
                }
                k += 16;
                if k > 64 {
                    return Err(corrupt("zero run past the end of a block"));
                }
                continue;
            }
            k += run;
            if k > 63 {
                return Err(corrupt("coefficient index past the end of a block"));
            }
            bits.skip(size);
            k += 1;
        }
        Ok(())
    }

    fn ac_first(&mut self, table: &Table, bits: &mut Bits<'_>, nonzero: &mut u64) -> Result<()> {
        if self.eob_run > 0 {
            self.eob_run -= 1;
            return Ok(());
        }
        let (start, end) = (u32::from(self.scan.ss), u32::from(self.scan.se));
        let mut k = start;
        while k <= end {
            let rs = table.decode(bits)?;
            let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                if run == 15 {
                    k += 16;
                    continue;
                }
                self.eob_run = (1 << run) + bits.read(run) - 1;
                break;
            }
            k += run;
            if k > end {
                return Err(corrupt("coefficient index past the spectral band"));
            }
            bits.skip(size);
            *nonzero |= 1 << k;
            k += 1;
        }
        Ok(())
    }

    fn ac_refine(&mut self, table: &Table, bits: &mut Bits<'_>, nonzero: &mut u64) -> Result<()> {
        let (start, end) = (u32::from(self.scan.ss), u32::from(self.scan.se));
        let mut k = start;
        if self.eob_run == 0 {
            while k <= end {
                let rs = table.decode(bits)?;
                let (run, size) = (i32::from(rs >> 4), u32::from(rs & 15));
                let mut run = run;
                if size == 0 && run != 15 {
                    self.eob_run = (1 << run) + bits.read(run as u32);
                    break;
                }
                if size > 1 {
                    return Err(corrupt("refinement value wider than one bit"));
                }
                let newly_nonzero = size == 1;
                if newly_nonzero {
                    bits.skip(1); // sign
                }
                // Skip `run` not-yet-non-zero coefficients, refining the non-zero ones passed.
                while k <= end {
                    if *nonzero & (1 << k) != 0 {
                        bits.skip(1);
                    } else {
                        run -= 1;
                        if run < 0 {
                            break;
                        }
                    }
                    k += 1;
                }
                if newly_nonzero {
                    if k > end {
                        return Err(corrupt("coefficient index past the spectral band"));
                    }
                    *nonzero |= 1 << k;
                }
                k += 1;
            }
        }
        if self.eob_run > 0 {
            while k <= end {
                if *nonzero & (1 << k) != 0 {
                    bits.skip(1);
                }
                k += 1;
            }
            self.eob_run -= 1;
        }
        Ok(())
    }
}

fn dc_diff(table: &Table, bits: &mut Bits<'_>) -> Result<()> {
    let size = u32::from(table.decode(bits)?);
    if size > 16 {
        return Err(corrupt("DC difference wider than 16 bits"));
    }
    bits.skip(size);
    Ok(())
}

fn pick(tables: &[Option<Table>; 4], id: u8, needed: bool) -> Result<Option<&Table>> {
    if !needed {
        return Ok(None);
    }
    match tables.get(usize::from(id)).and_then(Option::as_ref) {
        Some(t) => Ok(Some(t)),
        None => Err(corrupt("scan uses an undefined Huffman table")),
    }
}

fn corrupt(what: &str) -> Error {
    Error::CorruptInput(format!("corrupt JPEG data: {what}"))
}
