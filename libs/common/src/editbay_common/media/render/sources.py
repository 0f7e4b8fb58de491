"""What the renderer needs to know about its source files (ffprobe, run asynchronously).

Sources are probed with the hardened ``editbay_common.media.probe``, with the packet layout the
smart path cuts by when it may be taken; still images (image overlays) are told apart by their
first bytes and read by the demuxer of that one format (``still_info``). A renderer renders the
same takes again and again (each round of review, each chunk of a chunked render), so what a
probe found is kept for as long as the file is unchanged (``ProbeCache``).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

from editbay_common.media.limits import (
    DEFAULT_LIMITS,
    INDEXED_DEMUXERS,
    MediaLimits,
)
from editbay_common.media.probe import (
    keyframe_interval,
    probe,
    probe_still,
    probe_with_packets,
)

# The pre-roll when the keyframe interval could not be measured.
UNKNOWN_GOP_PREROLL_S = 10.0


@dataclass(frozen=True)
class SourceInfo:
    duration_s: float
    has_audio: bool
    video_codec: str | None = None
    width: int = 0
    height: int = 0
    fps: Fraction | None = None
    pix_fmt: str | None = None
    profile: str | None = None
    audio_codec: str | None = None
    channels: int = 0
    sample_rate: int = 0
    demuxer: str | None = None
    rotation: int = 0
    variable_frame_rate: bool = False
    # When asked for (the smart path): (time from the first frame, is keyframe) of the video
    # packets in decode order, as far as the timeline uses the source; and how long after the
    # file's start (where FFmpeg's -ss counts from) the first frame comes.
    packets: tuple[tuple[float, bool], ...] = ()
    packet_dts: tuple[float, ...] = ()  # the same packets' decoding times
    video_offset_s: float = 0.0
    # How far before an in-point to seek: MPEG-TS has no index, and FFmpeg's seek in it lands
    # past the keyframe the in-point needs, so reading starts a GOP or two earlier and the
    # frames before the in-point are trimmed. 0 where the container's index makes seeks exact.
    seek_preroll_s: float = 0.0
    # Where FFmpeg's -ss counts from (the file's earliest timestamp), and what a decoder that
    # reads this file after another must have in common with it (``reads.decoder_key``).
    start_time_s: float = 0.0
    video_index: int = 0
    time_base: str = ""
    extradata_hash: str | None = None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None


class FileIdentity(NamedTuple):
    """What changes when a file is written to or replaced."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


class ProbeCache:
    """What probing found, by the file it was found in: the path and the file's identity
    (device, inode, size, modification and change times). Any write to the file or its
    replacement changes the identity (the change time cannot be set back), so a changed file is
    probed and validated again; a file that was refused is never kept. The least recently used
    entries go first.

    File times move by the kernel's clock tick, so a second write of the same size in the tick
    of the first would leave them unchanged: a file changed less than ``settle_s`` before it was
    probed is not kept (as git treats "racy" index entries)."""

    def __init__(self, entries: int = 64, packets: int = 200_000, settle_s: float = 2.0) -> None:
        # ``packets``: how many listed packets (the smart path's layouts) it keeps in all, about
        # 100 bytes each.
        self.entries, self.packets, self.settle_s = entries, packets, settle_s
        self._found: OrderedDict[tuple[object, ...], SourceInfo] = OrderedDict()
        self._lock = threading.Lock()  # for callers on more than one thread

    @staticmethod
    def identity(path: Path) -> FileIdentity | None:
        try:
            st = os.stat(path)
        except OSError:
            return None  # the probe says what is wrong with it
        return FileIdentity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def settled(self, identity: FileIdentity) -> bool:
        changed_ns = max(identity.mtime_ns, identity.ctime_ns)
        return time.time_ns() - changed_ns > self.settle_s * 1e9

    def get(self, key: tuple[object, ...]) -> SourceInfo | None:
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], info: SourceInfo) -> None:
        with self._lock:
            self._found[key] = info
            self._found.move_to_end(key)
            while len(self._found) > self.entries or (
                len(self._found) > 1 and self._listed() > self.packets
            ):
                self._found.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()

    def _listed(self) -> int:
        return sum(len(info.packets) for info in self._found.values())


PROBED = ProbeCache()


async def source_info(
    path: Path, limits: MediaLimits = DEFAULT_LIMITS, *, packets_until_s: float | None = None
) -> SourceInfo:
    """Probe a source through the hardened ``probe`` (limits, allow-listed demuxers); with
    ``packets_until_s``, also list its video stream's packets up to that time (the smart path's
    layout). An unchanged file probed alike before is not probed again."""
    return await _cached(path, (limits, packets_until_s),
                         lambda: _probe_source(path, limits, packets_until_s))  # fmt: skip


async def still_info(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> SourceInfo:
    """Validate a still image (an image overlay): a PNG or a JPEG by its first bytes, read by
    that format's demuxer alone, one picture within ``limits``. Its ``demuxer`` is the one to
    read it with. Anything else raises ``MediaRejected``; kept like ``source_info``."""
    return await _cached(path, (limits, "still"), lambda: _probe_still(path, limits))


async def _cached(
    path: Path, how: tuple[object, ...], probe_file: Callable[[], Awaitable[SourceInfo]]
) -> SourceInfo:
    identity = await asyncio.to_thread(ProbeCache.identity, path)
    key = (str(path), identity, *how)
    if identity is not None and (known := PROBED.get(key)) is not None:
        return known
    keep = identity is not None and PROBED.settled(identity)
    info = await probe_file()
    # Kept only if the file did not change while it was read.
    if keep and await asyncio.to_thread(ProbeCache.identity, path) == identity:
        PROBED.put(key, info)
    return info


async def _probe_source(
    path: Path, limits: MediaLimits, packets_until_s: float | None
) -> SourceInfo:
    fields: dict = {}
    if packets_until_s is not None:
        info, listed = await probe_with_packets(path, limits, until_s=packets_until_s)
        fields |= {"packets": tuple(listed.times), "packet_dts": tuple(listed.dts),
                   "video_offset_s": listed.video_offset_s}  # fmt: skip
    else:
        info = await probe(path, limits, keyframe_interval=False)
    v, a = info.video, info.audio
    fields |= {"duration_s": info.duration_s, "has_audio": a is not None,
               "demuxer": info.demuxer, "start_time_s": info.start_time_s}  # fmt: skip
    # Where seeks are not keyframe-exact, sources are read from before each in-point.
    if v is not None and info.demuxer not in INDEXED_DEMUXERS:
        gop = await keyframe_interval(path, info, limits)
        fields["seek_preroll_s"] = 2 * gop + 0.5 if gop else UNKNOWN_GOP_PREROLL_S
    if v is not None:
        fields |= {
            "video_codec": v.codec, "width": v.width, "height": v.height,
            "fps": Fraction(v.fps).limit_denominator(1001) if v.fps else None,
            "pix_fmt": v.pix_fmt, "profile": v.profile, "rotation": v.rotation,
            "variable_frame_rate": v.variable_frame_rate, "video_index": v.index,
            "time_base": v.time_base, "extradata_hash": v.extradata_hash,
        }  # fmt: skip
    if a is not None:
        fields |= {"audio_codec": a.codec, "channels": a.channels, "sample_rate": a.sample_rate}
    return SourceInfo(**fields)


async def _probe_still(path: Path, limits: MediaLimits) -> SourceInfo:
    still = await probe_still(path, limits)
    return SourceInfo(duration_s=0.0, has_audio=False, video_codec=still.codec,
                      width=still.width, height=still.height, pix_fmt=still.pix_fmt,
                      demuxer=still.demuxer)  # fmt: skip
