"""Probing and validating untrusted media files.

``probe`` reads the container and stream headers with ffprobe and checks them against
``MediaLimits``; ``verify_decode`` decodes the whole file strictly; ``inspect`` does both and is
what ingest calls. Every FFmpeg process gets ``-protocol_whitelist file,pipe`` and a demuxer
allow-list (``-format_whitelist`` while probing, an explicit ``-f`` when decoding), so a file
cannot make FFmpeg switch to a playlist demuxer and read other files, and a timeout.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from editbay_common.media.limits import DEFAULT_LIMITS, MediaLimits, MediaRejected
from editbay_common.media.process import (
    FFPROBE,
    PROTOCOL_WHITELIST,
    FFmpegError,
    FFmpegTimeout,
    ProgressCallback,
    ffmpeg_base_args,
    run,
)

# Packet headers for ``probe_with_packets``, one CSV line each: of the video stream only.
PACKET_ENTRIES = ("-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0")
# How much of the start of a video the keyframe-interval estimate reads (packets only, no decode).
KEYFRAME_SCAN_S = 10.0
# How much longer than its header declares a file may decode: 5 % and half a second, a few
# frames. A header that claims less than the file holds would let a small upload (600 s of
# silence in 87 KB of FLAC, declared 1 s) slip past ``max_duration_s`` and have the analyses
# decode hours of audio or video into memory.
OVERRUN_RATIO = 1.05
OVERRUN_S = 0.5
OVERRUN_FRAMES = 3

_INVALID_SIZE = re.compile(r"Picture size (\d+)x(\d+) is invalid")
_NOT_ON_WHITELIST = re.compile(r"\[([\w,]+) @ [^\]]*\] Format not on whitelist")


@dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int
    height: int
    rotation: int  # clockwise degrees a player turns the picture: 0, 90, 180 or 270
    fps: float
    variable_frame_rate: bool
    keyframe_interval_s: float | None  # mean distance between keyframes in the first 10 s
    pix_fmt: str
    frame_count: int | None  # as declared by the container, when it declares one
    profile: str | None
    bit_rate: int | None
    index: int = 0  # stream index in the file
    time_base: str = ""  # of the stream's timestamps, e.g. "1/15360"
    # A hash of the codec's out-of-band setup (H.264's avcC: SPS and PPS), when it has one.
    extradata_hash: str | None = None

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown, after rotation."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class AudioStream:
    codec: str
    channels: int
    sample_rate: int
    index: int = 0


@dataclass(frozen=True)
class MediaInfo:
    container: str  # ffprobe format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration_s: float
    size_bytes: int
    stream_count: int
    video: VideoStream | None
    audio: AudioStream | None
    start_time_s: float = 0.0  # the earliest stream's first timestamp, where -ss counts from

    @property
    def demuxer(self) -> str:
        """The demuxer to name with ``-f`` when reading this file again."""
        return self.container.split(",")[0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        video = data.get("video")
        audio = data.get("audio")
        return cls(
            container=data["container"],
            duration_s=data["duration_s"],
            size_bytes=data["size_bytes"],
            stream_count=data["stream_count"],
            video=VideoStream(**video) if video else None,
            audio=AudioStream(**audio) if audio else None,
            start_time_s=data.get("start_time_s", 0.0),
        )


def most_decoded_s(declared_s: float) -> float:
    """The longest a file declared ``declared_s`` long may decode to; ``verify_decode`` rejects
    a longer one."""
    return declared_s * OVERRUN_RATIO + OVERRUN_S


def decode_bound_s(declared_s: float) -> float:
    """Where a decode of a file declared ``declared_s`` long stops (FFmpeg's ``-t``): a second
    past ``most_decoded_s``, so that a file which overruns it is seen to, and a file which lies
    is never decoded to its real end."""
    return most_decoded_s(declared_s) + 1.0


def most_frames(fps: float, span_s: float) -> int:
    """The most video frames (or packets) a stream declared ``fps`` may hold in ``span_s``:
    twice that rate (variable-rate video runs above its average for a while), at least 60 a
    second, and a few to spare; more means the file is not what its header says."""
    return math.ceil(max(2 * fps, 60.0) * max(span_s, 0.0)) + 16


def input_url(path: Path) -> str:
    """An explicit ``file:`` URL, so a name like ``http:x`` or ``-y`` is never read as more."""
    return f"file:{Path(path).resolve()}"


def input_args(
    path: Path, limits: MediaLimits = DEFAULT_LIMITS, *, demuxer: str | None = None
) -> list[str]:
    """Hardened FFmpeg input options for ``path``: local files only, allowed demuxers only.

    With ``demuxer`` (from ``MediaInfo.demuxer``) content sniffing is skipped altogether.
    """
    fmt = ["-f", demuxer] if demuxer else ["-format_whitelist", limits.demuxer_whitelist()]
    return ["-protocol_whitelist", PROTOCOL_WHITELIST, *fmt, "-i", input_url(path)]


async def probe(
    path: Path, limits: MediaLimits = DEFAULT_LIMITS, *, keyframe_interval: bool = True
) -> MediaInfo:
    """Read and validate a file's metadata. Raises ``MediaRejected`` with a reason code.

    ``keyframe_interval=False`` skips the second ffprobe run that estimates it (left None): the
    renderer, which probes its sources for each render (``render.sources``), has no use for it."""
    path = Path(path)
    size = _check_size(path, limits)
    data = await _ffprobe_json(path, limits)
    return await _media_info(path, size, data, limits, keyframe_interval)


@dataclass(frozen=True)
class VideoPackets:
    """A video stream's packets in decode order, ``(time, is keyframe)``, the time counted from
    the stream's first frame; and how long after the file's start that frame comes (FFmpeg's
    ``-ss`` counts from the file's start, the earliest of its streams: in MPEG-TS, or behind
    an audio track's priming, the video often starts a little later). ``dts`` holds the same
    packets' decoding times, counted from the same first frame."""

    times: list[tuple[float, bool]]
    video_offset_s: float
    dts: list[float] = field(default_factory=list)


async def probe_with_packets(
    path: Path, limits: MediaLimits = DEFAULT_LIMITS, *, until_s: float | None = None
) -> tuple[MediaInfo, VideoPackets]:
    """``probe`` (no keyframe-interval estimate) that also lists the video stream's packets
    (headers only, nothing decoded): the renderer's smart path cuts by them. ``until_s`` stops
    the listing there, counted from the video's first packet: a long take an edit uses the
    start of is not read to its end.

    Only the video stream's packets are listed (an audio track of tiny packets would list
    hundreds of times more), in a second ffprobe run (``-select_streams`` would drop the other
    streams' descriptions from the first), and no more of them than ``most_frames`` allows for
    the time listed at the declared frame rate: a stream that packs more raises
    ``MediaRejected``."""
    path = Path(path)
    size = _check_size(path, limits)
    data = await _ffprobe_json(path, limits)
    info = await _media_info(path, size, data, limits, keyframe_interval=False)
    if info.video is None:
        return info, VideoPackets([], 0.0, [])
    raw = await _video_packets(path, info, info.video, limits, until_s)
    first = min((pts for pts, _, _ in raw), default=0.0)
    times = [(round(pts - first, 6), key) for pts, key, _ in raw]
    dts = [round(d - first, 6) for _, _, d in raw]
    return info, VideoPackets(times, max(0.0, round(first - info.start_time_s, 6)), dts)


async def _video_packets(
    path: Path, info: MediaInfo, video: VideoStream, limits: MediaLimits, until_s: float | None
) -> list[tuple[float, bool, float]]:
    """``(pts, is keyframe, dts)`` of the video packets in decode order, up to the first whose
    time is ``until_s`` past the first's (as ``-read_intervals %+until_s`` stops), at most
    ``most_frames`` of them for that time (ffprobe stops one past, by count)."""
    span = decode_bound_s(info.duration_s)
    if until_s is not None:
        span = min(span, max(until_s, 0.0))
    most = most_frames(video.fps, span)
    args = [
        FFPROBE, "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", PROTOCOL_WHITELIST, "-f", info.demuxer,
        "-select_streams", str(video.index), "-read_intervals", f"%+#{most + 1}",
        *PACKET_ENTRIES, input_url(path),
    ]  # fmt: skip
    result = await _run_ffprobe(args, limits)
    if result.returncode != 0:
        raise MediaRejected("CORRUPT", "the video stream's packets cannot be listed")
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    raw: list[tuple[float, bool, float]] = []
    stop = None
    for line in lines:
        pts_time, dts_time, flags = [*line.split(","), "", ""][:3]
        pts = _float(pts_time)
        if pts is None:
            continue
        if until_s is not None:
            stop = pts + max(until_s, 0.0) if stop is None else stop
            if pts >= stop:
                return raw
        dts = _float(dts_time)
        raw.append((pts, flags.startswith("K"), pts if dts is None else dts))
    if len(lines) > most:
        raise MediaRejected(
            "CORRUPT",
            f"the video stream holds more than {most} packets in {span:.1f} s, more than its "
            f"declared {video.fps:g} frames a second allow",
        )
    return raw


async def declared_duration(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> float:
    """The duration a file's headers declare, as ``probe`` reads it but without checking the
    file against ``limits`` (which give only the demuxers to allow and the time to take): how
    far the analyses of a file ingest validated already may decode it."""
    data = await _ffprobe_json(Path(path), limits)
    duration = _duration(data.get("format") or {}, data.get("streams") or [])
    if duration <= 0:
        raise MediaRejected("CORRUPT", "the file declares no duration")
    return duration


async def keyframe_interval(
    path: Path, info: MediaInfo, limits: MediaLimits = DEFAULT_LIMITS
) -> float | None:
    """The video's mean keyframe spacing over its first seconds, for a file ``probe`` read
    without it (packet flags only, nothing decoded); None without video or keyframes."""
    if info.video is None:
        return None
    return await _keyframe_interval(Path(path), info.container, info.video.index, limits)


async def _media_info(
    path: Path, size: int, data: dict[str, Any], limits: MediaLimits, keyframe_interval: bool
) -> MediaInfo:
    """Validate ffprobe's ``data`` against ``limits`` and normalise it."""
    fmt = data.get("format") or {}
    container = str(fmt.get("format_name", ""))
    if container not in limits.allowed_formats:
        raise MediaRejected("FORMAT_NOT_ALLOWED", f"container {container!r} is not accepted")
    streams: list[dict[str, Any]] = data.get("streams") or []
    if len(streams) > limits.max_streams:
        raise MediaRejected(
            "TOO_MANY_STREAMS", f"{len(streams)} streams; at most {limits.max_streams} allowed"
        )
    vdata = _first_stream(streams, "video")
    adata = _first_stream(streams, "audio")
    if vdata is None and adata is None:
        raise MediaRejected("NO_AUDIO_OR_VIDEO", "the file has neither a video nor an audio stream")
    duration = _duration(fmt, streams)
    if duration <= 0:
        raise MediaRejected("CORRUPT", "the file declares no duration")
    if duration > limits.max_duration_s:
        raise MediaRejected(
            "DURATION_TOO_LONG",
            f"{duration:.0f} s long; at most {limits.max_duration_s:.0f} s allowed",
        )
    video = None
    if vdata is not None:
        _check_resolution(vdata, limits)
        interval = None
        if keyframe_interval:
            interval = await _keyframe_interval(path, container, int(vdata["index"]), limits)
        video = _video_stream(vdata, interval)
    audio = _audio_stream(adata) if adata is not None else None
    start = _float(fmt.get("start_time")) or 0.0
    return MediaInfo(container, duration, size, len(streams), video, audio, start)


async def verify_decode(path: Path, info: MediaInfo, limits: MediaLimits = DEFAULT_LIMITS) -> None:
    """Decode the chosen streams strictly, end to end; raise ``MediaRejected("CORRUPT")``.

    ffprobe accepts a truncated faststart MP4 (the index at the front is intact) and a plain
    decode exits 0 on it, so we stop at the first error (``-xerror -err_detect explode``) and
    also compare the decoded frame count and duration with what the container declared: a file
    that decodes much shorter is damaged, one that decodes much longer lies in its header. The
    decode stops at ``decode_bound_s``, so the lie costs no more than the truth would.
    """
    maps: list[str] = []
    for stream in (info.video, info.audio):
        if stream is not None:
            maps += ["-map", f"0:{stream.index}"]
    args = [
        *ffmpeg_base_args(),
        "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-err_detect", "explode",
        "-f", info.demuxer,
        "-i", input_url(path),
        *maps,
        "-xerror",
        "-fps_mode", "passthrough",
        "-t", f"{decode_bound_s(info.duration_s):.3f}",
        "-progress", "pipe:1",
        "-f", "null", "-",
    ]  # fmt: skip
    last: dict[str, str] = {}

    def remember(block: dict[str, str]) -> None:
        last.update(block)

    await _strict_decode(args, limits, "the file", on_progress=remember)
    _compare_decoded(info, last)


async def _strict_decode(
    args: list[str], limits: MediaLimits, what: str, on_progress: ProgressCallback | None = None
) -> None:
    """Run a strict decode; its failure is a CORRUPT rejection naming FFmpeg's last word."""
    try:
        await run(args, timeout=limits.timeout_s, on_progress=on_progress)
    except FFmpegTimeout as exc:
        raise MediaRejected(
            "TIMEOUT", f"decoding took longer than {limits.timeout_s:.0f} s"
        ) from exc
    except FFmpegError as exc:
        detail = _last_line(exc.stderr_tail)
        raise MediaRejected("CORRUPT", f"{what} does not decode cleanly: {detail}") from exc


async def inspect(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    """Probe, validate and fully decode a file: what ingest runs on every upload."""
    info = await probe(path, limits)
    await verify_decode(path, info, limits)
    return info


async def _run_ffprobe(args: Sequence[str], limits: MediaLimits) -> Any:
    """Run ffprobe within the limits' time; its exit status is the caller's to judge."""
    try:
        return await run(args, timeout=limits.timeout_s, check=False)
    except FFmpegTimeout as exc:
        raise MediaRejected(
            "TIMEOUT", f"probing took longer than {limits.timeout_s:.0f} s"
        ) from exc


# Still images by their first bytes: the demuxer of that format, and the codec it must hold.
# Never image2, which reads a file name as a pattern of several files and picks its demuxer by
# the name's extension.
STILL_FORMATS: dict[bytes, tuple[str, str]] = {
    b"\x89PNG\r\n\x1a\n": ("png_pipe", "png"),
    b"\xff\xd8\xff": ("jpeg_pipe", "mjpeg"),
}
STILL_DEMUXERS = frozenset(demuxer for demuxer, _ in STILL_FORMATS.values())


@dataclass(frozen=True)
class StillInfo:
    """A validated still image and the demuxer to read it with."""

    demuxer: str
    codec: str
    width: int
    height: int
    pix_fmt: str | None


def still_format(path: Path) -> tuple[str, str]:
    """The demuxer and codec of a still image by its first bytes (PNG or JPEG only)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise MediaRejected("NOT_MEDIA", "the file cannot be read") from exc
    for magic, found in STILL_FORMATS.items():
        if head.startswith(magic):
            return found
    raise MediaRejected("FORMAT_NOT_ALLOWED", "the file is neither a PNG nor a JPEG image")


async def probe_still(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> StillInfo:
    """Validate a still image: a PNG or a JPEG by its first bytes, read by that format's
    demuxer alone, one picture within ``limits``; anything else raises ``MediaRejected``."""
    path = Path(path)
    _check_size(path, limits)
    demuxer, codec = await asyncio.to_thread(still_format, path)
    args = [
        FFPROBE, "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", PROTOCOL_WHITELIST, "-f", demuxer,
        "-show_streams", "-of", "json", input_url(path),
    ]  # fmt: skip
    result = await _run_ffprobe(args, limits)
    try:
        streams = json.loads(result.stdout or b"{}").get("streams") or []
    except json.JSONDecodeError as exc:
        raise MediaRejected("NOT_MEDIA", "ffprobe gave unreadable output") from exc
    if result.returncode != 0 or len(streams) != 1 or streams[0].get("codec_name") != codec:
        raise MediaRejected("CORRUPT", f"the file does not read as one {codec} picture")
    _check_resolution(streams[0], limits)
    await _decode_still(path, demuxer, limits)
    return StillInfo(demuxer, codec, int(streams[0]["width"]), int(streams[0]["height"]),
                     streams[0].get("pix_fmt"))  # fmt: skip


async def _decode_still(path: Path, demuxer: str, limits: MediaLimits) -> None:
    """Decode the picture strictly: a header that probes well may front a truncated or damaged
    image, which would otherwise fail the render that reads it, or draw garbage."""
    args = [
        *ffmpeg_base_args(), "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-err_detect", "explode", "-f", demuxer, "-i", input_url(path),
        "-map", "0:v:0", "-frames:v", "1", "-xerror", "-f", "null", "-",
    ]  # fmt: skip
    await _strict_decode(args, limits, "the picture")


def _check_size(path: Path, limits: MediaLimits) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise MediaRejected("NOT_MEDIA", "the file does not exist") from exc
    if size == 0:
        raise MediaRejected("EMPTY_FILE", "the file is empty")
    if size > limits.max_file_bytes:
        raise MediaRejected(
            "FILE_TOO_LARGE", f"{size} bytes; at most {limits.max_file_bytes} allowed"
        )
    return size


async def _ffprobe_json(
    path: Path, limits: MediaLimits, extra: Sequence[str] = ()
) -> dict[str, Any]:
    args = [
        FFPROBE, "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-format_whitelist", limits.demuxer_whitelist(),
        "-show_format", "-show_streams", "-show_data_hash", "adler32", *extra, "-of", "json",
        input_url(path),
    ]  # fmt: skip
    result = await _run_ffprobe(args, limits)
    stderr = result.stderr.decode("utf-8", "replace")
    if match := _NOT_ON_WHITELIST.search(stderr):
        raise MediaRejected("FORMAT_NOT_ALLOWED", f"{match.group(1)!r} files are not accepted")
    # FFmpeg itself refuses absurd dimensions and then reports a width of 0: read its complaint.
    if match := _INVALID_SIZE.search(stderr):
        raise MediaRejected(
            "RESOLUTION_TOO_LARGE",
            f"declared picture size {match.group(1)}x{match.group(2)} is too large",
        )
    if result.returncode != 0:
        raise MediaRejected("NOT_MEDIA", "FFmpeg does not recognise this file as audio or video")
    try:
        return json.loads(result.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise MediaRejected("NOT_MEDIA", "ffprobe gave unreadable output") from exc


def _first_stream(streams: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for stream in streams:
        if stream.get("codec_type") != kind:
            continue
        if (stream.get("disposition") or {}).get("attached_pic"):
            continue  # cover art in an audio file is not a video
        return stream
    return None


def _duration(fmt: dict[str, Any], streams: list[dict[str, Any]]) -> float:
    candidates = [fmt.get("duration")] + [s.get("duration") for s in streams]
    for value in candidates:
        number = _float(value)
        if number is not None and number > 0:
            return number
    return 0.0


def _check_resolution(vdata: dict[str, Any], limits: MediaLimits) -> None:
    width = int(vdata.get("width") or 0)
    height = int(vdata.get("height") or 0)
    coded = max(int(vdata.get("coded_width") or 0), int(vdata.get("coded_height") or 0))
    if width <= 0 or height <= 0:
        raise MediaRejected("CORRUPT", "the video stream declares no picture size")
    # Allow either orientation: a portrait phone video is 2160x3840.
    long_side, short_side = max(width, height, coded), min(width, height)
    if long_side > max(limits.max_width, limits.max_height) or short_side > min(
        limits.max_width, limits.max_height
    ):
        raise MediaRejected(
            "RESOLUTION_TOO_LARGE",
            f"{width}x{height}; at most {limits.max_width}x{limits.max_height} allowed",
        )


def _video_stream(vdata: dict[str, Any], keyframe_interval_s: float | None) -> VideoStream:
    r_rate = _rate(vdata.get("r_frame_rate"))
    avg_rate = _rate(vdata.get("avg_frame_rate"))
    fps = avg_rate or r_rate or 0.0
    vfr = bool(r_rate and avg_rate and abs(r_rate - avg_rate) / r_rate > 0.01)
    frames = vdata.get("nb_frames")
    return VideoStream(
        codec=str(vdata.get("codec_name", "unknown")),
        width=int(vdata["width"]),
        height=int(vdata["height"]),
        rotation=_rotation(vdata),
        fps=round(fps, 3),
        variable_frame_rate=vfr,
        keyframe_interval_s=keyframe_interval_s,
        pix_fmt=str(vdata.get("pix_fmt", "")),
        frame_count=int(frames) if frames and str(frames).isdigit() and int(frames) > 0 else None,
        profile=vdata.get("profile"),
        bit_rate=_int(vdata.get("bit_rate")),
        index=int(vdata.get("index", 0)),
        time_base=str(vdata.get("time_base", "")),
        extradata_hash=vdata.get("extradata_hash"),
    )


def _audio_stream(adata: dict[str, Any]) -> AudioStream:
    return AudioStream(
        codec=str(adata.get("codec_name", "unknown")),
        channels=int(adata.get("channels") or 0),
        sample_rate=int(adata.get("sample_rate") or 0),
        index=int(adata.get("index", 0)),
    )


def _rotation(vdata: dict[str, Any]) -> int:
    """Clockwise display rotation from the display matrix side data or the legacy tag."""
    for side in vdata.get("side_data_list") or []:
        if "rotation" in side:
            # The display matrix angle is counter-clockwise; players turn the picture clockwise.
            return round(-float(side["rotation"])) % 360
    tag = (vdata.get("tags") or {}).get("rotate")
    if tag is not None and _float(tag) is not None:
        return round(float(tag)) % 360
    return 0


async def _keyframe_interval(
    path: Path, container: str, index: int, limits: MediaLimits
) -> float | None:
    """Mean keyframe spacing over the first seconds, from packet flags (no decoding)."""
    args = [
        FFPROBE, "-hide_banner", "-loglevel", "error",
        "-protocol_whitelist", PROTOCOL_WHITELIST,
        "-f", container.split(",")[0],
        "-read_intervals", f"%+{KEYFRAME_SCAN_S:g}",
        "-select_streams", str(index),
        "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0",
        input_url(path),
    ]  # fmt: skip
    try:
        result = await run(args, timeout=limits.timeout_s, check=False)
    except FFmpegTimeout as exc:
        raise MediaRejected(
            "TIMEOUT", f"probing took longer than {limits.timeout_s:.0f} s"
        ) from exc
    times: list[float] = []
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        pts, _, flags = line.partition(",")
        value = _float(pts)
        if value is not None and flags.startswith("K"):
            times.append(value)
    times.sort()
    if len(times) < 2:
        return None
    return round((times[-1] - times[0]) / (len(times) - 1), 3)


def _compare_decoded(info: MediaInfo, progress: dict[str, str]) -> None:
    """Check the last ``-progress`` block of ``verify_decode`` (``frame``: the video frames
    written, ``out_time_us``: the end of the output) against what the headers declared."""
    decoded_frames = _int(progress.get("frame"))
    declared = info.video.frame_count if info.video else None
    if declared and decoded_frames is not None:
        if decoded_frames < declared * 0.98 - 1:
            raise MediaRejected(
                "CORRUPT", f"only {decoded_frames} of {declared} declared video frames decode"
            )
        if decoded_frames > declared * OVERRUN_RATIO + OVERRUN_FRAMES:
            raise MediaRejected(
                "CORRUPT",
                f"the file declares {declared} video frames but at least {decoded_frames} decode",
            )
    out_us = _int(progress.get("out_time_us"))
    if out_us is not None and out_us > 0:
        decoded_s = out_us / 1e6
        if decoded_s < info.duration_s * 0.95 - 0.5:
            raise MediaRejected(
                "CORRUPT",
                f"only {decoded_s:.1f} s of the declared {info.duration_s:.1f} s decode",
            )
        if decoded_s > most_decoded_s(info.duration_s):
            raise MediaRejected(
                "CORRUPT",
                f"the file declares {info.duration_s:.1f} s but at least {decoded_s:.1f} s decode",
            )


def _rate(value: Any) -> float | None:
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return float(rate) if rate > 0 else None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "unknown error"
