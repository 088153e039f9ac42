//! Mutation fuzzing of the container walkers with proptest: real files from the shared corpus
//! (and synthetic ones, always available) are truncated, bit-flipped, spliced and padded.
//! Properties: no panic; every `Ok` output strips again to the same bytes with nothing
//! removed (it re-parses and is already clean) and keeps its format.
//!
//! CI runs the default number of cases; a long run: `PROPTEST_CASES=200000 cargo test
//! --release -p fastredact-core fuzz_`.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;

use crate::jpeg_check::ScanCheck;

use super::{sniff, strip, strip_heif, Format, Policy};

const FOLDERS: &[&str] = &[
    "exiftool",
    "mat2",
    "exif-samples",
    "img-parts",
    "exif-rs",
    "little_exif",
];
const MAX_SEED_SIZE: usize = 256 * 1024;

fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn walk(dir: &PathBuf, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Small JPEG/PNG/WebP/GIF seeds: the shared corpus when present, plus synthetic files.
fn seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = shared_data();
        if !root.is_dir() && std::env::var("FASTREDACT_REQUIRE_SHARED_DATA").as_deref() == Ok("1") {
            panic!("shared test data missing at {}", root.display());
        }
        let mut files = Vec::new();
        for folder in FOLDERS {
            walk(&root.join(folder), &mut files);
        }
        let mut seeds: Vec<Vec<u8>> = files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|d| d.len() <= MAX_SEED_SIZE)
            .filter(|d| sniff(d).is_some_and(|f| f.is_lossless()))
            .collect();
        seeds.push(super::jpeg::tests::build(&[], &[], b"trailer"));
        seeds
    })
}

/// Small HEIF / AVIF seeds: the shared corpus when present, plus synthetic files.
fn heif_seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut files = Vec::new();
        for folder in FOLDERS {
            walk(&shared_data().join(folder), &mut files);
        }
        let mut seeds: Vec<Vec<u8>> = files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|d| d.len() <= MAX_SEED_SIZE)
            .filter(|d| matches!(sniff(d), Some(Format::Heif | Format::Avif)))
            .collect();
        seeds.push(super::heif::tests::photo());
        seeds
    })
}

/// The HEIF surgery never panics, and what it writes strips again to the same bytes with
/// nothing removed.
fn check_heif(data: &[u8], policy: &Policy) -> Result<(), TestCaseError> {
    if let Ok(first) = strip_heif(data, policy) {
        let again = strip_heif(&first.data, policy);
        prop_assert!(again.is_ok(), "output does not re-parse: {:?}", again.err());
        let again = again.unwrap();
        prop_assert_eq!(&again.data, &first.data, "second strip changed the output");
        prop_assert!(
            again.report.removed.is_empty(),
            "not clean: {:?}",
            again.report.removed
        );
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Set(usize, u8),
    /// Copy `len` bytes from `from` to `to` (overwriting).
    Splice(usize, usize, usize),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
    /// Remove `len` bytes at a position.
    Remove(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        pos.prop_map(Mutation::Truncate),
        (pos, 1u8..=255).prop_map(|(p, x)| Mutation::Flip(p, x)),
        (
            pos,
            prop_oneof![
                Just(0xFFu8),
                Just(0x00),
                Just(0xD9),
                Just(0xDA),
                any::<u8>()
            ]
        )
            .prop_map(|(p, b)| Mutation::Set(p, b)),
        (pos, pos, 1usize..512).prop_map(|(a, b, l)| Mutation::Splice(a, b, l)),
        (pos, proptest::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(p, v)| Mutation::Insert(p, v)),
        (pos, 1usize..256).prop_map(|(p, l)| Mutation::Remove(p, l)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let n = data.len().max(1);
    match *m {
        Mutation::Truncate(p) => data.truncate(p % n),
        Mutation::Flip(p, x) => {
            if let Some(b) = data.get_mut(p % n) {
                *b ^= x;
            }
        }
        Mutation::Set(p, v) => {
            if let Some(b) = data.get_mut(p % n) {
                *b = v;
            }
        }
        Mutation::Splice(a, b, l) => {
            let (a, b) = (a % n, b % n);
            let l = l
                .min(data.len().saturating_sub(a))
                .min(data.len().saturating_sub(b));
            let chunk = data[a..a + l].to_vec();
            data[b..b + l].copy_from_slice(&chunk);
        }
        Mutation::Insert(p, ref v) => {
            let p = p % (data.len() + 1);
            data.splice(p..p, v.iter().copied());
        }
        Mutation::Remove(p, l) => {
            let p = p % n;
            let end = p.saturating_add(l).min(data.len());
            if p < end {
                data.drain(p..end);
            }
        }
    }
}

fn check(data: &[u8], policy: &Policy) -> Result<(), TestCaseError> {
    let scans = crate::jpeg_check::check_scans(data); // must not panic, whatever the bytes
    if let Ok(first) = strip(data, policy) {
        if scans == Ok(ScanCheck::Whole) {
            // The strip copies scans byte for byte: they stay whole.
            let after = crate::jpeg_check::check_scans(&first.data);
            prop_assert_eq!(after, Ok(ScanCheck::Whole), "stripping damaged a scan");
        }
        let again = strip(&first.data, policy);
        prop_assert!(again.is_ok(), "output does not re-parse: {:?}", again.err());
        let again = again.unwrap();
        prop_assert_eq!(&again.data, &first.data, "second strip changed the output");
        prop_assert!(
            again.report.removed.is_empty(),
            "output not clean: {:?}",
            again.report.removed
        );
        prop_assert_eq!(sniff(&first.data), Some(first.report.format));
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default() // honours PROPTEST_CASES (default 256)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_mutated_real_files(
        seed in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
        drop in any::<bool>(),
    ) {
        let seeds = seeds();
        let mut data = seed.get(seeds).clone();
        for m in &mutations {
            apply(&mut data, m);
        }
        let policy = if drop {
            Policy::parse("drop", "drop").unwrap()
        } else {
            Policy::default()
        };
        check(&data, &policy)?;
    }

    #[test]
    fn fuzz_mutated_heif_files(
        seed in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
        drop in any::<bool>(),
    ) {
        let mut data = seed.get(heif_seeds()).clone();
        for m in &mutations {
            apply(&mut data, m);
        }
        let policy = Policy::parse(if drop { "drop" } else { "keep" }, "keep").unwrap();
        check_heif(&data, &policy)?;
    }

    #[test]
    fn fuzz_random_bytes_after_a_magic(
        magic in prop_oneof![
            Just(&b"\xFF\xD8\xFF"[..]),
            Just(&b"\x89PNG\r\n\x1a\n"[..]),
            Just(&b"RIFF\x40\0\0\0WEBP"[..]),
            Just(&b"GIF89a"[..]),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut data = magic.to_vec();
        data.extend_from_slice(&tail);
        check(&data, &Policy::default())?;
    }
}

#[test]
fn every_jpeg_seed_has_whole_scans() {
    // Real files only: the synthetic seed's scans are placeholder bytes.
    let synthetic = super::jpeg::tests::build(&[], &[], b"trailer");
    let jpegs: Vec<&Vec<u8>> = seeds()
        .iter()
        .filter(|s| s.starts_with(&[0xFF, 0xD8]) && **s != synthetic)
        .collect();
    assert!(!jpegs.is_empty());
    for (i, s) in jpegs.iter().enumerate() {
        let result = crate::jpeg_check::check_scans(s);
        assert!(
            matches!(result, Ok(ScanCheck::Whole | ScanCheck::NotChecked(_))),
            "JPEG seed {i}: {result:?}"
        );
    }
}

#[test]
fn every_seed_strips_cleanly() {
    let seeds = seeds();
    assert!(!seeds.is_empty());
    for (i, s) in seeds.iter().enumerate() {
        let first = strip(s, &Policy::default()).unwrap_or_else(|e| panic!("seed {i}: {e}"));
        let again = strip(&first.data, &Policy::default()).unwrap();
        assert_eq!(again.data, first.data, "seed {i}");
        assert!(again.report.removed.is_empty(), "seed {i}");
    }
}

#[test]
fn every_heif_seed_strips_cleanly_or_is_refused() {
    let seeds = heif_seeds();
    assert!(
        seeds.len() > 1 || !shared_data().is_dir(),
        "no shared HEIF seeds"
    );
    for (i, s) in seeds.iter().enumerate() {
        match strip_heif(s, &Policy::default()) {
            Ok(first) => {
                let again = strip_heif(&first.data, &Policy::default()).unwrap();
                assert_eq!(again.data, first.data, "seed {i}");
                assert!(again.report.removed.is_empty(), "seed {i}");
            }
            Err(e) => assert_eq!(e.kind(), "unsupported_format", "seed {i}: {e}"),
        }
    }
}
