"""Builds the FFmpeg filter graphs of a timeline with ffmpeg-python and compiles their args.

The picture and the programme's audio are rendered by separate FFmpeg runs (see ``audio``), each
from a graph of its own. In both, every segment starts at its in-point without decoding its
source from the start (FFmpeg seeks to the keyframe before it), is normalised to the preset
(speed, transform, fps, scale/pad, sample rate), trimmed to an exact number of frames or audio
samples, then joined (concat, or xfade/acrossfade for crossfades). The picture's segments are
read in runs through one decoder each (``reads``); each segment's audio is an input of its own,
seeked with ``-ss``/``-t``. Layers and captions are drawn on the joined picture; the audio is
mixed with the music bed and loudness-normalised.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from editbay_common.media import process
from editbay_common.media.limits import DEFAULT_LIMITS
from editbay_common.media.probe import input_url
from editbay_common.media.render.captions import Cue
from editbay_common.media.render.fonts import font_for_text
from editbay_common.media.render.loudness import Gain
from editbay_common.media.render.presets import Preset
from editbay_common.media.render.reads import plan_runs
from editbay_common.media.render.sources import SourceInfo
from editbay_common.media.render.text import TextFiles
from editbay_common.media.render.timeline import (
    Overlay,
    Segment,
    Timeline,
    frames_at,
    samples_for_frames,
)

WL = {"protocol_whitelist": process.PROTOCOL_WHITELIST}


@dataclass(frozen=True)
class OutputSpec:
    """What to write: ``video`` (H.264 only, MP4 without faststart: the picture, rendered while
    the audio is rendered by another process; also the chunks of a chunked render), ``audio``
    (AAC only, M4A) or ``measure`` (the loudness pre-pass: the programme's audio through
    ``ebur128`` into a float WAV file that the encode then uses instead of decoding and mixing
    the sources' audio again; to ``-``, nothing is written)."""

    kind: str = "video"
    threads: int | None = None


@dataclass
class _Piece:
    """A segment's (or a join's) picture or sound, and how many frames it lasts."""

    stream: Any
    frames: int


def _source_opts(info: SourceInfo) -> dict[str, str]:
    """Local files only, and the demuxer the probe found (no content sniffing on re-open)."""
    if info.demuxer:
        return {**WL, "f": info.demuxer}
    return {**WL, "format_whitelist": DEFAULT_LIMITS.demuxer_whitelist()}


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def _atempo_chain(a: Any, speed: float) -> Any:
    # atempo takes 0.5..2.0 per instance in older builds; chain instances for other speeds.
    while speed > 2.0:
        a, speed = a.filter("atempo", 2.0), speed / 2.0
    while speed < 0.5:
        a, speed = a.filter("atempo", 0.5), speed / 0.5
    return a.filter("atempo", f"{speed:.6f}") if abs(speed - 1.0) > 1e-9 else a


def _fit(v: Any, width: int, height: int, color: str = "black") -> Any:
    """Scale keeping the aspect ratio, then pad to exactly ``width`` x ``height``."""
    v = v.filter("scale", width, height, force_original_aspect_ratio="decrease",
                 force_divisible_by=2)  # fmt: skip
    v = v.filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color=color)
    return v.filter("setsar", 1)


def _segment_video(seg: Segment, v: Any, preset: Preset, info: SourceInfo) -> _Piece:
    """A segment's picture from ``v``, its frames from the in-point on (``reads``)."""
    fps = preset.fps
    frames = seg.frames(fps)
    v = v.filter("setpts", f"(PTS-STARTPTS)/{seg.speed:.6f}")
    tr = seg.transform
    if tr is not None and tr.crop is not None:
        x, y, w, h = tr.crop
        v = v.filter("crop", f"iw*{w:.6f}", f"ih*{h:.6f}", f"iw*{x:.6f}", f"ih*{y:.6f}")
    if tr is not None and tr.hflip:
        v = v.filter("hflip")
    if tr is not None and tr.vflip:
        v = v.filter("vflip")
    v = v.filter("fps", fps=fps)
    # Skip what would change nothing: a source already of the preset's size (not cropped)
    # needs no scale or pad, a yuv420p one no conversion.
    same_size = (info.width, info.height) == (preset.width, preset.height)
    if same_size and not info.rotation and (tr is None or tr.crop is None):
        v = v.filter("setsar", 1)
    else:
        v = _fit(v, preset.width, preset.height)
    if info.pix_fmt != "yuv420p":
        v = v.filter("format", "yuv420p")
    # Pad with the last frame if the source ends early, then cut to the exact frame count.
    v = v.filter("tpad", stop=-1, stop_mode="clone").filter("trim", end_frame=frames)
    v = v.filter("setpts", "PTS-STARTPTS")
    fade_in = _fade_in_frames(seg, fps, frames)
    if fade_in:
        v = v.filter("fade", type="in", start_frame=0, nb_frames=fade_in)
    return _Piece(v, frames)


def _fade_in_frames(seg: Segment, fps: int, frames: int) -> int:
    tr_in = seg.transition_in
    return min(tr_in.frames(fps), frames) if tr_in is not None and tr_in.kind == "fade" else 0


def _pictures(
    timeline: Timeline, infos: Mapping[Path, SourceInfo], scratch: Path, fps: int
) -> list[Any]:
    """Each segment's frames from its in-point on, read in runs through one decoder each: the
    runs' listings are written to ``scratch``, and each segment's window is trimmed out of a
    split of its run's stream."""
    out = []
    for i, run in enumerate(plan_runs(timeline, infos, fps)):
        listing = scratch / f"reads-{i:04d}.ffconcat"
        listing.write_text(run.listing(), encoding="utf-8")
        # the listing names only the files the probe read as ``run.demuxer``
        allowed = f"concat,{run.demuxer}" if run.demuxer else DEFAULT_LIMITS.demuxer_whitelist()
        stream = ffmpeg.input(str(listing), f="concat", safe=0, format_whitelist=allowed,
                              **WL).video  # fmt: skip
        n = len(run.entries)
        node = stream.filter_multi_output("split", n) if n > 1 else None
        for k, entry in enumerate(run.entries):
            start, end = entry.window_s
            branch = stream if node is None else node[k]
            out.append(branch.filter("trim", start=f"{start:.6f}", end=f"{end:.6f}"))
    return out


def _segment_audio(seg: Segment, index: int, preset: Preset, info: SourceInfo) -> _Piece:
    """A segment's sound, from an input of its own seeked to its in-point."""
    fps, rate = preset.fps, preset.audio_rate
    frames = seg.frames(fps)
    samples = samples_for_frames(frames, fps, rate)
    # Read a little more than needed; the exact trims below decide the length. ffmpeg-python
    # merges nodes with equal arguments, so a repeated segment would share one input: the
    # index (a microsecond more read-ahead per position) keeps every input distinct.
    # Where the container's seeks are not exact, read from ``lead`` seconds earlier and trim.
    seek = max(0.0, seg.in_s - info.seek_preroll_s)
    lead = seg.in_s - seek
    read_s = lead + seg.out_s - seg.in_s + 0.2 + index * 1e-6
    if info.has_audio:
        inp = ffmpeg.input(input_url(seg.source), ss=f"{seek:.6f}", t=f"{read_s:.6f}",
                           **_source_opts(info))  # fmt: skip
        a = inp.audio.filter("atrim", start=f"{lead:.6f}") if lead else inp.audio
        a = a.filter("asetpts", "PTS-STARTPTS")
        a = _atempo_chain(a, seg.speed)
    else:
        silence = ffmpeg.input(f"anullsrc=r={rate}:cl=stereo", f="lavfi", t=f"{read_s:.6f}", **WL)
        a = silence.audio
    a = a.filter("aresample", rate).filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
    a = a.filter("apad").filter("atrim", end_sample=samples).filter("asetpts", "PTS-STARTPTS")
    fade_in = _fade_in_frames(seg, fps, frames)
    if fade_in:
        a = a.filter("afade", type="in", start_sample=0,
                     nb_samples=samples_for_frames(fade_in, fps, rate))  # fmt: skip
    return _Piece(a, frames)


def _concat(pieces: Sequence[_Piece], video: bool) -> _Piece:
    if len(pieces) == 1:
        return pieces[0]
    joined = ffmpeg.concat(*[p.stream for p in pieces], v=int(video), a=int(not video))
    return _Piece(joined, sum(p.frames for p in pieces))


def _join(timeline: Timeline, pieces: list[_Piece], preset: Preset, video: bool) -> _Piece:
    """Concat runs of hard cuts; cross-fade between runs (the picture or the sound)."""
    fps, rate = preset.fps, preset.audio_rate
    groups: list[list[_Piece]] = [[]]
    fades: list[int] = []
    for seg, piece in zip(timeline.segments, pieces, strict=True):
        tr = seg.transition_in
        if tr is not None and tr.kind == "crossfade" and groups[-1]:
            groups.append([])
            fades.append(tr.frames(fps))
        groups[-1].append(piece)
    cur = _concat(groups[0], video)
    for group, d in zip(groups[1:], fades, strict=True):
        nxt = _concat(group, video)
        if video:
            tb = f"1/{fps}"  # concat outputs microseconds; xfade wants equal time bases
            cv, nv = cur.stream.filter("settb", tb), nxt.stream.filter("settb", tb)
            offset = f"{(cur.frames - d) / fps:.6f}"
            joined = ffmpeg.filter([cv, nv], "xfade", transition="fade",
                                   duration=f"{d / fps:.6f}", offset=offset)  # fmt: skip
        else:
            joined = ffmpeg.filter([cur.stream, nxt.stream], "acrossfade",
                                   ns=samples_for_frames(d, fps, rate), c1="tri",
                                   c2="tri")  # fmt: skip
        cur = _Piece(joined, cur.frames + nxt.frames - d)
    return cur


def _between(start: float, end: float, fps: int) -> str:
    """Frames from ``start`` up to (not including) ``end``, with half-frame guards so float
    rounding never decides whether a frame on the boundary is in or out."""
    lo, hi = frames_at(start, fps), frames_at(end, fps)
    return f"between(t,{(lo - 0.5) / fps:.6f},{(hi - 0.5) / fps:.6f})"


def _overlay_xy(position: str, margin: int) -> tuple[str, str]:
    m = str(margin)
    xs = {"left": m, "center": "(main_w-overlay_w)/2", "right": f"main_w-overlay_w-{m}"}
    ys = {"top": m, "center": "(main_h-overlay_h)/2", "bottom": f"main_h-overlay_h-{m}"}
    return _place(position, xs, ys)


def _text_xy(position: str, margin: int) -> tuple[str, str]:
    m = str(margin)
    xs = {"left": m, "center": "(w-text_w)/2", "right": f"w-text_w-{m}"}
    ys = {"top": m, "center": "(h-text_h)/2", "bottom": f"h-text_h-{m}"}
    return _place(position, xs, ys)


def _place(position: str, xs: Mapping[str, str], ys: Mapping[str, str]) -> tuple[str, str]:
    vert, _, horiz = position.partition("-")
    if position in ("top", "bottom"):
        vert, horiz = position, "center"
    elif position == "center":
        vert, horiz = "center", "center"
    return xs[horiz], ys[vert]


class _Layers:
    """Draws overlays and captions on the joined picture; ``infos`` has the overlays' sources
    as ``engine.load_sources`` validated them."""

    def __init__(
        self, preset: Preset, infos: Mapping[Path, SourceInfo], font: Path | None,
        texts: TextFiles | None,
    ) -> None:  # fmt: skip
        self.p, self.infos, self.font, self.texts = preset, infos, font, texts

    def _drawtext(self, v: Any, text: str, enable: str, size: int, x: str, y: str,
                  **extra: Any) -> Any:  # fmt: skip
        assert self.font is not None and self.texts is not None
        font, text = font_for_text(self.font, text)  # fallback glyphs (emoji, CJK) merged in
        return v.filter(
            "drawtext", fontfile=str(font), textfile=str(self.texts.write(text)),
            expansion="none", fontsize=size, fontcolor=extra.pop("fontcolor", "white"),
            x=x, y=y, enable=enable, borderw=max(1, size // 20), bordercolor="black@0.6", **extra,
        )  # fmt: skip

    def overlay(self, v: Any, ov: Overlay) -> Any:
        p = self.p
        margin = round(p.height * ov.margin)
        enable = _between(ov.start_s, ov.end_s, p.fps)
        if ov.kind in ("title", "lower_third"):
            return self._text_layer(v, ov, enable, margin)
        assert ov.source is not None
        info = self.infos[ov.source]
        if ov.kind == "image":
            # A still PNG or JPEG, read by the demuxer of its format (png_pipe, jpeg_pipe; never
            # the pattern-reading image2): its one picture, held by the overlay to the end.
            img = ffmpeg.input(input_url(ov.source), f=info.demuxer, **WL).video
            layer = img.filter("trim", end_frame=1).filter("scale", _even(p.width * ov.scale), -2)
            layer = layer.filter("format", "rgba")
            x, y = _overlay_xy(ov.position, margin)
            return v.overlay(layer, x=x, y=y, enable=enable, eof_action="repeat")
        clip = ffmpeg.input(input_url(ov.source), ss=f"{ov.source_in_s:.6f}",
                            t=f"{ov.duration_s + 0.2:.6f}", **_source_opts(info)).video  # fmt: skip
        clip = clip.filter("setpts", "PTS-STARTPTS").filter("fps", fps=p.fps)
        if ov.kind == "pip":
            w = _even(p.width * ov.scale)
            clip = clip.filter("scale", w, -2).filter("setsar", 1)
            clip = clip.filter("setpts", f"PTS+{ov.start_s:.6f}/TB")
            x, y = _overlay_xy(ov.position, margin)
            return v.overlay(clip, x=x, y=y, enable=enable, eof_action="pass")
        # split: main picture fitted into the left half, the other source into the right half
        half = _even(p.width / 2)
        node = v.filter_multi_output("split")
        base, side = node[0], node[1]
        left = _fit(side.filter("trim", start=ov.start_s, end=ov.end_s), half, p.height)
        right = _fit(clip, p.width - half, p.height).filter("setpts", f"PTS+{ov.start_s:.6f}/TB")
        both = ffmpeg.filter([left, right], "hstack", inputs=2).filter("format", "yuv420p")
        return base.overlay(both, x=0, y=0, enable=enable, eof_action="pass")

    def _text_layer(self, v: Any, ov: Overlay, enable: str, margin: int) -> Any:
        p = self.p
        size = max(8, round(p.height * ov.font_size))
        if ov.kind == "title":
            x, y = _text_xy(ov.position, margin)
            return self._drawtext(v, ov.text or "", enable, size, x, y, fontcolor=ov.color)
        # lower third: a translucent band in the lower third, name and optional subtitle on it
        band_h = round(p.height * 0.17)
        band_y = p.height - band_h - margin
        v = v.filter("drawbox", x=0, y=band_y, w=round(p.width * 0.62), h=band_h,
                     color="black@0.55", t="fill", enable=enable)  # fmt: skip
        pad = round(band_h * 0.12)
        v = self._drawtext(v, ov.text or "", enable, size, str(margin), str(band_y + pad))
        if ov.subtitle:
            sub = max(8, round(size * 0.65))
            v = self._drawtext(v, ov.subtitle, enable, sub, str(margin),
                               str(band_y + band_h - pad - sub), fontcolor="0xDDDDDD")  # fmt: skip
        return v

    def captions(self, v: Any, cues: Sequence[Cue]) -> Any:
        size = max(8, round(self.p.height * 0.05))
        bottom = round(self.p.height * 0.08)
        for cue in cues:
            v = self._drawtext(
                v, cue.text, _between(cue.start_s, cue.end_s, self.p.fps), size, "(w-text_w)/2",
                f"h-text_h-{bottom}", box=1, boxcolor="black@0.5", boxborderw=max(2, size // 4),
                line_spacing=max(2, size // 5),
            )  # fmt: skip
        return v


def _music(
    timeline: Timeline, dialogue: Any, preset: Preset, infos: Mapping[Path, SourceInfo],
    samples: int,
) -> Any:  # fmt: skip
    bed = timeline.music
    assert bed is not None
    music = ffmpeg.input(input_url(bed.source), stream_loop=-1, ss=f"{bed.offset_s:.6f}",
                         **_source_opts(infos[bed.source])).audio  # fmt: skip
    music = music.filter("aresample", preset.audio_rate).filter(
        "aformat", sample_fmts="fltp", channel_layouts="stereo"
    )
    music = music.filter("atrim", end_sample=samples).filter("asetpts", "PTS-STARTPTS")
    music = music.filter("volume", f"{bed.gain_db}dB")
    if bed.duck:
        # The dialogue keys a compressor on the music: the bed drops under speech.
        node = dialogue.filter_multi_output("asplit")
        dialogue, key = node[0], node[1]
        music = ffmpeg.filter([music, key], "sidechaincompress", threshold=0.015, ratio=10,
                              attack=15, release=350, makeup=1)  # fmt: skip
    return ffmpeg.filter([dialogue, music], "amix", inputs=2, duration="first",
                         dropout_transition=0, normalize=0)  # fmt: skip


def build_args(
    timeline: Timeline,
    preset: Preset,
    infos: Mapping[Path, SourceInfo],
    dest: Path,
    *,
    spec: OutputSpec = OutputSpec(),
    font: Path | None = None,
    scratch: Path | None = None,
    cues: Sequence[Cue] = (),
    progress: bool = True,
    gain: Gain | None = None,
    audio: Path | None = None,
) -> list[str]:
    """FFmpeg arguments that render ``timeline``'s picture (``video``) or its sound (``audio``,
    ``measure``) to ``dest`` in one invocation.

    ``infos`` has every file the timeline reads (its segments', overlays' and music bed's
    sources) as ``engine.load_sources`` validated them. The picture needs ``scratch``, where the
    listings of its reads and its text files go. With ``normalize_loudness`` the ``audio``
    output needs ``gain`` and ``audio``, the programme's audio as the ``measure`` pass wrote it
    (see ``loudness``)."""
    if spec.kind == "video":
        if scratch is None:
            raise ValueError("the picture's graph needs a scratch folder")
        return _compile(_picture(timeline, preset, infos, scratch, font, cues), None, preset,
                        dest, spec, progress)  # fmt: skip
    return _compile(None, _sound(timeline, preset, infos, spec, gain, audio), preset, dest, spec,
                    progress)  # fmt: skip


def _picture(
    timeline: Timeline, preset: Preset, infos: Mapping[Path, SourceInfo], scratch: Path,
    font: Path | None, cues: Sequence[Cue],
) -> Any:  # fmt: skip
    reads = _pictures(timeline, infos, scratch, preset.fps)
    pieces = [
        _segment_video(seg, v, preset, infos[seg.source])
        for seg, v in zip(timeline.segments, reads, strict=True)
    ]
    v = _join(timeline, pieces, preset, video=True).stream
    frames = timeline.frame_count(preset.fps)
    return _video_layers(timeline, v, preset, infos, frames, font, TextFiles(scratch), cues)


def _sound(
    timeline: Timeline, preset: Preset, infos: Mapping[Path, SourceInfo], spec: OutputSpec,
    gain: Gain | None, audio: Path | None,
) -> Any:  # fmt: skip
    fps, rate = preset.fps, preset.audio_rate
    samples = samples_for_frames(timeline.frame_count(fps), fps, rate)
    if audio is None:  # the sources' audio is decoded and mixed here
        pieces = [
            _segment_audio(s, i, preset, infos[s.source]) for i, s in enumerate(timeline.segments)
        ]
        a = _join(timeline, pieces, preset, video=False).stream
        a = _programme_audio(timeline, a, preset, infos, samples)
    else:
        a = ffmpeg.input(str(audio), f="wav", **WL).audio
    if spec.kind == "measure":
        # a measuring pass may check the effect of a gain (and limiter) on the programme
        for name, opts in gain.filters() if gain is not None else ():
            a = a.filter(name, **opts)
        return a.filter("ebur128", peak="sample", framelog="verbose")  # as MEASURE_FILTER
    if timeline.normalize_loudness:
        if gain is None or audio is None:
            raise ValueError("loudness normalisation needs the measuring pass's audio and gain")
        for name, opts in gain.filters():
            a = a.filter(name, **opts)
        if gain.limit_dbfs is not None:
            # the limiter works on doubles and delays by its look-ahead: restore format, length
            a = a.filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
            a = a.filter("apad", whole_len=samples).filter("atrim", end_sample=samples)
    return a


def _video_layers(
    timeline: Timeline, v: Any, preset: Preset, infos: Mapping[Path, SourceInfo], frames: int,
    font: Path | None, texts: TextFiles | None, cues: Sequence[Cue],
) -> Any:  # fmt: skip
    """Overlays, burnt-in captions and the final fade, on the joined picture."""
    layers = _Layers(preset, infos, font, texts)
    for ov in timeline.overlays:
        v = layers.overlay(v, ov)
    if cues:
        v = layers.captions(v, cues)
    if timeline.fade_out_s > 0:
        n = min(frames, max(1, round(timeline.fade_out_s * preset.fps)))
        v = v.filter("fade", type="out", start_frame=frames - n, nb_frames=n)
    return v


def _programme_audio(
    timeline: Timeline, a: Any, preset: Preset, infos: Mapping[Path, SourceInfo], samples: int
) -> Any:
    """The joined dialogue with the final fade and the music bed, at the exact length."""
    fps, rate = preset.fps, preset.audio_rate
    if timeline.fade_out_s > 0:
        n = min(timeline.frame_count(fps), max(1, round(timeline.fade_out_s * fps)))
        ns = samples_for_frames(n, fps, rate)
        a = a.filter("afade", type="out", start_sample=samples - ns, nb_samples=ns)
    if timeline.music is not None:
        a = _music(timeline, a, preset, infos, samples)
    # Make sure of the rate, format and exact length the measurement and the encoder see.
    a = a.filter("aresample", rate).filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
    return a.filter("apad", whole_len=samples).filter("atrim", end_sample=samples)


def graph_to_script(args: Sequence[str], scratch: Path, name: str) -> list[str]:
    """``args`` with the ``-filter_complex`` graph moved into a script file in ``scratch`` (read
    with ``-filter_complex_script``). Linux refuses a single argument over 128 KiB, which the
    graph of a timeline of a few hundred segments or burnt-in caption cues passes; a file has no
    such limit. ``name`` starts the file's name (each call writes a file of its own)."""
    args = list(args)
    if "-filter_complex" not in args:
        return args
    i = args.index("-filter_complex")
    fd, path = tempfile.mkstemp(prefix=f"{name}-", suffix=".graph", dir=scratch)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(args[i + 1])
    args[i : i + 2] = ["-filter_complex_script", path]
    return args


def x264_threads() -> int:
    """x264's frame threads when the caller sets no limit.

    x264 picks 1.5 a core; on small machines we give it more. Its frame threads are also the
    buffer that keeps it encoding while the decoder pre-rolls from the keyframe before the next
    segment's in-point: on 2 cores, 6 threads rendered the 12-segment benchmark edit
    about 5% faster than 3, a plain transcode no faster (benchmarks/results/render.md)."""
    return max(6, len(os.sched_getaffinity(0)) * 3 // 2)


# Frames x264's lookahead may run ahead of its encoding threads (its default is the B-frames + 1,
# 4 at veryfast). A deeper buffer rides out the stalls of a multi-segment edit (the decoder
# pre-rolls from the keyframe before each segment's in-point); it is no quality setting (the
# benchmark edit came out bit-identical, other footage within 0.01 dB PSNR). On 2 cores the
# 12-segment benchmark edit and the 96 s full re-encode rendered 3-5% faster with it.
SYNC_LOOKAHEAD_FRAMES = 30


def video_codec_args(
    preset: Preset, threads: int | None, cfr: bool = True, deep_buffer: bool = True
) -> dict[str, Any]:
    """x264 settings of a preset; ``cfr=False`` keeps input timestamps (already exact);
    ``deep_buffer=False`` keeps x264's default lookahead buffer (for a few frames at a time)."""
    n = threads or x264_threads()
    params = f"threads={n}"
    if deep_buffer and n > 1:
        params += f":sync-lookahead={SYNC_LOOKAHEAD_FRAMES}"
    args: dict[str, Any] = {
        "c:v": "libx264", "preset": preset.x264_preset, "crf": preset.crf,
        "pix_fmt": "yuv420p", "profile:v": "high", "g": preset.gop_frames,
        "x264-params": params,
    }  # fmt: skip
    args |= {"r": preset.fps, "fps_mode": "cfr"} if cfr else {"fps_mode": "passthrough"}
    return args


def _compile(v: Any, a: Any, preset: Preset, dest: Path, spec: OutputSpec,
             progress: bool) -> list[str]:  # fmt: skip
    if spec.kind == "measure" and str(dest) == "-":
        return ffmpeg.output(a, "-", f="null").compile(cmd=process.ffmpeg_base_args())
    if spec.kind == "measure":
        # float samples: the mix may pass 0 dBFS before the gain brings it down
        node = ffmpeg.output(a, str(dest), f="wav", rf64="auto", **{"c:a": "pcm_f32le"})
        return node.compile(cmd=process.ffmpeg_base_args())
    base = process.ffmpeg_base_args()
    if spec.kind == "video":
        # the graph already ends on the last frame
        kw: dict[str, Any] = {**video_codec_args(preset, spec.threads), "f": "mp4"}
        # the reads' windows are on the concat demuxer's own timeline (every other input's
        # chain starts its timestamps at zero itself)
        base += ["-copyts"]
        stream = v
    else:
        kw = {"c:a": "aac", "b:a": preset.audio_bitrate, "ar": preset.audio_rate, "ac": 2,
              "f": "ipod"}  # fmt: skip
        stream = a
    if spec.threads:
        kw["threads"] = spec.threads
        base += ["-filter_complex_threads", str(spec.threads)]
    if progress:
        base += ["-progress", "pipe:1", "-nostats"]
    return ffmpeg.output(stream, str(dest), **kw).compile(cmd=base)
