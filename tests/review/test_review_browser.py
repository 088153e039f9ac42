"""The review loop in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (both installed by ``.ci/run``).

A run is told to miss the face (``--no-faces``; ``--no-vehicle-plates`` keeps the suit's
false plate, which the second look outside vehicles would drop); on the page the reviewer
draws a box over the face with the mouse, marks the suit's false plate as a false positive,
looks at the original inside it, and reloads (the corrections are still there).
``redact --corrections``
then hides the drawn box, leaves the false positive as the original, and changes nothing
else. Set ``FASTREDACT_REVIEW_SCREENSHOT=FILE.png`` to keep the page's screenshot (the one in
docs/review.md was made so).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from fastredact.cli import main
from fastredact.corrections import read_corrections
from fastredact.review import ReviewServer, ReviewSession, SampleSpec, load_review_run
from fastredact.run import read_manifest
from tests.support import REQUIRE_SHARED_DATA, shared_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_S = 30


def _driver() -> Any:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium (pip install '.[test]')")
    if CHROMIUM is None or CHROMEDRIVER is None:
        _missing("Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def _missing(what: str) -> None:
    if REQUIRE_SHARED_DATA:  # CI installs them: missing there is a failure
        pytest.fail(f"the browser test needs {what}")
    pytest.skip(f"the browser test needs {what}")


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = _driver()
    try:
        yield driver
    finally:
        driver.quit()


def _loaded(driver: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return document.body.dataset.loaded") == "1"
    )


def _status(driver: Any, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S).until(lambda d: text in d.find_element(By.ID, "status").text)


def _at(driver: Any, canvas: Any, x: float, y: float) -> tuple[int, int]:
    """Selenium's offset (from the canvas centre) of manifest pixel ``x, y``."""
    width, natural = driver.execute_script(
        "return [document.getElementById('overlay').width,"
        " document.getElementById('picture').naturalWidth]"
    )
    scale = width / natural
    size = canvas.size
    return round(x * scale - size["width"] / 2), round(y * scale - size["height"] / 2)


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


def test_draw_a_miss_mark_a_false_positive_and_redact_again(
    browser: Any, shared_data: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.open(shared_file(shared_data, "redact-client/obama.jpeg")).save(inputs / "obama.png")
    first = tmp_path / "first"
    # --no-vehicle-plates: the whole-picture plate pass alone gives the suit's false plate
    common = ["--no-faces", "--no-vehicle-plates", "--no-progress", "--workers", "1"]
    assert main(["redact", str(inputs), "-o", str(first), "--manifest",
                 str(tmp_path / "first.jsonl"), *common]) == 0  # fmt: skip
    (row,) = read_manifest(tmp_path / "first.jsonl")
    plate = next(d for d in row["detections"] if d["label"] == "plate")

    run = load_review_run(tmp_path / "first.jsonl", first, [inputs])
    session = ReviewSession(run, tmp_path / "review", SampleSpec(10, 0), "browser-test")
    server = ReviewServer(session)
    server.start()
    try:
        browser.get(server.url)
        _loaded(browser)
        canvas = browser.find_element(By.ID, "overlay")
        x0, y0 = _at(browser, canvas, 300, 190)
        x1, y1 = _at(browser, canvas, 560, 590)
        (
            ActionChains(browser)
            .move_to_element_with_offset(canvas, x0, y0)
            .click_and_hold()
            .move_by_offset((x1 - x0) // 2, (y1 - y0) // 2)
            .move_by_offset(x1 - x0 - (x1 - x0) // 2, y1 - y0 - (y1 - y0) // 2)
            .release()
            .perform()
        )
        Select(browser.find_element(By.ID, "label-select")).select_by_value("face")
        Select(browser.find_element(By.ID, "tag-select")).select_by_value("other")
        browser.find_element(By.ID, "save-box").click()
        _status(browser, "saved (add)")

        px, py = (plate["box"][0] + plate["box"][2]) / 2, (plate["box"][1] + plate["box"][3]) / 2
        ActionChains(browser).move_to_element_with_offset(canvas, *_at(browser, canvas, px, py)) \
            .click().perform()  # fmt: skip
        assert browser.find_element(By.ID, "selected").is_displayed()
        browser.find_element(By.ID, "mark-fp").click()
        _status(browser, "saved (remove)")
        browser.find_element(By.ID, "show-original").click()
        _status(browser, "original shown")

        browser.refresh()
        _loaded(browser)
        listed = browser.find_element(By.ID, "corrections").text
        assert "added face (other)" in listed and "false positive: plate" in listed
        shot = os.environ.get("FASTREDACT_REVIEW_SCREENSHOT")
        if shot:  # the docs' picture shows how the sample was drawn too
            browser.execute_script("document.getElementById('how').open = true")
        browser.save_screenshot(shot or str(tmp_path / "review.png"))
    finally:
        server.stop()

    corrections = tmp_path / "review" / "corrections.jsonl"
    rows = read_corrections(corrections)
    assert [r.action for r in rows] == ["add", "remove", "view-original"]
    added = rows[0]
    assert added.box is not None and added.reviewer == "browser-test"
    assert abs(added.box[0] - 300) < 6 and abs(added.box[3] - 590) < 6, added.box

    second = tmp_path / "second"
    assert main(["redact", str(inputs), "-o", str(second), "--manifest",
                 str(tmp_path / "second.jsonl"), "--corrections", str(corrections),
                 *common]) == 0  # fmt: skip
    (again,) = read_manifest(tmp_path / "second.jsonl")
    assert again["corrections"] == [rows[0].id, rows[1].id]

    original, before, after = (
        _pixels(inputs / "obama.png"),
        _pixels(first / "obama.png"),
        _pixels(second / "obama.png"),
    )
    ax0, ay0, ax1, ay1 = (round(v) for v in added.box)
    inside = (slice(ay0 + 2, ay1 - 2), slice(ax0 + 2, ax1 - 2))
    assert np.abs(after[inside] - original[inside]).mean() > 5, "the drawn box was hidden"
    bx0, by0, bx1, by1 = (int(v) for v in plate["box"])
    fp = (slice(by0, by1), slice(bx0, bx1))
    assert np.array_equal(after[fp], original[fp]), "the false positive shows the original"
    assert not np.array_equal(before[fp], original[fp])
    rest = np.ones(original.shape[:2], bool)
    rest[ay0 - 1 : ay1 + 1, ax0 - 1 : ax1 + 1] = False
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    hw, hh = (bx1 - bx0) * 0.75 + 2, (by1 - by0) * 0.75 + 2  # the margin's mask, scale 1.45
    rest[int(cy - hh) : int(cy + hh) + 1, int(cx - hw) : int(cx + hw) + 1] = False
    for d in again["detections"]:  # what else was hidden: verification's finds, if any
        if d["label"] == "face" and d["score"] == 1.0:
            continue  # the drawn box, excluded exactly above
        x0, y0, x1, y1 = d["box"]
        mx, my = (x1 - x0) * 0.75 + 2, (y1 - y0) * 0.75 + 2
        mcx, mcy = (x0 + x1) / 2, (y0 + y1) / 2
        ys, xs = (
            slice(max(0, int(mcy - my)), int(mcy + my) + 1),
            slice(max(0, int(mcx - mx)), int(mcx + mx) + 1),
        )
        rest[ys, xs] = False
    assert np.array_equal(after[rest], before[rest]), "nothing else changed"
    assert json.loads((tmp_path / "review" / "sample.json").read_text())["how"]["drawn"] == 1
