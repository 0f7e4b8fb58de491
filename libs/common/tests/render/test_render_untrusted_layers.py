"""Overlay and music sources are untrusted media too: validated before any graph reads them,
still images read by the demuxer of their own format (never the pattern-reading image2)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media import process
from editbay_common.media.limits import MediaRejected
from editbay_common.media.render import MusicBed, Overlay, Segment, Timeline, render
from editbay_common.media.render.engine import RenderInputError, load_sources
from editbay_common.media.render.graph import build_args
from editbay_common.media.render.sources import still_info

PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"


@pytest.fixture
def no_ffmpeg(monkeypatch) -> list[list[str]]:
    """The render's FFmpeg runs (the probes' ffprobe runs are not among them): each fails."""
    started: list[list[str]] = []

    async def refused(args, *a, **kw):
        started.append(list(args))
        raise AssertionError("FFmpeg ran on a timeline that should have been refused")

    monkeypatch.setattr(process, "run", refused)
    return started


def junk(path: Path, kind: str) -> Path:
    # Seeded noise: fresh random bytes now and then sniff as some format (MP3 frame headers
    # turn up by chance), which would make the reason a test expects vary from run to run.
    noise = random.Random(20261206)
    if kind == "random":
        path.write_bytes(noise.randbytes(8192))
    elif kind == "text":
        path.write_text("not a picture at all\n" * 20)
    else:  # a PNG signature and nothing sensible after it
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + noise.randbytes(4096))
    return path


@pytest.mark.parametrize("kind", ["random", "text", "png-signature"])
async def test_an_image_overlay_that_is_no_image_is_refused_before_ffmpeg_runs(
    footage, small, tmp_path, no_ffmpeg, kind
):
    logo = junk(tmp_path / "logo.png", kind)
    tl = Timeline((Segment(footage["a"], 0.0, 1.0),), overlays=(Overlay.image(logo, 0.0, 1.0),))
    with pytest.raises(RenderInputError, match=r"image overlay logo\.png") as caught:
        await render(tl, small, tmp_path / "out.mp4")
    reason = "CORRUPT" if kind == "png-signature" else "FORMAT_NOT_ALLOWED"
    assert reason in str(caught.value)
    assert no_ffmpeg == [] and not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("suffix", [".mp3", ".m4a"])
async def test_a_music_bed_that_is_a_playlist_is_refused(footage, small, tmp_path, no_ffmpeg,
                                                         suffix):  # fmt: skip
    bed = tmp_path / f"bed{suffix}"
    bed.write_text(PLAYLIST)
    tl = Timeline((Segment(footage["a"], 0.0, 1.0),), music=MusicBed(bed))
    with pytest.raises(RenderInputError, match=rf"music bed bed\{suffix}: FORMAT_NOT_ALLOWED"):
        await render(tl, small, tmp_path / "out.mp4")
    assert no_ffmpeg == []


@pytest.mark.parametrize("kind", ["pip", "split"])
async def test_a_pip_or_split_source_of_random_bytes_is_refused(footage, small, tmp_path,
                                                                no_ffmpeg, kind):  # fmt: skip
    other = junk(tmp_path / "other.mp4", "random")
    make = Overlay.pip if kind == "pip" else Overlay.split
    tl = Timeline((Segment(footage["a"], 0.0, 1.0),), overlays=(make(other, 0.2, 0.8),))
    with pytest.raises(RenderInputError, match=rf"{kind} overlay other\.mp4: NOT_MEDIA"):
        await render(tl, small, tmp_path / "out.mp4")
    assert no_ffmpeg == []


async def test_sources_must_suit_their_use(footage, small, tmp_path, no_ffmpeg):
    a = footage["a"]
    pictures = [
        Overlay.image(a, 0.0, 1.0),  # a video is no still image
        Overlay.pip(footage["logo"], 0.0, 1.0),  # nor a still image a pip's video
    ]
    for overlay in pictures:
        with pytest.raises(RenderInputError, match="overlay"):
            await load_sources(Timeline((Segment(a, 0.0, 1.0),), overlays=(overlay,)))
    silent = Timeline((Segment(a, 0.0, 1.0),), music=MusicBed(footage["wide43"]))
    with pytest.raises(RenderInputError, match=r"music bed wide43\.mp4 has no audio"):
        await load_sources(silent)
    assert no_ffmpeg == []


async def test_a_music_bed_leaves_a_cut_only_edit_on_the_smart_path(footage, small, tmp_path):
    """The bed is probed with the takes, but it is no take: it does not decide the copying."""
    tl = Timeline((Segment(footage["a"], 0.4, 2.3), Segment(footage["a"], 3.0, 4.1)),
                  music=MusicBed(footage["music"], gain_db=-18))  # fmt: skip
    infos = await load_sources(tl, packets=True)
    assert set(infos) == {footage["a"], footage["music"]}
    assert infos[footage["a"]].packets and not infos[footage["music"]].packets
    result = await render(tl, small, tmp_path / "smart.mp4")
    assert result.smart_path


async def test_stills_are_read_by_their_contents_demuxer(footage, small, tmp_path, mt):
    # a JPEG named .png and a PNG named .jpg: the first bytes decide, not the name
    jpeg, png = tmp_path / "logo.png", tmp_path / "logo.jpg"
    mt.ffmpeg("-f", "lavfi", "-i", "color=c=white:s=64x64", "-frames:v", "1", "-f", "mjpeg",
              str(jpeg))  # fmt: skip
    png.write_bytes(footage["logo"].read_bytes())
    assert (await still_info(jpeg)).demuxer == "jpeg_pipe"
    info = await still_info(png)
    assert (info.demuxer, info.video_codec, info.width, info.height) == ("png_pipe", "png", 64, 64)
    base = Timeline((Segment(footage["a"], 0.0, 1.0),))
    tl = Timeline(base.segments, overlays=(
        Overlay.image(jpeg, 0.0, 1.0, position="top-left", scale=0.1),
        Overlay.image(png, 0.5, 1.0, position="bottom-right", scale=0.1),
    ))  # fmt: skip
    infos = await load_sources(tl)
    args = build_args(tl, small, infos, tmp_path / "o.mp4", scratch=tmp_path)
    formats = [args[i + 1] for i, arg in enumerate(args) if arg == "-f"]
    assert "jpeg_pipe" in formats and "png_pipe" in formats and "image2" not in formats
    assert "-loop" not in args  # an option of image2 alone
    result = await render(tl, small, tmp_path / "stills.mp4")
    plain = await render(base, small, tmp_path / "plain.mp4", allow_smart=False)
    assert int(mt.stream(mt.probe(result.path), "video")["nb_frames"]) == 30

    def diff(t: float, rows: slice, cols: slice) -> float:
        a = mt.gray_frame(result.path, t, 320, 180).astype(int)[rows, cols]
        b = mt.gray_frame(plain.path, t, 320, 180).astype(int)[rows, cols]
        return float(np.abs(a - b).mean())

    # the JPEG (white) from the start to the end; the PNG (red) only in its window
    assert diff(0.1, slice(8, 36), slice(8, 36)) > 10 and diff(0.9, slice(8, 36), slice(8, 36)) > 10
    assert diff(0.2, slice(146, 172), slice(286, 312)) < 3
    assert diff(0.8, slice(146, 172), slice(286, 312)) > 10


async def test_a_refused_still_says_why(tmp_path):
    with pytest.raises(MediaRejected) as caught:
        await still_info(junk(tmp_path / "a.png", "text"))
    assert caught.value.reason == "FORMAT_NOT_ALLOWED"
    with pytest.raises(MediaRejected) as caught:
        await still_info(tmp_path / "missing.png")
    assert caught.value.reason == "NOT_MEDIA"
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MediaRejected) as caught:
        await still_info(tmp_path / "empty.png")
    assert caught.value.reason == "EMPTY_FILE"


@pytest.mark.parametrize("name", ["logo.png", "photo.jpg"])
async def test_a_damaged_still_is_refused_before_ffmpeg_runs(footage, small, tmp_path, mt,
                                                             no_ffmpeg, name):  # fmt: skip
    # a real picture of noise, cut off part way: its header still probes as a good image
    whole = tmp_path / f"whole-{name}"
    mt.ffmpeg("-f", "lavfi", "-i", "nullsrc=s=256x256,geq=random(1)*255:128:128", "-frames:v",
              "1", str(whole))  # fmt: skip
    data = whole.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) * 3 // 5])
    assert (await still_info(whole)).width == 256
    with pytest.raises(MediaRejected) as refused:
        await still_info(cut)
    assert refused.value.reason == "CORRUPT"
    tl = Timeline((Segment(footage["a"], 0.0, 1.0),), overlays=(Overlay.image(cut, 0.0, 1.0),))
    with pytest.raises(RenderInputError, match="CORRUPT"):
        await render(tl, small, tmp_path / "out.mp4")
    assert no_ffmpeg == []
