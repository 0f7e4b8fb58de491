"""Glyph coverage and fallback fonts for text drawn on video.

drawtext draws a line with one font file, and a character that font lacks comes out as its
missing-glyph box. So before a text is drawn, every character it uses is looked up in the primary
font (DejaVu Sans by default: Latin, Greek, Cyrillic, Hebrew, Arabic); for the characters it lacks
(emoji, CJK, ...) fontconfig names an outline font that has them. Those fonts are cut down to just
those characters and merged into a copy of the primary font, which drawtext then reads: one font
file, so drawtext still lays out the whole line itself (widths, kerning, right-to-left shaping
through FriBiDi). Colour bitmap fonts (such as Noto Color Emoji) cannot be scaled by drawtext
and are never chosen; a monochrome emoji font (Symbola, from ``fonts-symbola``) is.

Merged fonts are written once per set of characters and kept in a cache folder: a text without
missing characters costs one lookup in a cached character map.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

_FC_TIMEOUT_S = 10.0
_lock = threading.Lock()


def text_chars(text: str) -> set[int]:
    """The code points drawtext will draw (line breaks and tabs are layout, not glyphs)."""
    return {ord(c) for c in text if c not in "\n\r\t"}


def is_invisible(cp: int) -> bool:
    """Format characters (variation selectors, joiners, direction marks): they have no shape,
    so where no font maps them they are left out rather than drawn as a box."""
    return unicodedata.category(chr(cp)) == "Cf" or 0xFE00 <= cp <= 0xFE0F


@lru_cache(maxsize=256)
def char_map(path: str, mtime_ns: int) -> frozenset[int]:
    """The code points a font file maps to glyphs (``mtime_ns`` keys the cache to the file)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=0) as font:
        return frozenset(font.getBestCmap() or {})


def covers(font: Path) -> frozenset[int]:
    return char_map(str(font), os.stat(font).st_mtime_ns)


@lru_cache(maxsize=1024)
def fallback_for(cp: int) -> Path | None:
    """An outline TrueType font that has ``cp``, as fontconfig ranks them; None if none has.

    TrueType only: fontTools merges fonts of one outline format, and the primary is TrueType.
    """
    pattern = f":charset={cp:x}:outline=true:color=false:fontformat=TrueType"
    try:
        result = subprocess.run(
            ["fc-match", "--sort", "--format", "%{file}\\n", pattern],
            capture_output=True, timeout=_FC_TIMEOUT_S, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("fontconfig could not be asked for a fallback font: %s", exc)
        return None
    # fc-match --sort lists every font, best first; keep the first that really has the glyph.
    for line in result.stdout.decode(errors="replace").splitlines():
        path = Path(line.strip())
        if line.strip() and path.suffix.lower() == ".ttf" and path.is_file():
            try:
                if cp in covers(path):
                    return path
            except Exception as exc:  # a broken font file on the system: skip it
                log.debug("skipping font %s: %s", path, exc)
    return None


def plan_fallbacks(primary: Path, chars: Iterable[int]) -> tuple[dict[Path, set[int]], set[int]]:
    """The fallback fonts for the characters ``primary`` lacks, and the characters no font has."""
    have = covers(primary)
    extra: dict[Path, set[int]] = {}
    missing: set[int] = set()
    for cp in sorted(set(chars) - have):
        font = fallback_for(cp)
        if font is None:
            missing.add(cp)
        else:
            extra.setdefault(font, set()).add(cp)
    return extra, missing


def cache_dir() -> Path:
    """Where merged fonts are kept: ``EDITBAY_FONT_CACHE``, else a folder in the temp dir."""
    return Path(os.environ.get("EDITBAY_FONT_CACHE") or Path(tempfile.gettempdir())
                / "editbay-fonts")  # fmt: skip


def font_for_text(primary: Path, text: str) -> tuple[Path, str]:
    """The font file to draw ``text`` with, and the text as it will be drawn.

    The primary font when it has every character; else a merged copy with the fallbacks'
    glyphs. Invisible format characters that no font has are dropped from the text; any other
    character no font has stays (drawn as the missing-glyph box) and is logged.
    """
    extra, missing = plan_fallbacks(primary, text_chars(text))
    invisible = {cp for cp in missing if is_invisible(cp)}
    if invisible:
        text = "".join(c for c in text if ord(c) not in invisible)
    if missing - invisible:
        log.warning("no installed font has %s", ", ".join(f"U+{cp:04X}" for cp in
                                                         sorted(missing - invisible)))  # fmt: skip
    if not extra:
        return primary, text
    return merged_font(primary, extra), text


def merged_font(primary: Path, extra: dict[Path, set[int]]) -> Path:
    """A copy of ``primary`` with the glyphs of ``extra`` (font → code points) added."""
    key = hashlib.sha256(repr((str(primary), os.stat(primary).st_mtime_ns, sorted(
        (str(p), os.stat(p).st_mtime_ns, sorted(cps)) for p, cps in extra.items()
    ))).encode()).hexdigest()[:24]  # fmt: skip
    dest = cache_dir() / f"merged-{key}.ttf"
    with _lock:
        if dest.is_file():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        _write_merged(primary, extra, dest)
    return dest


def _write_merged(primary: Path, extra: dict[Path, set[int]], dest: Path) -> None:
    from fontTools import merge, subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    # fontTools logs every table it adjusts while merging (dropped cmap formats, renamed
    # duplicate glyphs) at warning level: expected here, so only its errors are kept.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(dir=dest.parent) as work:
        upem = TTFont(primary, lazy=True)["head"].unitsPerEm
        parts = [str(primary)]
        for i, (path, cps) in enumerate(sorted(extra.items())):
            font = TTFont(path, fontNumber=0)
            options = subset.Options()
            options.layout_features = []  # glyphs only: drawtext applies no OpenType features
            options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "vhea", "vmtx", "hdmx"]
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=cps)
            subsetter.subset(font)
            if font["head"].unitsPerEm != upem:
                scale_upem(font, upem)
            part = Path(work) / f"part-{i}.ttf"
            font.save(part)
            parts.append(str(part))
        merged = merge.Merger().merge(parts)
        tmp = Path(work) / "merged.ttf"
        merged.save(tmp)
        # Another process may be writing the same font: the rename makes whichever lands last
        # a complete file either way.
        os.replace(tmp, dest)
