"""Render benchmarks, all measured in one run on the same generated footage.

    uv sync --group bench
    uv run python benchmarks/bench_render.py [--quick] [--repeat N]

(a) a 12-segment edit with a title overlay and fades: editbay vs MoviePy 2 (target >= 2.8x
    faster) and vs the transcode floor, a plain FFmpeg transcode of the same duration with no
    filters to the preset's output (its keyframe interval too) (target within 1.10x);
(b) the smart path on a cut-only edit of sources with 1-second keyframe intervals vs the full
    re-encode of the same edit (target >= 5x);
(c) chunked rendering with every worker a process limited to one core (CPU affinity, one
    FFmpeg and x264 thread): two workers pulling the two chunks and the audio job from one queue,
    then the join, vs one worker rendering the whole timeline (target <= 0.6x).

Every encode uses the same x264 preset (veryfast) and CRF. Each time is the median of N runs
(5 by default; MoviePy runs once), and the runs a ratio compares are taken in turn (a, b, a,
b, ...) so that a slow spell of the shared machine weighs on both sides; the ratio within each
round is printed too. Ratios are printed
and the latest figures written to benchmarks/results/render.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.render import Overlay, Segment, Timeline, Transition, get_preset, render
from editbay_common.media.render.audio import render_programme_audio
from editbay_common.media.render.chunks import join_chunks, render_chunk, split_timeline
from editbay_common.media.render.sources import PROBED
from editbay_common.media.render.text import default_font

PRESET = get_preset("landscape-720p")  # veryfast, CRF 20, 30 fps
RESULTS = Path(__file__).parent / "results" / "render.md"
# Where the results file's record of earlier runs begins: a run rewrites what is above it.
HISTORY = "## Earlier runs"


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


REPEAT = {"n": 5}
OTHERS: dict[str, float] = {}  # label -> CPU seconds others used during its runs
ROUNDS: dict[str, list[float]] = {}  # label -> its time in each round, in order


def _machine_busy_s() -> float:
    """CPU seconds all processes on the machine (not only ours) have been busy (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy, steal
    # being time the hypervisor gave to other machines
    ticks = [int(x) for x in fields[:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


WORKERS_CPU = {"s": 0.0}  # CPU seconds of the worker processes of (c), as they report it


def _own_and_children_cpu_s() -> float:
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _our_cpu_s() -> float:
    return _own_and_children_cpu_s() + WORKERS_CPU["s"]


Run = tuple[str, Callable[[], Awaitable[object]]]


async def timed_in_turn(runs: list[Run], repeat: int | None = None) -> list[float]:
    """The median time of each run; the runs are taken in turn (a, b, a, b, ...), so a slow
    spell of the shared machine falls on every side of a ratio alike rather than on one.

    Also notes how much CPU the rest of the machine used meanwhile (busy time, including time
    the hypervisor gave to other machines, minus our own CPU time)."""
    took: dict[str, list[float]] = {label: [] for label, _ in runs}
    others = dict.fromkeys(took, 0.0)
    for _ in range(repeat or REPEAT["n"]):
        for label, fn in runs:
            busy0, ours0 = _machine_busy_s(), _our_cpu_s()
            start = time.perf_counter()
            await fn()
            took[label].append(time.perf_counter() - start)
            others[label] += max(0.0, (_machine_busy_s() - busy0) - (_our_cpu_s() - ours0))
    for label, times in took.items():
        OTHERS[label] = others[label] / sum(times)
        ROUNDS[label] = times
        print(
            f"  {label:<52} {statistics.median(times):7.2f} s  (runs: "
            f"{' '.join(f'{t:.2f}' for t in times)}; other work used {OTHERS[label]:.2f} cores "
            "meanwhile)"
        )
    return [statistics.median(took[label]) for label, _ in runs]


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


async def transcode_floor(
    src: Path, seconds: float, dest: Path, *, preset_gop: bool = True
) -> None:
    """A plain transcode to the preset's output: its x264 preset, CRF, profile, pixel format and
    keyframe interval (``preset_gop=False``: x264's default interval, 250 frames)."""
    gop = ["-g", str(PRESET.gop_frames)] if preset_gop else []
    await process.run([
        *process.ffmpeg_base_args(), "-i", str(src), "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", PRESET.x264_preset, "-crf", str(PRESET.crf), *gop,
        "-pix_fmt", "yuv420p", "-profile:v", "high", "-c:a", "aac", "-b:a", PRESET.audio_bitrate,
        "-movflags", "+faststart", str(dest),
    ])  # fmt: skip


def pinned_worker(core: int) -> ProcessPoolExecutor:
    """A render worker: one process whose every FFmpeg run is pinned to ``core`` (affinity is
    inherited) and told to use one thread."""
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=os.sched_setaffinity, initargs=(0, {core}))  # fmt: skip


# The jobs a worker runs (module functions: they cross into the worker processes).
def job_render(tl: Timeline, dest: Path) -> None:
    asyncio.run(render(tl, PRESET, dest, verify=False, threads=1, allow_smart=False))


def job_chunk(chunk: Timeline, dest: Path) -> None:
    asyncio.run(render_chunk(chunk, PRESET, dest, threads=1))


def job_audio(tl: Timeline, dest: Path) -> None:
    asyncio.run(render_programme_audio(tl, PRESET, dest))


def job_join(paths: list[Path], audio: Path, dest: Path) -> None:
    asyncio.run(join_chunks(paths, audio, dest))


def _cpu_of(fn: Callable[..., None], *args: object) -> float:
    """Run a job in a worker; the CPU seconds the worker and its FFmpeg runs spent on it."""
    before = _own_and_children_cpu_s()
    fn(*args)
    return _own_and_children_cpu_s() - before


async def pull(worker: ProcessPoolExecutor, queue: list[tuple]) -> None:
    """A worker takes the next job from the queue until it is empty."""
    loop = asyncio.get_running_loop()
    while queue:
        fn, *args = queue.pop(0)
        cpu = await loop.run_in_executor(worker, _cpu_of, fn, *args)
        WORKERS_CPU["s"] += cpu  # (not ``+= await``: it would read the total before waiting)


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
    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        await measure(work, quick)
    finally:  # the footage and renders: about 110 MB
        shutil.rmtree(work, ignore_errors=True)


async def measure(work: Path, quick: bool) -> None:
    seg_a, seg_b, chunk_s = (1.0, 3.0, 6.0) if quick else (2.5, 8.0, 20.0)
    LOAD["start"] = os.getloadavg()[0]
    print(f"machine: {machine()}, load average {LOAD['start']:.2f}")
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
    label_ours = "editbay render (no output verification)"
    label_floor = f"transcode floor: our output re-encoded ({tl_a.duration_s:.1f} s, no filters)"
    label_cold = "editbay render, every source probed (nothing kept)"
    label_floor250 = "transcode floor: the same, x264's default keyframe interval"

    async def render_cold() -> None:
        PROBED.clear()
        await render(tl_a, PRESET, work / "a3.mp4", verify=False)

    ours, ours_v, ours_cold, floor, floor250, floor_syn = await timed_in_turn([
        (label_ours, lambda: render(tl_a, PRESET, work / "a.mp4", verify=False)),
        ("editbay render (with strict verification)",
         lambda: render(tl_a, PRESET, work / "a2.mp4")),
        (label_cold, render_cold),
        (label_floor, lambda: transcode_floor(work / "a.mp4", tl_a.duration_s, work / "f.mp4")),
        (label_floor250, lambda: transcode_floor(work / "a.mp4", tl_a.duration_s,
                                                 work / "f3.mp4", preset_gop=False)),
        (f"transcode floor: testsrc2 take ({tl_a.duration_s:.1f} s, no filters)",
         lambda: transcode_floor(floor_src, tl_a.duration_s, work / "f2.mp4")),
    ])  # fmt: skip
    [mp] = await timed_in_turn([("MoviePy 2 render (one run: it is 6x slower)", lambda: (
        asyncio.to_thread(moviepy_render, tl_a, work / "mp.mp4", font)))], repeat=1)  # fmt: skip
    rows += [
        ("(a) MoviePy time / editbay time", f"{mp / ours:.2f}x", ">= 2.8x", _ok(mp / ours >= 2.8)),
        ("(a) editbay time / transcode floor", f"{ours / floor:.3f}x", "<= 1.10x",
         _ok(ours / floor <= 1.10)),
        ("(a) same, in each round", per_round(label_ours, label_floor), "(info)", ""),
        ("(a) same, editbay with verification", f"{ours_v / floor:.2f}x", "(info)", ""),
        ("(a) same, every source probed", f"{ours_cold / floor:.2f}x", "(info)", ""),
        ("(a) same, floor at x264's default keyframe interval", f"{ours / floor250:.2f}x",
         "(info)", ""),
        ("(a) editbay / testsrc2-only floor", f"{ours / floor_syn:.2f}x", "(info)", ""),
    ]  # fmt: skip

    print("(b) smart path, cut-only edit, 1 s keyframes")
    segs = [Segment(sources[i % 3], 0.3 + (i % 4) * 0.37, 0.3 + (i % 4) * 0.37 + seg_b)
            for i in range(12)]  # fmt: skip
    tl_b = Timeline(tuple(segs))
    result: dict = {}

    async def smart_run(verify: bool) -> None:
        result["r"] = await render(tl_b, PRESET, work / "b-smart.mp4", verify=verify)
        assert result["r"].smart_path, "the smart path was not taken"

    label_full, label_smart = ("full re-encode (no output verification)",
                               "smart path (mux's report checked, no strict decode)")  # fmt: skip
    full, smart, smart_v = await timed_in_turn([
        (label_full,
         lambda: render(tl_b, PRESET, work / "b-full.mp4", allow_smart=False, verify=False)),
        (label_smart, lambda: smart_run(False)),
        ("smart path (with strict decode of the output)", lambda: smart_run(True)),
    ])  # fmt: skip
    rows += [
        (
            "(b) full re-encode / smart path",
            f"{full / smart:.3f}x",
            ">= 5x",
            _ok(full / smart >= 5),
        ),
        ("(b) same, in each round", per_round(label_full, label_smart), "(info)", ""),
        ("(b) same, smart path strictly verified", f"{full / smart_v:.2f}x", "(info)", ""),
    ]

    print("(c) chunked rendering, one core per worker")
    tl_c = Timeline((Segment(sources[0], 0.0, chunk_s / 2), Segment(sources[1], 0.0, chunk_s / 2)),
                    overlays=(Overlay.title("chunks", 1.0, 3.0),))  # fmt: skip
    cores = sorted(os.sched_getaffinity(0))[:2]
    workers = [pinned_worker(core) for core in cores]
    for w in workers:  # start the worker processes before timing anything
        w.submit(os.getpid).result()
    whole = [(job_render, tl_c, work / "c-one.mp4")]
    halves = split_timeline(tl_c, 2, fps=PRESET.fps)

    async def two_workers() -> None:
        paths = [work / f"c-{i}.mp4" for i in range(len(halves))]
        audio = work / "c-audio.m4a"
        queue = [*((job_chunk, c, p) for c, p in zip(halves, paths, strict=True)),
                 (job_audio, tl_c, audio)]  # fmt: skip
        await asyncio.gather(*(pull(w, queue) for w in workers))
        await pull(workers[0], [(job_join, paths, audio, work / "c-joined.mp4")])

    label_one = "one worker: the whole render (video, audio, mux)"
    label_two = "two workers: chunks and audio from one queue, join"
    one, two = await timed_in_turn([
        (label_one, lambda: pull(workers[0], list(whole))),
        (label_two, two_workers),
    ])  # fmt: skip
    for w in workers:
        w.shutdown()
    rows.append(("(c) two workers / one worker", f"{two / one:.3f}x", "<= 0.6x",
                 _ok(two / one <= 0.6)))  # fmt: skip
    rows.append(("(c) same, in each round", per_round(label_two, label_one), "(info)", ""))

    LOAD["end"] = os.getloadavg()[0]
    print()
    for name, value, target, ok in rows:
        print(f"{name:<42} {value:>8}  target {target:<9} {ok}".rstrip())
    write_results(rows, quick, {
        "editbay (a)": ours, "editbay (a) verified": ours_v, "MoviePy (a)": mp,
        "editbay (a), every source probed": ours_cold,
        "transcode floor (a), same pictures": floor,
        "transcode floor (a), same pictures, x264's default keyframe interval": floor250,
        "transcode floor (a), testsrc2 take": floor_syn, "full re-encode (b)": full,
        "smart path (b)": smart, "smart path (b) verified": smart_v,
        "one worker (c)": one, "two workers (c)": two,
    }, tl_a.duration_s, tl_b.duration_s, tl_c.duration_s)  # fmt: skip


NOTES = """\
Notes on the method:
- The machine is shared (2 vCPUs) and its speed moves between runs by up to about 20% even when
  /proc/stat shows next to no other work (listed above per measurement). Times are medians of
  the runs, and the runs each ratio compares are taken in turn (a, b, a, b, ...): a slow spell
  weighs on both sides of the ratio instead of on one. The "in each round" rows give the ratio
  of the runs taken one after the other, round by round: their spread is the machine's.
- Every render path has the same shape: the picture (the full encode, the smart path's copy and
  re-encode runs, or the chunks) and one audio job (a loudness pre-pass that measures the
  programme with ebur128 while writing it to a float WAV, then the AAC encode with one static
  gain) run at once, and a stream-copying mux writes the MP4 with faststart. Every editbay time
  includes the audio job, the mux and the sources' metadata: a renderer probes a file once for
  as long as it is unchanged (ProbeCache, media/render/sources.py), so the first round probes
  the sources and later rounds find them kept. The "every source probed" row clears what was
  kept before each run (three ffprobe runs, about 0.1 s before the picture can start; in run
  19 the two were within the spread).
- (a) The transcode floor that matters re-encodes our own output (same pictures, same duration) with
  no filters, to the preset's output: the same x264 preset, CRF, profile, pixel format and 2 s
  keyframe interval. Until run 18 it kept x264's default interval (250 frames), which cost x264 1-4%
  less in separate tests of this edit (in run 19, nothing); that ratio is still given. The
  testsrc2-only floor is harder to encode and flatters us. What our render adds over the floor:
  decoding the sources (CRF 18, harder to decode than our CRF 20 output) from the keyframe before
  each in-point, the filter graph, the loudness pre-pass, the mux, and more FFmpeg processes (each
  spends 0.04 s of CPU just starting: the distribution's build loads 215 shared libraries). On the
  Intel Xeon machine of runs 18-19 (CPU seconds, medians of 3-5): the picture's FFmpeg run took 7.0,
  of which decoding 1.39 (the floor's input: 0.94), the filters 0.18, and x264 5.48, the same as
  x264 takes for the floor's pictures given raw; the audio job 0.67 (the pre-pass 0.18, the AAC
  encode 0.48, as in the floor); the mux 0.06. Decoding had a quarter more frames (the pre-roll from
  each keyframe, and 0.2 s past each out-point for the trims), each harder to decode. The reads
  past each out-point are now one output and one source frame: the concat demuxer ends an entry at
  its first packet decoded at or after the out-point, so B-frames need no more room; that saved
  about 4% of the render on an AMD EPYC machine (0.3 s of CPU). The 12
  segments are read through one decoder (a concat-demuxer listing, media/render/reads.py): with a
  decoder each, the picture's FFmpeg run spent about 0.4 s more system CPU on this edit (96k page
  faults against 49k, 565 MB peak against 360 MB). Two x264 threading settings that change no
  quality setting: 6 frame threads on 2 cores (its default is 3), and a lookahead buffer of 30
  frames (sync-lookahead; its default is 4) that rides out the decoder's pre-roll at each segment,
  about 3% faster on the 12-segment edit on an AMD EPYC machine (on the Intel Xeon, 3 and 6 threads
  were within the spread). Tried and not kept: a single-threaded decoder (0.2 s less CPU, but the
  picture took 5% longer: it starves x264).
- (b) 12 segments of 8 s (a typical talking-head cut). Each segment re-encodes its head (from the
  in-point to the first keyframe) and a few tail frames: the copy runs on to the last closed
  boundary before the out-point, between groups of B-frames, found from the packets' decode order
  (listed by the same ffprobe run that describes each source). One stream-copying run, reading
  each source once, writes the whole GOPs and, for every re-encoded end, a snippet (the packets
  from the keyframe before it to the last one it needs); one x264 run decodes all the snippets
  with one decoder and encodes the ends as one stream (about 250 frames, 2.0-2.3 s of CPU). The
  whole programme's audio must still be decoded, measured and AAC-encoded (about 0.4 s + 1.4 s of
  one core for 96 s; sample-exact cuts and the loudness gain need it). The finished file is
  checked by the mux's own report (-progress: the frames, exactly the timeline's, and the
  duration it wrote) rather than by probing it again, which cost about 0.1 s on one core while
  the other had nothing to do; what still runs on one core only is the mux (and, in the first
  round, probing the sources). 5x the full re-encode is near what the machine allows, and
  whether one run meets it depends on the machine's speed during it.
- (c) Each worker is a process pinned to one core (CPU affinity inherited by its FFmpeg runs,
  -threads 1, x264 threads=1). One worker renders the whole timeline as the renderer does (video
  and audio at once on its core, then the mux). Two workers take the jobs from one queue: the
  two chunks (picture only) and the programme's audio job, which the worker that finishes its
  chunk first picks up; then one of them joins (both streams copied). The halves are not equally
  hard (the testsrc2 half takes about 1.5x the testsrc half), so the time is the slower half plus
  the join, and the audio fits beside the faster half.
"""


LOAD: dict[str, float] = {}


def _ok(passed: bool) -> str:
    return "met" if passed else "MISSED"


def per_round(numerator: str, denominator: str) -> str:
    """The ratio within each round (runs taken one after the other): how far the machine's
    changing speed moves it."""
    pairs = zip(ROUNDS[numerator], ROUNDS[denominator], strict=True)
    return ", ".join(f"{a / b:.2f}" for a, b in pairs)


def earlier_runs() -> str:
    """The results file's record of earlier runs, kept as it is (it is written by hand)."""
    try:
        old = RESULTS.read_text()
    except FileNotFoundError:
        return ""
    at = old.find(f"\n{HISTORY}\n")
    return "" if at < 0 else old[at:]


def write_results(
    rows: list[tuple[str, str, str, str]], quick: bool, times: dict[str, float],
    dur_a: float, dur_b: float, dur_c: float,
) -> None:  # fmt: skip
    lines = [
        "# Render benchmarks (latest run)",
        "",
        f"Machine: {machine()}. Load average (1 min) at the start {LOAD['start']:.2f}, at the "
        f"end {LOAD['end']:.2f}.",
        f"Preset: {PRESET.name} ({PRESET.width}x{PRESET.height}, {PRESET.fps} fps), x264 "
        f"{PRESET.x264_preset}, CRF {PRESET.crf}, AAC {PRESET.audio_bitrate}; footage generated by "
        f"FFmpeg (1280x720 H.264, 1 s keyframes). Programme lengths: (a) {dur_a:.1f} s, "
        f"(b) {dur_b:.1f} s, (c) {dur_c:.1f} s.{' Quick mode (shorter edits).' if quick else ''}"
        f" Every time is the median of {REPEAT['n']} runs, MoviePy's a single run.",
        "",
        "| ratio | value | target | |",
        "|---|---|---|---|",
        *[f"| {n} | {v} | {t} | {o} |" for n, v, t, o in rows],
        "",
        "| run | seconds (median) |",
        "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in times.items()],
        "",
        "Other work on the machine during each measurement (cores busy on average, besides ours):",
        "",
        *[f"- {k}: {v:.2f}" for k, v in OTHERS.items()],
        "",
        NOTES,
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + earlier_runs())
    print(f"\nwrote {RESULTS.relative_to(Path(__file__).parent.parent)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter edits, for a smoke run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    cli = parser.parse_args()
    REPEAT["n"] = cli.repeat
    asyncio.run(main(cli.quick))
