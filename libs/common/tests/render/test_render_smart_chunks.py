"""The smart path (stream copy between keyframes) and chunked rendering with lossless joins."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from editbay_common.media.render import MusicBed, Overlay, Segment, Timeline, Transition, render
from editbay_common.media.render import smart as smart_module
from editbay_common.media.render.chunks import cut_points, render_chunked, split_timeline
from editbay_common.media.render.engine import PACKETS_PAST_OUT_S, load_sources
from editbay_common.media.render.smart import (
    Layout,
    Part,
    SmartPathUnavailable,
    _check_encoded,
    _copy_args,
    eligible,
    plan_parts,
    plan_timeline,
)
from editbay_common.media.render.verify import (
    MuxReport,
    RenderVerificationError,
    check_report,
    strict_decode,
)


def psnr_per_frame(a: Path, b: Path, tmp: Path) -> list[float]:
    log = tmp / "psnr.log"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(a), "-i", str(b), "-lavfi",
                    f"[0:v][1:v]psnr=stats_file={log.name}", "-f", "null", "-"],
                   check=True, cwd=tmp)  # fmt: skip
    values = re.findall(r"psnr_avg:(\S+)", log.read_text())
    return [float("inf") if v == "inf" else float(v) for v in values]


def pcm(path: Path) -> np.ndarray:
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-f", "s16le", "-ar",
            "48000", "-"]  # fmt: skip
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.int16).astype(float)


async def test_smart_path_copies_whole_gops_and_matches_full_render(footage, small, tmp_path):
    src = footage["a"]  # 320x180, 30 fps, keyframe every second: eligible for the small preset
    tl = Timeline((Segment(src, 0.4, 3.3), Segment(footage["b"], 1.1, 3.6), Segment(src, 4.2, 4.5)))
    parts = plan_timeline(tl, small, await load_sources(tl, packets=True))
    assert any(p.copy for p in parts) and any(not p.copy for p in parts)
    # some copies end between groups of B-frames inside a GOP, not on a keyframe
    assert any(p.copy and p.end % 30 for p in parts), parts
    assert sum(p.frames for p in parts) == tl.frame_count(small.fps)
    smart = await render(tl, small, tmp_path / "smart.mp4")
    full = await render(tl, small, tmp_path / "full.mp4", allow_smart=False)
    assert smart.smart_path and not full.smart_path
    assert await strict_decode(smart.path) == tl.frame_count(small.fps) == full.frame_count
    psnr = psnr_per_frame(smart.path, full.path, tmp_path)
    assert len(psnr) == tl.frame_count(small.fps)
    # frames next to every cut: segment boundaries and the copy/re-encode joins inside segments
    cuts, pos = set(), 0
    for part in parts:
        cuts.add(pos)
        pos += part.frames
    near = sorted({f for c in cuts for f in (c - 1, c, c + 1) if 0 <= f < len(psnr)})
    assert min(psnr[f] for f in near) >= 35, [(f, psnr[f]) for f in near]


def test_the_mux_report_must_match_the_timeline(small, tmp_path):
    out = tmp_path / "x.mp4"
    block = {"frame": "90", "out_time_us": "3000000", "total_size": "5000", "progress": "end"}
    report = MuxReport.of(block)
    assert report == MuxReport(90, 3.0, 5000)
    expected = {"expected_frames": 90, "expected_duration_s": 3.0, "preset": small}
    check_report(out, report, **expected)
    wrongs = [({"frame": "89"}, "89 frames"), ({"out_time_us": "3100000"}, "lasts"),
              ({"total_size": "0"}, "no video"), ({"frame": "N/A"}, "no video")]  # fmt: skip
    for wrong, why in wrongs:
        with pytest.raises(RenderVerificationError, match=why):
            check_report(out, MuxReport.of(block | wrong), **expected)


async def test_a_smart_render_one_frame_short_falls_back(footage, small, tmp_path, monkeypatch):
    """The mux's own report of the frames it wrote catches a plan that lost a frame (which a
    check within one frame would pass), with or without reading the output back (``verify``),
    and the full re-encode renders instead."""
    tl = Timeline((Segment(footage["a"], 0.4, 3.3), Segment(footage["b"], 1.1, 3.6)))
    planned = smart_module.plan_timeline

    def one_short(*args, **kwargs):
        parts = planned(*args, **kwargs)
        last = parts[-1]
        return [*parts[:-1], replace(last, end=last.end - 1)]

    monkeypatch.setattr(smart_module, "plan_timeline", one_short)
    for verify in (False, True):
        result = await render(tl, small, tmp_path / "out.mp4", verify=verify)
        assert not result.smart_path
        assert await strict_decode(result.path) == tl.frame_count(small.fps)


def _packets(decode_order: list[int], keys: set[int], fps: int = 30) -> list[tuple[float, bool]]:
    return [(f / fps, f in keys) for f in decode_order]


def test_copies_end_on_closed_boundaries_inside_the_last_gop():
    # two closed GOPs of 8 frames, I P B B in mini-GOPs: decode order 0 3 1 2 | 6 4 5 | 7, ...
    gop = [0, 3, 1, 2, 6, 4, 5, 7]
    layout = Layout.of(_packets(gop + [f + 8 for f in gop], {0, 8}), 30)
    assert sorted(layout.closed) == [0, 1, 4, 7, 8, 9, 12, 15, 16]
    parts = plan_parts(2, 12, layout, Path("s.mp4"))  # frames 2..13
    assert [(p.start, p.end, p.copy) for p in parts] == [(2, 8, False), (8, 12, True),
                                                         (12, 14, False)]  # fmt: skip
    # the ends are decoded from snippets: the packets from the keyframe before them up to the
    # last frame they show (decode order 0 3 1 2 6 4 5 7 | 8 11 9 10 14 12 13)
    assert [(p.key, p.packets) for p in (parts[0], parts[2])] == [(0, 8), (8, 7)]
    whole = plan_parts(8, 8, layout, Path("s.mp4"))
    assert [(p.start, p.end, p.copy) for p in whole] == [(8, 16, True)]


def test_an_open_gop_keyframe_is_not_a_copy_start():
    # the second keyframe (8) is followed in decode order by B-frames shown before it (6, 7)
    layout = Layout.of(_packets([0, 3, 1, 2, 5, 4, 8, 6, 7, 11, 9, 10], {0, 8}), 30)
    assert 8 not in layout.closed
    parts = plan_parts(2, 9, layout, Path("s.mp4"))  # frames 2..10: no closed GOP to start from
    assert [(p.start, p.end, p.copy) for p in parts] == [(2, 11, False)]
    # frames after the open keyframe cannot be decoded from it alone (6 and 7 need the GOP
    # before): the smart path declines, the engine re-encodes the whole timeline
    with pytest.raises(SmartPathUnavailable):
        plan_parts(9, 2, layout, Path("s.mp4"))


def test_copies_from_one_stretch_of_a_source_share_an_input(small, tmp_path):
    """Copies close together in a source read on from one input: each later one keeps packets
    from its cue, between the keyframe before its own and its own decoding time, so that its
    first packet is its keyframe whether FFmpeg compares presentation or decoding times."""
    gop = [0, 3, 1, 2, 6, 4, 5, 7]  # decoded one frame before shown: dts = index - 1
    order = [f + 8 * g for g in range(3) for f in gop]
    layout = Layout.of(_packets(order, {0, 8, 16}), 30, [(i - 1) / 30 for i in range(24)])
    assert layout.cue(0) is None  # no keyframe before it
    assert layout.cue(8) == (0 + 7) / 2 and layout.cue(16) == (8 + 15) / 2
    src, far = Path("a.mp4"), 8 + 30 * 60  # the other a minute later: an input of its own
    parts = [Part(src, 8, 16, True, key=8, cue=layout.cue(8)),
             Part(src, 0, 8, True, key=0), Part(src, 2, 8, False, key=0, packets=8),
             Part(src, far, far + 8, True, key=far, cue=layout.cue(8))]  # fmt: skip
    args = _copy_args([(f"p{i}.ts", p) for i, p in enumerate(parts)], small, tmp_path)
    seeks = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-ss"]
    inputs = [a for a in args if a.startswith("file:")]
    assert len(inputs) == 2  # frames 0-16 from one input, the far copy from another
    assert seeks == [f"{0.25 / 30:.6f}", f"{(far + 0.25) / 30:.6f}", f"{(3.5 - 0.25) / 30:.6f}"]
    outputs = " ".join(args[args.index("-map") :])
    assert "-ss" in outputs.split("p0.ts")[0].split("-map")[-1]  # p0 starts at its cue
    assert "-ss" not in outputs.split("p1.ts")[0].split("-map")[-1]  # p1, p2: the input's own
    assert "-ss" not in outputs.split("p2.ts")[0].split("-map")[-1]


async def test_smart_path_declines_edits_it_cannot_copy(footage, small, tmp_path):
    with_fade = Timeline((Segment(footage["a"], 0.4, 1.3, transition_in=Transition("fade", 0.2)),))
    other_size = Timeline((Segment(footage["wide43"], 0.4, 1.3),))
    for i, tl in enumerate((with_fade, other_size)):
        result = await render(tl, small, tmp_path / f"n{i}.mp4")
        assert not result.smart_path


async def test_sources_are_probed_once_with_their_video_packets(footage, small):
    """The smart path's packet layout comes from the same ffprobe run as the source's
    description: the description is unchanged, the packets are the video stream's only, in
    decode order, listed only as far as the timeline uses the source (plus a margin), and
    without them the smart path is not taken."""
    tl = Timeline((Segment(footage["a"], 0.4, 1.3), Segment(footage["a"], 2.0, 2.5)))
    plain = await load_sources(tl)
    with_packets = await load_sources(tl, packets=True)
    info = with_packets[footage["a"]]
    assert replace(info, packets=(), packet_dts=()) == plain[footage["a"]]
    args = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
            "packet=pts_time,dts_time,flags", "-of", "csv=p=0", str(footage["a"])]  # fmt: skip
    rows = [r.split(",") for r in subprocess.run(args, capture_output=True, text=True,
                                                   check=True).stdout.split()]  # fmt: skip
    listed = [(float(pts), flags.startswith("K")) for pts, _, flags, *_ in rows]
    # and their decoding times (B-frames: decoded before they are shown)
    assert list(info.packet_dts) == [float(dts) for _, dts, *_ in rows[: len(info.packet_dts)]]
    assert any(d < t for d, (t, _) in zip(info.packet_dts, info.packets, strict=True))
    # ffprobe's own listing in decode order, cut off near the last out-point plus the margin
    # (the take lasts 6 s): every frame up to well past the out-point is there
    got = list(info.packets)
    assert got == listed[: len(got)] and len(got) < len(listed)
    until = 2.5 + PACKETS_PAST_OUT_S
    assert {pts for pts, _ in listed if pts < until - 0.5} <= {pts for pts, _ in got}
    assert max(pts for pts, _ in got) < until
    assert sum(key for _, key in got) >= 4
    assert eligible(tl, small, with_packets)
    assert not eligible(tl, small, plain)


def test_split_points_avoid_transitions(footage):
    tl = Timeline((
        Segment(footage["a"], 0.0, 2.0),
        Segment(footage["b"], 0.0, 2.0, transition_in=Transition("crossfade", 0.5)),
        Segment(footage["a"], 2.0, 4.0, transition_in=Transition("fade", 0.5)),
    ), fade_out_s=0.4)  # fmt: skip
    total = tl.frame_count(30)
    for n in (2, 3, 4, 7):
        chunks = split_timeline(tl, n)
        assert sum(c.frame_count(30) for c in chunks) == total
        for cut in cut_points(tl, n, 30):
            assert not 45 <= cut <= 60 and not 105 < cut < 120 and cut <= total - 12
    assert len(split_timeline(tl, 1)) == 1


async def test_chunked_render_joins_without_reencoding_or_gaps(footage, small, tmp_path, mt):
    tl = Timeline(
        (
            Segment(footage["a"], 0.3, 2.2),
            Segment(footage["b"], 1.0, 3.0, transition_in=Transition("crossfade", 0.4)),
            Segment(footage["a"], 3.0, 4.4),
        ),
        overlays=(Overlay.title("Chunked", 0.5, 4.0),),
        music=MusicBed(footage["music"], gain_db=-18),
    )
    chunks = split_timeline(tl, 3, fps=small.fps)
    assert len(chunks) == 3
    joined = await render_chunked(tl, small, tmp_path / "joined.mp4", 3)
    single = await render(tl, small, tmp_path / "single.mp4")
    vj = mt.stream(mt.probe(joined.path), "video")
    vs = mt.stream(mt.probe(single.path), "video")
    assert int(vj["nb_frames"]) == int(vs["nb_frames"]) == tl.frame_count(small.fps)
    assert abs(float(vj["duration"]) - float(vs["duration"])) < 1 / small.fps
    assert await strict_decode(joined.path) == tl.frame_count(small.fps)
    # the picture is the same, frame for frame
    psnr = psnr_per_frame(joined.path, single.path, tmp_path)
    assert len(psnr) == tl.frame_count(small.fps) and min(psnr) > 33
    # audio: same length, continuous over the joins (no silent gap), same as the single render
    a, b = pcm(joined.path), pcm(single.path)
    assert abs(len(a) - len(b)) <= 1024
    n = min(len(a), len(b))
    assert np.corrcoef(a[:n], b[:n])[0, 1] > 0.98
    for cut in cut_points(tl, 3, small.fps):
        at = round(cut / small.fps * 48000)
        window = a[at - 2400 : at + 2400]
        rms = [np.sqrt(np.mean(window[i : i + 240] ** 2)) for i in range(0, len(window), 240)]
        assert min(rms) > 0.3 * np.median(rms)
        jump = np.abs(np.diff(a[at - 48 : at + 48])).max()
        assert jump < 6 * np.abs(np.diff(a[at - 4800 : at - 2400])).max() + 1


def test_smart_path_rejects_a_split_in_the_wrong_place(small, tmp_path):
    parts = [(0, Part(Path("a.mp4"), 12, 30, False)), (2, Part(Path("a.mp4"), 90, 99, False)),
             (3, Part(Path("b.mp4"), 33, 60, False))]  # fmt: skip
    good = [
        "enc-0000.ts,0.000000,0.666667",
        "enc-0001.ts,0.666667,0.966667",
        "enc-0002.ts,0.966667,1.866667",
    ]  # fmt: skip (2 frames of B-frame delay)
    for name in ("enc-0000.ts", "enc-0001.ts", "enc-0002.ts"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "encoded.csv").write_text("\n".join(good) + "\n")
    _check_encoded(parts, small, tmp_path)  # and renames the pieces to their parts' places
    assert sorted(p.name for p in tmp_path.glob("part-*.ts")) == [
        "part-0000.ts",
        "part-0002.ts",
        "part-0003.ts",
    ]
    shifted = [*good[:2], "enc-0002.ts,1.000000,1.866667"]  # third piece a frame late
    (tmp_path / "encoded.csv").write_text("\n".join(shifted) + "\n")
    with pytest.raises(SmartPathUnavailable):
        _check_encoded(parts, small, tmp_path)
    (tmp_path / "encoded.csv").write_text("\n".join(good[:2]) + "\n")  # a piece missing
    with pytest.raises(SmartPathUnavailable):
        _check_encoded(parts, small, tmp_path)


async def test_mpegts_sources_are_cut_at_the_right_frames(footage, small, tmp_path):
    """MPEG-TS has no index and starts its clock at 1.4 s, its video a little after its audio:
    FFmpeg's seek in it lands past the keyframe an in-point needs, and in- and out-points count
    from the file's start. Both paths must still show source frame ``in + n`` as frame ``n``."""
    ts = tmp_path / "a.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(footage["a"]), "-c", "copy", "-f", "mpegts",
                    str(ts)], check=True)  # fmt: skip
    tl = Timeline((Segment(ts, 0.4, 2.3), Segment(ts, 3.1, 4.6)))
    infos = await load_sources(tl, packets=True)
    assert infos[ts].packets[0] == (0.0, True)  # counted from the video's first frame
    assert 0 < infos[ts].video_offset_s < 1 / small.fps  # which comes after the audio's
    assert infos[ts].seek_preroll_s >= 1.0  # a GOP or more: keyframes every second
    # the source frames the edit shows, decoded from the start (no seeking), as a reference
    expected = tmp_path / "expected.mkv"
    keep = "+".join(f"between(n,{round(s.in_s * 30)},{round(s.out_s * 30) - 1})"
                    for s in tl.segments)  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(ts), "-an", "-vf",
                    f"select='{keep}',setpts=N/30/TB", "-c:v", "ffv1", str(expected)],
                   check=True)  # fmt: skip
    smart = await render(tl, small, tmp_path / "smart.mp4")
    full = await render(tl, small, tmp_path / "full.mp4", allow_smart=False)
    assert smart.smart_path
    reference = luma_frames(expected, small)
    assert len(reference) == tl.frame_count(small.fps)
    for out in (smart.path, full.path):
        frames = luma_frames(out, small)
        assert len(frames) == len(reference)
        mse = ((frames - reference) ** 2).mean(axis=(1, 2))
        psnr = 10 * np.log10(255**2 / np.maximum(mse, 1e-9))
        assert psnr.min() >= 35, (
            out.name,
            [(f, round(p, 1)) for f, p in enumerate(psnr) if p < 35],
        )


def luma_frames(path: Path, preset) -> np.ndarray:
    """Every frame's luma, in decoding order by index (no timestamp matching)."""
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "rawvideo",
            "-pix_fmt", "gray", "-"]  # fmt: skip
    raw = subprocess.run(args, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, preset.height, preset.width).astype(float)


async def test_an_edit_of_many_cuts_shows_exactly_the_frames_it_names(footage, small, tmp_path):
    """Two dozen cuts, in-points on and off keyframes, the same stretch of a take used twice: the
    smart path decodes every re-encoded end from its snippet through one decoder, and each
    output frame must be the source frame the edit names (decoded without seeking)."""
    a, b = footage["a"], footage["b"]
    spans = [(0.0, 0.5), (1.0, 1.4), (2.37, 3.6), (0.5, 0.6), (4.03, 5.9), (1.0, 1.4)]
    segments = tuple(
        Segment(src, start + k * 0.1, end)
        for k in range(5)
        for src, (start, end) in zip((a, b) * 3, spans, strict=True)
        if start + k * 0.1 < end
    )
    tl = Timeline(segments)
    assert len(segments) == 24
    parts = plan_timeline(tl, small, await load_sources(tl, packets=True))
    assert sum(not p.copy for p in parts) >= 25 and any(p.copy for p in parts)
    smart = await render(tl, small, tmp_path / "smart.mp4")
    assert smart.smart_path
    sources = {src: luma_frames(src, small) for src in (a, b)}
    reference = np.concatenate([
        sources[s.source][round(s.in_s * 30) : round(s.in_s * 30) + s.frames(30)]
        for s in segments
    ])  # fmt: skip
    frames = luma_frames(smart.path, small)
    assert len(frames) == len(reference) == tl.frame_count(small.fps)
    mse = ((frames - reference) ** 2).mean(axis=(1, 2))
    psnr = 10 * np.log10(255**2 / np.maximum(mse, 1e-9))
    assert psnr.min() >= 35, [(f, round(p, 1)) for f, p in enumerate(psnr) if p < 35]
