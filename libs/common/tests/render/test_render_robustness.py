"""Renders that must not break on size or on bad input: long graphs, undecodable captions,
outputs whose streams disagree in length, malformed caption files, non-finite timeline values."""

from __future__ import annotations

from pathlib import Path

from editbay_common.media.render import Segment, Timeline, render
from editbay_common.media.render.captions import read_captions
from editbay_common.media.render.engine import full_args, load_sources
from editbay_common.media.render.graph import OutputSpec, build_args
from editbay_common.media.render.text import default_font

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
