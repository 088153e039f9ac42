//! Bindings of `fastredact_core::metadata`: strip bytes, or a batch of files with the GIL
//! released. Results are plain tuples (errors as exception objects); `fastredact.strip` wraps
//! them in dataclasses.

use std::path::PathBuf;

use fastredact_core::jpeg_check::{self, ScanCheck};
use fastredact_core::metadata::files::{self, Durability};
use fastredact_core::metadata::{self, Format, Pieces, Policy, Report};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{file_err, guarded, to_py_err};

/// (kind, count, bytes) for each kind of removed content.
type Removed = Vec<(&'static str, u64, u64)>;

fn removed(report: &Report) -> Removed {
    report
        .removed
        .iter()
        .map(|r| (r.kind, r.count, r.bytes))
        .collect()
}

/// The container format sniffed from the content (`"jpeg"`, `"png"`, `"webp"`, `"gif"`,
/// `"tiff"`, `"bmp"`, `"heif"`, `"avif"`, `"jxl"`, `"raw"`), or `None` when unknown.
#[pyfunction]
fn sniff_format(data: &[u8]) -> Option<&'static str> {
    metadata::sniff(data).map(|f| f.name())
}

/// The formats `strip_metadata` rewrites losslessly (`Format::is_lossless`), so the Python
/// layer never keeps a copy of that list.
#[pyfunction]
fn lossless_formats() -> Vec<&'static str> {
    Format::ALL
        .iter()
        .filter(|f| f.is_lossless())
        .map(|f| f.name())
        .collect()
}

/// Whether a TIFF structure is a camera RAW (DNG, NEF, ARW, CR2, …) by its directories,
/// not by whether LibRaw would open it (LibRaw also "develops" plain grayscale TIFFs).
#[pyfunction]
fn is_camera_raw_tiff(data: &[u8]) -> bool {
    metadata::is_camera_raw_tiff(data)
}

/// Strip metadata from an encoded image. Returns `(cleaned bytes, format, removed,
/// orientation)`, where `removed` lists `(kind, count, bytes)` and `orientation` is the
/// EXIF Orientation found in the input (or `None`).
#[pyfunction]
#[pyo3(signature = (data, icc = "keep", orientation = "keep"))]
#[allow(clippy::type_complexity)]
fn strip_metadata<'py>(
    py: Python<'py>,
    data: &[u8],
    icc: &str,
    orientation: &str,
) -> PyResult<(Bound<'py, PyBytes>, &'static str, Removed, Option<u16>)> {
    guarded(|| {
        let policy = Policy::parse(icc, orientation).map_err(to_py_err)?;
        let mut pieces = Pieces::new();
        let report = py
            .detach(|| metadata::strip_pieces(data, &policy, &mut pieces))
            .map_err(to_py_err)?;
        // One copy, straight into the Python bytes object.
        let clean = PyBytes::new_with(py, pieces.len(), |buf| {
            pieces.copy_to_slice(buf);
            Ok(())
        })?;
        Ok((
            clean,
            report.format.name(),
            removed(&report),
            report.orientation,
        ))
    })
}

/// Strip a HEIF / HEIC or AVIF still image by rebuilding its container around the primary
/// image (`fastredact_core::metadata::strip_heif`). Returns `(cleaned bytes, format,
/// removed)`. The caller must check that the output decodes to the input's picture.
#[pyfunction]
#[pyo3(signature = (data, icc = "keep"))]
fn strip_heif<'py>(
    py: Python<'py>,
    data: &[u8],
    icc: &str,
) -> PyResult<(Bound<'py, PyBytes>, &'static str, Removed)> {
    guarded(|| {
        let policy = Policy::parse(icc, "keep").map_err(to_py_err)?;
        let stripped = py
            .detach(|| metadata::strip_heif(data, &policy))
            .map_err(to_py_err)?;
        Ok((
            PyBytes::new(py, &stripped.data),
            stripped.report.format.name(),
            removed(&stripped.report),
        ))
    })
}

/// One file's outcome: `(format, removed, orientation, error)`; `error` is the exception
/// (mapped by [`file_err`]) on failure, when the others are empty.
type FileOutcome = (
    Option<&'static str>,
    Removed,
    Option<u16>,
    Option<Py<PyAny>>,
);

/// Strip many files (`(src, dst)` pairs) in parallel with the GIL released. Each output is
/// written atomically; one failure does not stop the batch. `durable=True` syncs each output
/// to the device before its rename and each destination folder at the end.
#[pyfunction]
#[pyo3(signature = (pairs, icc = "keep", orientation = "keep", threads = None, durable = false))]
fn strip_files(
    py: Python<'_>,
    pairs: Vec<(PathBuf, PathBuf)>,
    icc: &str,
    orientation: &str,
    threads: Option<usize>,
    durable: bool,
) -> PyResult<Vec<FileOutcome>> {
    guarded(|| {
        let policy = Policy::parse(icc, orientation).map_err(to_py_err)?;
        let durability = if durable {
            Durability::Synced
        } else {
            Durability::PageCache
        };
        let results = py
            .detach(|| files::strip_files(&pairs, &policy, threads, durability))
            .map_err(to_py_err)?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                Ok(report) => (
                    Some(report.format.name()),
                    removed(&report),
                    report.orientation,
                    None,
                ),
                Err(e) => (
                    None,
                    Vec::new(),
                    None,
                    Some(file_err(e).into_value(py).into_any()),
                ),
            })
            .collect())
    })
}

/// Huffman-decode every scan of a JPEG (GIL released) and check that each restart interval
/// and scan ends exactly where its data ends. `None` when every scan is whole, or the kind of
/// JPEG left unchecked (`"arithmetic"`, `"lossless/hierarchical"`, …); raises `CorruptInput`
/// naming the first damage.
#[pyfunction]
fn check_jpeg_scans(py: Python<'_>, data: &[u8]) -> PyResult<Option<&'static str>> {
    guarded(|| {
        match py
            .detach(|| jpeg_check::check_scans(data))
            .map_err(to_py_err)?
        {
            ScanCheck::Whole => Ok(None),
            ScanCheck::NotChecked(reason) => Ok(Some(reason)),
        }
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_jpeg_scans, m)?)?;
    m.add_function(wrap_pyfunction!(is_camera_raw_tiff, m)?)?;
    m.add_function(wrap_pyfunction!(lossless_formats, m)?)?;
    m.add_function(wrap_pyfunction!(sniff_format, m)?)?;
    m.add_function(wrap_pyfunction!(strip_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(strip_heif, m)?)?;
    m.add_function(wrap_pyfunction!(strip_files, m)?)?;
    Ok(())
}
