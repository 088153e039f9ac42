//! "Secure" pixelation: pixelate, then add secret per-block noise.
//!
//! Each block mean moves by a uniform integer in `[-NOISE, NOISE]` per channel, drawn from
//! a keyed hash of `(seed, block column, block row, channel)`. Pixelation already discards
//! everything inside a block (nothing to deblur); the noise hides the exact block means
//! that depixelation attacks match against. The seed is the secret: the Python API draws
//! it once per process from the OS (`secrets`), so the noise is unknown to whoever sees the
//! output, and the *same* for a block across the frames of a video — averaging many
//! frames converges to the noisy value, not the true mean. Pass an explicit seed only for
//! reproducible tests: anyone who knows the seed can subtract the noise.

use super::pixelate::Blocks;

/// Half-width of the noise range.
pub const NOISE: i64 = 48;

/// splitmix64's finaliser: a bijective 64-bit mixer.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The noise of block `(bx, by)`, channel `c`, in `[-NOISE, NOISE]`.
#[inline]
pub fn noise(seed: u64, bx: u64, by: u64, c: u64) -> i64 {
    let key = mix64(
        seed ^ bx.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ by.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ c.wrapping_mul(0x1656_67B1_9E37_79F9),
    );
    (key % (2 * NOISE as u64 + 1)) as i64 - NOISE
}

/// Add the noise to every block that has pixels.
pub fn add_noise(blocks: &mut Blocks, seed: u64) {
    let nc = blocks.nc;
    for (i, &n) in blocks.counts.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let bx = (blocks.bx0 + i % blocks.nbx) as u64;
        let by = (blocks.by0 + i / blocks.nbx) as u64;
        for ch in 0..nc {
            let m = &mut blocks.means[i * nc + ch];
            *m = (i64::from(*m) + noise(seed, bx, by, ch as u64)).clamp(0, 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_and_spread() {
        let mut hist = [0usize; (2 * NOISE + 1) as usize];
        for bx in 0..100 {
            for by in 0..100 {
                let v = noise(7, bx, by, 0);
                assert!((-NOISE..=NOISE).contains(&v));
                hist[(v + NOISE) as usize] += 1;
            }
        }
        // Roughly uniform: every value drawn, none wildly over-represented.
        assert!(hist.iter().all(|&h| h > 40 && h < 200), "{hist:?}");
        assert_ne!(noise(7, 1, 2, 0), noise(8, 1, 2, 0));
    }

    #[test]
    fn known_values_pin_the_hash() {
        // The numpy reference backend reimplements this hash; these values pin both.
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(1), 0x5692_161D_100B_05E5);
        assert_eq!(noise(0, 0, 0, 0), -NOISE);
    }
}
