"""The programme's audio, rendered on its own, and the mux that puts it beside the picture.

Every render path renders the picture and the audio in separate FFmpeg processes that run at
once: the audio (a loudness pre-pass, then the AAC encode) no longer waits in front of the video
encode or shares its main thread, and a chunked render has audio that never crosses a join. A
last stream-copying run muxes the two into the MP4 (faststart).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from editbay_common.media import process
from editbay_common.media.render.graph import OutputSpec, build_args, graph_to_script
from editbay_common.media.render.loudness import Gain, Loudness, measure, normalising_gain
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.sources import SourceInfo
from editbay_common.media.render.timeline import Timeline
from editbay_common.media.render.verify import MuxReport

WL = ["-protocol_whitelist", process.PROTOCOL_WHITELIST]


async def programme_audio(
    timeline: Timeline,
    preset: Preset,
    infos: Mapping[Path, SourceInfo],
    scratch: Path,
    timeout_s: float | None = None,
) -> tuple[Path, Gain] | None:
    """The loudness pre-pass: render the programme's audio once (audio only, no video decoded)
    to a WAV file in ``scratch`` while measuring it, and plan its static gain. The encode reads
    that file instead of the sources' audio. None if the timeline is not loudness-normalised."""
    if not timeline.normalize_loudness:
        return None
    wav = scratch / "programme.wav"

    async def measure_with(gain: Gain | None) -> Loudness:
        if gain is None:
            args = build_args(timeline, preset, infos, wav, spec=OutputSpec("measure"),
                              progress=False)  # fmt: skip
        else:  # the limiter's effect, measured on the rendered audio (nothing written)
            args = build_args(timeline, preset, infos, Path("-"), spec=OutputSpec("measure"),
                              progress=False, gain=gain, audio=wav)  # fmt: skip
        return await measure(await asyncio.to_thread(graph_to_script, args, scratch, "measure"),
                             timeout_s)  # fmt: skip

    return wav, await normalising_gain(measure_with, preset.loudness_lufs)


async def render_audio(
    timeline: Timeline,
    preset: Preset,
    infos: Mapping[Path, SourceInfo],
    dest: Path,
    scratch: Path,
    timeout_s: float | None = None,
) -> Path:
    """The whole programme's audio as AAC (M4A) at ``dest``: exactly as many samples as the
    timeline's frames last, loudness-normalised if the timeline asks for it."""
    wav, gain = await programme_audio(timeline, preset, infos, scratch, timeout_s) or (None, None)
    args = build_args(timeline, preset, infos, dest, spec=OutputSpec("audio"), progress=False,
                      gain=gain, audio=wav)  # fmt: skip
    # one input and a chain per segment: the graph grows with the timeline (see graph_to_script)
    args = await asyncio.to_thread(graph_to_script, args, scratch, "audio")
    await process.run(args, timeout=timeout_s)
    return dest


async def render_programme_audio(
    timeline: Timeline, preset: Preset, dest: Path, *, timeout_s: float | None = None
) -> Path:
    """``render_audio`` for a caller without probed sources (a worker given the audio job of a
    chunked render): probes the sources and uses a scratch folder of its own."""
    from editbay_common.media.render.engine import load_sources  # engine imports this module

    infos = await load_sources(timeline)
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="audio-"))
    try:
        return await render_audio(timeline, preset, infos, dest, scratch, timeout_s)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def mux(
    video_input: Sequence[str], audio: Path, dest: Path, *, timeout_s: float | None = None
) -> MuxReport:
    """Stream-copy a picture (``video_input``: the input options and ``-i``) and the programme's
    audio into an MP4 with the index in front (faststart); returns what FFmpeg reports it
    wrote."""
    last: dict[str, str] = {}
    args = [
        *process.ffmpeg_base_args(), *video_input, *WL, "-f", "mov", "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0", "-c", "copy",
        "-movflags", "+faststart", "-progress", "pipe:1", "-nostats", "-f", "mp4", str(dest),
    ]  # fmt: skip
    await process.run(args, timeout=timeout_s, on_progress=last.update)
    return MuxReport.of(last)
