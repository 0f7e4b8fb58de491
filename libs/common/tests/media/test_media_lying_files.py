"""Files whose headers declare less than they hold: rejected by the strict decode, and never
decoded past their declared duration by the analyses (silence map, shot detection)."""

from __future__ import annotations

import math
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from editbay_common.media import shots, silence
from editbay_common.media.limits import MediaRejected
from editbay_common.media.probe import (
    MediaInfo,
    VideoStream,
    _compare_decoded,
    decode_bound_s,
    inspect,
    probe,
)
from editbay_common.media.process import ProcessResult

RATE = 8000  # the FLAC's sample rate
LONG_S = 60.0  # what the lying files hold
DECLARED_S = 1.0  # what their headers say


def claim_flac_samples(path: Path, samples: int) -> None:
    """Rewrite the total-samples field of a FLAC's STREAMINFO: the 36 bits that follow the sample
    rate (20 bits), channels (3) and bits per sample (5), 13.5 bytes into the block, which is
    the first one, after the "fLaC" marker and a 4-byte block header."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO comes first
    at = 8 + 13
    data[at] = (data[at] & 0xF0) | (samples >> 32)
    data[at + 1 : at + 5] = struct.pack(">I", samples & 0xFFFFFFFF)
    path.write_bytes(bytes(data))


def decoded_seconds(path: Path) -> float:
    """How long the audio really is: an unbounded plain decode."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-ac", "1", "-ar",
         str(RATE), "-f", "s16le", "pipe:1"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    return len(out) / 2 / RATE


@pytest.fixture(scope="module")
def honest_flac(tmp_path_factory: pytest.TempPathFactory, run_ffmpeg: Callable) -> Path:
    """60 s of a tone that comes and goes (speech and pauses for the silence map)."""
    path = tmp_path_factory.mktemp("lying") / "honest.flac"
    tone = f"sine=f=440:r={RATE}:d={LONG_S:g}"
    run_ffmpeg("-f", "lavfi", "-i", tone, "-af", "volume='lt(mod(t,2),1)':eval=frame",
               "-c:a", "flac", str(path))  # fmt: skip
    return path


@pytest.fixture(scope="module")
def lying_flac(honest_flac: Path) -> Path:
    path = honest_flac.with_name("lying.flac")
    path.write_bytes(honest_flac.read_bytes())
    claim_flac_samples(path, round(DECLARED_S * RATE))
    return path


def recording(module: object, monkeypatch: pytest.MonkeyPatch) -> list[ProcessResult]:
    """Every FFmpeg result ``module`` gets from ``run``, to measure what it read."""
    results: list[ProcessResult] = []
    real = module.run  # type: ignore[attr-defined]

    async def run(*args: object, **kwargs: object) -> ProcessResult:
        result = await real(*args, **kwargs)
        results.append(result)
        return result

    monkeypatch.setattr(module, "run", run)
    return results


async def test_the_lying_flac_declares_one_second_and_holds_sixty(lying_flac: Path) -> None:
    assert (await probe(lying_flac)).duration_s == pytest.approx(DECLARED_S)
    assert decoded_seconds(lying_flac) == pytest.approx(LONG_S)


async def test_inspect_rejects_a_flac_longer_than_declared(lying_flac: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        await inspect(lying_flac)
    assert caught.value.reason == "CORRUPT"
    assert "declares 1.0 s" in caught.value.message


async def test_inspect_rejects_a_matroska_longer_than_declared(lying_mkv: Path) -> None:
    assert (await probe(lying_mkv)).duration_s == pytest.approx(DECLARED_S)
    with pytest.raises(MediaRejected) as caught:
        await inspect(lying_mkv)
    assert caught.value.reason == "CORRUPT"
    assert "declares 1.0 s" in caught.value.message


async def test_the_honest_flac_is_accepted_and_mapped_to_its_end(honest_flac: Path) -> None:
    assert (await inspect(honest_flac)).duration_s == pytest.approx(LONG_S)
    found = await silence.silence_map(honest_flac)
    assert found.duration_s == pytest.approx(LONG_S)
    assert len(found.speech) == 30


async def test_silence_map_decodes_no_further_than_declared(
    lying_flac: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = recording(silence, monkeypatch)
    with pytest.raises(MediaRejected) as caught:
        await silence.silence_map(lying_flac)
    assert caught.value.reason == "CORRUPT"
    [result] = results
    bound = 2 * math.ceil(decode_bound_s(DECLARED_S) * silence.ANALYSIS_RATE)
    assert 0 < len(result.stdout) <= bound
    # with the duration given by the caller, the file's headers are not read again
    results.clear()
    with pytest.raises(MediaRejected):
        await silence.silence_map(lying_flac, duration_s=DECLARED_S)
    assert len(results) == 1 and len(results[0].stdout) <= bound


async def test_detect_shots_decodes_no_further_than_declared(
    lying_mkv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = recording(shots, monkeypatch)
    with pytest.raises(MediaRejected) as caught:
        await shots.detect_shots(lying_mkv)
    assert caught.value.reason == "CORRUPT"
    assert "declares 1.0 s" in caught.value.message
    frame = 64 * 36 * 3 // 2  # the analysis picture's bytes
    most = math.ceil(decode_bound_s(DECLARED_S) * 25) + 1
    assert results and sum(len(r.stdout) for r in results) <= most * frame


async def test_a_part_with_more_frames_than_its_rate_allows_is_refused(
    lying_mkv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FFmpeg stops one frame past the cap, so the output is bounded whatever the timestamps."""
    results = recording(shots, monkeypatch)
    with pytest.raises(MediaRejected) as caught:
        await shots._decode_range(lying_mkv, 64, 36, (0.0, 4.0), False, 60.0, max_frames=10)
    assert caught.value.reason == "CORRUPT"
    assert len(results[0].stdout) == 11 * 64 * 36 * 3 // 2


def _info(frame_count: int | None, duration_s: float = 4.0) -> MediaInfo:
    video = VideoStream("h264", 320, 180, 0, 25.0, False, None, "yuv420p", frame_count, None, None)
    return MediaInfo("matroska,webm", duration_s, 1000, 1, video, None)


def test_more_frames_or_time_than_declared_is_corrupt() -> None:
    _compare_decoded(_info(100), {"frame": "103", "out_time_us": "4000000"})
    _compare_decoded(_info(100), {"frame": "100", "out_time_us": str(int(4.5e6))})
    for progress in (
        {"frame": "200", "out_time_us": "4000000"},
        {"frame": "100", "out_time_us": "5000000"},
    ):
        with pytest.raises(MediaRejected) as caught:
            _compare_decoded(_info(100), progress)
        assert caught.value.reason == "CORRUPT" and "declares" in caught.value.message
