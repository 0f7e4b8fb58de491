"""Limits applied to untrusted media, and the error raised when a file breaks them."""

from __future__ import annotations

from dataclasses import dataclass, field

# ffprobe ``format_name`` values (one demuxer each) that ingest accepts. Anything else, notably
# playlists (hls, concat), image sequences, network-ish or exotic demuxers, is refused before
# FFmpeg reads past the header.
ALLOWED_FORMATS: frozenset[str] = frozenset(
    {
        "mov,mp4,m4a,3gp,3g2,mj2",
        "matroska,webm",
        "wav",
        "mp3",
        "ogg",
        "flac",
        "avi",
        "mpegts",
        "aac",
    }
)

# Demuxers whose index makes a seek land exactly on the keyframe at or before its target. In
# the others (MPEG-TS above all, which has no index) FFmpeg's seek may land past that keyframe,
# so whoever needs exact frames reads from earlier (the renderer) or does not seek (shots).
INDEXED_DEMUXERS: frozenset[str] = frozenset({"mov", "matroska"})


@dataclass(frozen=True)
class MediaLimits:
    """What an uploaded file may be. The defaults suit raw takes from cameras and phones."""

    max_file_bytes: int = 4 * 1024**3
    max_duration_s: float = 4 * 3600
    max_width: int = 7680
    max_height: int = 4320
    max_streams: int = 16
    timeout_s: float = 300.0
    allowed_formats: frozenset[str] = field(default=ALLOWED_FORMATS)

    def demuxer_whitelist(self) -> str:
        """The comma-separated demuxer names for FFmpeg's ``-format_whitelist`` option."""
        names = sorted({name for fmt in self.allowed_formats for name in fmt.split(",")})
        return ",".join(names)


DEFAULT_LIMITS = MediaLimits()

# Machine-readable reasons, stable: clients and other services match on them.
REASONS = frozenset(
    {
        "EMPTY_FILE",
        "FILE_TOO_LARGE",
        "NOT_MEDIA",
        "FORMAT_NOT_ALLOWED",
        "DURATION_TOO_LONG",
        "RESOLUTION_TOO_LARGE",
        "TOO_MANY_STREAMS",
        "NO_AUDIO_OR_VIDEO",
        "CORRUPT",
        "TIMEOUT",
    }
)


class MediaRejected(Exception):
    """A file is not media we accept. ``reason`` is a code from REASONS, ``message`` a sentence."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
