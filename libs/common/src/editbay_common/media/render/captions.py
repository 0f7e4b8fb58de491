"""Captions: parse SRT and WebVTT into cues, shift them, write SRT and VTT sidecars."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# [hhh:]mm:ss[.,]ttt with bounded digit counts (ASCII digits only): a field of hundreds of
# digits is malformed, not a number to convert.
_TIME = r"(?:([0-9]{1,3}):)?([0-9]{1,2}):([0-9]{2})[.,]([0-9]{1,3})"
# A timing line: two times and the arrow, then (WebVTT) cue settings after a space.
_ARROW = re.compile(rf"{_TIME}[ \t]*-->[ \t]*{_TIME}(?:[ \t].*)?")
# What a timing line looks like at a glance (a time-like field before the arrow, even a
# negative or malformed one): such a line must parse, wherever it is.
_TIMING_LIKE = re.compile(r"\s*[-+]?[0-9][0-9:.,]*\s*-->")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")  # VTT/SRT styling tags such as <i>, <v Speaker>


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


class CaptionError(ValueError):
    pass


def _seconds(h: str | None, m: str, s: str, ms: str, line: str) -> float:
    hours, minutes, secs = int(h or 0), int(m), int(s)
    if minutes > 59 or secs > 59:
        raise CaptionError(f"bad cue time (minutes and seconds go to 59): {line!r}")
    return hours * 3600 + minutes * 60 + secs + int(ms.ljust(3, "0")) / 1000


def _timing(line: str) -> tuple[float, float]:
    m = _ARROW.fullmatch(line.strip())
    if m is None:
        raise CaptionError(f"bad cue timing: {line[:200]!r}")
    g = m.groups()
    return _seconds(*g[:4], line), _seconds(*g[4:], line)


def parse_captions(text: str) -> list[Cue]:
    """Cues from SRT or WebVTT text (format detected from the cue timing lines).

    Every timing line starts a cue, even without the blank line that should end the one before
    (whose last line, if a bare number, is then the next cue's index); the cue's text runs to
    the next blank or timing line. Lines outside cues (the WEBVTT header, NOTE and STYLE
    blocks, indexes) are skipped. A malformed timing line raises ``CaptionError``."""
    cues: list[Cue] = []
    cue: tuple[float, float, list[str]] | None = None

    def close() -> None:
        if cue is None:
            return
        start, end, lines = cue
        body = "\n".join(_TAG.sub("", line) for line in lines).strip()
        if end > start and body:
            cues.append(Cue(start, end, body))

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if "-->" in line and (cue is None or _TIMING_LIKE.match(line)):
            start, end = _timing(line)
            if cue is not None and cue[2] and cue[2][-1].strip().isdigit():
                cue[2].pop()  # the next cue's index, with no blank line before it
            close()
            cue = (start, end, [])
        elif not line.strip():
            close()
            cue = None
        elif cue is not None:
            cue[2].append(line)
    close()
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
