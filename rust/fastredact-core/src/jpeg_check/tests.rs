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
