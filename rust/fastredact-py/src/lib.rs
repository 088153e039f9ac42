//! `fastredact._core`: thin PyO3 bindings over `fastredact-core`.
//!
//! Holds no redaction logic: it converts arguments, releases the GIL around heavy work,
//! and maps core errors and panics onto `fastredact.errors` (see [`errors`]).

use pyo3::prelude::*;

mod errors;
mod kernels;
mod metadata;

use errors::{guarded, to_py_err};

/// Fail on purpose as `kind` names (a core error kind, `"panic"`, or `"ok"`), so tests
/// can check that every failure reaches Python as the documented exception.
#[pyfunction]
fn _selftest_fail(py: Python<'_>, kind: &str) -> PyResult<()> {
    guarded(|| {
        py.detach(|| fastredact_core::selftest::fail_as(kind))
            .map_err(to_py_err)
    })
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", fastredact_core::VERSION)?;
    m.add_function(wrap_pyfunction!(_selftest_fail, m)?)?;
    kernels::register(m)?;
    metadata::register(m)?;
    Ok(())
}
