//! Stripping files in bulk: read, strip, write atomically, many files in parallel.
//!
//! The only file-aware part of the metadata module (kept here, not in the bindings, so it
//! is tested by `cargo test` and the bindings stay thin). The input file is never modified;
//! the output appears atomically (a temporary file in the destination folder, renamed into
//! place), and on any error nothing is left at the destination.

use std::cell::RefCell;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::{strip_pieces, Pieces, Policy, Report};
use crate::error::Error;

/// Why one file of a batch failed.
#[derive(Debug)]
pub enum FileError {
    /// Reading the input or writing the output failed.
    Io(String),
    /// The content was refused (unsupported, corrupt, …).
    Strip(Error),
}

impl FileError {
    /// A short stable kind: the core error kinds, or `"io_error"`.
    pub fn kind(&self) -> &'static str {
        match self {
            FileError::Io(_) => "io_error",
            FileError::Strip(e) => e.kind(),
        }
    }

    /// The one-line cause.
    pub fn message(&self) -> &str {
        match self {
            FileError::Io(m) => m,
            FileError::Strip(e) => e.message(),
        }
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether outputs are flushed to the storage device before a batch reports success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Written to the page cache, then renamed into place (what `cp`, ExifTool and most
    /// tools do). Atomic for readers and for a killed process; after a power loss an output
    /// may be missing or empty, never partial with other content.
    #[default]
    PageCache,
    /// Also `fdatasync` each output before its rename, and `fsync` each destination folder
    /// once at the end of the batch: the outputs survive a power loss once the call returns.
    Synced,
}

/// The folder a destination lives in (`.` for a bare file name).
fn parent_dir(dst: &Path) -> PathBuf {
    match dst.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// At most this many bytes of an output's name go into its temporary file's name, which must
/// fit the filesystem's 255-byte limit once the process id, a counter and the marker are added.
const TEMP_NAME_BYTES: usize = 100;

/// The start of `name`, cut to [`TEMP_NAME_BYTES`] bytes on a character boundary.
fn temp_name_part(name: &str) -> &str {
    let mut end = name.len().min(TEMP_NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Write `pieces` to `dst` atomically: a new temporary file beside it, then a rename.
fn write_pieces_atomic(dst: &Path, pieces: &Pieces<'_>, durability: Durability) -> io::Result<()> {
    let dir = parent_dir(dst);
    fs::create_dir_all(&dir)?;
    let name = dst
        .file_name()
        .map(|n| temp_name_part(&n.to_string_lossy()).to_owned())
        .unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.fastredact-tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        pieces.write_to(&mut f)?;
        if durability == Durability::Synced {
            f.sync_data()?;
        }
        drop(f);
        fs::rename(&tmp, dst)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Write `data` to `dst` atomically: a new temporary file beside it, then a rename.
pub fn write_atomic(dst: &Path, data: &[u8]) -> io::Result<()> {
    let mut pieces = Pieces::new();
    pieces.push_input(data);
    write_pieces_atomic(dst, &pieces, Durability::PageCache)
}

/// Whether `dst` exists and is the very file `src` is (same device and inode on Unix).
fn is_same_file(src: &fs::File, src_path: &Path, dst: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = src_path;
        match (src.metadata(), fs::metadata(dst)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = src;
        match (fs::canonicalize(src_path), fs::canonicalize(dst)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// Read the whole file into `buf` (cleared first) with one read of the known size.
fn read_into(f: &mut fs::File, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    buf.reserve(usize::try_from(size).unwrap_or(0));
    f.read_to_end(buf)?;
    Ok(())
}

/// Strip one file into `dst`. Refuses to overwrite the input itself.
pub fn strip_file(src: &Path, dst: &Path, policy: &Policy) -> Result<Report, FileError> {
    strip_file_with(src, dst, policy, Durability::PageCache)
}

fn strip_file_with(
    src: &Path,
    dst: &Path,
    policy: &Policy,
    durability: Durability,
) -> Result<Report, FileError> {
    let read_error = |e: io::Error| FileError::Io(format!("cannot read {}: {e}", src.display()));
    let mut file = fs::File::open(src).map_err(read_error)?;
    if is_same_file(&file, src, dst) {
        return Err(FileError::Strip(Error::InvalidArgument(format!(
            "refusing to overwrite the input {}: choose another destination",
            src.display()
        ))));
    }
    // A per-thread input buffer, reused across files: a fresh multi-megabyte allocation
    // costs a page fault per 4 KiB, more than the stripping itself.
    thread_local! {
        static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    INPUT.with(|cell| {
        let mut input = cell.borrow_mut();
        read_into(&mut file, &mut input).map_err(read_error)?;
        drop(file);
        let mut pieces = Pieces::new();
        let report = strip_pieces(&input, policy, &mut pieces).map_err(FileError::Strip)?;
        write_pieces_atomic(dst, &pieces, durability)
            .map_err(|e| FileError::Io(format!("cannot write {}: {e}", dst.display())))?;
        drop(pieces);
        // Do not keep a huge buffer alive after an unusually large file.
        const KEEP: usize = 64 << 20;
        if input.capacity() > KEEP {
            *input = Vec::new();
        }
        Ok(report)
    })
}

/// `fsync` every folder that received an output, so the renames themselves are durable.
/// A failure turns that folder's successful results into errors.
fn sync_folders(pairs: &[(PathBuf, PathBuf)], results: &mut [Result<Report, FileError>]) {
    let mut dirs: Vec<PathBuf> = pairs
        .iter()
        .zip(results.iter())
        .filter(|(_, r)| r.is_ok())
        .map(|((_, dst), _)| parent_dir(dst))
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        if let Err(e) = fs::File::open(&dir).and_then(|d| d.sync_all()) {
            for ((_, dst), r) in pairs.iter().zip(results.iter_mut()) {
                if r.is_ok() && parent_dir(dst) == dir {
                    *r = Err(FileError::Io(format!(
                        "cannot sync the folder of {}: {e}",
                        dst.display()
                    )));
                }
            }
        }
    }
}

/// Strip many files in parallel (`threads`: `None` or 0 = one per CPU). One failure does
/// not stop the others; results come back in input order. See [`Durability`] for what
/// `durability` buys and costs.
pub fn strip_files(
    pairs: &[(PathBuf, PathBuf)],
    policy: &Policy,
    threads: Option<usize>,
    durability: Durability,
) -> Result<Vec<Result<Report, FileError>>, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start worker threads: {e}")))?;
    let mut results: Vec<_> = pool.install(|| {
        pairs
            .par_iter()
            .with_max_len(1)
            .map(|(src, dst)| strip_file_with(src, dst, policy, durability))
            .collect()
    });
    if durability == Durability::Synced {
        sync_folders(pairs, &mut results);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "fastredact-files-{name}-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn batch_keeps_going_and_leaves_no_partial_output() {
        let dir = tempdir("batch");
        let good = crate::metadata::jpeg::tests::build(&[], &[], b"TRAILER");
        fs::write(dir.join("good.jpg"), &good).unwrap();
        fs::write(dir.join("bad.jpg"), &good[..good.len() / 2]).unwrap();
        fs::write(dir.join("text.jpg"), b"not an image").unwrap();
        let out = dir.join("out");
        let pairs: Vec<(PathBuf, PathBuf)> = ["good.jpg", "bad.jpg", "text.jpg", "missing.jpg"]
            .iter()
            .map(|n| (dir.join(n), out.join("sub").join(n)))
            .collect();
        let results =
            strip_files(&pairs, &Policy::default(), Some(2), Durability::PageCache).unwrap();
        assert!(results[0].is_ok());
        assert_eq!(results[1].as_ref().unwrap_err().kind(), "corrupt_input");
        assert_eq!(
            results[2].as_ref().unwrap_err().kind(),
            "unsupported_format"
        );
        assert_eq!(results[3].as_ref().unwrap_err().kind(), "io_error");
        let mut names: Vec<_> = fs::read_dir(out.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec!["good.jpg"]);
        let written = fs::read(out.join("sub/good.jpg")).unwrap();
        assert!(!written.ends_with(b"TRAILER"));
        // Synced writes give the same bytes (and the same failures).
        let synced_pairs: Vec<(PathBuf, PathBuf)> = pairs
            .iter()
            .map(|(s, _)| (s.clone(), dir.join("synced").join(s.file_name().unwrap())))
            .collect();
        let synced =
            strip_files(&synced_pairs, &Policy::default(), None, Durability::Synced).unwrap();
        let kinds: Vec<_> = synced
            .iter()
            .map(|r| r.as_ref().err().map(|e| e.kind()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                None,
                Some("corrupt_input"),
                Some("unsupported_format"),
                Some("io_error")
            ]
        );
        assert_eq!(fs::read(dir.join("synced/good.jpg")).unwrap(), written);
        // The input is untouched, and overwriting it is refused.
        assert_eq!(fs::read(dir.join("good.jpg")).unwrap(), good);
        let same = strip_file(
            &dir.join("good.jpg"),
            &dir.join("good.jpg"),
            &Policy::default(),
        );
        assert_eq!(same.unwrap_err().kind(), "invalid_argument");
        assert_eq!(fs::read(dir.join("good.jpg")).unwrap(), good);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_name_at_the_filesystem_limit_is_written() {
        let dir = tempdir("long");
        // 250 bytes of multi-byte characters and ASCII: the temporary name must still fit.
        let name = format!("{}{}.jpg", "é".repeat(100), "a".repeat(46));
        assert_eq!(name.len(), 250);
        let good = crate::metadata::jpeg::tests::build(&[], &[], b"TRAILER");
        fs::write(dir.join("in.jpg"), &good).unwrap();
        strip_file(&dir.join("in.jpg"), &dir.join(&name), &Policy::default()).unwrap();
        assert!(!fs::read(dir.join(&name)).unwrap().ends_with(b"TRAILER"));
        assert_eq!(temp_name_part(&name).len(), 100);
        assert_eq!(temp_name_part("é").len(), 2);
        assert_eq!(temp_name_part(&"é".repeat(60)).len(), 100);
        assert_eq!(temp_name_part(&format!("a{}", "é".repeat(60))).len(), 99);
        fs::remove_dir_all(&dir).unwrap();
    }
}
