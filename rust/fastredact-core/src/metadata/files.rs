//! Stripping files in bulk: read, strip, write atomically, many files in parallel.
//!
//! The only file-aware part of the metadata module (kept here, not in the bindings, so it
//! is tested by `cargo test` and the bindings stay thin). The input file is never modified;
//! the output appears atomically (a temporary file in the destination folder, renamed into
//! place), and on any error nothing is left at the destination.

use std::cell::RefCell;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::{strip_into, Policy, Report};
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

/// Write `data` to `dst` atomically: a new temporary file beside it, then a rename.
pub fn write_atomic(dst: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match dst.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.fastredact-tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(data)?;
        f.flush()?;
        drop(f);
        fs::rename(&tmp, dst)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Strip one file into `dst`. Refuses to overwrite the input itself.
pub fn strip_file(src: &Path, dst: &Path, policy: &Policy) -> Result<Report, FileError> {
    if same_file(src, dst) {
        return Err(FileError::Strip(Error::InvalidArgument(format!(
            "refusing to overwrite the input {}: choose another destination",
            src.display()
        ))));
    }
    // Per-thread buffers, reused across files: fresh multi-megabyte allocations cost a page
    // fault per 4 KiB, more than the stripping itself.
    thread_local! {
        static BUFFERS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    }
    BUFFERS.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (input, output) = &mut *guard;
        input.clear();
        fs::File::open(src)
            .and_then(|mut f| f.read_to_end(input))
            .map_err(|e| FileError::Io(format!("cannot read {}: {e}", src.display())))?;
        let report = strip_into(input, policy, output).map_err(FileError::Strip)?;
        write_atomic(dst, output)
            .map_err(|e| FileError::Io(format!("cannot write {}: {e}", dst.display())))?;
        // Do not keep huge buffers alive after an unusually large file.
        const KEEP: usize = 64 << 20;
        if input.capacity() > KEEP {
            *input = Vec::new();
        }
        if output.capacity() > KEEP {
            *output = Vec::new();
        }
        Ok(report)
    })
}

/// Strip many files in parallel (`threads`: `None` or 0 = one per CPU). One failure does
/// not stop the others; results come back in input order.
pub fn strip_files(
    pairs: &[(PathBuf, PathBuf)],
    policy: &Policy,
    threads: Option<usize>,
) -> Result<Vec<Result<Report, FileError>>, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start worker threads: {e}")))?;
    Ok(pool.install(|| {
        pairs
            .par_iter()
            .with_max_len(1)
            .map(|(src, dst)| strip_file(src, dst, policy))
            .collect()
    }))
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
        let results = strip_files(&pairs, &Policy::default(), Some(2)).unwrap();
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
}
