"""``run_demo`` in the all-in-one mode: every real service in one process, the whole flow over
HTTP through the gateway, and a finished video at the end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from editbay_cli.demo import run_demo
from editbay_cli.demo.footage import SAMPLE_TAKES, SCENES
from editbay_common.media.probe import probe


@pytest.mark.e2e
@pytest.mark.timeout(900)
async def test_run_demo_produces_the_planned_video(tmp_path: Path) -> None:
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    result = await run_demo(tmp_path / "demo", console=console)

    # Every sample take went in and was analysed; file names gave scene and take numbers.
    assert len(result.takes) == len(SAMPLE_TAKES)
    assert {t["state"] for t in result.takes} == {"READY"}
    numbers = {(t["sceneNumber"], t.get("takeNumber")) for t in result.takes}
    assert numbers == {(s.scene, s.take) for s in SAMPLE_TAKES}

    # One choice per scene, each a take of that scene, with a sensible span.
    scene_of = {t["name"]: t["sceneNumber"] for t in result.takes}
    filename_of = {t["name"]: t["originalFilename"] for t in result.takes}
    choices = result.plan["choices"]
    assert result.plan["state"] == "APPROVED"
    assert [c["sceneNumber"] for c in choices] == sorted(SCENES)
    for choice in choices:
        assert scene_of[choice["take"]] == choice["sceneNumber"]
        assert 0 <= choice.get("inSeconds", 0.0) < choice["outSeconds"]
    # The take that stops before the scene's last line is never the one chosen.
    stops_early = next(s.filename for s in SAMPLE_TAKES if s.note == "stops early")
    assert all(filename_of[c["take"]] != stops_early for c in choices)

    # The downloaded video is the render of that plan.
    assert result.render_job["state"] == "SUCCEEDED"
    assert result.video_path.is_file()
    assert result.video_path.parent == (tmp_path / "demo").resolve()
    info = await probe(result.video_path)
    assert info.video is not None and info.audio is not None
    assert info.duration_s == pytest.approx(result.plan["totalDurationSeconds"], abs=0.5)

    if "training" in result.services:
        assert result.style_profile is not None
        assert result.style_profile["referenceVideoCount"] >= 1
        assert result.style_profile["style"]["durationSeconds"] == pytest.approx(
            info.duration_s, abs=0.5
        )
    assert str(result.video_path) in output.getvalue().replace("\n", "")
