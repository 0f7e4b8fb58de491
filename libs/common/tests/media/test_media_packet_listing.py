"""The smart path's packet listing reads the video stream's packets only, and no more of them
than the declared duration and frame rate allow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from editbay_common.media import probe as probe_module
from editbay_common.media.limits import MediaRejected
from editbay_common.media.probe import probe_with_packets
from editbay_common.media.process import ProcessResult


@pytest.fixture(scope="module")
def audio_heavy_mkv(tmp_path_factory: pytest.TempPathFactory, run_ffmpeg: Callable) -> Path:
    """4 s of 25 fps H.264 (100 packets) beside PCM audio in 4-sample packets (8000 of them)."""
    path = tmp_path_factory.mktemp("packets") / "audio-heavy.mkv"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=4",
               "-f", "lavfi", "-i", "sine=r=8000:d=4", "-af", "asetnsamples=n=4",
               "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
               "-c:a", "pcm_s16le", str(path))  # fmt: skip
    return path


def recording(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], ProcessResult]]:
    """Every ffprobe run of the probe module, with what it printed."""
    runs: list[tuple[list[str], ProcessResult]] = []
    real = probe_module.run

    async def run(args: list[str], **kwargs: object) -> ProcessResult:
        result = await real(args, **kwargs)
        runs.append((list(args), result))
        return result

    monkeypatch.setattr(probe_module, "run", run)
    return runs


async def test_only_the_video_packets_are_listed(
    audio_heavy_mkv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = recording(monkeypatch)
    info, listed = await probe_with_packets(audio_heavy_mkv)
    assert info.audio is not None and info.video is not None  # both streams still described
    assert len(listed.times) == len(listed.dts) == 100
    assert [t for t, _ in listed.times] == pytest.approx([i / 25 for i in range(100)])
    assert [t for t, key in listed.times if key] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    # what ffprobe printed stays of the video's size, not the audio's 8000 packets
    assert sum(len(result.stdout) for _, result in runs) < 20_000
    [packets] = [args for args, _ in runs if "-select_streams" in args]
    assert packets[packets.index("-select_streams") + 1] == str(info.video.index)


async def test_the_listing_stops_at_until(audio_heavy_mkv: Path) -> None:
    _, listed = await probe_with_packets(audio_heavy_mkv, until_s=2.0)
    assert len(listed.times) == 50 and max(t for t, _ in listed.times) < 2.0


async def test_more_packets_than_the_declared_duration_allows_are_refused(
    lying_mkv: Path,
) -> None:
    with pytest.raises(MediaRejected) as caught:
        await probe_with_packets(lying_mkv)
    assert caught.value.reason == "CORRUPT" and "packets" in caught.value.message
    # a listing that stops in time by ``until_s`` does not reach the cap
    _, listed = await probe_with_packets(lying_mkv, until_s=2.0)
    assert len(listed.times) == 50
