"""Renders that must not break on size or on bad input: long graphs, undecodable captions,
outputs whose streams disagree in length, malformed caption files, non-finite timeline values."""

from __future__ import annotations

from pathlib import Path

import pytest

from editbay_common.media.render import Segment, Timeline, chunks, engine, render
from editbay_common.media.render.captions import CaptionError, Cue, parse_captions, read_captions
from editbay_common.media.render.chunks import render_chunked
from editbay_common.media.render.engine import RenderInputError, full_args, load_sources
from editbay_common.media.render.graph import OutputSpec, _overlay_xy, _text_xy, build_args
from editbay_common.media.render.text import default_font
from editbay_common.media.render.timeline import (
    POSITIONS,
    MusicBed,
    Overlay,
    Transform,
    Transition,
)
from editbay_common.media.render.verify import (
    RenderVerificationError,
    check_streams,
    verify_output,
)

ARG_MAX_STRLEN = 128 * 1024  # Linux's limit on one command-line argument


def _stamp(s: float) -> str:
    ms = round(s * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _srt(path: Path, n: int, length_s: float) -> Path:
    step = length_s / n
    path.write_text("".join(
        f"{i + 1}\n{_stamp(i * step)} --> {_stamp((i + 1) * step)}\nline {i + 1}\n\n"
        for i in range(n)
    ), encoding="utf-8")  # fmt: skip
    return path


async def test_a_graph_longer_than_an_argument_is_read_from_a_file(footage, small, tmp_path, mt):
    srt = _srt(tmp_path / "many.srt", 700, 3.0)
    tl = Timeline((Segment(footage["a"], 0.0, 3.0),), captions=srt, burn_captions=True)
    infos = await load_sources(tl)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    inline = build_args(tl, small, infos, scratch / "o.mp4", font=await default_font(),
                        scratch=scratch, cues=read_captions(srt))  # fmt: skip
    # the case: the graph alone is longer than Linux lets one argument be
    assert len(inline[inline.index("-filter_complex") + 1].encode()) > ARG_MAX_STRLEN
    args = await full_args(tl, small, infos, scratch / "o.mp4", scratch, OutputSpec("video"))
    assert "-filter_complex" not in args
    assert max(len(a.encode()) for a in args) < 4096
    script = Path(args[args.index("-filter_complex_script") + 1])
    assert script.parent == scratch and script.read_text(encoding="utf-8").count("drawtext") == 700

    out = tmp_path / "out"
    out.mkdir()
    result = await render(tl, small, out / "many.mp4")
    assert int(mt.stream(mt.probe(result.path), "video")["nb_frames"]) == 90
    assert read_captions(out / "many.srt") == read_captions(srt)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("body", [
    "1\n00:00:00,000 --> 00:00:01,000\ncaf\u00e9 cr\u00e8me\n".encode("latin-1"),
    b"1\n00:00:00,000 --> soon\nhello\n",
])  # fmt: skip
@pytest.mark.parametrize("chunked", [False, True])
async def test_bad_captions_fail_before_any_ffmpeg_run(footage, small, tmp_path, monkeypatch,
                                                       body, chunked):  # fmt: skip
    srt = tmp_path / "in" / "bad.srt"
    srt.parent.mkdir()
    srt.write_bytes(body)
    tl = Timeline((Segment(footage["a"], 0.0, 1.0),), captions=srt)

    async def no_ffmpeg(*args, **kwargs):
        raise AssertionError("FFmpeg ran before the captions were checked")

    monkeypatch.setattr(engine, "load_sources", no_ffmpeg)
    monkeypatch.setattr(chunks, "split_timeline", no_ffmpeg)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RenderInputError, match=r"bad\.srt"):
        if chunked:
            await render_chunked(tl, small, out / "o.mp4", 2)
        else:
            await render(tl, small, out / "o.mp4")
    assert _leftovers(out) == []


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_failed_verification_leaves_nothing_at_dest(footage, small, tmp_path, monkeypatch,
                                                            chunked):  # fmt: skip
    srt = _srt(tmp_path / "ok.srt", 2, 1.0)
    tl = Timeline((Segment(footage["a"], 0.0, 1.0),), captions=srt)

    async def refuse(path, **kwargs):
        assert path.exists() and not (out / "o.mp4").exists()  # checked before it is moved
        raise RenderVerificationError("refused")

    monkeypatch.setattr(chunks if chunked else engine, "verify_output", refuse)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RenderVerificationError):
        if chunked:
            await render_chunked(tl, small, out / "o.mp4", 2)
        else:
            await render(tl, small, out / "o.mp4", allow_smart=False)
    assert _leftovers(out) == []


async def test_chunked_render_writes_caption_sidecars(footage, small, tmp_path):
    srt = _srt(tmp_path / "ok.srt", 4, 2.0)
    tl = Timeline((Segment(footage["a"], 0.0, 1.0), Segment(footage["b"], 1.0, 2.0)),
                  captions=srt)  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    result = await render_chunked(tl, small, out / "o.mp4", 2)
    assert result.path == out / "o.mp4"
    assert _leftovers(out) == ["o.mp4", "o.srt", "o.vtt"]
    assert read_captions(out / "o.srt") == read_captions(srt)
    assert read_captions(out / "o.vtt") == read_captions(srt)


@pytest.mark.parametrize("decode", [True, False])
async def test_an_audio_track_shorter_than_the_video_fails_verification(small, tmp_path, mt,
                                                                        decode):  # fmt: skip
    short = tmp_path / "short.mp4"
    mt.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=2", "-f", "lavfi", "-t", "0.2",
              "-i", "sine=f=440:r=48000", "-c:v", "libx264", "-preset", "veryfast",
              "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", str(short))  # fmt: skip
    # the container lasts as long as its longer stream: only the audio's own length tells
    assert float(mt.probe(short)["format"]["duration"]) == pytest.approx(2.0, abs=0.01)
    with pytest.raises(RenderVerificationError, match=r"audio lasts 0\.200s"):
        await verify_output(short, expected_duration_s=2.0, preset=small, decode=decode)
    with pytest.raises(RenderVerificationError, match=r"audio lasts 0\.200s"):
        await check_streams(short, expected_duration_s=2.0, preset=small)


async def test_an_honest_render_passes_the_stream_checks(footage, small, tmp_path):
    tl = Timeline((Segment(footage["a"], 0.5, 1.7), Segment(footage["wide43"], 1.0, 2.1)))
    result = await render(tl, small, tmp_path / "o.mp4", allow_smart=False)
    await check_streams(result.path, expected_duration_s=result.duration_s, preset=small)
    with pytest.raises(RenderVerificationError, match="lasts"):
        await check_streams(result.path, expected_duration_s=result.duration_s + 0.1,
                            preset=small)  # fmt: skip


def test_a_huge_hours_field_is_a_caption_error():
    with pytest.raises(CaptionError, match="bad cue timing"):
        parse_captions("1\n" + "9" * 400 + ":00:00,000 --> 00:00:01,000\nhi\n")


def test_a_missing_blank_line_starts_the_next_cue():
    srt = ("1\n00:00:00,000 --> 00:00:01,000\nfirst\n"
           "2\n00:00:01,000 --> 00:00:02,000\nsecond\nline two\n\n"
           "3\n00:00:02,000 --> 00:00:03,000\nthird\n")  # fmt: skip
    assert parse_captions(srt) == [
        Cue(0.0, 1.0, "first"), Cue(1.0, 2.0, "second\nline two"), Cue(2.0, 3.0, "third"),
    ]  # fmt: skip
    vtt = "WEBVTT\n\n00:01.000 --> 00:02.000 align:start\none\n00:02.000 --> 00:03.000\ntwo\n"
    assert parse_captions(vtt) == [Cue(1.0, 2.0, "one"), Cue(2.0, 3.0, "two")]


@pytest.mark.parametrize("timing", [
    "-00:00:05,000 --> 00:00:06,000",
    "00:00:05,000 --> -00:00:06,000",
    "00:00:99,000 --> 00:01:00,000",
    "00:61:00,000 --> 01:02:00,000",
    "00:00:05,000 --> 00:00:06,0000",
    "00:00:05 --> 00:00:06",
])  # fmt: skip
def test_malformed_timings_are_caption_errors(timing):
    with pytest.raises(CaptionError):
        parse_captions(f"1\n{timing}\ntext\n")
    # also where a missing blank line would have made it the previous cue's text
    with pytest.raises(CaptionError):
        parse_captions(f"1\n00:00:00,000 --> 00:00:01,000\nfirst\n2\n{timing}\ntext\n")


def test_well_formed_captions_still_parse():
    srt = ("\ufeff1\r\n01:02:03,5 --> 01:02:04,250\r\n<i>a --> b</i>\r\n\r\n"
           "2\r\n00:00:00,000 --> 00:00:00,000\r\nempty window, dropped\r\n")  # fmt: skip
    assert parse_captions(srt.lstrip("\ufeff")) == [Cue(3723.5, 3724.25, "a --> b")]
    vtt = "WEBVTT\n\nNOTE a comment\n\nid-1\n00:00.500 --> 00:01.000\n<v Sam>hi</v>\n"
    assert parse_captions(vtt) == [Cue(0.5, 1.0, "hi")]


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(("make", "field"), [
    (lambda p: Segment(p, NAN, 1.0), "in_s"),
    (lambda p: Segment(p, 0.0, INF), "out_s"),
    (lambda p: Transition("fade", NAN), "duration_s"),
    (lambda p: Transition("crossfade", INF), "duration_s"),
    (lambda p: Transform(crop=(0.0, 0.0, NAN, 0.5)), "crop"),
    (lambda p: Overlay.title("hi", NAN, 1.0), "start_s"),
    (lambda p: Overlay.title("hi", 0.0, INF), "end_s"),
    (lambda p: Overlay.pip(p, 0.0, 1.0, source_in_s=NAN), "source_in_s"),
    (lambda p: Overlay.image(p, 0.0, 1.0, scale=INF), "scale"),
    (lambda p: Overlay("title", 0.0, 1.0, text="hi", font_size=NAN), "font_size"),
    (lambda p: Overlay.title("hi", 0.0, 1.0, position="middle"), "position"),  # type: ignore[arg-type]
    (lambda p: Overlay("sticker", 0.0, 1.0, source=p), "kind"),  # type: ignore[arg-type]
    (lambda p: MusicBed(p, gain_db=NAN), "gain_db"),
    (lambda p: MusicBed(p, offset_s=INF), "offset_s"),
    (lambda p: Timeline((Segment(p, 0.0, 1.0),), fade_out_s=INF), "fade_out_s"),
    (lambda p: Timeline((Segment(p, 0.0, 1.0),), fade_out_s=-1.0), "fade_out_s"),
    (lambda p: Timeline((Segment(p, 0.0, 1.0),), captions_offset_s=NAN), "captions_offset_s"),
])  # fmt: skip
def test_non_finite_and_unknown_timeline_values_are_refused_by_name(make, field):
    with pytest.raises(ValueError, match=field):
        make(Path("take.mp4"))


def test_every_accepted_position_is_placed():
    # what the overlay accepts, the graph can place (an unknown one was a KeyError there)
    for position in POSITIONS:
        assert all(_overlay_xy(position, 4)) and all(_text_xy(position, 4))
