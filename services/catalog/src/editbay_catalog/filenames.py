"""Scene and take numbers read from a take's file name, and the stored file's extension.

Camera crews name files ``S02_T03.mp4``, ``s2_t3.mov``, ``S02T03.mp4``, ``scene2_take3.mp4`` or
``Kitchen - Scene 2 Take 3.mov``; all mean scene 2, take 3. The name is only read for these two
numbers and shown to people: storage keys are always made by the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

# "s" or "scene", optional separator, digits; then optional separators, "t" or "take",
# optional separator, digits. The scene marker must start the name or follow a non-letter,
# so "shows2_t3" is not read as scene 2; the take number must end at a non-digit.
_NUMBERS = re.compile(
    r"(?:^|[^a-z])s(?:cene)?[ _.-]?(\d{1,4})[ _.-]*t(?:ake)?[ _.-]?(\d{1,4})(?!\d)",
    re.IGNORECASE,
)

MAX_FILENAME_CHARS = 255

# Container (ffprobe format_name) -> extension of the stored file. The MP4 family shares one
# demuxer, so the client's extension picks among the family's own extensions only.
_CONTAINER_SUFFIX = {
    "matroska,webm": ".mkv",
    "wav": ".wav",
    "mp3": ".mp3",
    "ogg": ".ogg",
    "flac": ".flac",
    "avi": ".avi",
    "mpegts": ".ts",
    "aac": ".aac",
}
_MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
_MP4_SUFFIXES = {".mp4", ".mov", ".m4a", ".m4v", ".3gp"}


@dataclass(frozen=True)
class TakeNumbers:
    scene: int | None
    take: int | None


def display_name(filename: str) -> str:
    """The last path component of a client's file name (clients sometimes send full paths)."""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    return name[:MAX_FILENAME_CHARS]


def numbers_from_filename(filename: str) -> TakeNumbers:
    """Scene and take number in ``filename``; ``None`` for what it does not say."""
    stem = display_name(filename)
    dot = stem.rfind(".")
    if dot > 0:
        stem = stem[:dot]
    match = _NUMBERS.search(stem)
    if not match:
        return TakeNumbers(None, None)
    scene, take = (int(value) for value in match.groups())
    return TakeNumbers(scene or None, take or None)


def resolve_numbers(filename: str, scene_number: int, take_number: int) -> TakeNumbers:
    """Explicit numbers (non-zero) override the ones read from the file name."""
    parsed = numbers_from_filename(filename)
    return TakeNumbers(scene_number or parsed.scene, take_number or parsed.take)


def stored_suffix(container: str, filename: str) -> str:
    """Extension for the stored file, chosen from the probed container."""
    if container == _MP4_FAMILY:
        ext = PurePosixPath(display_name(filename)).suffix.lower()
        return ext if ext in _MP4_SUFFIXES else ".mp4"
    if container == "matroska,webm" and display_name(filename).lower().endswith(".webm"):
        return ".webm"
    return _CONTAINER_SUFFIX.get(container, ".bin")


def content_type(suffix: str) -> str:
    """MIME type of a stored file with ``suffix``."""
    return {
        ".mp4": "video/mp4",
        ".m4v": "video/mp4",
        ".mov": "video/quicktime",
        ".m4a": "audio/mp4",
        ".3gp": "video/3gpp",
        ".mkv": "video/x-matroska",
        ".webm": "video/webm",
        ".wav": "audio/wav",
        ".mp3": "audio/mpeg",
        ".ogg": "audio/ogg",
        ".flac": "audio/flac",
        ".avi": "video/x-msvideo",
        ".ts": "video/mp2t",
        ".aac": "audio/aac",
    }.get(suffix, "application/octet-stream")
