"""Progress reporting: videos report every frame written, to the API and to the CLI's bar."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import av
import pytest

from fastredact import Redactor, cli
from fastredact.commands._progress import FrameBar
from tests.support.videoclips import make_square_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_square_clip(tmp_path_factory.mktemp("progress") / "clip.mp4", frames=20)


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def test_redact_file_reports_each_frame_written(clip: Path, tmp_path: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    result = Redactor(workers=1, plates=False).redact_file(
        clip, tmp_path / "out.mp4", frame_progress=lambda *call: calls.append(call)
    )
    assert result.status == "ok", result.error
    n = decoded_frames(clip)
    assert [done for _, done, _ in calls] == list(range(1, n + 1))
    assert {path for path, _, _ in calls} == {str(clip)}
    with av.open(str(clip)) as c:
        declared = c.streams.video[0].frames or None
    assert {total for _, _, total in calls} == {declared}
    assert decoded_frames(tmp_path / "out.mp4") == n == result.frames


def test_photos_report_no_frames(shared_data: Path, tmp_path: Path) -> None:
    calls: list[object] = []
    src = shared_data / "anonymizer" / "coco02.jpg"
    result = Redactor(workers=1, plates=False).redact_file(
        src, tmp_path / "out.jpg", frame_progress=lambda *call: calls.append(call)
    )
    assert result.status == "ok", result.error
    assert calls == []


def test_cli_shows_a_frame_bar_and_counts_frames(
    clip: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # bars are drawn on terminals
    code = cli.main(["redact", str(clip), "-o", str(tmp_path / "out"), "--no-plates"])
    err = capsys.readouterr().err
    n = decoded_frames(clip)
    assert code == 0, err
    assert "video frames" in err and f"{n}/{n}" in err, err
    assert f"({n} video frames)" in err.splitlines()[-1], err


def test_cli_no_progress_shows_no_bar(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["redact", str(clip), "-o", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "video frames:" not in err
    assert err.strip().splitlines() == [err.strip().splitlines()[-1]]  # the summary only


def test_no_bar_when_stderr_is_not_a_terminal(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A job's log (stderr redirected) gets the summary, not a bar update per file."""
    code = cli.main(["redact", str(clip), "-o", str(tmp_path / "out"), "--no-plates"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "\r" not in err and "file/s" not in err and "video frames:" not in err, err
    assert err.strip().splitlines() == [err.strip().splitlines()[-1]]


def test_frame_bar_sums_videos_reported_from_several_threads(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    bar = FrameBar()

    def video(name: str, frames: int) -> None:
        for done in range(1, frames + 1):
            bar(name, done, frames)

    threads = [threading.Thread(target=video, args=(f"v{i}.mp4", 50 + i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bar.close()
    total = sum(50 + i for i in range(4))
    assert bar.frames == total
    assert f"{total}/{total}" in capsys.readouterr().err
