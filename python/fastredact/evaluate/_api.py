"""The three evaluations as functions: each measures, then writes its report
(:class:`~fastredact.evaluate._report.Report`) into a folder and returns what it measured.
``fastredact eval`` calls these; so can a pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastredact.errors import FastRedactError
from fastredact.evaluate._labels import read_labels
from fastredact.evaluate._plots import recall_by_height, reid_distances, residual_scores
from fastredact.evaluate._reid import (
    LINK_AUC,
    MIN_FACE_PX,
    SAME_PERSON_DISTANCE,
    FileLocator,
    ReidReport,
    evaluate_reid,
    load_embedder,
)
from fastredact.evaluate._report import Report, run_header, share, write_jsonl
from fastredact.evaluate._residual import (
    ResidualScan,
    hidden_regions,
    residual_summary,
    scan_outputs,
)
from fastredact.evaluate._truth import (
    HEIGHT_BINS,
    MATCH_RULE,
    TruthReport,
    evaluate_truth,
    load_scenarios,
    thresholds_of,
)
from fastredact.run._manifest import manifest_runs

__all__ = ["manifest_runs", "reid_report", "residual_report", "truth_report"]

MISSES_SHOWN = 40
"""Misses listed in report.md (all of them are in misses.jsonl and report.json)."""


# -- truth ---------------------------------------------------------------------------------


def truth_report(
    manifest: Path,
    labels: Path,
    out: Path,
    *,
    fingerprint: str | None = None,
    scenarios: Path | None = None,
    names: list[str] | None = None,
    allow_missing: bool = False,
    command: str = "fastredact eval truth",
) -> tuple[TruthReport, list[Path]]:
    """Score the last run of ``manifest`` (or the one ``fingerprint`` names) against the
    ``labels`` of its originals; write the report into ``out``."""
    truth = read_labels(labels, names=names)
    record, rows = manifest_runs(manifest, fingerprint)[-1]
    thresholds = thresholds_of(record)
    scenario_map = load_scenarios(scenarios) if scenarios is not None else None
    result = evaluate_truth(rows, truth, thresholds, scenario_map, allow_missing=allow_missing)
    report = Report("fastredact eval truth", command)
    header = run_header(record)
    report.data = {
        "data": {
            "labels": str(labels),
            "manifest": str(manifest),
            "scenarios": str(scenarios or ""),
        },
        "run": header,
        **result.as_dict(),
    }
    report.heading("Data")
    report.paragraph(
        f"Labels `{labels}` ({len(truth.objects)} images), manifest "
        f"`{manifest}`: {result.photos} photos of the run scored"
        + (f", {len(result.unlabelled)} without labels not counted" if result.unlabelled else "")
        + (f", {result.not_in_run} labelled images not in the run" if result.not_in_run else "")
        + "."
    )
    report.runs([header])
    report.heading("Match rule")
    thresholds_text = ", ".join(f"{k} {v:g}" for k, v in thresholds.items())
    report.paragraph(f"{MATCH_RULE}. Reporting thresholds: {thresholds_text}.")
    _truth_tables(report, result)
    misses = [m.as_dict() for m in result.misses]
    extra = [write_jsonl(out / "misses.jsonl", misses)]
    report.risk = _truth_risk(result)
    written = report.write(out, plots=lambda folder: recall_by_height(result, folder))
    return result, written + extra


def _truth_tables(report: Report, result: TruthReport) -> None:
    data = result.as_dict()["labels"]
    report.heading("Recall and precision")
    rows: list[tuple[Any, ...]] = []
    for label in result.labels:
        d = data[label]
        rows.append((
            label, d["objects"],
            f"{share(d['found'], d['objects'])} / {share(d['hidden'], d['objects'])}",
            f"{_fmt(d['recall_found_iou'])} / {_fmt(d['recall_hidden_iou'])}",
            f"{_fmt(d['precision_found'])} / {_fmt(d['precision_hidden'])}",
            f"{_fmt(d['false_found_per_photo'], 2)} / {_fmt(d['false_hidden_per_photo'], 2)}",
        ))  # fmt: skip
    report.table(
        ("label", "objects", "recall found / hidden (centre)", "recall found / hidden (IoU ≥ 0.5)",
         "precision found / hidden", "false boxes per photo found / hidden"),
        rows,
    )  # fmt: skip
    report.heading("By object height (px)")
    names = [name for name, _, _ in HEIGHT_BINS]
    report.paragraph("found / hidden (centre rule), objects in brackets.")
    report.table(
        ("label", *names),
        [
            (label, *(
                f"{share(c.found, c.objects)} / {share(c.hidden, c.objects)} ({c.objects})"
                for c in (result.by_height[label][n] for n in names)
            ))
            for label in result.labels
        ],
    )  # fmt: skip
    report.heading("By scenario")
    rows = []
    for label in result.labels:
        for scenario, c in sorted(result.by_scenario[label].items()):
            rows.append((label, scenario, c.objects, share(c.found, c.objects),
                         share(c.hidden, c.objects)))  # fmt: skip
    report.table(("label", "scenario", "objects", "found", "hidden"), rows)
    report.heading("Misses")
    report.paragraph(
        f"{len(result.misses)} labelled objects no hidden box covers (all in `misses.jsonl`, "
        f"the first {MISSES_SHOWN} here)."
    )
    report.table(
        ("file", "label", "box (x0, y0, x1, y1)", "height", "scenario"),
        [(f"`{m.path}`", m.label, [round(v) for v in m.box], round(m.height), m.scenario)
         for m in result.misses[:MISSES_SHOWN]],
    )  # fmt: skip


def _truth_risk(result: TruthReport) -> list[str]:
    lines = []
    for label in result.labels:
        c = result.overall[label]
        if not c.objects:
            continue
        big = [result.by_height[label][n] for n, lo, _ in HEIGHT_BINS if lo >= 16]
        objects16 = sum(b.objects for b in big)
        hidden16 = sum(b.hidden for b in big)
        lines.append(
            f"- {label}: {c.objects - c.hidden} of {c.objects} labelled "
            f"({share(c.objects - c.hidden, c.objects)}) "
            f"not covered by any hidden region; of those at least 16 px high, "
            f"{objects16 - hidden16} of {objects16} ({share(objects16 - hidden16, objects16)})."
        )
    return lines or ["- no labelled object of a label the run detects."]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# -- residual ------------------------------------------------------------------------------


def residual_report(
    folder: Path,
    out: Path,
    *,
    manifest: Path | None = None,
    threshold: float | None = None,
    every: int = 1,
    crops: Path | None = None,
    command: str = "fastredact eval residual",
) -> tuple[ResidualScan, list[Path]]:
    """Run every detector over every photo and video frame under ``folder`` (a run's
    output); write the report into ``out`` and, with ``crops``, a crop of each residual.
    With the run's ``manifest``, residuals on the regions it hid are told apart."""
    if not folder.is_dir():
        raise FastRedactError(f"{folder}: no such folder")
    for name, inside in (("the report folder", out), ("the crops folder", crops)):
        if inside is not None and inside.resolve().is_relative_to(folder.resolve()):
            raise FastRedactError(
                f"{inside}: {name} is inside {folder}, which is scanned (a later scan would "
                "find what it holds)"
            )
    hidden = None
    header = None
    if manifest is not None:
        record, rows = manifest_runs(manifest)[-1]
        header = run_header(record)
        hidden = hidden_regions(rows, float(header["settings"].get("mask_scale", 1.45)))
    scan = scan_outputs(folder, threshold=threshold, every=every, crops=crops, hidden=hidden)
    summary = residual_summary(scan)
    rows_out = [r.as_dict() for r in scan.residuals]
    report = Report("fastredact eval residual", command)
    report.data = {
        "data": {"folder": str(folder), "every": every, "manifest": str(manifest or "")},
        "run": header,
        **summary,
        "residuals": rows_out,
    }
    report.heading("Data")
    report.paragraph(
        f"Every photo and {'every' if every == 1 else f'every {every}th'} video frame under "
        f"`{folder}`: {scan.files} files, {scan.frames} pictures"
        + (f"; {len(scan.errors)} files could not be read" if scan.errors else "")
        + "."
    )
    if header is not None:
        report.runs([header])
    report.heading("Detectors")
    report.paragraph(
        "Faces: the default ensemble (YuNet and CenterFace), and CenterFace also on 3x-enlarged "
        "tiles (faces down to ~10 px); plates: PlateNet. Thresholds: "
        + ", ".join(f"{k} {v:.3g}" for k, v in scan.thresholds.items())
        + (" (a run's hiding thresholds)" if threshold is None else "")
        + "; a residual is *strong* at or above the reporting threshold ("
        + ", ".join(f"{k} {v:.3g}" for k, v in scan.reporting.items())
        + "), else *weak*. "
        + (
            "*On hidden*: its centre lies on a region the run hid (the hidden blob itself "
            "still looks like a face or plate; `eval reid` measures whether it identifies)."
            if manifest is not None
            else "Give `--manifest` to tell residuals on the regions the run hid apart."
        )
    )
    report.heading("Residuals")
    counts = summary["residuals_by_label"]
    report.table(
        ("label", "strong", "weak", "on hidden regions", "elsewhere"),
        [(label, c["strong"], c["weak"], c["on_hidden"] if hidden is not None else "-",
          c["outside_hidden"] if hidden is not None else "-") for label, c in counts.items()],
    )  # fmt: skip
    ordered = sorted(scan.residuals, key=lambda r: (bool(r.on_hidden), not r.strong, -r.score))
    report.paragraph(
        f"The first {min(MISSES_SHOWN, len(ordered))} (strong and elsewhere first; all in "
        "`residuals.jsonl`):"
    )
    report.table(
        ("file", "frame", "label", "box (x0, y0, x1, y1)", "score", "strong", "on hidden"),
        [(f"`{r.path}`", r.frame, r.label, [round(v) for v in r.box], f"{r.score:.2f}",
          "yes" if r.strong else "no", {None: "-", True: "yes", False: "no"}[r.on_hidden])
         for r in ordered[:MISSES_SHOWN]],
    )  # fmt: skip
    if scan.errors:
        report.heading("Files not scanned")
        report.lines += [f"- {e}" for e in scan.errors] + [""]
    extra = [write_jsonl(out / "residuals.jsonl", rows_out)]
    strong_elsewhere = [r for r in scan.residuals if r.strong and not r.on_hidden]
    report.risk = [
        f"- {len(strong_elsewhere)} strong residual detections"
        + (" not on a hidden region" if hidden is not None else "")
        + f", in {len({r.path for r in strong_elsewhere})} of {scan.files} files: "
        + (", ".join(f"{lb}: {sum(r.label == lb for r in strong_elsewhere)}"
                     for lb in sorted({r.label for r in strong_elsewhere})) or "none")
        + f"; {len(scan.residuals) - len(strong_elsewhere)} more weak or on hidden regions.",
    ]  # fmt: skip
    if scan.errors:
        report.risk.append(f"- {len(scan.errors)} files could not be scanned (listed above).")
    if crops is not None:
        report.risk.append(
            f"- Crops of each residual: `{crops}` (owner only: they may show a person)."
        )
    written = report.write(out, plots=lambda f: residual_scores(scan, f))
    return scan, written + extra


# -- reid ----------------------------------------------------------------------------------


def reid_report(
    manifest: Path,
    out: Path,
    *,
    mapping: Path | None = None,
    originals: Path | None = None,
    outputs: Path | None = None,
    fingerprint: str | None = None,
    command: str = "fastredact eval reid",
) -> tuple[list[ReidReport], list[Path]]:
    """The re-identification test of every run of ``manifest`` (or the one ``fingerprint``
    names); originals and outputs from ``mapping`` or the ``originals`` / ``outputs``
    folders."""
    if mapping is None and (originals is None or outputs is None):
        raise FastRedactError(
            "eval reid needs the run's --mapping file, or --originals and --outputs"
        )
    runs = manifest_runs(manifest, fingerprint)
    embedder = load_embedder()
    locator = FileLocator(mapping, originals, outputs)
    results = [
        evaluate_reid(record, rows, locator, embedder, thresholds_of(record))
        for record, rows in runs
    ]
    report = Report("fastredact eval reid", command)
    headers = [run_header(record) for record, _ in runs]
    report.data = {
        "data": {"manifest": str(manifest), "mapping": str(mapping or ""),
                 "originals": str(originals or ""), "outputs": str(outputs or "")},
        "rule": {"same_person_distance": SAME_PERSON_DISTANCE, "min_face_px": MIN_FACE_PX,
                 "link_auc": LINK_AUC},
        "runs": [{**h, **r.as_dict()} for h, r in zip(headers, results, strict=True)],
    }  # fmt: skip
    report.heading("Data")
    report.paragraph(
        f"Manifest `{manifest}`: {len(runs)} run(s); every face hidden at the reporting "
        f"threshold and at least {MIN_FACE_PX} px on its shorter side, on photos and on the "
        "sampled frames of videos whose boxes the run listed (`--list-video-boxes`)."
    )
    report.runs(headers)
    report.heading("Method")
    report.paragraph(
        "dlib's ResNet face descriptor (face-recognition-models 0.3.0, SHA-256 checked) embeds "
        "each original face and the redacted one, both aligned with the landmarks of the "
        "original and mid-grey outside the hidden region (the context cannot link them). "
        f"*Distance*: the redacted face is within {SAME_PERSON_DISTANCE} (dlib's same-person "
        "threshold) of its original, and closer to it (by 0.03) than the original with the "
        "region filled black (what leaks nothing); *rank-1*: its nearest original among "
        "the run's is its own "
        "(any frame of its video track); *re-identified*: both; *chance*: the rank-1 share a "
        "random nearest original would give. Video *linkage*: how often two redacted faces of "
        "one track are closer than one of them and another person's redacted face (0.5 chance, "
        f"1 perfect); a track links at {LINK_AUC} or more."
    )
    report.heading("Re-identification per mode and strength")
    report.table(
        ("run", "mode", "strength", "faces", "within 0.6", "rank-1 (chance)", "re-identified",
         "verdict (p)", "median distance", "video: re-identified from another frame",
         "tracks linked"),
        [_reid_row(r) for r in results],
    )  # fmt: skip
    for r in results:
        if r.skipped:
            report.heading(f"Not measured in run {r.fingerprint}", 3)
            report.lines += [f"- {s}" for s in r.skipped] + [""]
    report.risk = [
        f"- run `{r.fingerprint}` ({r.mode}{'' if r.strength is None else f' {r.strength}'}): "
        f"{_verdict(r)}; {r.reidentified} of {r.faces} faces re-identified "
        f"({share(r.reidentified, r.faces)}), rank-1 {share(r.rank1, r.faces)} against "
        f"{_fmt(r.chance)} by chance; " + _linked_text(r)
        for r in results
    ]
    flagged = [
        (f"`{s.path}`", s.frame, [round(v) for v in s.box], f"{d:.3f}")
        for r in results
        for s, d, hit in r.flagged()
        if hit
    ]
    if flagged:
        report.heading("Faces re-identified (review them)")
        report.table(("file", "frame", "box", "distance"), flagged[:MISSES_SHOWN])
    written = report.write(out, plots=lambda f: reid_distances(results, f))
    return results, written


def _reid_row(r: ReidReport) -> Sequence[Any]:
    return (
        f"`{r.fingerprint}`",
        r.mode,
        "default" if r.strength is None else r.strength,
        r.faces,
        share(r.distance, r.faces),
        f"{share(r.rank1, r.faces)} ({_fmt(r.chance)})",
        share(r.reidentified, r.faces),
        _verdict(r),
        _fmt(r.median_distance),
        f"{r.video_reidentified_across_frames} of {r.video_samples}" if r.video_samples else "-",
        _linked_text(r, short=True),
    )


def _verdict(r: ReidReport) -> str:
    if r.reidentifiable is None:
        return "not measured"
    word = "RE-IDENTIFIABLE" if r.reidentifiable else "not re-identifiable"
    return f"{word} (p {r.p_value:.2g})"


def _linked_text(r: ReidReport, short: bool = False) -> str:
    measured = [t for t in r.tracks if t.auc is not None]
    if not r.tracks:
        return "-" if short else "no video tracks."
    linked = sum(1 for t in measured if t.links)
    mean = sum(t.auc or 0 for t in measured) / len(measured) if measured else None
    text = f"{linked} of {len(measured)} (mean {_fmt(mean, 2)})"
    if len(measured) < len(r.tracks):
        text += f", {len(r.tracks) - len(measured)} not measurable"
    return text if short else f"video tracks linked across frames: {text}."
