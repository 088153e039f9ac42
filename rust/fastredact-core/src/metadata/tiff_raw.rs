//! Telling a camera RAW that happens to be a TIFF structure (DNG, NEF, ARW, CR2, PEF, SRW, …)
//! apart from a plain TIFF picture, from the TIFF structure alone.
//!
//! LibRaw cannot be asked: it "develops" a plain 16-bit grayscale TIFF (a film scan, a
//! microscope image) as if it were a Bayer mosaic, which destroys the picture. A file is a
//! camera RAW here only when its structure says so: the CR2 signature, a DNGVersion tag, an
//! image directory whose photometric interpretation is a colour filter array or linear raw,
//! or one compressed with a camera maker's raw scheme.

use super::tiff_bytes::TiffBytes;

/// TIFF tags read here.
const PHOTOMETRIC: u16 = 262;
const COMPRESSION: u16 = 259;
const SUB_IFDS: u16 = 330;
const DNG_VERSION: u16 = 0xC612;

/// Photometric interpretations of sensor data: CFA (TIFF/EP, DNG) and LinearRaw (DNG).
const RAW_PHOTOMETRIC: [u32; 2] = [32803, 34892];
/// Compression schemes used only for camera sensor data: Sony ARW (32767), Samsung (32769,
/// 32770), Kodak KDC/DCR (32867, 65000), Nikon NEF (34713), Panasonic (34316), Pentax PEF
/// (65535).
const RAW_COMPRESSION: [u32; 8] = [32767, 32769, 32770, 32867, 34316, 34713, 65000, 65535];

/// Directories visited at most (the IFD chain and SubIFDs together): a crafted file cannot
/// make the walk long, and a cycle ends.
const MAX_IFDS: usize = 64;

struct Tiff<'a> {
    bytes: TiffBytes<'a>,
}

impl Tiff<'_> {
    fn u16_at(&self, pos: usize) -> Option<u16> {
        self.bytes.u16_at(pos)
    }

    fn u32_at(&self, pos: usize) -> Option<u32> {
        self.bytes.u32_at(pos)
    }

    /// The first value of an entry (SHORT or LONG), or `None` for other types.
    fn scalar(&self, entry: usize) -> Option<u32> {
        match self.u16_at(entry + 2)? {
            3 => self.u16_at(entry + 8).map(u32::from),
            4 | 13 => self.u32_at(entry + 8),
            _ => None,
        }
    }

    /// The offsets listed by a SubIFDs entry (LONG or IFD type).
    fn offsets(&self, entry: usize) -> Vec<usize> {
        let (Some(kind), Some(count)) = (self.u16_at(entry + 2), self.u32_at(entry + 4)) else {
            return Vec::new();
        };
        if kind != 4 && kind != 13 {
            return Vec::new();
        }
        let count = count.min(MAX_IFDS as u32) as usize;
        let start = if count == 1 {
            entry + 8
        } else {
            match self.u32_at(entry + 8) {
                Some(at) => at as usize,
                None => return Vec::new(),
            }
        };
        (0..count)
            .filter_map(|i| self.u32_at(start.checked_add(i * 4)?))
            .map(|at| at as usize)
            .collect()
    }
}

/// Whether `data` (a classic TIFF structure) is a camera RAW. Malformed directories are
/// skipped, not trusted: a damaged plain TIFF is refused later by its decoder.
pub fn is_camera_raw_tiff(data: &[u8]) -> bool {
    let Some(bytes) = TiffBytes::open(data) else {
        return false;
    };
    if data.get(8..10) == Some(b"CR") {
        return true; // Canon CR2
    }
    let Some(first) = bytes.first_ifd() else {
        return false;
    };
    let tiff = Tiff { bytes };
    let mut pending = vec![(first, true)];
    let mut visited = Vec::new();
    while let Some((ifd, in_chain)) = pending.pop() {
        if ifd == 0 || visited.contains(&ifd) || visited.len() >= MAX_IFDS {
            continue;
        }
        visited.push(ifd);
        let Some(entries) = tiff.u16_at(ifd) else {
            continue;
        };
        for i in 0..usize::from(entries) {
            let entry = ifd.saturating_add(2 + i * 12);
            let Some(tag) = tiff.u16_at(entry) else {
                break;
            };
            let value = tiff.scalar(entry);
            match tag {
                DNG_VERSION => return true,
                PHOTOMETRIC if value.is_some_and(|v| RAW_PHOTOMETRIC.contains(&v)) => return true,
                COMPRESSION if value.is_some_and(|v| RAW_COMPRESSION.contains(&v)) => return true,
                SUB_IFDS => pending.extend(tiff.offsets(entry).into_iter().map(|at| (at, false))),
                _ => {}
            }
        }
        if in_chain {
            let next = ifd.saturating_add(2 + usize::from(entries) * 12);
            if let Some(at) = tiff.u32_at(next) {
                pending.push((at as usize, true));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF whose IFD0 holds `tags` (SHORT values), optionally pointing at a
    /// SubIFD that holds `sub_tags`.
    fn tiff(tags: &[(u16, u16)], sub_tags: &[(u16, u16)]) -> Vec<u8> {
        let mut t = b"II*\0".to_vec();
        t.extend_from_slice(&8u32.to_le_bytes());
        let n = tags.len() + usize::from(!sub_tags.is_empty());
        let sub_at = 8 + 2 + n * 12 + 4;
        t.extend_from_slice(&(n as u16).to_le_bytes());
        for &(tag, value) in tags {
            t.extend_from_slice(&tag.to_le_bytes());
            t.extend_from_slice(&3u16.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
            t.extend_from_slice(&u32::from(value).to_le_bytes());
        }
        if !sub_tags.is_empty() {
            t.extend_from_slice(&SUB_IFDS.to_le_bytes());
            t.extend_from_slice(&4u16.to_le_bytes());
            t.extend_from_slice(&1u32.to_le_bytes());
            t.extend_from_slice(&(sub_at as u32).to_le_bytes());
        }
        t.extend_from_slice(&0u32.to_le_bytes());
        if !sub_tags.is_empty() {
            t.extend_from_slice(&tiff(sub_tags, &[])[8..]);
        }
        t
    }

    #[test]
    fn plain_grayscale_tiff_is_not_raw() {
        // 16-bit BlackIsZero, uncompressed: what a film scanner writes.
        assert!(!is_camera_raw_tiff(&tiff(
            &[(PHOTOMETRIC, 1), (COMPRESSION, 1)],
            &[]
        )));
    }

    #[test]
    fn cfa_in_a_sub_ifd_is_raw() {
        let plain = [(PHOTOMETRIC, 2), (COMPRESSION, 1)];
        assert!(is_camera_raw_tiff(&tiff(&plain, &[(PHOTOMETRIC, 32803)])));
        assert!(is_camera_raw_tiff(&tiff(&plain, &[(COMPRESSION, 34713)])));
        assert!(!is_camera_raw_tiff(&tiff(&plain, &[(PHOTOMETRIC, 6)])));
    }

    #[test]
    fn dng_version_and_cr2_signature_are_raw() {
        assert!(is_camera_raw_tiff(&tiff(&[(DNG_VERSION, 1)], &[])));
        let mut cr2 = tiff(&[(PHOTOMETRIC, 2)], &[]);
        cr2.splice(8..8, *b"CR\x02\0");
        assert!(is_camera_raw_tiff(&cr2));
    }

    #[test]
    fn cycles_and_garbage_end_the_walk() {
        let mut looped = tiff(&[(PHOTOMETRIC, 1)], &[]);
        let next = looped.len() - 4;
        looped[next..].copy_from_slice(&8u32.to_le_bytes()); // IFD0 -> IFD0
        assert!(!is_camera_raw_tiff(&looped));
        let mut bytes = b"II*\0\xff\xff\xff\x7f".to_vec();
        bytes.extend_from_slice(&[0xAB; 64]);
        assert!(!is_camera_raw_tiff(&bytes));
        assert!(!is_camera_raw_tiff(b"II*\0"));
    }
}
