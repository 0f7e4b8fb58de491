"""Captions: parse SRT and WebVTT into cues, shift them, write SRT and VTT sidecars."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})")
_ARROW = re.compile(rf"({_TIME.pattern})\s*-->\s*({_TIME.pattern})")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")  # VTT/SRT styling tags such as <i>, <v Speaker>


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


class CaptionError(ValueError):
    pass


def _seconds(match: re.Match[str]) -> float:
    h, m, s, ms = match.groups()
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_captions(text: str) -> list[Cue]:
    """Cues from SRT or WebVTT text (format detected from the cue timing lines)."""
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").strip()):
        lines = block.split("\n")
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # WEBVTT header, NOTE, STYLE or a stray index
        m = _ARROW.search(lines[timing])
        if m is None:
            raise CaptionError(f"bad cue timing: {lines[timing]!r}")
        start = _seconds(_TIME.match(m.group(1)))  # type: ignore[arg-type]
        end = _seconds(_TIME.match(m.group(6)))  # type: ignore[arg-type]
        body = "\n".join(_TAG.sub("", line) for line in lines[timing + 1 :]).strip()
        if end > start and body:
            cues.append(Cue(start, end, body))
    return sorted(cues, key=lambda c: c.start_s)


def read_captions(path: Path) -> list[Cue]:
    return parse_captions(path.read_text(encoding="utf-8-sig"))


def shift_cues(cues: Iterable[Cue], offset_s: float, length_s: float) -> list[Cue]:
    """Cues of the window ``[offset_s, offset_s + length_s)``, re-timed to start at zero."""
    out = []
    for c in cues:
        start, end = max(0.0, c.start_s - offset_s), min(length_s, c.end_s - offset_s)
        if end > start:
            out.append(Cue(start, end, c.text))
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    return "".join(
        f"{i}\n{_stamp(c.start_s, ',')} --> {_stamp(c.end_s, ',')}\n{c.text}\n\n"
        for i, c in enumerate(cues, 1)
    )


def to_vtt(cues: Sequence[Cue]) -> str:
    body = "".join(
        f"{_stamp(c.start_s, '.')} --> {_stamp(c.end_s, '.')}\n{c.text.replace('-->', '->')}\n\n"
        for c in cues
    )
    return "WEBVTT\n\n" + body


def write_sidecars(cues: Sequence[Cue], video: Path) -> tuple[Path, Path]:
    """Write ``<video>.srt`` and ``<video>.vtt`` beside the video; returns both paths."""
    srt, vtt = video.with_suffix(".srt"), video.with_suffix(".vtt")
    srt.write_text(to_srt(cues), encoding="utf-8")
    vtt.write_text(to_vtt(cues), encoding="utf-8")
    return srt, vtt
