use super::*;

#[test]
fn restart_markers_split_intervals_in_sequence() {
    let data = [1, 2, 0xFF, 0xD0, 3, 0xFF, 0x00, 4, 0xFF, 0xD1, 5];
    let parts = split_intervals(&data).unwrap();
    assert_eq!(
        parts,
        vec![&[1u8, 2][..], &[3, 0xFF, 0x00, 4][..], &[5][..]]
    );
    let skipped = [1, 0xFF, 0xD0, 2, 0xFF, 0xD2, 3];
    assert!(split_intervals(&skipped).is_err());
}

#[test]
fn unstuffing_reads_fill_bytes_as_libjpeg_does() {
    let mut out = Vec::new();
    unstuff(&[1, 0xFF, 0x00, 2, 0xFF, 0xFF, 0x00, 3], &mut out);
    assert_eq!(out, [1, 0xFF, 2, 0xFF, 3]);
}

#[test]
fn non_jpeg_and_headerless_input_are_errors() {
    assert!(matches!(
        check_scans(b"GIF89a"),
        Err(Error::UnsupportedFormat(_))
    ));
    assert!(check_scans(&[0xFF, 0xD8, 0xFF, 0xD9]).is_err());
    assert!(check_scans(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08]).is_err());
}

/// A 16x16 grayscale baseline JPEG built here: one DC table with the single code "0" (DC
/// difference 0) and one AC table whose single code "0" is EOB, so every block is two bits.
fn gray_jpeg(scans: usize, scan_bytes: &[u8]) -> Vec<u8> {
    fn seg(v: &mut Vec<u8>, marker: u8, payload: &[u8]) {
        v.extend_from_slice(&[0xFF, marker]);
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(payload);
    }
    let mut v = vec![0xFF, 0xD8];
    seg(&mut v, 0xDB, &[0u8; 65]);
    seg(&mut v, 0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
    let mut dht = vec![0x00, 1];
    dht.extend_from_slice(&[0; 15]);
    dht.push(0); // DC symbol 0
    dht.push(0x10);
    dht.push(1);
    dht.extend_from_slice(&[0; 15]);
    dht.push(0x00); // AC symbol 0x00 = EOB
    seg(&mut v, 0xC4, &dht);
    for _ in 0..scans {
        seg(&mut v, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
        v.extend_from_slice(scan_bytes);
    }
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

#[test]
fn a_jpeg_built_here_checks_whole_and_its_damage_is_named() {
    // 4 blocks x 2 bits fill exactly one byte.
    assert_eq!(check_scans(&gray_jpeg(1, &[0x00])), Ok(ScanCheck::Whole));
    let extra = check_scans(&gray_jpeg(1, &[0x00, 0x00])).unwrap_err();
    assert!(extra.message().contains("extraneous"), "{extra}");
    let short = check_scans(&gray_jpeg(1, &[])).unwrap_err();
    assert!(short.message().contains("premature end"), "{short}");
}

#[test]
fn too_many_scans_is_a_limit_not_a_hang() {
    assert!(matches!(
        check_scans(&gray_jpeg(MAX_SCANS + 1, &[0x00])),
        Err(Error::LimitExceeded(_))
    ));
}
