//! The one error type of the core crate.
//!
//! Every variant maps onto one exception of `fastredact.errors` in the bindings, so a
//! new variant needs a new mapping there (the compiler enforces it: the match is exhaustive).

use std::fmt;

/// What went wrong, with a one-line human-readable cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input is in a format we do not handle (or do not handle losslessly).
    UnsupportedFormat(String),
    /// The input claims a supported format but is malformed or truncated.
    CorruptInput(String),
    /// The input exceeds a configured limit (pixels, sizes, nesting).
    LimitExceeded(String),
    /// The caller passed an argument that makes no sense (bad shape, NaN box, …).
    InvalidArgument(String),
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The one-line cause, without the kind.
    pub fn message(&self) -> &str {
        match self {
            Error::UnsupportedFormat(m)
            | Error::CorruptInput(m)
            | Error::LimitExceeded(m)
            | Error::InvalidArgument(m) => m,
        }
    }

    /// A short stable name of the kind, used in manifests and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnsupportedFormat(_) => "unsupported_format",
            Error::CorruptInput(_) => "corrupt_input",
            Error::LimitExceeded(_) => "limit_exceeded",
            Error::InvalidArgument(_) => "invalid_argument",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_message_alone() {
        let e = Error::CorruptInput("truncated JPEG: no EOI marker".into());
        assert_eq!(e.to_string(), "truncated JPEG: no EOI marker");
        assert_eq!(e.kind(), "corrupt_input");
    }

    #[test]
    fn kinds_are_distinct() {
        let kinds = [
            Error::UnsupportedFormat(String::new()).kind(),
            Error::CorruptInput(String::new()).kind(),
            Error::LimitExceeded(String::new()).kind(),
            Error::InvalidArgument(String::new()).kind(),
        ];
        for (i, a) in kinds.iter().enumerate() {
            for b in &kinds[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
