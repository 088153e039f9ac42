//! Bounds-checked reads from an untrusted TIFF structure (a TIFF file, or an EXIF payload after
//! `Exif\0\0`): the byte order from the header, then 16- and 32-bit values at any offset, each
//! `None` when it would run past the end.

/// A TIFF structure whose header (`II*\0` or `MM\0*`) has been checked.
pub(crate) struct TiffBytes<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl<'a> TiffBytes<'a> {
    /// `None` unless `data` starts with a classic TIFF header (BigTIFF is not read here).
    pub(crate) fn open(data: &'a [u8]) -> Option<Self> {
        let big_endian = match data.get(0..4)? {
            b"MM\0*" => true,
            b"II*\0" => false,
            _ => return None,
        };
        Some(Self { data, big_endian })
    }

    pub(crate) fn u16_at(&self, pos: usize) -> Option<u16> {
        let b = self.data.get(pos..pos.checked_add(2)?)?;
        Some(if self.big_endian {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    }

    pub(crate) fn u32_at(&self, pos: usize) -> Option<u32> {
        let b = self.data.get(pos..pos.checked_add(4)?)?;
        Some(if self.big_endian {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    }

    /// The offset of the first image file directory, from the header.
    pub(crate) fn first_ifd(&self) -> Option<usize> {
        usize::try_from(self.u32_at(4)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_byte_orders_and_stops_at_the_end() {
        let le = TiffBytes::open(b"II*\0\x08\0\0\0\x34\x12").unwrap();
        assert_eq!(le.first_ifd(), Some(8));
        assert_eq!(le.u16_at(8), Some(0x1234));
        assert_eq!(le.u16_at(9), None);
        assert_eq!(le.u32_at(usize::MAX - 1), None);
        let be = TiffBytes::open(b"MM\0*\0\0\0\x08\x12\x34").unwrap();
        assert_eq!(be.first_ifd(), Some(8));
        assert_eq!(be.u16_at(8), Some(0x1234));
        assert!(TiffBytes::open(b"II*").is_none());
        assert!(TiffBytes::open(b"GIF89a").is_none());
    }
}
