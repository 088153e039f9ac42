//! Solid fill, and the run writer shared by the block-valued modes.

/// The colour written for `nc` processed channels: RGB(A) takes `fill` as is; a grey image
/// takes `fill[0]` (the Python layer only accepts greys for grey images).
pub fn colour(fill: [u8; 3], nc: usize) -> [u8; 3] {
    if nc == 1 {
        [fill[0]; 3]
    } else {
        fill
    }
}

/// Write `value` (`nc` bytes) into pixels `[a, b)` of an image row with `c` bytes per pixel.
#[inline]
pub fn write_run(row: &mut [u8], a: usize, b: usize, c: usize, value: &[u8]) {
    let nc = value.len();
    for px in row[a * c..b * c].chunks_exact_mut(c) {
        px[..nc].copy_from_slice(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_the_run_and_processed_channels() {
        let mut row = vec![9u8; 5 * 4];
        write_run(&mut row, 1, 3, 4, &[1, 2, 3]);
        assert_eq!(
            row,
            [9, 9, 9, 9, 1, 2, 3, 9, 1, 2, 3, 9, 9, 9, 9, 9, 9, 9, 9, 9]
        );
        assert_eq!(colour([5, 6, 7], 1), [5, 5, 5]);
    }
}
