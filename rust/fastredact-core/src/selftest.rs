//! Deliberate failures, so the Python tests can prove that every core error kind and a
//! panic reach Python as the documented exception (and that a panic never aborts).

use crate::error::{Error, Result};

/// Fail the way `kind` names: one of the [`Error::kind`] names, or `"panic"`.
/// `"ok"` succeeds. Any other name is an [`Error::InvalidArgument`].
pub fn fail_as(kind: &str) -> Result<()> {
    match kind {
        "ok" => Ok(()),
        "unsupported_format" => Err(Error::UnsupportedFormat("selftest: unsupported".into())),
        "corrupt_input" => Err(Error::CorruptInput("selftest: corrupt".into())),
        "limit_exceeded" => Err(Error::LimitExceeded("selftest: too large".into())),
        "invalid_argument" => Err(Error::InvalidArgument("selftest: bad argument".into())),
        "panic" => panic!("selftest: deliberate panic"),
        other => Err(Error::InvalidArgument(format!(
            "selftest: unknown failure kind {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_fails_as_named() {
        for kind in [
            "unsupported_format",
            "corrupt_input",
            "limit_exceeded",
            "invalid_argument",
        ] {
            assert_eq!(fail_as(kind).unwrap_err().kind(), kind);
        }
        assert!(fail_as("ok").is_ok());
        assert_eq!(fail_as("nope").unwrap_err().kind(), "invalid_argument");
    }

    #[test]
    #[should_panic(expected = "deliberate panic")]
    fn panic_kind_panics() {
        let _ = fail_as("panic");
    }
}
