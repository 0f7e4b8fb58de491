"""Text drawn on video: fonts, and text files the engine writes itself.

Text never enters a filter string. Each piece of text goes into a file in the render's scratch
directory and drawtext reads it with ``textfile=...:expansion=none``, so quotes, backslashes,
colons, ``%{...}`` and brackets are drawn literally and cannot change the filter graph.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from editbay_common.media import process

_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
)
_font_cache: Path | None = None


class FontNotFoundError(RuntimeError):
    pass


def _known_font() -> Path | None:
    env = os.environ.get("EDITBAY_FONT")
    if env:
        return Path(env)
    return next((Path(p) for p in _CANDIDATES if os.path.isfile(p)), None)


async def default_font() -> Path:
    """A font file for drawtext: ``EDITBAY_FONT``, a known DejaVu path, or ``fc-match sans``."""
    global _font_cache
    if _font_cache is not None:
        return _font_cache
    found = await asyncio.to_thread(_known_font)
    if found is None:
        try:
            result = await process.run(["fc-match", "-f", "%{file}", "sans"], timeout=10)
            out = result.stdout.decode().strip()
            found = Path(out) if out and await asyncio.to_thread(os.path.isfile, out) else None
        except (TimeoutError, OSError, process.FFmpegError):
            found = None
    if found is None:
        raise FontNotFoundError("no font found: install fonts-dejavu-core or set EDITBAY_FONT")
    _font_cache = found
    return found


class TextFiles:
    """Writes numbered UTF-8 text files into a scratch directory."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._n = 0

    def write(self, text: str) -> Path:
        self._n += 1
        path = self.scratch / f"text-{self._n:04d}.txt"
        # Normalise line ends; drawtext draws a trailing newline as an empty line, so strip it.
        path.write_text(text.replace("\r\n", "\n").rstrip("\n"), encoding="utf-8")
        return path
