"""Transitions, overlays, captions, text safety, music ducking and loudness."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.render import (
    MusicBed,
    Overlay,
    Segment,
    Timeline,
    Transition,
    fonts,
    render,
)
from editbay_common.media.render.captions import parse_captions, to_srt, to_vtt
from editbay_common.media.render.fonts import covers, fallback_for, font_for_text, is_invisible
from editbay_common.media.render.graph import build_args
from editbay_common.media.render.sources import source_info
from editbay_common.media.render.text import default_font

NASTY = 'it\'s: 50% \\ %{pts} [x]; a=b, "q" → مرحبا 🎬'


def test_timeline_duration_arithmetic(footage):
    a = Segment(footage["a"], 0.0, 2.0)
    b = Segment(footage["b"], 1.0, 3.0, transition_in=Transition("crossfade", 0.5))
    c = Segment(footage["a"], 0.0, 2.0, speed=2.0, transition_in=Transition("fade", 0.3))
    tl = Timeline((a, b, c))
    assert tl.duration_s == pytest.approx(2.0 + 2.0 - 0.5 + 1.0)
    assert tl.frame_count(30) == 60 + 60 - 15 + 30
    assert tl.segment_starts(30) == [0, 45, 105]
    with pytest.raises(ValueError, match="first segment"):
        Timeline((b,))
    with pytest.raises(ValueError, match="shorter"):
        Timeline((a, Segment(footage["b"], 0, 0.4, transition_in=Transition("crossfade", 0.5))))


async def test_crossfade_and_fades_render_to_the_computed_length(footage, small, tmp_path, mt):
    tl = Timeline(
        (
            Segment(footage["a"], 0.0, 1.5, transition_in=Transition("fade", 0.4)),
            Segment(footage["b"], 1.0, 2.5, transition_in=Transition("crossfade", 0.5)),
            Segment(footage["a"], 3.0, 4.0, transition_in=Transition("crossfade", 0.3)),
        ),
        fade_out_s=0.5,
    )
    result = await render(tl, small, tmp_path / "xf.mp4")
    video = mt.stream(mt.probe(result.path), "video")
    assert int(video["nb_frames"]) == tl.frame_count(small.fps) == 45 + 45 - 15 + 30 - 9
    first = mt.gray_frame(result.path, 0.0, 320, 180)
    middle = mt.gray_frame(result.path, 1.0, 320, 180)
    assert first.mean() < 25 < middle.mean()  # fades in from black
    last = mt.gray_frame(result.path, (tl.frame_count(30) - 1.2) / 30, 320, 180)
    assert last.mean() < 25  # fades out to black


async def test_text_is_read_from_files_never_spliced(footage, small, tmp_path, mt):
    tl = Timeline(
        (Segment(footage["a"], 0.0, 1.5),),
        overlays=(Overlay.title(NASTY, 0.0, 1.5), Overlay.lower_third(NASTY, 0.5, 1.5,
                                                                      subtitle="ok: 100%")),
    )  # fmt: skip
    infos = {footage["a"]: await source_info(footage["a"])}
    args = build_args(tl, small, infos, tmp_path / "o.mp4", font=await default_font(),
                      scratch=tmp_path)  # fmt: skip
    graph = args[args.index("-filter_complex") + 1]
    for piece in ("it's", "%{pts}", "50%", "مرحبا", "🎬", "[x]"):
        assert piece not in graph
    assert graph.count("expansion=none") == 3
    files = sorted(tmp_path.glob("text-*.txt"))
    assert [f.read_text(encoding="utf-8") for f in files][:2] == [NASTY, NASTY]
    # and it renders: the title changes the picture
    result = await render(tl, small, tmp_path / "text.mp4")
    plain = await render(Timeline((Segment(footage["a"], 0.0, 1.5),)), small,
                         tmp_path / "plain.mp4", allow_smart=False)  # fmt: skip
    diff = np.abs(mt.gray_frame(result.path, 0.7, 320, 180).astype(int)
                  - mt.gray_frame(plain.path, 0.7, 320, 180).astype(int))  # fmt: skip
    assert diff[60:120, :].mean() > 5  # title drawn mid-picture
    assert diff[150:, :150].mean() > 5  # lower third band bottom-left


async def _title_frames(mt, footage_still: Path, small, dest: Path, text: str | None,
                        times: tuple[float, ...]) -> list[np.ndarray]:  # fmt: skip
    """Frames of a 2 s render of a still picture with ``text`` as a title (None: no title)."""
    overlays = () if text is None else (Overlay.title(text, 0.0, 2.0),)
    tl = Timeline((Segment(footage_still, 0.0, 2.0),), overlays=overlays)
    result = await render(tl, small, dest, allow_smart=False)
    return [mt.gray_frame(result.path, t, 320, 180).astype(int) for t in times]


@pytest.fixture(scope="module")
def still(tmp_path_factory, mt) -> Path:
    """A take whose picture never changes (colour bars): any change comes from the text."""
    return mt.make_take(tmp_path_factory.mktemp("still") / "bars.mp4", pattern="smptebars",
                        seconds=3)  # fmt: skip


async def test_expansion_sequences_are_drawn_as_written(still, small, tmp_path, mt):
    # With expansion on, %{pts} and %{n} would draw the time and the frame number, which change
    # every frame; drawn literally, the picture stays the same from frame to frame.
    times = (0.2, 1.3, 1.9)
    frames = await _title_frames(mt, still, small, tmp_path / "x.mp4", "%{pts} %{n} \\ it's",
                                 times)  # fmt: skip
    plain = await _title_frames(mt, still, small, tmp_path / "p.mp4", None, times[:1])
    band = slice(60, 120)
    assert np.abs(frames[0] - plain[0])[band].mean() > 2  # the title is there
    # what expanded text would look like: the same line with the values of two frames
    early, late = [
        (await _title_frames(mt, still, small, tmp_path / f"{i}.mp4", text, times[:1]))[0]
        for i, text in enumerate(("0.200000 6 \\ it's", "1.300000 39 \\ it's"))
    ]
    changing = np.abs(late - early)[band].mean()
    for later in frames[1:]:
        assert np.abs(later - frames[0])[band].mean() < changing / 3


async def test_emoji_is_drawn_from_a_fallback_font(still, small, tmp_path, mt):
    primary = await default_font()
    assert 0x1F3AC not in covers(primary)  # DejaVu has no emoji: the fallback is needed
    font, text = font_for_text(primary, "🎬")
    assert text == "🎬" and font != primary and 0x1F3AC in covers(font)
    assert covers(primary) <= covers(font)  # every glyph of the primary font is still there
    at = (0.5,)
    emoji = (await _title_frames(mt, still, small, tmp_path / "e.mp4", "🎬🎬", at))[0]
    plain = (await _title_frames(mt, still, small, tmp_path / "p.mp4", None, at))[0]
    # a code point no font has: drawn as the missing-glyph box, which the emoji must not be
    boxes = (await _title_frames(mt, still, small, tmp_path / "b.mp4", "\U0010fffd" * 2, at))[0]
    drawn_emoji, drawn_boxes = np.abs(emoji - plain) > 40, np.abs(boxes - plain) > 40
    assert drawn_emoji.sum() > 40  # something is drawn
    # and it is not the boxes: most of what either draws is drawn by one of them only
    assert (drawn_emoji ^ drawn_boxes).sum() > 0.5 * (drawn_emoji | drawn_boxes).sum()


def test_invisible_characters_no_font_has_are_left_out():
    primary = Path(asyncio.run(default_font()))
    # U+E0001 LANGUAGE TAG (a format character) is in no installed font: left out, not a box
    assert fallback_for(0xE0001) is None
    assert font_for_text(primary, "ok\U000e0001go") == (primary, "okgo")
    # U+FE0F (emoji presentation) is mapped by DejaVu: kept, and drawtext draws it as nothing
    assert font_for_text(primary, "ok\ufe0f") == (primary, "ok\ufe0f")
    # a visible character no font has stays, drawn as the missing-glyph box
    assert font_for_text(primary, "\U0010fffd") == (primary, "\U0010fffd")
    assert is_invisible(0xFE0F) and is_invisible(0x200D) and not is_invisible(ord("a"))


def test_emoji_of_one_page_share_one_merged_font():
    primary = Path(asyncio.run(default_font()))
    found = {font_for_text(primary, f"take {e}")[0] for e in "🎬🎥🎤🎧🎨🎭🎮🎯🎲🎳"}
    assert len(found) == 1 and primary not in found
    assert {0x1F3AC, 0x1F3A5, 0x1F3B3} <= covers(found.pop())


def test_a_failed_fontconfig_run_is_asked_again(monkeypatch):
    monkeypatch.setattr(fonts, "_found", {})
    real_run = fonts.subprocess.run
    calls: list[str] = []

    def flaky(args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            raise fonts.subprocess.TimeoutExpired(args, 10)
        return real_run(args, **kwargs)

    monkeypatch.setattr(fonts.subprocess, "run", flaky)
    assert fallback_for(0x1F3B8) is None  # fontconfig did not answer: not remembered
    assert fallback_for(0x1F3B8) is not None  # asked again, and Symbola has it
    assert fallback_for(0x1F3B8) is not None and len(calls) == 2  # now remembered


def test_a_font_cache_others_may_write_to_is_not_used(monkeypatch, tmp_path):
    monkeypatch.delenv("EDITBAY_FONT_CACHE", raising=False)
    monkeypatch.setattr(fonts.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(fonts, "_private", None)
    shared = tmp_path / f"editbay-fonts-{os.getuid()}"
    assert fonts.cache_dir() == shared and (shared.stat().st_mode & 0o777) == 0o700
    shared.chmod(0o777)  # as if planted by another user for everyone to fill
    private = fonts.cache_dir()
    assert private != shared and (private.stat().st_mode & 0o077) == 0


def test_ffmpeg_shapes_right_to_left_text():
    # drawtext reorders and joins Arabic and Hebrew only when FFmpeg is built with FriBiDi,
    # which adds its text_shaping option.
    out = subprocess.run(["ffmpeg", "-hide_banner", "-h", "filter=drawtext"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "text_shaping" in out


async def test_image_pip_and_split_overlays(footage, small, tmp_path, mt):
    base = Timeline((Segment(footage["a"], 0.0, 2.0),))
    plain = await render(base, small, tmp_path / "plain.mp4", allow_smart=False)
    tl = Timeline(
        base.segments,
        overlays=(
            Overlay.image(footage["logo"], 0.0, 2.0, position="top-right", scale=0.1),
            Overlay.pip(footage["b"], 0.2, 0.9, position="bottom-left", scale=0.3),
            Overlay.split(footage["wide43"], 1.2, 1.9),
        ),
    )
    result = await render(tl, small, tmp_path / "layers.mp4")
    assert int(mt.stream(mt.probe(result.path), "video")["nb_frames"]) == 60

    def diff(t: float, rows: slice, cols: slice) -> float:
        a = mt.gray_frame(result.path, t, 320, 180).astype(int)[rows, cols]
        b = mt.gray_frame(plain.path, t, 320, 180).astype(int)[rows, cols]
        return float(np.abs(a - b).mean())

    assert diff(0.1, slice(8, 36), slice(260, 312)) > 10  # logo top-right
    assert diff(0.5, slice(130, 172), slice(8, 100)) > 10  # pip bottom-left
    assert diff(0.1, slice(130, 172), slice(8, 100)) < 3  # not before its window
    assert diff(1.5, slice(0, 180), slice(170, 320)) > 10  # split: other source on the right
    assert diff(1.95, slice(0, 180), slice(170, 250)) < 3  # split over


def test_caption_parsing_round_trip():
    srt = (
        "1\n00:00:00,500 --> 00:00:01,250\n<i>Hello</i>, world\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nTwo\nlines\n"
    )
    vtt = (
        "WEBVTT\n\nNOTE hi\n\n00:00.500 --> 00:01.250 align:start\nHello, world\n\n"
        "id2\n00:00:02.000 --> 00:00:03.000\nTwo\nlines\n"
    )
    cues = parse_captions(srt)
    assert parse_captions(vtt) == cues
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [
        (0.5, 1.25, "Hello, world"), (2.0, 3.0, "Two\nlines")]  # fmt: skip
    assert parse_captions(to_srt(cues)) == cues == parse_captions(to_vtt(cues))


async def test_captions_sidecars_and_burn_in(footage, small, tmp_path, mt):
    captions = tmp_path / "in.srt"
    captions.write_text("1\n00:00:00,200 --> 00:00:01,000\nCaption: 100% {x}\n\n"
                        "2\n00:00:05,000 --> 00:00:06,000\nafter the end\n")  # fmt: skip
    segs = (Segment(footage["a"], 0.0, 1.5),)
    burned = await render(Timeline(segs, captions=captions, burn_captions=True), small,
                          tmp_path / "burned.mp4")  # fmt: skip
    plain = await render(Timeline(segs, captions=captions), small, tmp_path / "plain.mp4",
                         allow_smart=False)  # fmt: skip
    srt, vtt = tmp_path / "burned.srt", tmp_path / "burned.vtt"
    assert srt.is_file() and vtt.is_file() and (tmp_path / "plain.vtt").is_file()
    cues = parse_captions(vtt.read_text())
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(0.2, 1.0, "Caption: 100% {x}")]
    assert vtt.read_text().startswith("WEBVTT")
    a = mt.gray_frame(burned.path, 0.5, 320, 180).astype(int)
    b = mt.gray_frame(plain.path, 0.5, 320, 180).astype(int)
    assert np.abs(a - b)[120:175].mean() > 5  # caption drawn near the bottom
    a2 = mt.gray_frame(burned.path, 1.3, 320, 180).astype(int)
    b2 = mt.gray_frame(plain.path, 1.3, 320, 180).astype(int)
    assert np.abs(a2 - b2).mean() < 2  # and gone after its cue


def loudness_by_window(path: Path, windows: list[tuple[float, float]]) -> list[float]:
    """Mean RMS level (dBFS) of the audio in each window, via astats."""
    levels = []
    for start, end in windows:
        err = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostats", "-ss", f"{start}", "-to", f"{end}", "-i",
             str(path), "-vn", "-af", "astats=measure_overall=RMS_level:measure_perchannel=0",
             "-f", "null", "-"], capture_output=True, text=True,
        ).stderr  # fmt: skip
        levels.append(float(re.findall(r"RMS level dB: (-?[\d.]+|-inf)", err)[-1]))
    return levels


def integrated_lufs(path: Path) -> float:
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-vn", "-af", "ebur128",
         "-f", "null", "-"], capture_output=True, text=True,
    ).stderr  # fmt: skip
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


async def test_music_is_ducked_under_speech(footage, small, tmp_path):
    # speech track: tone during [0,1), [2,3), ... silence in between; music: pink noise
    segs = (Segment(footage["speech"], 0.0, 6.0),)
    silent = footage["wide43"]  # no audio track: only the music is heard
    music_only = Timeline((Segment(silent, 0.0, 4.9), Segment(silent, 0, 1.1)),
                          music=MusicBed(footage["music"], gain_db=-6, duck=False),
                          normalize_loudness=False)  # fmt: skip
    ducked = Timeline(segs, music=MusicBed(footage["music"], gain_db=-6, duck=True),
                      normalize_loudness=False)  # fmt: skip
    ref = await render(music_only, small, tmp_path / "music.mp4")
    out = await render(ducked, small, tmp_path / "ducked.mp4")
    # music alone, and what is left of it in the gaps vs under speech (speech band removed)
    speech_windows = [(2.3, 2.9), (4.3, 4.9)]
    gap_windows = [(3.5, 3.95), (5.5, 5.95)]
    music_level = loudness_by_window(ref.path, speech_windows)
    out_gap = loudness_by_window(out.path, gap_windows)
    assert min(out_gap) > max(music_level) - 4  # between lines the bed is back near full level

    def music_under(path: Path, windows):  # noise above the 300 Hz tone
        hp = tmp_path / f"hp-{path.stem}.wav"
        highpass = "highpass=f=2000:poles=2,highpass=f=2000:poles=2"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(path), "-vn", "-af", highpass,
                        str(hp)], check=True)  # fmt: skip
        return loudness_by_window(hp, windows)

    under_speech = music_under(out.path, speech_windows)
    in_gaps = music_under(out.path, gap_windows)
    assert max(under_speech) < min(in_gaps) - 6  # ducked by more than 6 dB under speech


async def test_loudness_normalised_to_target(footage, small, tmp_path):
    tl = Timeline((Segment(footage["speech"], 0.0, 7.5),))
    result = await render(tl, small, tmp_path / "loud.mp4", allow_smart=False)
    assert abs(integrated_lufs(result.path) - small.loudness_lufs) < 0.5
    quiet = Timeline((Segment(footage["speech"], 0.0, 7.5),), normalize_loudness=False)
    raw = await render(quiet, small, tmp_path / "raw.mp4", allow_smart=False)
    assert abs(integrated_lufs(raw.path) - small.loudness_lufs) > 2  # the test can fail
