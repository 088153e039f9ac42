//! The only EXIF we ever write: a TIFF structure with one IFD holding one tag, Orientation.
//! And the only EXIF we ever read: that tag, from IFD0 of an untrusted TIFF structure.

use super::tiff_bytes::TiffBytes;

/// The EXIF tag number of Orientation.
const ORIENTATION: u16 = 0x0112;
/// TIFF field type SHORT.
const SHORT: u16 = 3;

/// Read the Orientation (1–8) from IFD0 of a TIFF structure (the EXIF payload after
/// `Exif\0\0`). Anything malformed, out of range or absent gives `None`: the EXIF is dropped
/// anyway, this only decides whether a minimal one replaces it.
pub fn read_orientation(tiff: &[u8]) -> Option<u16> {
    let bytes = TiffBytes::open(tiff)?;
    let u16_at = |pos: usize| bytes.u16_at(pos);
    let u32_at = |pos: usize| bytes.u32_at(pos);
    let ifd0 = bytes.first_ifd()?;
    let entries = u16_at(ifd0)?;
    for i in 0..usize::from(entries) {
        let entry = ifd0.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? != ORIENTATION {
            continue;
        }
        if u16_at(entry + 2)? != SHORT || u32_at(entry + 4)? != 1 {
            return None;
        }
        let value = u16_at(entry + 8)?;
        return (1..=8).contains(&value).then_some(value);
    }
    None
}

/// A big-endian TIFF structure with IFD0 holding Orientation = `orientation` and nothing
/// else (26 bytes). This is the EXIF payload without the `Exif\0\0` prefix.
pub fn minimal_exif_tiff(orientation: u16) -> Vec<u8> {
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"MM\0*");
    t.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    t.extend_from_slice(&1u16.to_be_bytes()); // one entry
    t.extend_from_slice(&ORIENTATION.to_be_bytes());
    t.extend_from_slice(&SHORT.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes()); // count
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]); // value padding
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD (no IFD1, no thumbnail)
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_round_trips() {
        for o in 1..=8 {
            let t = minimal_exif_tiff(o);
            assert_eq!(t.len(), 26);
            assert_eq!(read_orientation(&t), Some(o));
        }
    }

    #[test]
    fn reads_little_endian_after_other_tags() {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&2u16.to_le_bytes());
        // Make (0x010F), ASCII, count 4, inline "Cam\0"
        t.extend_from_slice(&0x010Fu16.to_le_bytes());
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&4u32.to_le_bytes());
        t.extend_from_slice(b"Cam\0");
        t.extend_from_slice(&ORIENTATION.to_le_bytes());
        t.extend_from_slice(&SHORT.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&6u16.to_le_bytes());
        t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        assert_eq!(read_orientation(&t), Some(6));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(read_orientation(b""), None);
        assert_eq!(read_orientation(b"MM\0*"), None);
        assert_eq!(read_orientation(b"MM\0*\xff\xff\xff\xff"), None);
        let mut t = minimal_exif_tiff(6);
        t[17] = 9; // out of range value
        assert_eq!(read_orientation(&t), None);
        let mut t = minimal_exif_tiff(6);
        t[11] = 4; // wrong type (LONG)
        assert_eq!(read_orientation(&t), None);
        // An IFD with 65535 entries that runs off the end.
        let mut t = minimal_exif_tiff(3);
        t[8] = 0xFF;
        t[9] = 0xFF;
        t[10] = 0; // tag no longer Orientation
        assert_eq!(read_orientation(&t), None);
    }
}
