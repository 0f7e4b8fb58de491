"""What the renderer needs to know about its source files (ffprobe, run asynchronously).

Sources are probed with the hardened ``editbay_common.media.probe``, with the packet layout the
smart path cuts by when it may be taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from editbay_common.media.limits import DEFAULT_LIMITS, INDEXED_DEMUXERS, MediaLimits
from editbay_common.media.probe import keyframe_interval, probe, probe_with_packets

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


async def source_info(
    path: Path, limits: MediaLimits = DEFAULT_LIMITS, *, packets_until_s: float | None = None
) -> SourceInfo:
    """Probe a source through the hardened ``probe`` (limits, allow-listed demuxers); with
    ``packets_until_s``, list its video packets up to that time in the same ffprobe run (the
    smart path's layout)."""
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
