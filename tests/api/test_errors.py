"""Every Rust core error kind, and a Rust panic, reach Python as the documented exception."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fastredact
from fastredact import _core, errors


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("unsupported_format", errors.UnsupportedFormat),
        ("corrupt_input", errors.CorruptInput),
        ("limit_exceeded", errors.LimitExceeded),
        ("invalid_argument", ValueError),
        ("panic", errors.InternalError),
    ],
)
def test_rust_failure_maps_to_documented_exception(kind: str, expected: type) -> None:
    with pytest.raises(expected) as info:
        _core._selftest_fail(kind)
    assert type(info.value) is expected
    assert str(info.value)  # a one-line cause, never empty
    assert "\n" not in str(info.value)


def test_ok_kind_does_not_raise() -> None:
    assert _core._selftest_fail("ok") is None


def test_unknown_kind_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="bogus"):
        _core._selftest_fail("bogus")


def test_panic_is_a_catchable_fastredact_error() -> None:
    # A panic must be an ordinary Exception (PyO3's own PanicException is a BaseException).
    try:
        _core._selftest_fail("panic")
    except Exception as exc:
        assert isinstance(exc, fastredact.FastRedactError)
    else:
        pytest.fail("a Rust panic did not raise")


def test_panic_does_not_abort_the_interpreter() -> None:
    code = (
        "import fastredact._core as c\n"
        "try:\n    c._selftest_fail('panic')\nexcept Exception as e:\n"
        "    print('caught', type(e).__name__)\n"
        "print('still alive')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "caught InternalError" in done.stdout
    assert "still alive" in done.stdout


def test_hierarchy_has_one_base() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    classes = [cls for cls in classes if isinstance(cls, type)]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, errors.FastRedactError)
        assert getattr(fastredact, cls.__name__) is cls


def test_error_kind_and_one_line() -> None:
    assert errors.error_kind(errors.CorruptInput("x")) == "CorruptInput"
    assert errors.error_kind(PermissionError(13, "denied")) == "PermissionError"
    assert errors.one_line(ValueError("a\n  b\tc ")) == "a b c"
    assert errors.one_line(errors.InternalError()) == "InternalError"
    assert errors.one_line("  two\nlines ") == "two lines"
