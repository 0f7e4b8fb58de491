"""Shot detection benchmark: editbay's detect_shots against PySceneDetect and the decode floor.

Run on demand from the repository root:

    uv sync --group bench
    uv run --group bench python benchmarks/bench_shots.py [--repeats 3]

On a generated 5-minute 640x360 H.264 video with 60 hard cuts between unlike shots it times,
in the same run and interleaved: ``detect_shots``; PySceneDetect's ContentDetector with its
defaults; and the decode floor (``ffmpeg -an -i X -f null -``). It prints the speed ratios and
the F1 of both detectors (2-frame tolerance) and writes them to benchmarks/results/shots.md.
Targets: at least 1.3x faster than PySceneDetect at equal or better F1; at most 1.2x the time
of the decode floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from footage import shots_footage

from editbay_common.media.shots import detect_shots

RESULTS = Path(__file__).resolve().parent / "results" / "shots.md"
FPS = 25
TOLERANCE_S = 2 / FPS


def f1_score(truth: list[float], found: list[float], tolerance_s: float = TOLERANCE_S) -> float:
    unmatched = list(found)
    hits = 0
    for cut in truth:
        near = [f for f in unmatched if abs(f - cut) <= tolerance_s]
        if near:
            unmatched.remove(min(near, key=lambda f: abs(f - cut)))
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(found), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def run_ours(video: Path) -> list[float]:
    return asyncio.run(detect_shots(video))


def run_pyscenedetect(video: Path) -> list[float]:
    from scenedetect import ContentDetector, detect

    scenes = detect(str(video), ContentDetector())
    return [float(start.seconds) for start, _ in scenes[1:]]


def run_decode_floor(video: Path) -> list[float]:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
         "-an", "-i", str(video), "-f", "null", "-"],
        check=True,
    )  # fmt: skip
    return []


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (FFmpeg runs as a child)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable[[Path], list[float]], video: Path) -> tuple[float, float, list[float]]:
    """Wall seconds, CPU seconds and the cuts found."""
    cpu, start = cpu_seconds(), time.perf_counter()
    cuts = fn(video)
    return time.perf_counter() - start, cpu_seconds() - cpu, cuts


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    import scenedetect

    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "FFmpeg": ffmpeg.splitlines()[0].split(" Copyright")[0] if ffmpeg else "unknown",
        "Python": platform.python_version(),
        "PySceneDetect": scenedetect.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    video, truth = asyncio.run(shots_footage())
    print(f"video: {truth.duration_s:.1f} s, {len(truth.cuts)} cuts, 640x360 @ {FPS} fps")
    runners = {"decode floor": run_decode_floor, "editbay": run_ours,
               "PySceneDetect": run_pyscenedetect}  # fmt: skip
    run_decode_floor(video)  # warm the page cache
    times: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    found: dict[str, list[float]] = {}
    for round_no in range(args.repeats):
        for name, fn in runners.items():
            seconds, cpu_s, cuts = timed(fn, video)
            times[name].append(seconds)
            cpu[name].append(cpu_s)
            found[name] = cuts
            print(f"round {round_no + 1}: {name:14s} {seconds:7.2f} s wall {cpu_s:7.2f} s CPU")
    # Ratios per round, then the median: other load on the machine drifts between rounds.
    pairs = zip(times["PySceneDetect"], times["editbay"], times["decode floor"], strict=True)
    ratios = [(p / e, e / d) for p, e, d in pairs]
    speedup = statistics.median(r[0] for r in ratios)
    vs_floor = statistics.median(r[1] for r in ratios)
    median = {name: statistics.median(values) for name, values in times.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    f1 = {name: f1_score(truth.cuts, found[name]) for name in ("editbay", "PySceneDetect")}
    report(median, median_cpu, f1, speedup, vs_floor, truth.duration_s, len(truth.cuts),
           args.repeats)  # fmt: skip


def report(
    median: dict[str, float],
    median_cpu: dict[str, float],
    f1: dict[str, float],
    speedup: float,
    vs_floor: float,
    duration_s: float,
    cuts: int,
    repeats: int,
) -> None:
    speed_ok = speedup >= 1.3 and f1["editbay"] >= f1["PySceneDetect"]
    floor_ok = vs_floor <= 1.2
    lines = [
        "# Shot detection benchmark",
        "",
        f"Latest run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `benchmarks/bench_shots.py`, "
        f"{repeats} interleaved rounds; times are medians, ratios the median of per-round ratios.",
        "",
        f"Footage: generated {duration_s:.0f} s H.264 video, 640x360 at {FPS} fps, {cuts} hard "
        "cuts between unlike shots (test patterns, fractals, cellular automata, colours); "
        "F1 with a 2-frame tolerance.",
        "",
        "| | wall time (s) | CPU time (s) | F1 |",
        "|---|---:|---:|---:|",
        f"| editbay `detect_shots` | {median['editbay']:.2f} | {median_cpu['editbay']:.2f} "
        f"| {f1['editbay']:.3f} |",
        f"| PySceneDetect `ContentDetector()` defaults | {median['PySceneDetect']:.2f} "
        f"| {median_cpu['PySceneDetect']:.2f} | {f1['PySceneDetect']:.3f} |",
        f"| decode floor `ffmpeg -an -i X -f null -` | {median['decode floor']:.2f} "
        f"| {median_cpu['decode floor']:.2f} | |",
        "",
        f"- Speed-up over PySceneDetect: **{speedup:.2f}x** (target >= 1.3x at equal or better "
        f"F1: {'met' if speed_ok else 'NOT met'}).",
        f"- Time relative to the decode floor: **{vs_floor:.2f}x** (target <= 1.2x: "
        f"{'met' if floor_ok else 'NOT met'}).",
        "",
        "Machine:",
        "",
        *[f"- {key}: {value}" for key, value in machine().items()],
        "",
        "Why detect_shots stays near the decode floor: it decodes with `-skip_loop_filter all` "
        "(H.264 deblocking only smooths block edges that the 64x36 downscale removes anyway), "
        "which roughly pays for the downscale inside FFmpeg and the numpy work on 2.3 kB per "
        "frame; and it decodes a long video in parts, one FFmpeg process per core with one "
        "decoder thread each, where the floor's frame-threaded decoder keeps about 1.4 of 2 "
        "cores busy. The floor decodes every frame in full, in one process.",
        "",
        "The machine is shared with other work, so absolute times vary between runs; the ratios "
        "come from rounds run back to back.",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
