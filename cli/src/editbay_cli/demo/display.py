"""Rich tables of the demo's results."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def plan_table(plan: dict[str, Any], filenames: dict[str, str]) -> Table:
    table = Table(title=f"Edit plan v{plan.get('version', '?')} ({plan.get('state', '')})")
    table.add_column("scene", justify="right")
    table.add_column("chosen take")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("confidence", justify="right")
    table.add_column("rationale")
    for choice in plan.get("choices", []):
        take = choice.get("take", "")
        table.add_row(
            str(choice.get("sceneNumber", "")),
            filenames.get(take, take.rsplit("/", 1)[-1]),
            f"{choice.get('inSeconds', 0.0):.2f}s",
            f"{choice.get('outSeconds', 0.0):.2f}s",
            f"{choice.get('confidence', 0.0):.2f}",
            choice.get("rationale", ""),
        )
    total = plan.get("totalDurationSeconds", 0.0)
    table.caption = f"total {total:.1f}s"
    return table


def style_table(profile: dict[str, Any]) -> Table:
    style = profile.get("style", {})
    table = Table(title=f"Style profile of {profile.get('name', '')}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("reference videos", str(profile.get("referenceVideoCount", 0))),
        ("duration", f"{style.get('durationSeconds', 0.0):.1f}s"),
        ("cuts", str(style.get("cutCount", 0))),
        ("cuts per minute", f"{style.get('cutsPerMinute', 0.0):.1f}"),
        ("mean shot", f"{style.get('meanShotSeconds', 0.0):.2f}s"),
        ("median shot", f"{style.get('medianShotSeconds', 0.0):.2f}s"),
        ("loudness", f"{style.get('integratedLoudnessLufs', 0.0):.1f} LUFS"),
        ("loudness range", f"{style.get('loudnessRangeLu', 0.0):.1f} LU"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
