"""The picture's shape and the sound at a join: other presets' frames, rotated sources, and the
audio of a crossfade."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.render import Segment, Timeline, Transition, get_preset, render

BLACK = 24  # the brightest a black band may decode to (whatever the range of the gray decode)


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory, mt) -> Path:
    """A 16:9 take (320x180): grey, with a white 80x60 marker in its top-left corner."""
    path = tmp_path_factory.mktemp("shapes") / "marked.mp4"
    picture = "color=c=0x808080:s=320x180:r=30:d=2,drawbox=x=0:y=0:w=80:h=60:color=white:t=fill"
    mt.ffmpeg("-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", "sine=f=440:r=48000:d=2",
              "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p",
              "-c:a", "aac", "-ac", "2", str(path))  # fmt: skip
    return path


def span(values: np.ndarray, above: float) -> tuple[int, int]:
    """First and one-past-last index where ``values`` is above ``above``."""
    where = np.nonzero(values > above)[0]
    assert len(where), "no picture found"
    return int(where[0]), int(where[-1]) + 1


@pytest.mark.parametrize("name", ["vertical-1080x1920", "square-1080"])
async def test_a_wide_source_is_letterboxed_in_tall_and_square_presets(marked, tmp_path, mt,
                                                                       name):  # fmt: skip
    preset = get_preset(name)
    tl = Timeline((Segment(marked, 0.2, 1.2),))
    result = await render(tl, preset, tmp_path / f"{name}.mp4")
    video = mt.stream(mt.probe(result.path), "video")
    assert (video["width"], video["height"]) == (preset.width, preset.height)
    assert int(video["nb_frames"]) == tl.frame_count(preset.fps) == result.frame_count == 30
    frame = mt.gray_frame(result.path, 0.5, preset.width, preset.height).astype(int)
    # the whole width is picture, scaled to keep its shape, centred; black bands above and below
    top, bottom = span(frame.mean(axis=1), 60)
    assert abs((bottom - top) - preset.width * 9 / 16) <= 4
    assert abs(top - (preset.height - bottom)) <= 2
    assert frame[: top - 2].max() <= BLACK and frame[bottom + 2 :].max() <= BLACK
    left, right = span(frame[top + 10 : bottom - 10].mean(axis=0), 60)
    assert (left, right) == (0, preset.width)
    # the marker is still in the picture's top-left corner (not flipped or turned)
    scale = preset.width / 320
    ground = np.median(frame[top:bottom])
    marker = frame[top + 4 : top + round(56 * scale), 4 : round(76 * scale)]
    assert marker.mean() > ground + 60
    upper, lower = slice(top + 4, top + 40), slice(bottom - 40, bottom - 4)
    for rows, cols in ((lower, slice(4, 300)), (upper, slice(-300, -4)), (lower, slice(-300, -4))):
        assert abs(frame[rows, cols].mean() - ground) < 8  # the other corners: plain ground


async def test_a_rotated_source_renders_upright(marked, small, tmp_path, mt):
    # a phone's portrait take: landscape pixels with a display matrix that turns them a quarter
    rotated = tmp_path / "rotated.mp4"
    mt.ffmpeg("-i", str(marked), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated))
    video = mt.stream(mt.probe(rotated), "video")
    (matrix,) = [s for s in video.get("side_data_list", []) if "rotation" in s]
    clockwise = round(-float(matrix["rotation"])) % 360  # ffprobe gives it counter-clockwise
    assert clockwise in (90, 270)
    result = await render(Timeline((Segment(rotated, 0.0, 1.0),)), small, tmp_path / "up.mp4")
    frame = mt.gray_frame(result.path, 0.5, small.width, small.height).astype(int)
    # upright it is 180x320: fitted to 180 lines, about 101 columns wide, pillarboxed
    left, right = span(frame[10:-10].mean(axis=0), 60)
    assert abs((right - left) - 180 * 180 / 320) <= 3
    assert span(frame[:, left + 4 : right - 4].mean(axis=1), 60) == (0, 180)
    assert frame[:, : left - 2].max() <= BLACK and frame[:, right + 2 :].max() <= BLACK
    # turned a quarter clockwise the source's top-left corner is the picture's top-right, turned
    # the other way its bottom-left: the marker (80x60 in the source) is about 34 x 45 there
    upper, lower = slice(3, 40), slice(140, 177)
    near, far = slice(left + 4, left + 30), slice(right - 30, right - 4)
    corners = [(upper, near), (upper, far), (lower, far), (lower, near)]  # clockwise from TL
    marker = corners.pop(clockwise // 90)
    ground = np.median(frame[:, left:right])
    assert frame[marker].mean() > ground + 60
    for corner in corners:
        assert abs(frame[corner].mean() - ground) < 8  # the other corners: plain ground


def samples(path: Path) -> np.ndarray:
    """The first channel of ``path``'s audio as float32 samples at 48 kHz."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-af", "pan=mono|c0=c0", "-ar", "48000",
         "-f", "f32le", "-c:a", "pcm_f32le", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.float32).astype(np.float64)


async def test_a_crossfade_has_no_gap_and_no_click_in_the_sound(footage, small, tmp_path):
    # two steady tones (440 Hz, then 660 Hz) cross-faded over half a second
    tl = Timeline(
        (Segment(footage["a"], 0.5, 2.5),
         Segment(footage["b"], 1.0, 3.0, transition_in=Transition("crossfade", 0.5))),
        normalize_loudness=False,
    )  # fmt: skip
    result = await render(tl, small, tmp_path / "xf.mp4")
    pcm = samples(result.path)
    rate = 48000
    assert abs(len(pcm) - rate * tl.frame_count(small.fps) / small.fps) < 0.05 * rate
    join = tl.segment_starts(small.fps)[1] / small.fps  # the crossfade is [1.5, 2.0)
    assert join == pytest.approx(1.5)
    block = rate // 100  # 10 ms

    def rms(start_s: float, end_s: float) -> np.ndarray:
        part = pcm[round(start_s * rate) : round(end_s * rate)]
        part = part[: len(part) // block * block].reshape(-1, block)
        return np.sqrt((part**2).mean(axis=1))

    steady = np.median(np.concatenate([rms(0.5, 1.3), rms(2.2, 3.0)]))
    assert steady > 0.05  # a tone is there (the sine source is at 1/8 of full scale)
    around = rms(join - 0.2, join + 0.7)
    # equal-gain (triangular) fades of two unlike tones: about -3 dB at the middle, never a gap
    assert around.min() > 0.5 * steady
    assert around.max() < 1.5 * steady
    # no click: no sample-to-sample step larger than the tones' own steepest ones
    lo, hi = round((join - 0.2) * rate), round((join + 0.7) * rate)
    steps = np.abs(np.diff(pcm[lo:hi]))
    own = max(np.abs(np.diff(pcm[round(0.5 * rate) : round(1.3 * rate)])).max(),
              np.abs(np.diff(pcm[round(2.2 * rate) : round(3.0 * rate)])).max())  # fmt: skip
    assert steps.max() < 1.25 * own + 1e-3
