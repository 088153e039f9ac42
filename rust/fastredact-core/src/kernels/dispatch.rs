//! Runtime CPU dispatch.
//!
//! Each hot loop is written once as an `#[inline(always)]` generic function of plain
//! integer and `f32` arithmetic, and compiled several times: inside functions carrying
//! `#[target_feature(enable = ...)]` for AVX2 and AVX-512 (x86-64), and with the baseline
//! features (SSE2 on x86-64, NEON on aarch64, where NEON is always present). LLVM
//! vectorises each copy for its instruction set. Every path computes exactly the same
//! values: the integer arithmetic is exact, the one float operation per element
//! (`sum as f32 * inv + 0.5`, truncated) is IEEE-754 single precision on every path, and
//! Rust never contracts a multiply and an add into an FMA on its own.
//!
//! The environment variable `FASTREDACT_SIMD` (`scalar`, `avx2`, `avx512`, `neon`, or
//! `auto`, the default) forces a path; forcing one the CPU lacks is an error.

use std::sync::OnceLock;

use crate::error::{Error, Result};

/// An instruction-set level the kernels were compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Baseline code generation (SSE2 on x86-64; whatever the target guarantees elsewhere).
    Scalar,
    /// x86-64 AVX2.
    Avx2,
    /// x86-64 AVX-512 (F + BW).
    Avx512,
    /// aarch64 NEON (the baseline there, so the same code as `Scalar` on that target).
    Neon,
}

impl Level {
    /// The name used by `FASTREDACT_SIMD`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
            Level::Neon => "neon",
        }
    }

    /// Whether this CPU can run the level.
    pub fn available(self) -> bool {
        match self {
            Level::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(target_arch = "aarch64")]
            Level::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The best level this CPU supports.
    pub fn best() -> Level {
        [Level::Avx512, Level::Avx2, Level::Neon]
            .into_iter()
            .find(|l| l.available())
            .unwrap_or(Level::Scalar)
    }

    /// Every level this CPU supports.
    pub fn all_available() -> Vec<Level> {
        [Level::Scalar, Level::Avx2, Level::Avx512, Level::Neon]
            .into_iter()
            .filter(|l| l.available())
            .collect()
    }

    /// Parse a `FASTREDACT_SIMD` value.
    pub fn parse(name: &str) -> Result<Option<Level>> {
        let level = match name.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => return Ok(None),
            "scalar" => Level::Scalar,
            "avx2" => Level::Avx2,
            "avx512" => Level::Avx512,
            "neon" => Level::Neon,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "FASTREDACT_SIMD={other:?}: expected auto, scalar, avx2, avx512 or neon"
                )))
            }
        };
        if !level.available() {
            return Err(Error::InvalidArgument(format!(
                "FASTREDACT_SIMD={}: this CPU does not support it",
                level.name()
            )));
        }
        Ok(Some(level))
    }
}

/// The level in use: `FASTREDACT_SIMD` if set (read once per process), else the best.
pub fn selected() -> Result<Level> {
    static CHOICE: OnceLock<Result<Option<Level>>> = OnceLock::new();
    let choice = CHOICE.get_or_init(|| match std::env::var("FASTREDACT_SIMD") {
        Ok(v) => Level::parse(&v),
        Err(_) => Ok(None),
    });
    match choice {
        Ok(Some(l)) => Ok(*l),
        Ok(None) => Ok(Level::best()),
        Err(e) => Err(e.clone()),
    }
}

/// Define `$name(level, args…)` that runs `$generic(args…)` compiled for `level`.
/// `$generic` must be `#[inline(always)]` so that it is inlined into (and vectorised for)
/// each target-feature copy.
macro_rules! multiversion {
    ($vis:vis fn $name:ident => $generic:ident ( $($arg:ident : $ty:ty),* $(,)? )) => {
        $vis fn $name(level: $crate::kernels::dispatch::Level, $($arg: $ty),*) {
            match level {
                #[cfg(target_arch = "x86_64")]
                $crate::kernels::dispatch::Level::Avx512 => {
                    #[target_feature(enable = "avx512f,avx512bw,avx2")]
                    unsafe fn avx512($($arg: $ty),*) {
                        $generic($($arg),*)
                    }
                    // SAFETY: `Level::Avx512` is only selected after `Level::available`
                    // confirmed AVX-512F/BW (and so AVX2) on this CPU.
                    unsafe { avx512($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                $crate::kernels::dispatch::Level::Avx2 => {
                    #[target_feature(enable = "avx2")]
                    unsafe fn avx2($($arg: $ty),*) {
                        $generic($($arg),*)
                    }
                    // SAFETY: `Level::Avx2` is only selected after `Level::available`
                    // confirmed AVX2 on this CPU.
                    unsafe { avx2($($arg),*) }
                }
                _ => $generic($($arg),*),
            }
        }
    };
}

pub(crate) use multiversion;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names() {
        assert_eq!(Level::parse("auto").unwrap(), None);
        assert_eq!(Level::parse("").unwrap(), None);
        assert_eq!(Level::parse("scalar").unwrap(), Some(Level::Scalar));
        assert!(Level::parse("sse9").is_err());
        for l in [Level::Avx2, Level::Avx512, Level::Neon] {
            assert_eq!(Level::parse(l.name()).is_ok(), l.available());
        }
    }

    #[test]
    fn best_is_available() {
        assert!(Level::best().available());
        assert!(Level::all_available().contains(&Level::Scalar));
    }
}
