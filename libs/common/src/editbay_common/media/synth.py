"""Generated footage with known ground truth, for tests, the demo and benchmarks.

``synth_take`` makes a "take": spoken lines (FFmpeg's flite voice) and silences over a plain
coloured picture, and says exactly where the speech is. Each spoken line is gated: the quiet
lead-in and tail that flite leaves around a line are replaced by digital silence, so the truth
intervals are the only places with sound. ``synth_shots`` makes a video of hard cuts between
unlike shots (different test patterns, colours and motion) and says exactly where the cuts are.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from editbay_common.media.process import ffmpeg_base_args, run
from editbay_common.media.silence import Interval

SAMPLE_RATE = 48000
# Level below which flite's lead-in and tail count as silence when a spoken line is gated.
_GATE_DB = -40.0
_GATE_FRAME_S = 0.01
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./-]+$")
_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class SynthTruth:
    duration_s: float
    speech: list[Interval] = field(default_factory=list)
    cuts: list[float] = field(default_factory=list)


async def synth_take(
    dest: Path,
    parts: Sequence[str | float],
    *,
    size: tuple[int, int] = (320, 180),
    fps: int = 25,
    color: str = "0x3050a0",
    voice: str = "slt",
    label: str | None = None,
) -> SynthTruth:
    """Write an H.264/AAC MP4 take to ``dest``: each str part is spoken, each float is silence."""
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="editbay-synth-") as tmp:
        workdir = Path(tmp)
        chunks: list[np.ndarray] = []
        speech: list[Interval] = []
        position = 0
        for i, part in enumerate(parts):
            if isinstance(part, str):
                samples = await _speak(part, voice, workdir / f"line{i}.txt")
                start = position / SAMPLE_RATE
                speech.append(Interval(start, start + len(samples) / SAMPLE_RATE))
            else:
                samples = np.zeros(round(float(part) * SAMPLE_RATE), dtype=np.int16)
            chunks.append(samples)
            position += len(samples)
        audio = np.concatenate(chunks) if chunks else np.zeros(SAMPLE_RATE, dtype=np.int16)
        duration = len(audio) / SAMPLE_RATE
        video = f"color=c={color}:s={size[0]}x{size[1]}:r={fps}:d={duration:.6f}"
        if label is not None:
            label_file = workdir / "label.txt"
            await asyncio.to_thread(label_file.write_text, label, encoding="utf-8")
            video += "," + _drawtext(label_file, size[1])
        args = [
            *ffmpeg_base_args(),
            "-f", "lavfi", "-i", video,
            "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
            "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k",
            "-movflags", "+faststart",
            str(dest),
        ]  # fmt: skip
        await run(args, stdin=audio.tobytes(), timeout=_TIMEOUT_S)
    return SynthTruth(duration_s=duration, speech=speech, cuts=[])


async def _speak(text: str, voice: str, text_file: Path) -> np.ndarray:
    """Synthesise one line at 48 kHz mono and gate it to where it is audible."""
    await asyncio.to_thread(text_file.write_text, text, encoding="utf-8")
    args = [
        *ffmpeg_base_args(),
        "-f", "lavfi", "-i", f"flite=textfile={_filter_path(text_file)}:voice={voice}",
        "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1",
    ]  # fmt: skip
    result = await run(args, timeout=_TIMEOUT_S)
    samples = np.frombuffer(result.stdout, dtype=np.int16)
    return _gate(samples)


def _gate(samples: np.ndarray) -> np.ndarray:
    """Trim to the first and last loud 10 ms frame; nothing outside them is kept."""
    frame = round(_GATE_FRAME_S * SAMPLE_RATE)
    usable = len(samples) // frame * frame
    frames = samples[:usable].astype(np.float64).reshape(-1, frame) / 32768.0
    levels = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.nonzero(levels > _GATE_DB)[0]
    if len(loud) == 0:
        return samples[:frame].copy() * 0
    return samples[loud[0] * frame : (loud[-1] + 1) * frame].copy()


def _drawtext(text_file: Path, height: int) -> str:
    # Text comes from a file we wrote, with expansion off: never spliced into the filter string.
    return (
        f"drawtext=textfile={_filter_path(text_file)}:expansion=none:fontcolor=white"
        f":fontsize={max(8, height // 8)}:x=(w-tw)/2:y=(h-th)/2"
    )


def _filter_path(path: Path) -> str:
    text = str(path)
    if not _SAFE_PATH.match(text):
        raise ValueError(f"unsafe path for a filter graph: {text!r}")
    return text


# Unlike-looking generators for synth_shots; adjacent shots never share one.
_SHOT_SOURCES = (
    "testsrc2=s={w}x{h}:r={fps}:d={d}",
    "smptebars=s={w}x{h}:r={fps}:d={d}",
    "mandelbrot=s={w}x{h}:r={fps}",
    "life=s={w}x{h}:r={fps}:mold=10:ratio=0.2:death_color=#203040:life_color=#e0c050",
    "rgbtestsrc=s={w}x{h}:r={fps}:d={d}",
    "cellauto=s={w}x{h}:r={fps}:rule=30",
    "testsrc=s={w}x{h}:r={fps}:d={d}",
    "gradients=s={w}x{h}:r={fps}:d={d}:speed=0.05",
    "yuvtestsrc=s={w}x{h}:r={fps}:d={d}",
    "color=c=0x{c:06x}:s={w}x{h}:r={fps}:d={d}",
)


async def synth_shots(
    dest: Path,
    shot_lengths_s: Sequence[float],
    *,
    size: tuple[int, int] = (320, 180),
    fps: int = 25,
    with_audio: bool = True,
) -> SynthTruth:
    """Write an H.264 MP4 of hard cuts between unlike shots; ``truth.cuts`` are the cut times.

    Shot lengths are rounded to whole frames so every cut falls exactly on a frame.
    """
    frames = [max(1, round(length * fps)) for length in shot_lengths_s]
    if not frames:
        raise ValueError("at least one shot is needed")
    w, h = size
    chains = []
    for i, count in enumerate(frames):
        source = _SHOT_SOURCES[i % len(_SHOT_SOURCES)]
        # A different hue each time round the list keeps repeats of a generator unlike.
        hue = (i // len(_SHOT_SOURCES)) * 47 % 360
        colour = (0x40 + 37 * i) % 256 << 16 | (0x90 + 71 * i) % 256 << 8 | (0x20 + 113 * i) % 256
        spec = source.format(w=w, h=h, fps=fps, d=f"{count / fps:.6f}", c=colour)
        chains.append(
            f"{spec},trim=end_frame={count},setpts=N/({fps}*TB),format=yuv420p,"
            f"hue=h={hue},setsar=1[v{i}]"
        )
    inputs = "".join(f"[v{i}]" for i in range(len(frames)))
    graph = ";".join(chains) + f";{inputs}concat=n={len(frames)}:v=1:a=0[v]"
    total_frames = sum(frames)
    duration = total_frames / fps
    args = [*ffmpeg_base_args(), "-filter_complex", graph]
    if with_audio:
        args += ["-f", "lavfi", "-i", f"sine=f=330:sample_rate={SAMPLE_RATE}:d={duration:.6f}"]
    args += ["-map", "[v]"]
    if with_audio:
        args += ["-map", "0:a", "-c:a", "aac", "-b:a", "64k"]
    args += [
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-frames:v", str(total_frames), "-movflags", "+faststart", str(dest),
    ]  # fmt: skip
    await run(args, timeout=_TIMEOUT_S)
    cuts = [round(n / fps, 6) for n in np.cumsum(frames)[:-1].tolist()]
    return SynthTruth(duration_s=duration, speech=[], cuts=cuts)
