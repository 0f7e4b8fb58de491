"""Glyph coverage and fallback fonts for text drawn on video.

drawtext draws a line with one font file, and a character that font lacks comes out as its
missing-glyph box. So before a text is drawn, every character it uses is looked up in the primary
font (DejaVu Sans by default: Latin, Greek, Cyrillic, Hebrew, Arabic); for the characters it lacks
(emoji, CJK, ...) fontconfig names an outline font that has them. Those fonts are cut down to the
256-character pages the text uses and merged into a copy of the primary font, which drawtext
then reads: one font file, so drawtext still lays out the whole line itself (widths, kerning,
right-to-left shaping through FriBiDi). Colour bitmap fonts (such as Noto Color Emoji) cannot be
scaled by drawtext and are never chosen; a monochrome emoji font (Symbola, from
``fonts-symbola``) is.

Merged fonts are written once per set of pages and kept (at most MAX_CACHED_FONTS of them) in a
folder only this user may write to: a text without missing characters costs one lookup in a
cached character map, and the next text with emoji from the same pages reuses the merged font.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
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


# Characters fontconfig was asked about: the font found, or None when it found none. A failed
# fontconfig run is not kept, so the next text asks again.
_found: dict[int, Path | None] = {}
# Most characters a primary font may lack in one text before the rest are drawn as boxes: each
# costs a lookup, and a few hundred cover any real title or caption.
MAX_FALLBACK_CHARS = 256
# Merged fonts kept in the cache folder; the least recently used go first.
MAX_CACHED_FONTS = 64
_private: Path | None = None  # this process's own cache folder, when the shared one is unsafe


def fallback_for(cp: int) -> Path | None:
    """An outline TrueType font that has ``cp``, as fontconfig ranks them; None if none has.

    TrueType only: fontTools merges fonts of one outline format, and the primary is TrueType.
    """
    if cp in _found:
        return _found[cp]
    pattern = f":charset={cp:x}:outline=true:color=false:fontformat=TrueType"
    try:
        result = subprocess.run(
            ["fc-match", "--sort", "--format", "%{file}\\n", pattern],
            capture_output=True, timeout=_FC_TIMEOUT_S, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("fontconfig could not be asked for a fallback font: %s", exc)
        return None
    _found[cp] = _first_with(cp, result.stdout.decode(errors="replace").splitlines())
    return _found[cp]


def _first_with(cp: int, lines: list[str]) -> Path | None:
    """fc-match --sort lists every font, best first: the first that really has the glyph."""
    for line in lines:
        path = Path(line.strip())
        if line.strip() and path.suffix.lower() == ".ttf" and path.is_file():
            try:
                if cp in covers(path):
                    return path
            except Exception as exc:  # a broken font file on the system: skip it
                log.debug("skipping font %s: %s", path, exc)
    return None


def plan_fallbacks(primary: Path, chars: Iterable[int]) -> tuple[dict[Path, set[int]], set[int]]:
    """The fallback fonts for the characters ``primary`` lacks, and the characters no font has.

    A font already chosen for one character is tried first for the next, so a line of emoji
    asks fontconfig once. Each chosen font brings every glyph it has in the 256-character pages
    the text touches: the next text with emoji from the same page reuses the merged font.
    """
    lacking = sorted(set(chars) - covers(primary))
    missing = set(lacking[MAX_FALLBACK_CHARS:])
    pages: dict[Path, set[int]] = {}
    for cp in lacking[:MAX_FALLBACK_CHARS]:
        font = next((f for f in pages if cp in covers(f)), None) or fallback_for(cp)
        if font is None:
            missing.add(cp)
        else:
            pages.setdefault(font, set()).add(cp >> 8)
    have = covers(primary)
    extra = {
        font: {cp for cp in covers(font) if cp >> 8 in wanted and cp not in have}
        for font, wanted in pages.items()
    }
    return extra, missing


def cache_dir() -> Path:
    """Where merged fonts are kept: ``EDITBAY_FONT_CACHE``, else a folder of this user's in the
    temp dir (made private, and refused if someone else owns it or may write to it)."""
    configured = os.environ.get("EDITBAY_FONT_CACHE")
    if configured:
        return Path(configured)
    global _private
    folder = Path(tempfile.gettempdir()) / f"editbay-fonts-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
        return folder
    # Someone else made it, or may write to it: fonts from there are not to be trusted.
    if _private is None:
        log.warning("%s is not a private folder of this user: merged fonts go elsewhere", folder)
        _private = Path(tempfile.mkdtemp(prefix="editbay-fonts-"))
    return _private


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
        shown = sorted(missing - invisible)
        log.warning("no installed font has %d characters of a text: %s%s", len(shown),
                    ", ".join(f"U+{cp:04X}" for cp in shown[:10]),
                    " ..." if len(shown) > 10 else "")  # fmt: skip
    if not extra:
        return primary, text
    return merged_font(primary, extra), text


def merged_font(primary: Path, extra: dict[Path, set[int]]) -> Path:
    """A copy of ``primary`` with the glyphs of ``extra`` (font → code points) added."""
    key = hashlib.sha256(repr((str(primary), os.stat(primary).st_mtime_ns, sorted(
        (str(p), os.stat(p).st_mtime_ns, sorted(cps)) for p, cps in extra.items()
    ))).encode()).hexdigest()[:24]  # fmt: skip
    folder = cache_dir()
    dest = folder / f"merged-{key}.ttf"
    with _lock:
        if dest.is_file():
            os.utime(dest)  # recently used: kept longest
            return dest
        folder.mkdir(parents=True, exist_ok=True)
        _write_merged(primary, extra, dest)
        _trim(folder)
    return dest


def _trim(folder: Path) -> None:
    """Keep the MAX_CACHED_FONTS most recently used merged fonts."""
    fonts = sorted(folder.glob("merged-*.ttf"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in fonts[MAX_CACHED_FONTS:]:
        old.unlink(missing_ok=True)


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
