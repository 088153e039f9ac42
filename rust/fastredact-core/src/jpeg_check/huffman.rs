//! Huffman tables (ITU T.81 Annex C) and a bit reader over un-stuffed entropy-coded bytes.
//!
//! Only code lengths and symbols matter to the check: coefficient values are read as bit
//! counts and thrown away.

use crate::error::{Error, Result};

/// Codes up to this many bits are decoded with one table lookup.
const FAST_BITS: u32 = 9;

/// One decoding table built from a DHT segment's 16 counts and its symbols.
pub(super) struct Table {
    /// `(length << 8) | symbol` for every `FAST_BITS`-bit prefix of a short code; 0 = none.
    fast: Vec<u16>,
    /// Per length 1–16: the largest code of that length, or -1 when there is none.
    max_code: [i32; 17],
    /// Per length: `values` index of its first symbol minus its first code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Table {
    /// Build a table; an over-subscribed code (more codes than the lengths allow) is corrupt.
    pub(super) fn new(counts: &[u8; 16], values: &[u8]) -> Result<Table> {
        let mut max_code = [-1i32; 17];
        let mut offset = [0i32; 17];
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut code: u32 = 0;
        let mut index: usize = 0;
        for length in 1..=16u32 {
            let count = usize::from(counts[length as usize - 1]);
            if count > 0 {
                offset[length as usize] = index as i32 - code as i32;
                for _ in 0..count {
                    if code >= (1 << length) {
                        return Err(corrupt("over-subscribed Huffman table"));
                    }
                    if length <= FAST_BITS {
                        let shift = FAST_BITS - length;
                        let entry = ((length as u16) << 8) | u16::from(values[index]);
                        let first = (code << shift) as usize;
                        fast[first..first + (1 << shift)].fill(entry);
                    }
                    code += 1;
                    index += 1;
                }
                max_code[length as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        Ok(Table {
            fast,
            max_code,
            offset,
            values: values.to_vec(),
        })
    }

    /// Decode one symbol, or fail on a bit pattern that is no code of this table.
    pub(super) fn decode(&self, bits: &mut Bits<'_>) -> Result<u8> {
        let peek = bits.peek16();
        let entry = self.fast[(peek >> (16 - FAST_BITS)) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        for length in FAST_BITS + 1..=16 {
            let code = (peek >> (16 - length)) as i32;
            if code <= self.max_code[length as usize] {
                bits.consume(length);
                let at = (self.offset[length as usize] + code) as usize;
                return Ok(self.values[at]);
            }
        }
        Err(corrupt("bad Huffman code"))
    }
}

/// Bits of one restart interval, most significant first; reading past the end gives zeros
/// (as libjpeg does) and is reported by [`Bits::overran`].
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Bits<'a> {
        Bits { data, pos: 0 }
    }

    fn byte(&self, i: usize) -> u32 {
        self.data.get(i).copied().map_or(0, u32::from)
    }

    fn peek16(&self) -> u32 {
        let at = self.pos / 8;
        let window = (self.byte(at) << 16) | (self.byte(at + 1) << 8) | self.byte(at + 2);
        (window >> (8 - self.pos % 8)) & 0xFFFF
    }

    fn consume(&mut self, n: u32) {
        self.pos += n as usize;
    }

    /// Read and discard `n` (≤ 16) bits.
    pub(super) fn skip(&mut self, n: u32) {
        self.consume(n);
    }

    /// Read `n` (≤ 16) bits as a number.
    pub(super) fn read(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let value = self.peek16() >> (16 - n);
        self.consume(n);
        value
    }

    /// Whether more bits were read than the interval holds.
    pub(super) fn overran(&self) -> bool {
        self.pos > self.data.len() * 8
    }

    /// Whole bytes after the last bit read.
    pub(super) fn unread_bytes(&self) -> usize {
        self.data.len().saturating_sub(self.pos.div_ceil(8))
    }
}

fn corrupt(what: &str) -> Error {
    Error::CorruptInput(format!("corrupt JPEG data: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_codes_decode_to_their_symbols() {
        // Lengths: one 2-bit code, two 3-bit codes, one 12-bit code.
        let mut counts = [0u8; 16];
        counts[1] = 1;
        counts[2] = 2;
        counts[11] = 1;
        let table = Table::new(&counts, &[7, 8, 9, 10]).unwrap();
        // 00 | 010 | 011 | 100000000000 (the first 12-bit code after 011 is (011+1)<<9)
        let stream = [0b0001_0011, 0b1000_0000, 0b0000_0000];
        let mut bits = Bits::new(&stream);
        let symbols: Vec<u8> = (0..4).map(|_| table.decode(&mut bits).unwrap()).collect();
        assert_eq!(symbols, [7, 8, 9, 10]);
        assert_eq!(bits.pos, 2 + 3 + 3 + 12);
        assert!(!bits.overran());
    }

    #[test]
    fn a_pattern_outside_the_code_is_an_error() {
        let mut counts = [0u8; 16];
        counts[0] = 1; // the single code "0"
        let table = Table::new(&counts, &[1]).unwrap();
        let mut bits = Bits::new(&[0xFF, 0xFF]);
        assert!(table.decode(&mut bits).is_err());
    }

    #[test]
    fn over_subscribed_tables_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three 1-bit codes cannot exist
        assert!(Table::new(&counts, &[1, 2, 3]).is_err());
    }

    #[test]
    fn reading_past_the_end_is_reported() {
        let mut bits = Bits::new(&[0xAB]);
        assert_eq!(bits.read(4), 0xA);
        assert_eq!(bits.unread_bytes(), 0);
        assert_eq!(bits.read(8), 0xB0);
        assert!(bits.overran());
    }
}
