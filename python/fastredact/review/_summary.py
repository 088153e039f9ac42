"""``fastredact review --summary``: what a review found, for a release sign-off and for the
playbook of recurring edge cases: misses by tag and by scenario, false positives by label,
how many sampled pictures were looked at."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from fastredact.corrections import read_corrections, standing

__all__ = ["format_summary", "summarise"]


def summarise(path: Path) -> dict[str, Any]:
    """The counts of the corrections file at ``path`` (standing rows only; a ``sample.json``
    beside it adds the sample's size)."""
    rows = read_corrections(path)
    live = standing(rows)
    added = [r for r in live if r.action == "add"]
    removed = [r for r in live if r.action == "remove"]
    looked_at = {(r.input, r.frame) for r in live if r.action in ("add", "remove", "accept")}
    summary: dict[str, Any] = {
        "corrections_file": str(path),
        "rows": len(rows),
        "withdrawn": sum(1 for r in rows if r.action == "withdraw"),
        "reviewers": sorted({r.reviewer for r in rows if r.reviewer}),
        "pictures_reviewed": len(looked_at),
        "pictures_accepted": len({(r.input, r.frame) for r in live if r.action == "accept"}),
        "originals_viewed": sum(1 for r in live if r.action == "view-original"),
        "misses": len(added),
        "misses_by_tag": dict(Counter(r.tag or "other" for r in added).most_common()),
        "misses_by_scenario": dict(Counter(r.scenario for r in added).most_common()),
        "misses_by_label": dict(Counter(r.label or "?" for r in added).most_common()),
        "misses_by_tag_and_scenario": _pairs(
            Counter((r.tag or "other", r.scenario) for r in added)
        ),
        "false_positives": len(removed),
        "false_positives_by_label": dict(Counter(r.label or "?" for r in removed).most_common()),
        "false_positives_by_scenario": dict(Counter(r.scenario for r in removed).most_common()),
        "inputs_with_corrections": len({r.input for r in added + removed}),
    }
    sample = path.parent / "sample.json"
    if sample.is_file():
        try:
            how = json.loads(sample.read_text(encoding="utf-8")).get("how", {})
            summary["sample_size"] = how.get("drawn")
            summary["sample_method"] = how.get("method")
        except (OSError, ValueError, AttributeError):
            pass
    return summary


def _pairs(counts: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"tag": t, "scenario": s, "misses": n} for (t, s), n in counts.most_common()]


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as the terminal shows it."""
    lines = [f"review summary of {summary['corrections_file']}"]
    reviewed = summary["pictures_reviewed"]
    size = summary.get("sample_size")
    sample = f" of a sample of {size}" if size else ""
    lines.append(
        f"  pictures reviewed: {reviewed}{sample} ({summary['pictures_accepted']} accepted as "
        f"they were); reviewers: {', '.join(summary['reviewers']) or '-'}"
    )
    misses = summary["misses"]
    rate = f", {misses / reviewed:.2f} per reviewed picture" if reviewed else ""
    lines.append(
        f"  misses (boxes added): {misses} on {summary['inputs_with_corrections']} input(s){rate}"
    )
    for title, key in (
        ("by tag", "misses_by_tag"),
        ("by scenario", "misses_by_scenario"),
        ("by label", "misses_by_label"),
    ):
        if summary[key]:
            lines.append(f"    {title}: " + ", ".join(f"{k} {v}" for k, v in summary[key].items()))
    if summary["misses_by_tag_and_scenario"]:
        lines.append("    tag x scenario:")
        for p in summary["misses_by_tag_and_scenario"]:
            lines.append(f"      {p['tag']:<18} {p['scenario']:<24} {p['misses']}")
    lines.append(f"  false positives (boxes unhidden): {summary['false_positives']}")
    if summary["false_positives_by_label"]:
        by = summary["false_positives_by_label"].items()
        lines.append("    by label: " + ", ".join(f"{k} {v}" for k, v in by))
    lines.append(
        f"  originals viewed: {summary['originals_viewed']}; rows withdrawn: "
        f"{summary['withdrawn']}; rows in all: {summary['rows']}"
    )
    return "\n".join(lines)
