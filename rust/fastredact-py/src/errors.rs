//! Error mapping: every `fastredact_core::Error` and every Rust panic becomes one of the
//! exceptions defined in the Python module `fastredact.errors` (the single hierarchy); this
//! is the only table from Rust errors to Python exceptions.

use std::panic::{catch_unwind, AssertUnwindSafe};

use fastredact_core::metadata::files::FileError;
use fastredact_core::Error;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

pyo3::import_exception!(fastredact.errors, UnsupportedFormat);
pyo3::import_exception!(fastredact.errors, CorruptInput);
pyo3::import_exception!(fastredact.errors, LimitExceeded);
pyo3::import_exception!(fastredact.errors, InternalError);

/// Map a core error onto its Python exception. Invalid arguments are the caller's
/// mistake, so they become a plain `ValueError`, as Python users expect.
pub fn to_py_err(err: Error) -> PyErr {
    let msg = err.message().to_owned();
    match err {
        Error::UnsupportedFormat(_) => UnsupportedFormat::new_err(msg),
        Error::CorruptInput(_) => CorruptInput::new_err(msg),
        Error::LimitExceeded(_) => LimitExceeded::new_err(msg),
        Error::InvalidArgument(_) => PyValueError::new_err(msg),
    }
}

/// Map one file's failure in a batch: the core errors as [`to_py_err`] does, reading or
/// writing the files as `OSError`.
pub fn file_err(err: FileError) -> PyErr {
    match err {
        FileError::Io(msg) => PyOSError::new_err(msg),
        FileError::Strip(e) => to_py_err(e),
    }
}

/// Run `f`, turning a Rust panic into `fastredact.errors.InternalError` instead of letting
/// it unwind into PyO3 (which would raise a `BaseException` subclass that `except
/// Exception` does not catch) or abort the interpreter.
///
/// `AssertUnwindSafe` is sound here: after a panic we drop everything the closure owned
/// and only build an exception; no state it may have left half-updated is read again.
pub fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let cause = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(InternalError::new_err(format!(
                "internal error in fastredact's Rust core (please report it): {cause}"
            )))
        }
    }
}
