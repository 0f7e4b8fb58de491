"""Render benchmarks, all measured in one run on the same generated footage.

    uv sync --group bench
    uv run python benchmarks/bench_render.py [--quick]

(a) a 12-segment edit with a title overlay and fades: editbay vs MoviePy 2 (target >= 2.8x
    faster) and vs the transcode floor, a plain FFmpeg transcode of the same duration with no
    filters (target within 1.10x);
(b) the smart path on a cut-only edit of sources with 1-second keyframe intervals vs the full
    re-encode of the same edit (target >= 5x);
(c) chunked rendering with every worker limited to one core (taskset, -threads 1, x264
    threads=1): two workers in parallel vs one worker (target <= 0.6x).

Every encode uses the same x264 preset (veryfast) and CRF. Ratios are printed and the latest
figures written to benchmarks/results/render.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.render import Overlay, Segment, Timeline, Transition, get_preset, render
from editbay_common.media.render.chunks import join_chunks, split_timeline
from editbay_common.media.render.engine import full_args, load_sources
from editbay_common.media.render.graph import OutputSpec
from editbay_common.media.render.text import default_font

PRESET = get_preset("landscape-720p")  # veryfast, CRF 20, 30 fps
RESULTS = Path(__file__).parent / "results" / "render.md"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_source(dest: Path, seconds: float, pattern: str, freq: int) -> Path:
    """A 1280x720 30 fps H.264 High take with a keyframe every second, and a tone."""
    ffmpeg(
        "-f", "lavfi", "-i", f"{pattern}=s=1280x720:r=30:d={seconds}",
        "-f", "lavfi", "-i", f"sine=f={freq}:r=48000:d={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "30", "-keyint_min", "30",
        "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-profile:v", "high",
        "-c:a", "aac", "-ar", "48000", "-ac", "2", "-shortest", str(dest),
    )  # fmt: skip
    return dest


async def timed(label: str, fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fn()
    took = time.perf_counter() - start
    print(f"  {label:<52} {took:7.2f} s")
    return took


def edit_a(sources: list[Path], seg_s: float) -> Timeline:
    segs = []
    for i in range(12):
        src = sources[i % len(sources)]
        start = 0.5 + (i * 1.7) % 6
        fade = Transition("fade", 0.4) if i % 3 == 0 else None
        segs.append(Segment(src, start, start + seg_s, transition_in=fade))
    title = Overlay.title("editbay benchmark: 12 segments", 0.5, 4.0)
    return Timeline(tuple(segs), overlays=(title,), fade_out_s=0.5)


def moviepy_render(tl: Timeline, dest: Path, font: Path) -> None:
    from moviepy import CompositeVideoClip, TextClip, VideoFileClip, concatenate_videoclips, vfx

    opened: dict[Path, VideoFileClip] = {}
    clips = []
    for seg in tl.segments:
        src = opened.setdefault(seg.source, VideoFileClip(str(seg.source)))
        clip = src.subclipped(seg.in_s, seg.out_s)
        if seg.transition_in is not None:
            clip = clip.with_effects([vfx.FadeIn(seg.transition_in.duration_s)])
        clips.append(clip)
    video = concatenate_videoclips(clips).with_effects([vfx.FadeOut(tl.fade_out_s)])
    ov = tl.overlays[0]
    title = (
        TextClip(
            font=str(font),
            text=ov.text,
            font_size=round(PRESET.height * ov.font_size),
            color="white",
        )
        .with_position("center")
        .with_start(ov.start_s)
        .with_duration(ov.duration_s)
    )
    final = CompositeVideoClip([video, title], size=(PRESET.width, PRESET.height))
    final.write_videofile(
        str(dest), fps=PRESET.fps, codec="libx264", preset=PRESET.x264_preset,
        audio_codec="aac", audio_bitrate=PRESET.audio_bitrate,
        ffmpeg_params=["-crf", str(PRESET.crf), "-pix_fmt", "yuv420p"], logger=None,
    )  # fmt: skip
    for clip in opened.values():
        clip.close()


async def transcode_floor(src: Path, seconds: float, dest: Path) -> None:
    await process.run([
        *process.ffmpeg_base_args(), "-i", str(src), "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", PRESET.x264_preset, "-crf", str(PRESET.crf),
        "-pix_fmt", "yuv420p", "-profile:v", "high", "-c:a", "aac", "-b:a", PRESET.audio_bitrate,
        "-movflags", "+faststart", str(dest),
    ])  # fmt: skip


async def pinned_chunk(chunk: Timeline, dest: Path, core: int, scratch: Path) -> None:
    """One worker: FFmpeg pinned to one core, one thread everywhere."""
    infos = await load_sources(chunk)
    args = await full_args(chunk, PRESET, infos, dest, scratch, OutputSpec("mov-pcm", threads=1))
    await process.run(["taskset", "-c", str(core), *args])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.+)", text).group(1).strip()  # type: ignore[union-attr]
    except (OSError, AttributeError):
        cpu = platform.processor() or cpu
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    ffv = version.splitlines()[0].split(" Copyright")[0] if version else "ffmpeg ?"
    return f"{cpu}, {os.cpu_count()} cores visible, {ffv}, Python {platform.python_version()}"


async def main(quick: bool) -> None:
    seg_a, seg_b, chunk_s = (1.0, 3.0, 6.0) if quick else (2.5, 8.0, 20.0)
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    print(f"machine: {machine()}")
    src_s = max(30.0, seg_b + 8)
    sources = [
        make_source(work / "s1.mp4", src_s, "testsrc2", 300),
        make_source(work / "s2.mp4", src_s, "testsrc", 500),
        make_source(work / "s3.mp4", src_s, "smptehdbars", 700),
    ]
    font = await default_font()
    rows: list[tuple[str, str, str, str]] = []

    print("(a) 12-segment edit, title overlay, fades")
    tl_a = edit_a(sources, seg_a)
    floor_src = make_source(work / "floor.mp4", tl_a.duration_s + 1, "testsrc2", 300)
    ours = await timed("editbay render (no output verification)",
                       lambda: render(tl_a, PRESET, work / "a.mp4", verify=False))  # fmt: skip
    ours_v = await timed("editbay render (with strict verification)",
                         lambda: render(tl_a, PRESET, work / "a2.mp4"))  # fmt: skip
    mp = await timed("MoviePy 2 render", lambda: asyncio.to_thread(
        moviepy_render, tl_a, work / "mp.mp4", font))  # fmt: skip
    floor = await timed(
        f"transcode floor: our output re-encoded ({tl_a.duration_s:.1f} s, no filters)",
        lambda: transcode_floor(work / "a.mp4", tl_a.duration_s, work / "f.mp4"),
    )
    floor_syn = await timed(
        f"transcode floor: testsrc2 take ({tl_a.duration_s:.1f} s, no filters)",
        lambda: transcode_floor(floor_src, tl_a.duration_s, work / "f2.mp4"),
    )
    rows += [
        ("(a) MoviePy time / editbay time", f"{mp / ours:.2f}x", ">= 2.8x", _ok(mp / ours >= 2.8)),
        ("(a) editbay time / transcode floor", f"{ours / floor:.2f}x", "<= 1.10x",
         _ok(ours / floor <= 1.10)),
        ("(a) same, editbay with verification", f"{ours_v / floor:.2f}x", "(info)", ""),
        ("(a) editbay / testsrc2-only floor", f"{ours / floor_syn:.2f}x", "(info)", ""),
    ]  # fmt: skip

    print("(b) smart path, cut-only edit, 1 s keyframes")
    segs = [Segment(sources[i % 3], 0.3 + (i % 4) * 0.37, 0.3 + (i % 4) * 0.37 + seg_b)
            for i in range(12)]  # fmt: skip
    tl_b = Timeline(tuple(segs))
    full = await timed("full re-encode (no output verification)",
                       lambda: render(tl_b, PRESET, work / "b-full.mp4", allow_smart=False,
                                      verify=False))  # fmt: skip
    result: dict = {}

    async def smart_run(verify: bool) -> None:
        result["r"] = await render(tl_b, PRESET, work / "b-smart.mp4", verify=verify)
        assert result["r"].smart_path, "the smart path was not taken"

    smart = await timed("smart path (no strict decode, as the full run)",
                        lambda: smart_run(False))  # fmt: skip
    smart_v = await timed("smart path (with strict decode of the output)",
                          lambda: smart_run(True))  # fmt: skip
    rows += [
        (
            "(b) full re-encode / smart path",
            f"{full / smart:.2f}x",
            ">= 5x",
            _ok(full / smart >= 5),
        ),
        ("(b) same, smart path strictly verified", f"{full / smart_v:.2f}x", "(info)", ""),
    ]

    print("(c) chunked rendering, one core per worker")
    tl_c = Timeline((Segment(sources[0], 0.0, chunk_s / 2), Segment(sources[1], 0.0, chunk_s / 2)),
                    overlays=(Overlay.title("chunks", 1.0, 3.0),))  # fmt: skip
    scratch = work / "scratch"
    scratch.mkdir()
    one = await timed("one worker, whole timeline",
                      lambda: pinned_chunk(tl_c, work / "c-one.mov", 0, scratch))  # fmt: skip
    halves = split_timeline(tl_c, 2, fps=PRESET.fps)

    async def two_workers() -> None:
        paths = [work / f"c-{i}.mov" for i in range(2)]
        pairs = enumerate(zip(halves, paths, strict=True))
        await asyncio.gather(*(pinned_chunk(c, p, i, scratch) for i, (c, p) in pairs))
        await join_chunks(paths, work / "c-joined.mp4", preset=PRESET,
                          total_frames=tl_c.frame_count(PRESET.fps))  # fmt: skip

    two = await timed("two workers in parallel + join", two_workers)
    rows.append(("(c) two workers / one worker", f"{two / one:.2f}x", "<= 0.6x",
                 _ok(two / one <= 0.6)))  # fmt: skip

    print()
    for name, value, target, ok in rows:
        print(f"{name:<42} {value:>8}  target {target:<9} {ok}")
    write_results(rows, quick, {
        "editbay (a)": ours, "editbay (a) verified": ours_v, "MoviePy (a)": mp,
        "transcode floor (a), same pictures": floor,
        "transcode floor (a), testsrc2 take": floor_syn, "full re-encode (b)": full,
        "smart path (b)": smart, "smart path (b) verified": smart_v,
        "one worker (c)": one, "two workers (c)": two,
    }, tl_a.duration_s, tl_b.duration_s, tl_c.duration_s)  # fmt: skip


NOTES = """\
Notes on the method and on missed targets:
- The machine is shared: other work running at the same time slows some runs more than others,
  so ratios move between runs. Run on an idle machine for figures to compare over time.
- (a) The transcode floor that matters re-encodes our own output (same pictures, same duration)
  with no filters; the testsrc2-only floor is harder to encode and flatters us. What our render
  adds over the floor: one decoder per segment, each starting at the keyframe before its
  in-point (half a GOP of extra decoding per cut on average), the filter graph, and single-pass
  loudnorm, which alone costs about 1 s of one core per 30 s of audio (it works at 192 kHz).
- (b) With 1 s keyframes every segment re-encodes on average one GOP (head plus tail), so an
  8 s segment re-encodes about 1/8 of its frames; the audio graph with loudnorm runs over the
  whole programme in both paths, and each part is a separate short FFmpeg run. The smart path
  pays off more with longer segments; it cannot reach 5x on short segments with this GOP.
- (c) The two workers are pinned to cores 0 and 1; when another process occupies a core, the
  parallel run cannot finish in half the time. The join (concat demuxer, video copied, audio
  encoded once with loudnorm) is included in the two-worker time.
"""


def _ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


def write_results(
    rows: list[tuple[str, str, str, str]], quick: bool, times: dict[str, float],
    dur_a: float, dur_b: float, dur_c: float,
) -> None:  # fmt: skip
    lines = [
        "# Render benchmarks (latest run)",
        "",
        f"Machine: {machine()}.",
        f"Preset: {PRESET.name} ({PRESET.width}x{PRESET.height}, {PRESET.fps} fps), x264 "
        f"{PRESET.x264_preset}, CRF {PRESET.crf}, AAC {PRESET.audio_bitrate}; footage generated by "
        f"FFmpeg (1280x720 H.264, 1 s keyframes). Programme lengths: (a) {dur_a:.1f} s, "
        f"(b) {dur_b:.1f} s, (c) {dur_c:.1f} s.{' Quick mode (shorter edits).' if quick else ''}",
        "",
        "| ratio | value | target | |",
        "|---|---|---|---|",
        *[f"| {n} | {v} | {t} | {o} |" for n, v, t, o in rows],
        "",
        "| run | seconds |",
        "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in times.items()],
        "",
        NOTES,
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print(f"\nwrote {RESULTS.relative_to(Path(__file__).parent.parent)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter edits, for a smoke run")
    asyncio.run(main(parser.parse_args().quick))
