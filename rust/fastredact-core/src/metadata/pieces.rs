//! The cleaned file as a list of pieces: small parts built by a walker (rewritten headers,
//! segment markers) and large slices borrowed from the input (entropy-coded data, kept
//! profiles). Writing a file from pieces copies the image data once (into the kernel), not
//! twice (into an output buffer first).

use std::io::{self, Write};

/// One piece: a range of [`Pieces::built`] or a slice of the input.
#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    Built { start: usize, end: usize },
    Input(&'a [u8]),
}

/// The output of a strip, in order; borrows the input it was made from.
#[derive(Debug, Default)]
pub struct Pieces<'a> {
    built: Vec<u8>,
    pieces: Vec<Piece<'a>>,
    len: usize,
}

impl<'a> Pieces<'a> {
    pub fn new() -> Pieces<'a> {
        Pieces::default()
    }

    /// Append bytes built by the walker (copied; merged with a preceding built piece).
    pub fn push_built(&mut self, bytes: &[u8]) {
        let start = self.built.len();
        self.built.extend_from_slice(bytes);
        let end = self.built.len();
        self.len += bytes.len();
        match self.pieces.last_mut() {
            Some(Piece::Built { end: last_end, .. }) if *last_end == start => *last_end = end,
            _ => self.pieces.push(Piece::Built { start, end }),
        }
    }

    /// Append a whole buffer built elsewhere (moved, not copied, when nothing was pushed yet).
    pub fn push_built_vec(&mut self, bytes: Vec<u8>) {
        if self.pieces.is_empty() && self.built.is_empty() {
            self.len = bytes.len();
            self.pieces.push(Piece::Built {
                start: 0,
                end: bytes.len(),
            });
            self.built = bytes;
        } else {
            self.push_built(&bytes);
        }
    }

    /// Append a slice of the input (borrowed, not copied).
    pub fn push_input(&mut self, slice: &'a [u8]) {
        if slice.is_empty() {
            return;
        }
        self.len += slice.len();
        self.pieces.push(Piece::Input(slice));
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slices(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.pieces.iter().map(|p| match *p {
            Piece::Built { start, end } => &self.built[start..end],
            Piece::Input(s) => s,
        })
    }

    /// Append every piece to `out` (reserving the exact length first).
    pub fn append_to(&self, out: &mut Vec<u8>) {
        out.reserve_exact(self.len);
        for s in self.slices() {
            out.extend_from_slice(s);
        }
    }

    /// Copy every piece into `buf`, which must be exactly [`Pieces::len`] bytes long.
    pub fn copy_to_slice(&self, buf: &mut [u8]) {
        let mut at = 0;
        for s in self.slices() {
            buf[at..at + s.len()].copy_from_slice(s);
            at += s.len();
        }
    }

    /// The whole output as one vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        self.append_to(&mut out);
        out
    }

    /// Write every piece to `w`, each with one `write_all`.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        for s in self.slices() {
            w.write_all(s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_order_and_merge_built_runs() {
        let input = b"0123456789";
        let mut p = Pieces::new();
        assert!(p.is_empty());
        p.push_built(b"ab");
        p.push_built(b"c");
        p.push_input(&input[2..5]);
        p.push_input(&input[..0]);
        p.push_built(b"d");
        assert_eq!(p.pieces.len(), 3);
        let mut moved = Pieces::new();
        moved.push_built_vec(b"xyz".to_vec());
        moved.push_built_vec(b"w".to_vec());
        assert_eq!(moved.to_vec(), b"xyzw");
        assert_eq!(moved.len(), 4);
        assert_eq!(p.len(), 7);
        assert_eq!(p.to_vec(), b"abc234d");
        let mut buf = vec![0; p.len()];
        p.copy_to_slice(&mut buf);
        assert_eq!(buf, b"abc234d");
        let mut w = Vec::new();
        p.write_to(&mut w).unwrap();
        assert_eq!(w, b"abc234d");
    }
}
