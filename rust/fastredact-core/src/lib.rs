//! fastredact-core: the pure-Rust heart of fastredact.
//!
//! This crate knows nothing of Python or of files: it works on byte slices and pixel
//! buffers. The PyO3 bindings (`fastredact-py`) are a thin layer over it.

pub mod error;
pub mod jpeg_check;
pub mod kernels;
pub mod mask;
pub mod metadata;
pub mod selftest;
#[cfg(test)]
mod test_rng;

pub use error::{Error, Result};

/// The crate version, reported by the Python package as `fastredact.__version__`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
